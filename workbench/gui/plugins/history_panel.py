"""The project's algorithm history, with Re-run (the same parameters, again)."""

from __future__ import annotations

from PyQt5.QtWidgets import QPushButton, QTableView, QVBoxLayout, QWidget

from citydesk.plugins.history import history

from ..attribute_table import FrameModel
from ..i18n import tr


class HistoryPanel(QWidget):
    def __init__(self, project_path: str, rerun, parent=None) -> None:
        """``rerun(fid)`` runs history row ``fid`` again (the main window's runner)."""
        super().__init__(parent)
        self.path, self.rerun = project_path, rerun
        self.view = QTableView()
        self.view.setSelectionBehavior(QTableView.SelectRows)
        button = QPushButton(tr("Re-run selected"))
        button.clicked.connect(self.rerun_selected)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view)
        layout.addWidget(button)
        self.refresh()

    def refresh(self) -> None:
        self.frame = history(self.path)
        columns = ["fid", "run_at", "algorithm", "status", "seconds", "parameters", "message"]
        shown = self.frame[columns]
        self.model = FrameModel(shown.assign(seconds=shown["seconds"].round(2)))
        self.view.setModel(self.model)
        self.view.resizeColumnsToContents()

    def rerun_selected(self):
        rows = self.view.selectionModel().selectedRows() if self.view.selectionModel() else []
        if not rows:
            return None
        return self.rerun(int(self.frame["fid"].iloc[rows[0].row()]))
