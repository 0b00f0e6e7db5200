"""The attribute table: sortable, filterable (safe expressions), linked with the map selection.

A ``QAbstractTableModel`` over the layer's DataFrame shows only the rows that pass the filter
(or only the selected rows); selecting rows in the table updates the shared ``Selection``, and
selection changes from the map update the table. Nothing here copies the data per cell.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PyQt5.QtCore import QAbstractTableModel, QItemSelection, QItemSelectionModel, QModelIndex, Qt
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from citydesk.layers.errors import CityDeskError
from citydesk.layers.expressions import filter_mask
from citydesk.layers.io import write_frame
from citydesk.layers.layer import VectorLayer
from citydesk.layers.selection import Selection

from .i18n import tr

_ROOT = QModelIndex()  # Qt's "no parent" index


def display_value(value) -> str:
    """A cell as a reader wants it: 3,224.00 rather than 3224.0001816, whole numbers without
    decimals, small numbers to four significant digits; the tooltip keeps the exact value."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if not np.isfinite(v):
            return str(v)
        if v.is_integer() and abs(v) < 1e15:
            return f"{int(v):,}"
        return f"{v:,.2f}" if abs(v) >= 1 else f"{v:.4g}"
    if isinstance(value, int | np.integer):
        return str(int(value))  # ids and codes: no thousands separators
    return str(value)


def fit_columns(view: QTableView, model: FrameModel, sample: int = 50) -> None:
    """Columns wide enough for their header and their first rows (Qt's own
    resizeColumnsToContents reads every row: seconds on 13k parcels), at most 320 px."""
    metrics = view.fontMetrics()
    rows = min(sample, model.rowCount())
    for col in range(model.columnCount()):
        texts = [str(model.headerData(col, Qt.Horizontal))]
        texts += [str(model.data(model.index(r, col))) for r in range(rows)]
        width = max(metrics.horizontalAdvance(t) for t in texts) + 24
        view.setColumnWidth(col, min(320, max(60, width)))


class FrameModel(QAbstractTableModel):
    def __init__(self, frame: pd.DataFrame) -> None:
        super().__init__()
        self.columns = [
            c for c in frame.columns if c != getattr(frame, "_geometry_column_name", "")
        ]
        self.frame = frame
        self.rows = np.arange(len(frame))  # positions into frame, in display order

    def set_rows(self, rows: np.ndarray) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent=_ROOT) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=_ROOT) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index, role=Qt.DisplayRole):
        if role not in (Qt.DisplayRole, Qt.ToolTipRole) or not index.isValid():
            return None
        value = self.frame.iat[
            self.rows[index.row()], self.frame.columns.get_loc(self.columns[index.column()])
        ]
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return "NULL"
        if role == Qt.ToolTipRole:
            return str(value)  # the exact stored value
        return display_value(value)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if role != Qt.DisplayRole:
            return None
        if orientation == Qt.Horizontal:
            return self.columns[section]
        return str(self.frame.index[self.rows[section]])

    def sort(self, column: int, order=Qt.AscendingOrder) -> None:
        values = self.frame[self.columns[column]].iloc[self.rows]
        ordered = values.reset_index(drop=True).sort_values(
            ascending=order == Qt.AscendingOrder, kind="stable", na_position="last"
        )
        self.set_rows(self.rows[ordered.index.to_numpy()])

    def ids(self, rows: list[int]) -> list:
        return list(self.frame.index[self.rows[rows]])


