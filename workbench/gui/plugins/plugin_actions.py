"""The plugin host in the main window: Processing and Plugins menus, generated dialogs,
runs in the task runner, the history dock, plugin commands and panels.

Kept out of main_window.py: the window only creates this object. Plugins get the versioned
host API (``citydesk.plugins.api.Context``), never the window.
"""

from __future__ import annotations

from functools import partial

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QAction, QDockWidget, QMenu

from citydesk.layers.errors import CityDeskError
from citydesk.layers.layer import VectorLayer
from citydesk.plugins.algorithms import algorithm_specs
from citydesk.plugins.api import Context
from citydesk.plugins.host import PluginHost
from citydesk.workbench import analysis_jobs

from ..i18n import tr


class PluginActions:
    def __init__(self, window) -> None:
        self.window = window
        self.host = PluginHost()
        self.processing_menu: QMenu = window.menuBar().addMenu(tr("Pro&cessing"))
        self.plugins_menu: QMenu = window.menuBar().addMenu(tr("Plu&gins"))
        self.history_dock: QDockWidget | None = None
        self.last_result = None
        self.build_menus()

    # -- menus ----------------------------------------------------------------------------
    def build_menus(self) -> None:
        self.processing_menu.clear()
        groups: dict[str, QMenu] = {}
        for spec in sorted(algorithm_specs(self.host).values(), key=lambda s: (s.group, s.name)):
            # the built-in manifest's words are in the catalogue; a plugin's own stay as written
            group = tr(spec.group) if spec.group else tr("Other")
            if group not in groups:
                groups[group] = self.processing_menu.addMenu(group)
            action = QAction(tr(spec.name), self.window)
            action.setToolTip(tr(spec.description) if spec.description else "")
            action.triggered.connect(lambda _c=False, i=spec.id: self.algorithm_dialog(i))
            groups[group].addAction(action)
        self.processing_menu.addSeparator()
        self.processing_menu.addAction(
            QAction(tr("Processing history"), self.window, triggered=self.open_history)
        )
        self.plugins_menu.clear()
        self.plugins_menu.addAction(
            QAction(tr("Plugin manager..."), self.window, triggered=self.open_manager)
        )
        commands = self.host.contributions("commands")
        panels = self.host.contributions("panels")
        if commands or panels:
            self.plugins_menu.addSeparator()
        for _record, c in commands:
            action = QAction(c.title, self.window)
            action.triggered.connect(lambda _c=False, i=c.id: self.run_command(i))
            self.plugins_menu.addAction(action)
        for record, c in panels:
            action = QAction(tr("Panel: {title}").format(title=c.title), self.window)
            action.triggered.connect(lambda _c=False, r=record, c=c: self.open_panel(r, c))
            self.plugins_menu.addAction(action)

    def open_manager(self):
        from .plugin_manager import PluginManagerDialog

        dialog = PluginManagerDialog(self.host, self._host_changed, self.window)
        dialog.show()
        return dialog

    def _host_changed(self, host: PluginHost) -> None:
        self.host = host
        self.build_menus()

    # -- algorithms -----------------------------------------------------------------------
    def context(self) -> Context:
        project = self.window.project
        selected = {}
        if project is not None:
            selected = {lid: sorted(self.window.selection.ids(lid)) for lid in project.layers}
        return Context(project_path=project.path if project else None, selected=selected)

    def project_layers(self) -> dict:
        project = self.window.project
        out = {}
        for layer_id, layer in project.layers.items() if project else []:
            if isinstance(layer, VectorLayer):
                out[layer_id] = (layer.geometry_type, list(layer.fields))
        return out

    def algorithm_dialog(self, algorithm_id: str, exec_dialog: bool = True):
        from .algorithm_dialog import AlgorithmDialog

        spec = algorithm_specs(self.host)[algorithm_id]
        project = self.window.project
        taken = set(project.layers) if project is not None else set()
        names = {i: lay.name for i, lay in project.layers.items()} if project is not None else {}
        dialog = AlgorithmDialog(spec, self.project_layers(), self.window, taken=taken, names=names)
        if exec_dialog and dialog.exec_() == AlgorithmDialog.Accepted:
            self.run(algorithm_id, dialog.values, overwrite=dialog.overwrite)
        return dialog

    def run(self, algorithm_id: str, raw: dict, overwrite: bool = False):
        """Run in the task runner; output layers join the project (reopened on the GUI
        thread), the messages go to the status bar, the history dock refreshes."""
        context = self.context()
        if context.project_path is None:
            self.window.show_error(tr("Save the project first: results are written into it."))
            return None

        def show(result) -> None:
            self.last_result = result
            parts = [
                f"{k}: {v:.4g}" if isinstance(v, float) else f"{k}: {v}"
                for k, v in result.outputs.items()
                if not isinstance(v, list | dict)
            ]
            parts += [text for _level, text in result.messages]
            self.window.statusBar().showMessage("  ".join(parts)[:300], 15000)
            for path in result.files:
                self.window.announce_written(path)
            if self.history_dock is not None:
                self.history_dock.widget().refresh()

        job = partial(
            analysis_jobs.processing,
            algorithm_id=algorithm_id,
            raw=raw,
            context=context,
            overwrite=overwrite,
        )
        return self.window._analyse_project(algorithm_id, job, show)

    def rerun(self, fid: int):
        from citydesk.plugins.history import entry

        run = entry(self.window.project.path, fid)
        # a re-run repeats a recorded run: it replaces the layers that run was told to write
        return self.run(run.algorithm, run.parameters, overwrite=True)

    def open_history(self):
        from .history_panel import HistoryPanel

        if self.window.project is None or not self.window.project.path:
            self.window.show_error(tr("Save the project first: the history is kept inside it."))
            return None
        if self.history_dock is None:
            self.history_dock = QDockWidget(tr("Processing history"), self.window)
            self.history_dock.setObjectName("history_dock")
            self.window.addDockWidget(Qt.BottomDockWidgetArea, self.history_dock)
        old = self.history_dock.widget()
        self.history_dock.setWidget(HistoryPanel(self.window.project.path, self.rerun))
        if old is not None:
            old.deleteLater()
        self.history_dock.show()
        return self.history_dock.widget()

    # -- commands and panels --------------------------------------------------------------
    def run_command(self, command_id: str) -> None:
        from citydesk.plugins.commands import run_command

        context = self.context()
        try:
            run_command(self.host, command_id, context)
        except CityDeskError as exc:
            self.window.show_error(exc.message)
            return
        for _level, text in context.messages:
            self.window.statusBar().showMessage(text, 10000)

    def open_panel(self, record, contribution):
        try:
            factory = self.host.load(record, contribution)
            widget = factory(self.context(), self.window)
        except Exception as exc:  # the plugin's widget code: isolate it
            if record.status == "ok":
                self.host.fail(record, exc)
            self.window.show_error(
                tr("The panel of plugin {name} failed: {err}").format(name=record.name, err=exc)
            )
            return None
        dock = QDockWidget(contribution.title, self.window)
        dock.setObjectName(f"plugin_{contribution.id}")
        dock.setWidget(widget)
        self.window.addDockWidget(Qt.RightDockWidgetArea, dock)
        return dock
