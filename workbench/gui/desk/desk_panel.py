"""The dispatch desk dock: who is signed in, the filters, the case list, the due-soon panel
and the dashboard; the cases drawn on the map over the unit grid and refreshed live."""

from __future__ import annotations

import datetime as dt

import numpy as np
from PyQt5.QtCore import QPointF, Qt, QTimer, pyqtSignal
from PyQt5.QtGui import QPolygonF
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from citydesk.incidents.deadlines import OPEN_STATES
from citydesk.incidents.desk import CaseFilter, DispatchDesk
from citydesk.incidents.lifecycle import WORKING, Role, State
from citydesk.incidents.lifecycle_words import ROLE_TITLES, state_name
from citydesk.incidents.routing import department_names
from citydesk.layers.errors import CityDeskError

from ..i18n import N_, tr
from .case_style import STYLES, case_colour
from .case_table import CaseTableModel
from .dashboard_view import DashboardView
from .forecast_view import ForecastView
from .intake_dialog import IntakeDialog

#: the status filter's entry for the cases waiting for an answer on more time
ASKING = "extension_requested"
#: ... and the one for the cases still with a department that the command centre urged
URGED = "urged"
WINDOWS = {
    0: N_("any time"),
    24: N_("last 24 hours"),
    24 * 7: N_("last 7 days"),
    24 * 30: N_("last 30 days"),
}
POLL_MS = 2000  # how often the desk looks for changes made by other desks


