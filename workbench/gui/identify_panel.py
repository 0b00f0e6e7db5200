"""Identify results: the attributes of the features under a click."""

from __future__ import annotations

import pandas as pd
from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import QMenu, QTreeWidget, QTreeWidgetItem

from .i18n import tr


class IdentifyPanel(QTreeWidget):
    #: the user asked to edit a feature: layer id, feature id (shared layers only)
    edit_requested = pyqtSignal(str, object)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setColumnCount(2)
        self.setHeaderLabels([tr("Field"), tr("Value")])
        self.results: list[tuple[str, object, dict]] = []
        self.layer_id = ""
        self.editable = False
        self.setContextMenuPolicy(Qt.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.itemDoubleClicked.connect(lambda item, _col: self._edit(item))

    def _feature_of(self, item) -> object | None:
        while item is not None and item.parent() is not None:
            item = item.parent()
        index = self.indexOfTopLevelItem(item) if item is not None else -1
        return self.results[index][1] if 0 <= index < len(self.results) else None

    def _edit(self, item) -> None:
        fid = self._feature_of(item)
        if self.editable and fid is not None:
            self.edit_requested.emit(self.layer_id, fid)

    def _menu(self, pos) -> None:
        item = self.itemAt(pos)
        fid = self._feature_of(item)
        if not self.editable or fid is None:
            return
        menu = QMenu(self)
        menu.addAction(tr("Edit feature..."), lambda: self.edit_requested.emit(self.layer_id, fid))
        menu.exec_(self.viewport().mapToGlobal(pos))

    def show_features(
        self, layer_name: str, rows: pd.DataFrame, layer_id: str = "", editable: bool = False
    ) -> None:
        """The features ``rows`` of a layer; ``editable``: double-click (or the menu) asks
        to edit one (a shared layer's, with its version check)."""
        self.clear()
        self.results = []
        self.layer_id, self.editable = layer_id, editable
        geometry = getattr(rows, "_geometry_column_name", None)
        for fid, row in rows.iterrows():
            attrs = {k: v for k, v in row.items() if k != geometry}
            self.results.append((layer_name, fid, attrs))
            top = QTreeWidgetItem([f"{layer_name} #{fid}", ""])
            for key, value in attrs.items():
                shown = (
                    "NULL"
                    if value is None or (isinstance(value, float) and pd.isna(value))
                    else str(value)
                )
                top.addChild(QTreeWidgetItem([str(key), shown]))
            self.addTopLevelItem(top)
            top.setExpanded(len(rows) == 1)
        if not len(rows):
            self.addTopLevelItem(QTreeWidgetItem([tr("Nothing here"), ""]))
        self.resizeColumnToContents(0)
