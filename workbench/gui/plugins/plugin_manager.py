"""The plugin manager: every plugin found, its version, status and problems; enable or
disable (remembered; a change applies when the plugins are next loaded)."""

from __future__ import annotations

from PyQt5.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from citydesk.plugins.host import PluginHost, set_enabled

from ..i18n import N_, tr

STATUS_LABELS = {
    "ok": N_("enabled"),
    "disabled": N_("disabled"),
    "invalid": N_("invalid manifest"),
    "incompatible": N_("needs another CityDesk"),
    "missing-dependency": N_("missing Python packages"),
    "failed": N_("failed (disabled for this session)"),
}


class PluginManagerDialog(QDialog):
    def __init__(self, host: PluginHost, on_change=None, parent=None) -> None:
        super().__init__(parent)
        self.host, self.on_change = host, on_change
        self.setWindowTitle(tr("Plugins"))
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(
            [tr("Plugin"), tr("Version"), tr("Status"), tr("Source"), tr("Problems")]
        )
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        buttons = QHBoxLayout()
        self.enable = QPushButton(tr("Enable"))
        self.disable = QPushButton(tr("Disable"))
        self.enable.clicked.connect(lambda: self._set(True))
        self.disable.clicked.connect(lambda: self._set(False))
        buttons.addWidget(self.enable)
        buttons.addWidget(self.disable)
        buttons.addStretch(1)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.table.itemSelectionChanged.connect(self._show_details)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(self.details)
        layout.addLayout(buttons)
        layout.addWidget(QLabel(tr("Changes apply when the plugins are next loaded.")))
        self.resize(980, 360)
        self.refresh()

    def refresh(self) -> None:
        records = self.host.plugins()
        self.table.setRowCount(len(records))
        for row, r in enumerate(records):
            cells = [
                r.name,
                r.manifest.version if r.manifest else "",
                tr(STATUS_LABELS.get(r.status, r.status)),
                _source_label(r.source),
                "; ".join(r.problems),
            ]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()

    def _show_details(self) -> None:
        """The whole problem text of the selected plugin (the cell only shows its start)."""
        name = self.selected_name()
        record = next((r for r in self.host.plugins() if r.name == name), None)
        if record is None:
            self.details.setText("")
            return
        text = tr(record.manifest.description) if record.manifest else ""
        if record.problems:
            text = "\n".join([text, *record.problems]).strip()
        self.details.setText(text)

    def selected_name(self) -> str | None:
        row = self.table.currentRow()
        return self.table.item(row, 0).text() if row >= 0 else None

    def _set(self, enabled: bool) -> None:
        name = self.selected_name()
        if not name or name == "citydesk":  # the built-in analyses stay on
            return
        set_enabled(name, enabled)
        self.host = PluginHost()
        self.refresh()
        if self.on_change is not None:
            self.on_change(self.host)


def _source_label(source: str) -> str:
    """Where a plugin came from, in the user's language (a folder stays a path)."""
    if source == "builtin":
        return tr("built into CityDesk")
    if source.startswith("entry point "):
        return tr("installed package ({name})").format(name=source.removeprefix("entry point "))
    return source