class DeskPanel(QWidget):
    case_opened = pyqtSignal(str)
    role_changed = pyqtSignal()

    def __init__(self, desk: DispatchDesk, window) -> None:
        super().__init__(window)
        self.desk = desk
        self.window = window  # the MainWindow: its canvas, tasks and message bar
        self.frame = None
        self._xy = np.empty((0, 2))
        self._seen_version: int | None = None
        self._to_map, self._to_lonlat = _transformers(window.project.crs)

        self.user = QLineEdit(desk.actor)
        self.role = QComboBox()
        for role, title in ROLE_TITLES.items():
            self.role.addItem(tr(title), role.value)
        self.role.setCurrentIndex(self.role.findData(desk.role.value))
        self.user.editingFinished.connect(self._sign_in)
        self.role.currentIndexChanged.connect(self._sign_in)

        self.status = QComboBox()
        self.status.addItem(tr("open cases"), list(OPEN_STATES))
        self.status.addItem(tr("all cases"), [])
        # the shift chief's queue: requests for more time to grant or refuse
        self.status.addItem(tr("asking for more time (延期申请)"), ASKING)
        self.status.addItem(tr("urged, still with the department (督办)"), URGED)
        for state in State:
            if state != State.NEW:
                self.status.addItem(state_name(state), [state.value])
        self.category = QComboBox()
        self.category.addItem(tr("all categories"), None)
        for cat in sorted(desk.store.catalogue, key=lambda c: (c.kind, c.code)):
            self.category.addItem(
                f"{cat.label('en')} · {cat.name('zh_CN')}", f"{cat.kind}:{cat.code}"
            )
        self.department = QComboBox()
        self.department.addItem(tr("all departments"), None)
        for code, name in sorted(department_names(desk.lang).items()):
            self.department.addItem(name, code)
        self.grid_prefix = QLineEdit()
        self.grid_prefix.setPlaceholderText(tr("street, community or cell code"))
        self.window_hours = QComboBox()
        for hours, label in WINDOWS.items():
            self.window_hours.addItem(tr(label), hours)
        self.due_only = QCheckBox(tr("overdue or due within"))
        self.due_hours = QDoubleSpinBox(minimum=0, maximum=999, value=4, suffix=tr(" h"))
        self.style = QComboBox()
        for key, label in STYLES.items():
            self.style.addItem(tr(label), key)
        for w in (self.status, self.category, self.department, self.window_hours, self.style):
            w.currentIndexChanged.connect(self.refresh)
        self.grid_prefix.editingFinished.connect(self.refresh)
        self.due_only.toggled.connect(self.refresh)
        self.due_hours.valueChanged.connect(self.refresh)

        filters = QFormLayout()
        who = QHBoxLayout()
        who.addWidget(self.user)
        who.addWidget(self.role)
        filters.addRow(tr("Signed in as"), who)
        store = desk.store
        where = (
            tr("PostGIS: {where}").format(where=store.location)
            if store.BACKEND == "postgis"
            else tr("this project file")
        )
        # a long URL must not widen the dock (and shrink the map): elided, whole in the tip
        self.store_label = QLabel(self.fontMetrics().elidedText(where, Qt.ElideMiddle, 340))
        self.store_label.setToolTip(where)
        filters.addRow(tr("Cases in"), self.store_label)
        filters.addRow(tr("Status"), self.status)
        filters.addRow(tr("Category"), self.category)
        filters.addRow(tr("Department"), self.department)
        filters.addRow(tr("Grid / community"), self.grid_prefix)
        filters.addRow(tr("Reported"), self.window_hours)
        due = QHBoxLayout()
        due.addWidget(self.due_only)
        due.addWidget(self.due_hours)
        filters.addRow(tr("Time limit"), due)
        filters.addRow(tr("Colour cases by"), self.style)

        self.table = QTableView()
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.table.setSortingEnabled(True)
        self.table.doubleClicked.connect(lambda idx: self.open_case(self.model.case_id(idx.row())))
        self.count = QLabel()
        self.report_button = QPushButton(tr("Report at map click"))
        self.report_button.setCheckable(True)
        self.report_button.toggled.connect(self._report_tool)
        self.address_button = QPushButton(tr("Report by address..."))
        self.address_button.clicked.connect(lambda: self.start_intake(None, None))
        self.bulk_button = QPushButton(tr("Dispatch selected"))
        self.bulk_button.clicked.connect(self.dispatch_selected)
        buttons = QHBoxLayout()
        for b in (self.report_button, self.address_button, self.bulk_button):
            buttons.addWidget(b)
        cases_tab = QWidget()
        cases_column = QVBoxLayout(cases_tab)
        cases_column.addLayout(buttons)
        cases_column.addWidget(self.table, 1)
        cases_column.addWidget(self.count)

        self.due_table = QTableView()
        self.due_table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.due_table.doubleClicked.connect(
            lambda idx: self.open_case(self.due_model.case_id(idx.row()))
        )
        self.due_within = QDoubleSpinBox(minimum=0, maximum=999, value=8, suffix=tr(" h"))
        self.due_within.valueChanged.connect(self.refresh_due)
        due_tab = QWidget()
        due_column = QVBoxLayout(due_tab)
        due_row = QHBoxLayout()
        due_row.addWidget(QLabel(tr("Overdue, and due within")))
        due_row.addWidget(self.due_within)
        due_row.addStretch(1)
        # the command centre's round over the list (督办): the shift chief's
        self.urge_button = QPushButton(tr("Urge selected (督办)..."))
        self.urge_button.clicked.connect(lambda: self.urge_selected())
        due_row.addWidget(self.urge_button)
        self.due_table.setSelectionMode(QAbstractItemView.ExtendedSelection)
        due_column.addLayout(due_row)
        due_column.addWidget(self.due_table, 1)

        self.dashboard = DashboardView(self)
        self.forecast = ForecastView(self)
        self.tabs = QTabWidget()
        self.tabs.addTab(cases_tab, tr("Cases"))
        self.tabs.addTab(due_tab, tr("Due soon"))
        self.tabs.addTab(self.dashboard, tr("Dashboard"))
        self.tabs.addTab(self.forecast, tr("Forecast"))
        column = QVBoxLayout(self)
        column.addLayout(filters)
        column.addWidget(self.tabs, 1)

        self.timer = QTimer(self, interval=POLL_MS)
        self.timer.timeout.connect(self._poll)
        self.timer.start()
        self._apply_role()
        self.refresh()

    # --- who -------------------------------------------------------------------------------
    def _sign_in(self) -> None:
        self.desk.sign_in(self.user.text() or self.desk.actor, self.role.currentData())
        self._apply_role()
        self.role_changed.emit()

    def _apply_role(self) -> None:
        """Show only what the role may start: reporting for supervisors and intake, bulk
        dispatch for dispatchers. The store refuses the rest anyway."""
        may_report = self.desk.role in (Role.SUPERVISOR, Role.INTAKE, Role.ADMIN)
        self.report_button.setVisible(may_report)
        self.address_button.setVisible(may_report)
        self.bulk_button.setVisible(self.desk.role in (Role.DISPATCHER, Role.ADMIN))
        self.urge_button.setVisible(self.desk.role in (Role.SHIFT_CHIEF, Role.ADMIN))

    # --- showing ---------------------------------------------------------------------------
    def current_filter(self) -> CaseFilter:
        hours = self.window_hours.currentData()
        now = dt.datetime.now(dt.UTC)
        status = self.status.currentData()
        asking, urged = status == ASKING, status == URGED
        return CaseFilter(
            status=tuple(s.value for s in WORKING) if asking or urged else tuple(status),
            extension_requested=asking,
            urged=urged,
            category=self.category.currentData(),
            department=self.department.currentData(),
            grid_prefix=self.grid_prefix.text().strip() or None,
            since=now - dt.timedelta(hours=hours) if hours else None,
            due_within_hours=self.due_hours.value() if self.due_only.isChecked() else None,
        )

    def refresh(self) -> None:
        """Re-read the cases; the dispatcher's selection survives (a live refresh from
        another desk must not drop the cases someone is about to dispatch)."""
        keep = set(self.selected_ids()) if getattr(self, "model", None) is not None else set()
        # the version *before* reading: a commit landing while the cases are read is then
        # seen as new by the next poll (read after, it was marked seen and never shown: the
        # desk showed 11 of 12 changes from another desk)
        version = self.desk.store.data_version()
        self.frame = self.desk.cases(self.current_filter())
        self.model = CaseTableModel(self.frame)
        self.table.setModel(self.model)
        self.table.resizeColumnsToContents()
        if keep:
            self._reselect(keep)
        self.count.setText(tr("{n} cases").format(n=len(self.frame)))
        self._draw_cases()
        self.refresh_due()
        self._seen_version = version

    def refresh_due(self) -> None:
        self.due_frame = self.desk.due_soon(self.due_within.value())
        self.due_model = CaseTableModel(self.due_frame)
        self.due_table.setModel(self.due_model)
        self.due_table.resizeColumnsToContents()

    def _poll(self) -> None:
        """Another desk committed: redraw. ``data_version`` costs no read of the cases."""
        if self.desk.store.data_version() != self._seen_version:
            self.refresh()

    def _draw_cases(self) -> None:
        frame = self.frame
        located = frame[frame["lon"].notna() & frame["lat"].notna()]
        x, y = self._to_map.transform(located["lon"].to_numpy(), located["lat"].to_numpy())
        self._xy = np.column_stack([x, y])
        self._xy_ids = located["case_id"].to_numpy()
        style = self.style.currentData()
        self.window.canvas.set_markers(
            [
                (QPointF(px, py), case_colour(row, style))
                for px, py, row in zip(x, y, located.itertuples(index=False), strict=True)
            ]
        )

    def case_at(self, x: float, y: float, tolerance: float) -> str | None:
        if not len(self._xy):
            return None
        d = np.hypot(self._xy[:, 0] - x, self._xy[:, 1] - y)
        i = int(np.argmin(d))
        return str(self._xy_ids[i]) if d[i] <= tolerance else None

    def open_case(self, case_id: str) -> None:
        self.case_opened.emit(case_id)
        hit = np.flatnonzero(self._xy_ids == case_id) if len(self._xy) else []
        self.window.canvas.set_marked(QPointF(*self._xy[hit[0]]) if len(hit) else None)

    def show_route(self, route) -> None:
        if route is None:
            self.window.canvas.set_route(None)
            return
        xs, ys = self._to_map.transform(*np.asarray(route.coords).T)
        self.window.canvas.set_route(
            QPolygonF([QPointF(a, b) for a, b in zip(xs, ys, strict=True)])
        )

    # --- intake ----------------------------------------------------------------------------
    def _report_tool(self, on: bool) -> None:
        self.window.canvas.set_tool("report" if on else "pan")

    def report_at_map(self, x: float, y: float) -> IntakeDialog:
        lon, lat = self._to_lonlat.transform(x, y)
        return self.start_intake(float(lon), float(lat))

    def start_intake(self, lon: float | None, lat: float | None) -> IntakeDialog:
        """Open the intake dialog (window-modal, not blocking); on submit the new case is
        listed and its card opened."""
        dialog = IntakeDialog(self.desk, lon, lat, self)
        dialog.accepted.connect(lambda: self._reported(dialog))
        dialog.open()
        self.intake = dialog
        return dialog

    def _reported(self, dialog: IntakeDialog) -> None:
        self.refresh()
        if dialog.created is not None:
            self.open_case(dialog.created.case_id)

    # --- bulk dispatch ---------------------------------------------------------------------
    def _reselect(self, case_ids: set[str]) -> None:
        from PyQt5.QtCore import QItemSelection, QItemSelectionModel

        selection = QItemSelection()
        for row in range(self.model.rowCount()):
            if self.model.case_id(row) in case_ids:
                selection.select(self.model.index(row, 0), self.model.index(row, 0))
        self.table.selectionModel().select(
            selection, QItemSelectionModel.Select | QItemSelectionModel.Rows
        )

    def selected_ids(self) -> list[str]:
        rows = {i.row() for i in self.table.selectionModel().selectedRows()}
        return [self.model.case_id(r) for r in sorted(rows)]

    def dispatch_selected(self, confirm=None) -> tuple[list, list]:
        """Plan every selected registered case, show the plan, send all in one go."""
        ids = self.selected_ids()
        plans = self.desk.plan(ids)
        sent = [p for p in plans if not p.manual]
        lines = [f"{p.case_id}: {p.crew_name or tr('manual queue')} ({p.reason})" for p in plans]
        question = tr("Dispatch {n} of {m} selected cases?").format(n=len(sent), m=len(ids))
        ask = confirm or (
            lambda q: QMessageBox.question(self, tr("Bulk dispatch"), q) == QMessageBox.Yes
        )
        if not sent or not ask(question + "\n\n" + "\n".join(lines[:30])):
            return [], [p for p in plans if p.manual]
        result = self.desk.send(plans)
        self.refresh()
        return result

    def urge_selected(self, ask_note=None) -> list[str]:
        """Urge the departments on the due-soon cases selected (督办), with one note asked
        for all (``ask_note(label) -> (text, ok)``, as QInputDialog.getText answers), in one
        transaction; the urged case ids (none when no note is given)."""
        rows = {i.row() for i in self.due_table.selectionModel().selectedRows()}
        ids = [self.due_model.case_id(r) for r in sorted(rows)]
        if not ids:
            self.window.statusBar().showMessage(tr("Select the cases to urge first."))
            return []
        ask = ask_note or (
            lambda label: QInputDialog.getText(self, tr("Urge selected (督办)"), label)
        )
        note, ok = ask(
            tr("What do you expect of the departments on these {n} cases?").format(n=len(ids))
        )
        if not ok or not note.strip():
            return []
        try:
            urged = self.desk.urge(ids, note)
        except CityDeskError as exc:
            self.window.show_error(exc.message)
            return []
        self.window.statusBar().showMessage(tr("{n} cases urged (督办)").format(n=len(urged)))
        self.refresh()
        return urged

    def run_task(self, name: str, work, done):
        return self.window.tasks.start(name, work, on_done=done)


def _transformers(project_crs):
    from pyproj import Transformer

    return (
        Transformer.from_crs(4326, project_crs, always_xy=True),
        Transformer.from_crs(project_crs, 4326, always_xy=True),
    )
