"""The case list: a few columns of the desk's case table, rows tinted by time left."""

from __future__ import annotations

import pandas as pd
from PyQt5.QtCore import Qt
from PyQt5.QtGui import QColor

from citydesk.incidents.lifecycle_words import state_name

from ..attribute_table import FrameModel
from ..i18n import N_, tr

COLUMNS = {
    "case_id": N_("Case"),
    "status": N_("Status"),
    "category": N_("Category"),
    "department_name": N_("Department"),
    "grid_code": N_("Grid cell"),
    "crew": N_("Crew"),
    "hours_left": N_("Hours left"),
    "description": N_("Description"),
}
TINT = {"amber": QColor(255, 224, 130), "red": QColor(239, 154, 154)}


class CaseTableModel(FrameModel):
    """``FrameModel`` over the desk's cases: translated headers, hours rounded, and the
    amber/red rows tinted so the urgent ones stand out in the list too."""

    def __init__(self, cases: pd.DataFrame) -> None:
        frame = cases.reindex(columns=[*COLUMNS, "level"]).reset_index(drop=True)
        frame["hours_left"] = frame["hours_left"].round(1)
        super().__init__(frame.drop(columns=["level"]))
        self.levels = frame["level"].to_numpy(dtype=object)

    def data(self, index, role=Qt.DisplayRole):
        if role == Qt.BackgroundRole and index.isValid():
            return TINT.get(self.levels[self.rows[index.row()]])
        value = super().data(index, role)
        if role == Qt.DisplayRole and self.columns[index.column()] == "status":
            return state_name(value)  # 已派遣, not "dispatched"
        return "" if value == "NULL" else value  # no clock running, no crew yet: blank

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if role == Qt.DisplayRole and orientation == Qt.Horizontal:
            return tr(COLUMNS[self.columns[section]])
        if role == Qt.DisplayRole:
            return str(self.rows[section] + 1)
        return super().headerData(section, orientation, role)

    def case_id(self, row: int) -> str:
        return str(self.frame["case_id"].iat[self.rows[row]])
