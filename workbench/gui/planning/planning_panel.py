"""The planning dock: the project's scenarios with New, Edit, Run, Compare, Prefer, Report.

A thin view over ``citydesk.planning.scenario_store``, ``citydesk.planning.scenario_run``,
``citydesk.planning.comparison`` and ``citydesk.planning.plan_report``: the same calls as
``citydesk plan``.
Runs go through the main window's task runner (progress and Cancel in the task bar); their
plan layers join the project, styled by use, and the comparison fills the lower half.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from PyQt5.QtCore import Qt
from PyQt5.QtGui import QImage, QPixmap
from PyQt5.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from citydesk.layers.errors import CityDeskError
from citydesk.planning.scenario_defaults import runnable_scenario
from citydesk.planning.scenario_store import (
    decisions,
    list_scenarios,
    load_scenario,
    record_decision,
    save_demo_scenarios,
    save_scenario,
    stored_indicators,
)
from citydesk.workbench import analysis_jobs, analysis_process

from ..attribute_table import FrameModel
from ..i18n import tr


class PlanningPanel(QWidget):
    """``run_analysis(title, job, show)`` is the main window's runner for work that rewrites
    the project (``job(path, feedback=...)``, a partial of ``citydesk.workbench.analysis_jobs``,
    runs in an analysis process); ``show_error(message)`` its message bar."""

    def __init__(
        self,
        project_path: str,
        run_analysis: Callable,
        show_error: Callable[[str], None],
        parent=None,
        start_task: Callable | None = None,
        plugin_host=None,
    ) -> None:
        super().__init__(parent)
        self.path = project_path
        self.run_analysis = run_analysis
        self.show_error = show_error
        self.start_task = start_task  # (title, fn(feedback), on_done): work that only reads
        self.list = QListWidget()
        self.list.itemDoubleClicked.connect(lambda _item: self.edit_selected())
        buttons = QGridLayout()
        self.buttons = {}
        for key, label, slot in (
            ("new", tr("New"), self.new_scenario),
            ("edit", tr("Edit"), self.edit_selected),
            ("demo", tr("Demo scenarios"), self.add_demo),
            ("run", tr("Run"), self.run_checked),
            ("compare", tr("Compare"), self.compare_checked),
            ("prefer", tr("Prefer..."), self.prefer_selected),
            ("report", tr("Report..."), self.report_dialog),
            ("suitability", tr("Suitability"), self.suitability_selected),
            ("areas", tr("Service areas..."), self.service_areas_dialog),
        ):
            button = QPushButton(label)
            button.clicked.connect(lambda _checked=False, slot=slot: slot())
            buttons.addWidget(button, len(self.buttons) // 5, len(self.buttons) % 5)
            self.buttons[key] = button
        self.front = QComboBox()
        self.decision = QLabel()
        self.decision.setWordWrap(True)
        # what the last run said about the city's data and its plans (the CLI prints the
        # same lines): a GUI user saw none of them, e.g. that 22,476 homes were built for 300
        self.notes = QPlainTextEdit()
        self.notes.setReadOnly(True)
        self.notes.setMaximumHeight(110)  # a city without housing figures has ten of them
        self.notes.setVisible(False)
        self.table = QTableView()
        chart_page = QScrollArea()
        chart_page.setWidgetResizable(False)
        self.chart_page = chart_page
        lower = QTabWidget()
        lower.addTab(self.table, tr("Indicators"))
        lower.addTab(chart_page, tr("Chart"))
        self.tabs = lower
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.addWidget(QLabel(tr("Scenarios (tick to run or compare)")))
        top_layout.addWidget(self.list)
        top_layout.addLayout(buttons)
        top_layout.addWidget(self.front)
        top_layout.addWidget(self.decision)
        top_layout.addWidget(self.notes)
        split = QSplitter(Qt.Vertical)
        split.addWidget(top)
        split.addWidget(lower)
        split.setSizes([220, 600])
        layout = QVBoxLayout(self)
        layout.addWidget(split)
        self.canvas = None
        from citydesk.plugins.indicators import install

        install(plugin_host)  # plugins' indicators join the comparison (imported when computed)
        self.refresh()
        # a run started from this dock finds an analysis process ready (about 2 s saved)
        analysis_process.shared().warm()

    # --- state ---------------------------------------------------------------------------
    def _fill_fronts(self) -> None:
        current = self.front.currentData()
        self.front.clear()
        self.front.addItem(tr("no Pareto plans"), None)
        for layer in self.front_layers():
            self.front.addItem(tr("with the Pareto plans of {layer}").format(layer=layer), layer)
        self.front.setCurrentIndex(max(0, self.front.findData(current)))

    def refresh(self) -> None:
        """Scenarios, decision and Pareto plan layers as they are in the project now."""
        self._fill_fronts()
        checked = set(self.checked())
        self.list.clear()
        for row in list_scenarios(self.path).itertuples():
            label = (
                tr("{name} (revision {rev}): {title}").format(
                    name=row.name, rev=row.revision, title=row.title
                )
                if row.title
                else tr("{name} (revision {rev})").format(name=row.name, rev=row.revision)
            )
            item = QListWidgetItem(label)
            item.setData(Qt.UserRole, row.name)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if row.name in checked or not checked else Qt.Unchecked)
            self.list.addItem(item)
        made = decisions(self.path)
        self.decision.setText(
            tr("Preferred: {name}. Reason: {reason}").format(
                name=made[-1].preferred, reason=made[-1].reason
            )
            if made
            else tr("No preferred scenario recorded yet.")
        )

    def names(self) -> list[str]:
        return [self.list.item(i).data(Qt.UserRole) for i in range(self.list.count())]

    def checked(self) -> list[str]:
        return [
            self.list.item(i).data(Qt.UserRole)
            for i in range(self.list.count())
            if self.list.item(i).checkState() == Qt.Checked
        ]

    def check_only(self, names: list[str]) -> None:
        """Tick these scenarios and untick the others (what Run and Compare take)."""
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setCheckState(Qt.Checked if item.data(Qt.UserRole) in names else Qt.Unchecked)

    def selected(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.UserRole) if item else None

    # --- actions -------------------------------------------------------------------------
    def add_demo(self) -> None:
        try:
            save_demo_scenarios(self.path)
        except CityDeskError as exc:  # another city's project: the demo's layers are not here
            self.show_error(exc.message)
            return
        self.refresh()

    def new_scenario(self, exec_dialog: bool = True):
        """A new scenario starts from the selected one renamed, or from one for the
        project's city (the demo baseline on the demo project)."""
        from citydesk.planning.scenario_starter import starter_scenario

        name = self.selected()
        if name:
            base = load_scenario(self.path, name)
            base.name, base.title = f"{base.name}_copy", ""
        else:
            taken = set(self.names())
            new = next(
                f"scenario_{k}" for k in range(1, len(taken) + 2) if f"scenario_{k}" not in taken
            )
            base = starter_scenario(self.path, new)
        return self.edit(base, exec_dialog)

    def edit_selected(self) -> None:
        name = self.selected()
        if name:
            self.edit(load_scenario(self.path, name))

    def edit(self, scenario, exec_dialog: bool = True):
        """Open the form; on OK the scenario is stored as a new revision."""
        from .scenario_form import ScenarioForm

        form = ScenarioForm(scenario, self)
        if not exec_dialog:
            return form
        if form.exec_() == ScenarioForm.Accepted:
            self.save_form(form)
        return form

    def save_form(self, form) -> int:
        revision = save_scenario(self.path, form.text)
        self.refresh()
        return revision

    def run_checked(self):
        names = self.checked()
        if not names:
            self.show_error(tr("Tick the scenarios to run."))
            return None

        return self.run_analysis(
            tr("Running {n} scenario(s)").format(n=len(names)),
            partial(analysis_jobs.run_scenarios, names=names),
            self._ran,
        )

    def _ran(self, outcome) -> None:
        results, view = outcome  # the comparison was drawn in the run's own process
        self.last_results = results
        self.show_notes(results)
        self._comparing = getattr(self, "_comparing", 0) + 1  # supersedes earlier ones
        self._show_comparison(view)

    def compare_checked(self) -> None:
        front = self.front.currentData()
        if front:
            self.compare_with_front(self.checked(), front)
        else:
            self.compare(self.checked())

    def front_layers(self) -> list[str]:
        """The project's Pareto plan layers (what 'Land-use Pareto front' writes)."""
        from citydesk.layers.project_store import project_layer_fields

        return sorted(name for name in project_layer_fields(self.path) if name.endswith("_plan"))

    def compare_with_front(self, names: list[str], layer: str):
        """Scenarios and the Pareto plans of ``layer``, measured with the first scenario's
        facilities and assumptions (a background task: every plan is evaluated)."""
        if not names:
            self.show_error(tr("Tick the scenarios to compare."))
            return None
        try:
            stored_indicators(self.path, names)  # refuse scenarios never run before the work
        except CityDeskError as exc:
            self.show_error(exc.message)
            return None

        path, job = self.path, partial(analysis_jobs.front_comparison, names=names, layer=layer)

        def work(feedback):
            # in an analysis process: reading the layers and network from a thread held the
            # window's interpreter lock (issue 20)
            return analysis_process.shared().run(job, path, feedback=feedback)

        def done(view) -> None:
            self._comparing = getattr(self, "_comparing", 0) + 1
            self._show_comparison(view)

        return self.start_task(tr("Measuring the Pareto plans"), work, done)

    def compare(self, names: list[str]):
        """Fill the table and the chart from the stored indicators of ``names``. The table
        is formatted and the chart drawn on a worker thread: done on the GUI thread, they
        froze the window for a second when a run finished (issue 20)."""
        path = self.path
        self._comparing = getattr(self, "_comparing", 0) + 1
        asked = self._comparing

        def work(_feedback):
            from citydesk.planning.comparison import comparison_view

            return comparison_view(path, names)

        def done(view) -> None:
            if asked == self._comparing:  # a later comparison supersedes this one
                self._show_comparison(view)

        return self.start_task(tr("Comparing the scenarios"), work, done)

    def show_notes(self, results) -> None:
        """The notes of the scenarios just run, each once, under the scenario list."""
        lines: list[str] = []
        for result in results:
            for note in getattr(result, "problems", []) or []:
                if note not in lines:
                    lines.append(note)
        self.notes.setPlainText("\n".join(f"• {line}" for line in lines))
        self.notes.setVisible(bool(lines))

    def _show_comparison(self, view) -> None:
        table, shown, (pixels, width, height) = view
        self.comparison = table
        self.model = FrameModel(shown)
        self.table.setModel(self.model)
        self.table.resizeColumnsToContents()
        image = QImage(pixels, width, height, QImage.Format_RGBA8888).copy()
        self.canvas = QLabel()
        self.canvas.setPixmap(QPixmap.fromImage(image))
        self.canvas.setFixedSize(width, height)
        old = self.chart_page.takeWidget()
        self.chart_page.setWidget(self.canvas)
        if old is not None:
            old.deleteLater()

    def prefer_selected(self, reason: str | None = None) -> None:
        name = self.selected()
        if not name:
            self.show_error(tr("Select the preferred scenario first."))
            return
        if reason is None:
            reason, ok = QInputDialog.getText(
                self, tr("Preferred scenario"), tr("Why is {name} preferred?").format(name=name)
            )
            if not ok:
                return
        compared = self.checked() or self.names()
        if name not in compared:
            compared = [*compared, name]
        try:
            record_decision(self.path, name, reason, compared)
        except CityDeskError as exc:
            self.show_error(exc.message)
            return
        self.refresh()

    def tell(self, message: str, path: str) -> None:
        """Say that a file was written, with the main window's "done" notice (a report or
        a PDF written without a word left the user guessing)."""
        window = self.window()
        if hasattr(window, "announce_written"):
            window.announce_written(path, message)

    def report_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, tr("Folder for the planning report"))
        if folder:
            self.report(folder)

    def report(self, folder: str):
        names = self.checked()
        if not names:
            self.show_error(tr("Tick the scenarios to report on."))
            return None

        def done(paths) -> None:
            self.last_report = paths
            self.compare(names)
            self.tell(tr("Planning report written to {folder}").format(folder=folder), folder)

        return self.run_analysis(
            tr("Writing the planning report"),
            partial(analysis_jobs.plan_report, names=names, folder=folder),
            done,
        )

    def suitability_selected(self):
        """Score the parcels with the selected scenario's factors; the layer joins the map."""
        name = self.selected()
        if not name:
            self.show_error(tr("Select a scenario with suitability factors first."))
            return None

        def done(result) -> None:
            self.last_suitability = result

        return self.run_analysis(
            tr("Scoring suitability"), partial(analysis_jobs.suitability, name=name), done
        )

    def service_areas_dialog(self) -> None:
        name = self.selected()
        if not name:
            self.show_error(tr("Select a scenario first (its facility kinds are used)."))
            return
        kinds = list(runnable_scenario(self.path, name).facilities)
        kind, ok = QInputDialog.getItem(self, tr("Service areas"), tr("Facility kind"), kinds)
        if ok:
            self.service_areas(kind, [400.0, 800.0, 1200.0])

    def service_areas(self, kind: str, thresholds: list[float]):
        name = self.selected()

        def done(layer_id) -> None:
            self.last_service_areas = layer_id

        return self.run_analysis(
            tr("Service areas"),
            partial(analysis_jobs.service_areas, name=name, kind=kind, thresholds=thresholds),
            done,
        )
