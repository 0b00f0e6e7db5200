"""The KPI dashboard inside the workbench: the charts of ``citydesk.incidents.dashboard`` drawn on
matplotlib Qt canvases, computed in the background, exportable as the PDF report."""

from __future__ import annotations

import datetime as dt

from PyQt5.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from citydesk.incidents.dashboard import (
    Dashboard,
    DashboardSpec,
    build_dashboard,
    cell_maps,
    kpi_chart,
    placeholder_lines,
    trend_chart,
    write_pdf,
)

from ..i18n import N_, tr

#: the evaluation periods a desk chooses from: days before now
PERIODS = {
    1: N_("last 24 hours"),
    7: N_("last 7 days"),
    30: N_("last 30 days"),
    91: N_("last quarter (91 days)"),
    365: N_("last 12 months"),
}


def compute_dashboard(store, grid, spec: DashboardSpec) -> Dashboard:
    """Runs in a worker thread, so it opens its own connection to the desk's store (an
    SQLite connection belongs to the thread that made it)."""
    with store.reopen() as own:
        return build_dashboard(own, grid, spec)


class DashboardView(QWidget):
    def __init__(self, panel, parent=None) -> None:
        super().__init__(parent)
        self.panel = panel  # the DeskPanel: its desk, grid and task runner
        self.board: Dashboard | None = None
        self.canvases: list = []
        self.summary = QLabel(tr("Press Refresh to compute the dashboard."))
        self.summary.setWordWrap(True)
        self.period = QComboBox()
        for days, label in PERIODS.items():
            self.period.addItem(tr(label), days)
        self.period.setCurrentIndex(self.period.findData(7))
        self.period.setToolTip(tr("The evaluation period of the grades and the hotspot maps"))
        self.period.currentIndexChanged.connect(lambda _i: self.refresh())
        self.measure = QComboBox()
        self.measure.addItem(tr("数字城管: cases due to close"), "digital")
        self.measure.addItem(tr("311: closed cases with a target"), "311")
        self.measure.setToolTip(
            tr(
                "The on-time close rate: among the cases due to close in the period (数字城管), "
                "or among the closed cases with a target, the share closed by it (311)"
            )
        )
        self.measure.currentIndexChanged.connect(lambda _i: self.refresh())
        refresh = QPushButton(tr("Refresh"))
        refresh.clicked.connect(lambda: self.refresh())
        self.export_button = QPushButton(tr("Export PDF report..."))
        self.export_button.clicked.connect(self.export_dialog)
        self.export_button.setEnabled(False)
        row = QHBoxLayout()
        row.addWidget(QLabel(tr("Evaluation period")))
        row.addWidget(self.period)
        row.addWidget(QLabel(tr("On time")))
        row.addWidget(self.measure)
        row.addStretch(1)
        row.addWidget(refresh)
        row.addWidget(self.export_button)
        self.charts = QWidget()
        self.chart_column = QVBoxLayout(self.charts)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.charts)
        self.warnings = QTableWidget(0, 3)
        self.warnings.setHorizontalHeaderLabels([tr("Cell"), tr("Cases"), tr("Why")])
        self.warnings.verticalHeader().setVisible(False)
        self.warnings.setEditTriggers(QTableWidget.NoEditTriggers)
        self.warnings.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.warnings.horizontalHeader().setStretchLastSection(True)
        self.warnings.setToolTip(tr("Double-click a warning to show its cell on the map"))
        self.warnings.cellDoubleClicked.connect(lambda r, _c: self.show_cell(r))
        self.warnings.setMaximumHeight(140)
        self.left_out = QLabel()
        self.left_out.setWordWrap(True)
        column = QVBoxLayout(self)
        column.addLayout(row)
        column.addWidget(self.summary)
        column.addWidget(self.warnings)
        column.addWidget(self.left_out)
        column.addWidget(scroll, 1)

    def chosen_spec(self, now: dt.datetime | None = None) -> DashboardSpec:
        """The period chosen above, ending now."""
        end = now or dt.datetime.now(dt.UTC)
        return DashboardSpec(
            start=end - dt.timedelta(days=self.period.currentData()),
            end=end,
            measure=self.measure.currentData(),
        )

    def refresh(self, spec: DashboardSpec | None = None):
        store, grid = self.panel.desk.store, self.panel.desk.grid
        spec = spec or self.chosen_spec()
        return self.panel.run_task(
            tr("Computing the dashboard"),
            lambda _feedback: compute_dashboard(store, grid, spec),
            self.show_board,
        )

    def show_board(self, board: Dashboard) -> None:
        from matplotlib.backends.backend_qt5agg import FigureCanvasQTAgg

        self.board = board
        for canvas in self.canvases:
            self.chart_column.removeWidget(canvas)
            canvas.deleteLater()
        self.canvases = []
        # plain Figures (not pyplot's): the Qt canvases own them
        for figure in (kpi_chart(board, lang=self.panel.desk.lang), trend_chart(board)):
            self._add(FigureCanvasQTAgg(figure))
        self._add(FigureCanvasQTAgg(cell_maps(board)))
        whole = board.kpis[board.kpis["department"] == "ALL"].iloc[0]
        self.summary.setText(
            tr("{start} to {end}: {n} registered, score {score}, grade {grade}").format(
                start=f"{board.start:%Y-%m-%d}",
                end=f"{board.end:%Y-%m-%d}",
                n=int(whole["registered"]),
                score="-" if whole["score"] != whole["score"] else f"{whole['score']:.1f}",
                grade=whole["grade"],
            )
        )
        warned = board.warnings
        self.warnings.setRowCount(len(warned))
        for i, r in enumerate(warned.itertuples()):
            for j, value in enumerate((r.code, str(int(r.observed)), r.reason)):
                self.warnings.setItem(i, j, QTableWidgetItem(value))
        lines = placeholder_lines(board)
        if board.warning_note:
            lines.insert(0, board.warning_note)
        elif board.cells is not None and not len(warned):
            lines.insert(0, tr("No cell breaks its forecast in this period."))
        self.left_out.setText("\n".join(lines))
        self.export_button.setEnabled(True)

    def show_cell(self, row: int) -> None:
        """Zoom the map to a warning's cell and its neighbours."""
        window, grid = self.panel.window, self.panel.desk.grid
        item = self.warnings.item(row, 0)
        if item is None or grid is None or window.project is None:
            return
        cell = grid[grid["code"] == item.text()]
        if len(cell):
            x0, y0, x1, y1 = cell.to_crs(window.project.crs).total_bounds
            pad = max(x1 - x0, y1 - y0) * 2
            window.canvas.zoom_to_extent((x0 - pad, y0 - pad, x1 + pad, y1 + pad))

    def _add(self, canvas) -> None:
        # the figure's own height: a scroll area would otherwise squeeze the charts
        canvas.setFixedHeight(int(canvas.figure.get_figheight() * canvas.figure.dpi))
        self.chart_column.addWidget(canvas)
        self.canvases.append(canvas)

    def export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, tr("Export PDF report"), "evaluation_report.pdf", "PDF (*.pdf)"
        )
        if path:
            self.export(path)

    def export(self, path: str):
        board, lang, credits = self.board, self.panel.desk.lang, self.panel.desk.credits
        return self.panel.run_task(
            tr("Writing the PDF report"),
            lambda _f: write_pdf(board, path, lang=lang, credits=credits),
            lambda written: self.panel.window.announce_written(
                written, tr("Evaluation report written to {path}").format(path=written)
            ),
        )
