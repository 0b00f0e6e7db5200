"""Add a layer with the options a file cannot tell by itself: its text encoding, the columns
that hold its coordinates, and the CRS of data that names none.

The desktop's counterpart of ``citydesk project add --encoding --x-field --y-field
--wkt-field --assign-crs`` (QGIS keeps the same choices in its Data Source Manager). The
window opens it by itself when a file cannot be read without them
(:class:`~citydesk.layers.errors.NeedsReadOptions`), with the problem shown on top.
"""

from __future__ import annotations

from pathlib import Path

from PyQt5.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from citydesk.layers.errors import CityDeskError
from citydesk.layers.readers.csv_points import csv_columns

from .i18n import tr

#: encodings offered first; any other Python codec name can be typed
ENCODINGS = ("utf-8", "gb18030", "gbk", "big5", "shift_jis", "euc-kr", "latin-1", "cp1252")


class LayerOptionsDialog(QDialog):
    def __init__(
        self,
        path: str,
        problem: str = "",
        focus: tuple[str, ...] = (),
        parent=None,
        layer: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.path = path
        self.data_path = _data_file(path, layer)  # a ZIP's data set: its columns are offered
        self.setWindowTitle(tr("Add layer with options"))
        column = QVBoxLayout(self)
        name = QLabel(Path(path).name)
        name.setStyleSheet("font-weight:bold")
        column.addWidget(name)
        self.problem = QLabel(problem)
        self.problem.setWordWrap(True)  # a long message wraps, never widens the window
        self.problem.setStyleSheet("color:#b00020")
        self.problem.setVisible(bool(problem))
        column.addWidget(self.problem)
        form = QFormLayout()
        self.encoding = QComboBox()
        self.encoding.setEditable(True)
        self.encoding.addItem(tr("Detect"), "")
        for codec in ENCODINGS:
            self.encoding.addItem(codec, codec)
        form.addRow(tr("Encoding"), self.encoding)
        self.is_table = Path(self.data_path).suffix.lower() in (
            ".csv",
            ".txt",
            ".tsv",
            ".xlsx",
            ".xlsm",
            ".xls",
            ".ods",
        )
        self.x_field, self.y_field, self.wkt_field = QComboBox(), QComboBox(), QComboBox()
        for box, label in (
            (self.x_field, tr("X / longitude column")),
            (self.y_field, tr("Y / latitude column")),
            (self.wkt_field, tr("WKT geometry column")),
        ):
            box.setEnabled(self.is_table)
            form.addRow(label, box)
        self.crs = QLineEdit()
        self.crs.setPlaceholderText(tr("e.g. EPSG:4326 (only for data that names no CRS)"))
        form.addRow(tr("CRS of the data"), self.crs)
        column.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        column.addWidget(buttons)
        self.encoding.currentIndexChanged.connect(self._fill_columns)
        self._fill_columns()
        first = {"encoding": self.encoding, "x_field": self.x_field, "wkt_field": self.x_field}
        for option in focus:
            if option in first:
                first[option].setFocus()
                break

    def chosen_encoding(self) -> str:
        data = self.encoding.currentData()
        text = self.encoding.currentText().strip()
        if (
            self.encoding.currentIndex() >= 0
            and self.encoding.itemText(self.encoding.currentIndex()) == text
        ):
            return data or ""
        return text  # a codec the user typed

    def _fill_columns(self) -> None:
        if not self.is_table:
            return
        try:
            names = csv_columns(self.data_path, self.chosen_encoding() or None)
        except (OSError, LookupError, CityDeskError):
            names = []
        for box in (self.x_field, self.y_field, self.wkt_field):
            keep = box.currentData()
            box.clear()
            box.addItem(tr("(detect)"), "")
            for name in names:
                box.addItem(name, name)
            if keep:
                box.setCurrentIndex(max(0, box.findData(keep)))

    def options(self) -> dict[str, str]:
        """Keywords for :func:`citydesk.layers.io.read_layer`: only the ones chosen."""
        chosen = {
            "encoding": self.chosen_encoding(),
            "x_field": self.x_field.currentData() or "",
            "y_field": self.y_field.currentData() or "",
            "wkt_field": self.wkt_field.currentData() or "",
            "assign_crs": self.crs.text().strip(),
        }
        return {k: v for k, v in chosen.items() if v}


def _data_file(path: str, layer: str | None) -> str:
    """The file the options are about: ``path``, or the data set of a ZIP (the ZIP itself
    when it cannot be opened; reading it then says why)."""
    from citydesk.layers.io import open_archive

    try:
        return str(open_archive(path, layer)[0])
    except CityDeskError:
        return path
