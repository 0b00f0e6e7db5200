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

from citydesk.incidents.case_files import is_open311
from citydesk.incidents.import_csv import MAPPINGS
from citydesk.layers.errors import CityDeskError

from ..i18n import tr
from .mapping_draft_dialog import MappingDraftDialog


class CaseImportDialog(QDialog):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Import cases"))
        column = QVBoxLayout(self)
        note = QLabel(
            tr(
                "A CSV export is read through a column mapping; Open311 JSON or XML needs "
                "one only when its service codes are another system's. Importing a later "
                "export of the same source updates the cases it changed and adds the new ones. "
                "For a system no mapping is listed for, Draft a mapping reads the file and "
                "proposes one to check."
            )
        )
        note.setWordWrap(True)
        column.addWidget(note)
        form = QFormLayout()
        self.file = QLineEdit()
        form.addRow(tr("File"), _with_button(self.file, tr("Browse..."), self._choose_file))
        self.mapping = QComboBox()
        # Open311 with CityDesk's own service codes needs no mapping
        self.mapping.addItem(tr("none (Open311 with CityDesk's codes)"), None)
        for path in sorted(MAPPINGS.glob("*.toml")):
            self.mapping.addItem(path.stem, path.stem)
        self._shipped = {self.mapping.itemData(k) for k in range(1, self.mapping.count())}
        # the city's own mappings used before (a weekly export goes through the same one)
        recent = getattr(parent, "recent_mappings", lambda: [])()
        for path in reversed(recent):
            self.mapping.insertItem(1, Path(path).name, path)
        mapping_row = _with_button(self.mapping, tr("Other mapping..."), self._choose_mapping)
        # a system no mapping ships for: the draft reads the file and proposes one to check
        self.draft_button = QPushButton(tr("Draft a mapping..."))
        self.draft_button.clicked.connect(self.draft_mapping)
        mapping_row.addWidget(self.draft_button)
        form.addRow(tr("Column mapping"), mapping_row)
        column.addLayout(form)
        self.status = QLabel()
        self.status.setWordWrap(True)
        column.addWidget(self.status)
        self.draft_dialog = None
        self.file.textChanged.connect(self._sync)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        column.addWidget(buttons)
        self._sync()

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            tr("Import cases"),
            "",
            tr("Case exports (*.csv *.xlsx *.xls *.ods *.json *.xml *.geojson *.shp *.gpkg *.zip)"),
        )
        if path:
            self.file.setText(path)

    def _choose_mapping(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, tr("Column mapping"), "", tr("Column mappings (*.toml)")
        )
        if path:
            self.add_mapping(path)

    def draft_mapping(self, target: str | None = None) -> None:
        """Draft a mapping from the chosen CSV or workbook (with the project's time zone,
        categories and area), in the background, then show it to check and edit."""
        export = self.file.text().strip()
        if not export:
            self.status.setText(tr("Choose the export first: the draft reads it."))
            return
        if target is None:
            suggested = str(Path(export).with_name(f"{Path(export).stem}_mapping.toml"))
            target, _ = QFileDialog.getSaveFileName(
                self, tr("Save the drafted mapping"), suggested, tr("Column mappings (*.toml)")
            )
            if not target:
                return
        window = self.parent()
        project = getattr(getattr(window, "project", None), "path", None)
        self.status.setText(tr("Reading {name}...").format(name=Path(export).name))

        def work(_feedback):
            from citydesk.incidents.mapping_draft import write_draft

            try:
                return write_draft(export, target, project, replace=True)
            except CityDeskError as exc:  # said in this dialog, where the user is looking
                return exc

        def done(result) -> None:
            if isinstance(result, CityDeskError):
                self.status.setText(result.message)
                return
            path, _draft, lines = result
            self.add_mapping(str(path))
            self.status.setText(lines[-1])
            self.draft_dialog = MappingDraftDialog(export, path, lines, window)
            self.draft_dialog.open()

        tasks = getattr(window, "tasks", None)
        if tasks is None:
            done(work(None))
        else:
            tasks.start(
                tr("Drafting a mapping for {name}").format(name=Path(export).name), work, done
            )

    def add_mapping(self, path: str) -> None:
        self.mapping.addItem(Path(path).name, path)
        self.mapping.setCurrentIndex(self.mapping.count() - 1)

    def _sync(self) -> None:
        """An Open311 file starts with no mapping, a CSV with the first shipped one; a
        mapping the user chose stays."""
        open311 = is_open311(self.file.text())
        chosen = self.mapping.currentIndex()
        if open311 and chosen != 0 and self.mapping.currentData() in self._shipped:
            self.mapping.setCurrentIndex(0)
        elif not open311 and chosen == 0:
            self.mapping.setCurrentIndex(1)  # the last mapping used, else the first shipped

    def choice(self) -> tuple[str, str | None]:
        """(file, mapping): the mapping is a shipped name or a TOML path; None for none."""
        return self.file.text().strip(), self.mapping.currentData()


def _with_button(widget, label: str, clicked) -> QHBoxLayout:
    """A field with its button beside it (Browse..., Other mapping...)."""
    button = QPushButton(label)
    button.clicked.connect(clicked)
    row = QHBoxLayout()
    row.addWidget(widget, 1)
    row.addWidget(button)
    return row