class AttributeTable(QWidget):
    def __init__(self, layer: VectorLayer, selection: Selection, parent=None) -> None:
        super().__init__(parent)
        self.layer = layer
        self.selection = selection
        self.model = FrameModel(layer.data)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSortingEnabled(True)
        fit_columns(self.view, self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText(
            tr("Filter, e.g. land_use = 'residential' AND land_value_usd > 1000000")
        )
        self.filter_edit.returnPressed.connect(self.apply_filter)
        self.selected_only = QCheckBox(tr("Show selected only"))
        self.selected_only.toggled.connect(self.apply_filter)
        self.export_button = QPushButton(tr("Export selection..."))
        self.export_button.clicked.connect(self.export_dialog)
        self.status = QLabel()
        self.status.setWordWrap(True)  # a long message wraps, never widens the window
        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.selected_only)
        top.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)
        self._syncing = False
        self.view.selectionModel().selectionChanged.connect(self._table_selection_changed)
        # the column header gets a selection model of its own, always empty: with the
        # view's, Qt 5.15 checks every row of every column it paints for "whole column
        # selected" (13k x 11 Python calls into the model, 0.4 s, after Select all);
        # rows are what this table selects, and the row header keeps the real one
        self.view.horizontalHeader().setSelectionModel(QItemSelectionModel(self.model, self.view))
        selection.subscribe(self._selection_changed)
        self.apply_filter()

    def apply_filter(self) -> None:
        frame = self.layer.data
        try:
            mask = filter_mask(frame, self.filter_edit.text()).to_numpy()
        except CityDeskError as exc:
            self.status.setText(exc.message)
            self.status.setStyleSheet("color: #b00020")
            return
        if self.selected_only.isChecked():
            mask = mask & frame.index.isin(list(self.selection.ids(self.layer.id)))
        self.model.set_rows(np.flatnonzero(mask))
        self.status.setStyleSheet("")
        self._show_selection()

    def _status_text(self) -> str:
        return tr("{shown} of {total} features shown, {sel} selected").format(
            shown=len(self.model.rows),
            total=len(self.layer.data),
            sel=self.selection.count(self.layer.id),
        )

    def _table_selection_changed(self, *_args) -> None:
        if self._syncing:
            return
        # the selection's row ranges, not selectedRows(): that asks the model for every
        # cell of every row (0.7 s of Python calls to select all 13k parcels, issue 20)
        rows = sorted(
            {
                r
                for span in self.view.selectionModel().selection()
                for r in range(span.top(), span.bottom() + 1)
            }
        )
        self._syncing = True
        try:
            self.selection.set(self.layer.id, self.model.ids(rows))
        finally:
            self._syncing = False
        self.status.setText(self._status_text())

    def _selection_changed(self, layer_id: str) -> None:
        if layer_id != self.layer.id or self._syncing:
            return
        if self.selected_only.isChecked():
            self.apply_filter()
        else:
            self._show_selection()

    def _show_selection(self) -> None:
        ids = self.selection.ids(self.layer.id)
        shown = self.layer.data.index[self.model.rows]
        rows = np.flatnonzero(shown.isin(list(ids)))
        qsel = QItemSelection()
        last = self.model.columnCount() - 1
        for r in rows:
            qsel.select(self.model.index(int(r), 0), self.model.index(int(r), last))
        self._syncing = True
        try:
            self.view.selectionModel().select(
                qsel, QItemSelectionModel.ClearAndSelect | QItemSelectionModel.Rows
            )
            if len(rows):
                self.view.scrollTo(self.model.index(int(rows[0]), 0))
        finally:
            self._syncing = False
        self.status.setText(self._status_text())

    def selected_frame(self):
        return self.layer.data.loc[
            self.layer.data.index.isin(list(self.selection.ids(self.layer.id)))
        ]

    def export_selection(self, path: str) -> Path:
        frame = self.selected_frame()
        if path.lower().endswith((".csv", ".xlsx")):
            out = frame.drop(columns=frame.geometry.name).assign(wkt=frame.geometry.to_wkt())
            from citydesk.layers.csv_safe import write_table

            return write_table(
                out, path, index=True, sheet=self.layer.name, dialect=self._csv_dialect()
            )
        return write_frame(frame, path, self.layer.id)

    def _csv_dialect(self):
        """The CSV the project's city opens in a spreadsheet (``;`` and decimal commas in
        Helsinki): from the open project's profile, saved or not."""
        from citydesk.layers.city_locale import csv_dialect
        from citydesk.layers.city_profile import profile_in_metadata

        project = getattr(self.window(), "project", None)
        return csv_dialect(profile_in_metadata(project.metadata) if project is not None else None)

    def export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self,
            tr("Export selection"),
            f"{self.layer.id}_selection.gpkg",
            "GeoPackage (*.gpkg);;CSV (*.csv);;Excel (*.xlsx)",
        )
        if path:
            written = self.export_selection(path)
            window = self.window()
            if hasattr(window, "announce_written"):
                n = len(self.selection.ids(self.layer.id))
                window.announce_written(
                    written,
                    tr("{n} selected features exported to {path}").format(n=n, path=written),
                )
