"""The import dialog's *Draft a mapping...*: the drafted column mapping shown for the user to
check and edit, saved, and read through once more (what the import would say). The draft
and the check are :mod:`citydesk.incidents.mapping_draft`; this is only their window."""

from __future__ import annotations

from pathlib import Path

from PyQt5.QtGui import QFont
from PyQt5.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout

from ..i18n import tr


class MappingDraftDialog(QDialog):
    """The draft's summary above its TOML; *Save and check* writes the edits and reads the
    export through them (in the window's background tasks when there is a window)."""

    def __init__(self, export: str, mapping: Path, lines: list[str], parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Drafted column mapping"))
        self.resize(760, 620)
        self.export, self.mapping = export, Path(mapping)
        column = QVBoxLayout(self)
        self.summary = QLabel("\n".join(lines))
        self.summary.setWordWrap(True)
        column.addWidget(self.summary)
        self.text = QPlainTextEdit(self.mapping.read_text(encoding="utf-8"))
        self.text.setFont(QFont("monospace"))
        column.addWidget(self.text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        self.save_button = buttons.addButton(tr("Save and check"), QDialogButtonBox.ApplyRole)
        self.save_button.clicked.connect(self.save_and_check)
        buttons.rejected.connect(self.reject)
        column.addWidget(buttons)
        self.checked: list[str] | None = None

    def save_and_check(self) -> None:
        from citydesk.incidents.mapping_draft import check_draft

        self.mapping.write_text(self.text.toPlainText(), encoding="utf-8")
        self.summary.setText(tr("Checking {name}...").format(name=self.mapping.name))
        export, mapping = self.export, self.mapping

        def done(lines: list[str]) -> None:
            self.checked = lines
            self.summary.setText("\n".join(lines))

        tasks = getattr(self.parent(), "tasks", None) if self.parent() else None
        if tasks is None:
            done(check_draft(export, mapping))
        else:
            tasks.start(
                tr("Checking {name}").format(name=mapping.name),
                lambda _feedback: check_draft(export, mapping),
                done,
            )
