"""Identify results: the attributes of the features under a click."""

from __future__ import annotations

import pandas as pd
from PyQt5.QtWidgets import QTreeWidget, QTreeWidgetItem

from .i18n import tr


class IdentifyPanel(QTreeWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setColumnCount(2)
        self.setHeaderLabels([tr("Field"), tr("Value")])
        self.results: list[tuple[str, object, dict]] = []

    def show_features(self, layer_name: str, rows: pd.DataFrame) -> None:
        self.clear()
        self.results = []
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
