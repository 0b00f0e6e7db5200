"""Dispatch > Import cases: a city system's export (CSV through a column mapping, or
Open311 JSON/XML) into the project's case store; the desktop's ``citydesk cases import``.
The work is :func:`citydesk.incidents.case_files.import_case_file`, run as a task."""

from __future__ import annotations

from pathlib import Path

from PyQt5.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from citydesk.incidents.case_files import OPEN311_SUFFIXES
from citydesk.incidents.import_csv import MAPPINGS

from ..i18n import tr


class CaseImportDialog(QDialog):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Import cases"))
        column = QVBoxLayout(self)
        note = QLabel(
            tr(
                "A CSV export is read through a column mapping; Open311 JSON or XML needs "
                "none. Importing a later export of the same source updates the cases it "
                "changed and adds the new ones."
            )
        )
        note.setWordWrap(True)
        column.addWidget(note)
        form = QFormLayout()
        self.file = QLineEdit()
        form.addRow(tr("File"), _with_button(self.file, tr("Browse..."), self._choose_file))
        self.mapping = QComboBox()
        for path in sorted(MAPPINGS.glob("*.toml")):
            self.mapping.addItem(path.stem, path.stem)
        form.addRow(
            tr("Column mapping"),
            _with_button(self.mapping, tr("Other mapping..."), self._choose_mapping),
        )
        column.addLayout(form)
        self.file.textChanged.connect(self._sync)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        column.addWidget(buttons)
        self._sync()

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, tr("Import cases"), "", tr("Case exports (*.csv *.json *.xml)")
        )
        if path:
            self.file.setText(path)

    def _choose_mapping(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, tr("Column mapping"), "", tr("Column mappings (*.toml)")
        )
        if path:
            self.add_mapping(path)

    def add_mapping(self, path: str) -> None:
        self.mapping.addItem(Path(path).name, path)
        self.mapping.setCurrentIndex(self.mapping.count() - 1)

    def _sync(self) -> None:
        self.mapping.setEnabled(Path(self.file.text()).suffix.lower() not in OPEN311_SUFFIXES)

    def choice(self) -> tuple[str, str | None]:
        """(file, mapping): the mapping is a shipped name or a TOML path; None for Open311."""
        path = self.file.text().strip()
        mapping = self.mapping.currentData() if self.mapping.isEnabled() else None
        return path, mapping


def _with_button(widget, label: str, clicked) -> QHBoxLayout:
    """A field with its button beside it (Browse..., Other mapping...)."""
    button = QPushButton(label)
    button.clicked.connect(clicked)
    row = QHBoxLayout()
    row.addWidget(widget, 1)
    row.addWidget(button)
    return row
