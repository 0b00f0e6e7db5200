"""The desk's Forecast tab: next week's expected cases per cell, community or street on the
map (a layer in classes of the expected count; identify gives a unit's intervals and its
warning), the units expected busiest, this week's early warnings with their reasons, and the
backtest that says how far to trust the figures. A thin view over
``citydesk.incidents.forecast_run.forecast_board``, computed in the background."""

from __future__ import annotations

from functools import partial

from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from citydesk.incidents.forecast import ForecastSpec
from citydesk.incidents.forecast_run import ForecastBoard, forecast_board, forecast_layer
from citydesk.incidents.kpi import rate_text

from ..i18n import N_, tr

LEVELS = {"cell": N_("cells"), "community": N_("communities"), "street": N_("streets")}
#: how many of the busiest units the table lists
TOP = 30


def compute_forecast(store, grid, spec: ForecastSpec, with_backtest: bool, feedback):
    """Runs in a worker thread, on its own connection to the desk's store."""
    with store.reopen() as own:
        return forecast_board(
            own,
            grid,
            spec,
            with_backtest=with_backtest,
            progress=lambda share: feedback.set_progress(100 * share),
            canceled=feedback.is_canceled,
        )


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.NoEditTriggers)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            table.setItem(i, j, QTableWidgetItem(value))


class ForecastView(QWidget):
    def __init__(self, panel, parent=None) -> None:
        super().__init__(parent)
        self.panel = panel  # the DeskPanel: its desk, grid, window and task runner
        self.board: ForecastBoard | None = None
        self.level = QComboBox()
        for key, label in LEVELS.items():
            self.level.addItem(tr(label), key)
        self.category = QComboBox()
        self.category.addItem(tr("all categories together"), None)
        for cat in sorted(panel.desk.store.catalogue, key=lambda c: (c.kind, c.code)):
            self.category.addItem(f"{cat.label('en')} · {cat.name('zh_CN')}", cat.code)
        self.on_map = QCheckBox(tr("Show on the map"))
        self.on_map.setChecked(True)
        self.on_map.setToolTip(
            tr("A layer of the expected cases per unit; identify a unit for its intervals")
        )
        run = QPushButton(tr("Forecast"))
        run.clicked.connect(lambda: self.refresh())
        self.backtest_button = QPushButton(tr("Backtest"))
        self.backtest_button.setToolTip(
            tr(
                "Forecast each of the last 52 weeks from the weeks before it only, and compare "
                "with seasonal naive and a 4-week mean"
            )
        )
        self.backtest_button.clicked.connect(lambda: self.refresh(with_backtest=True))
        row = QHBoxLayout()
        for widget in (QLabel(tr("Per")), self.level, self.category, self.on_map):
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(run)
        row.addWidget(self.backtest_button)
        self.summary = QLabel(tr("Press Forecast to forecast next week's cases."))
        self.summary.setWordWrap(True)
        self.busiest = _table(
            [tr("Unit"), tr("Category"), tr("Expected"), tr("80%"), tr("95%"), tr("Last year")]
        )
        self.warnings = _table([tr("Unit"), tr("Category"), tr("Why")])
        self.backtest_table = _table(
            [tr("Method"), tr("MAE"), tr("MASE"), tr("RMSE"), tr("80% covered"), tr("95% covered")]
        )
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        # three tables in a splitter: the dock is short under the desk's filters, and the
        # user decides which one gets the room
        parts = QSplitter(Qt.Vertical)
        for title, table, extra in (
            (tr("Expected busiest"), self.busiest, None),
            (tr("Early warnings of the last week"), self.warnings, None),
            (tr("Backtest"), self.backtest_table, self.verdict),
        ):
            box = QGroupBox(title)
            inside = QVBoxLayout(box)
            inside.setContentsMargins(4, 4, 4, 4)
            table.setMinimumHeight(table.verticalHeader().defaultSectionSize() * 3)
            inside.addWidget(table, 1)
            if extra is not None:
                inside.addWidget(extra)
            parts.addWidget(box)
        column = QVBoxLayout(self)
        column.addLayout(row)
        column.addWidget(self.summary)
        column.addWidget(parts, 1)

    def chosen_spec(self) -> ForecastSpec:
        return ForecastSpec(
            level=self.level.currentData(), by_category=self.category.currentData() is not None
        )

    def refresh(self, with_backtest: bool = False):
        store, grid = self.panel.desk.store, self.panel.desk.grid
        spec = self.chosen_spec()
        name = tr("Backtesting the forecast") if with_backtest else tr("Forecasting")
        return self.panel.run_task(
            name,
            lambda feedback: compute_forecast(store, grid, spec, with_backtest, feedback),
            self.show_board,
        )

    def show_board(self, board: ForecastBoard) -> None:
        self.board = board
        category = self.category.currentData()
        table = board.table
        if category is not None:
            table = table[table["category"] == category]
        first = table["start"].min() if len(table) else None
        lines = [
            tr("From {start}: {total:.1f} cases expected in {units} units").format(
                start=first, total=float(table["expected"].sum()), units=table["unit"].nunique()
            )
        ]
        self.summary.setText("\n".join(lines + board.notes))
        top = table.sort_values("expected", ascending=False).head(TOP)
        _fill(
            self.busiest,
            [
                [
                    r.unit,
                    self._category_name(r.category),
                    f"{r.expected:.2f}",
                    f"{r.lo80}-{r.hi80}",
                    f"{r.lo95}-{r.hi95}",
                    str(r.cases_last_year),
                ]
                for r in top.itertuples()
            ],
        )
        warned = board.warnings
        if category is not None:
            warned = warned[warned["category"] == category]
        _fill(
            self.warnings,
            [[r.unit, self._category_name(r.category), r.reason] for r in warned.itertuples()],
        )
        if board.backtest is not None:
            from citydesk.incidents.forecast_backtest import method_names

            names = method_names()
            fmt = lambda v: "-" if v != v else f"{v:.3f}"  # noqa: E731
            share = partial(rate_text, digits=0)
            _fill(
                self.backtest_table,
                [
                    [
                        names[r.method],
                        fmt(r.mae),
                        fmt(r.mase),
                        fmt(r.rmse),
                        share(r.coverage80),
                        share(r.coverage95),
                    ]
                    for r in board.backtest.table.itertuples()
                ],
            )
            scale = tr("MASE scale: seasonal naive with a lag of {lag}, in sample").format(
                lag=board.backtest.scale_lag
            )
            self.verdict.setText(
                "\n".join([board.backtest.verdict(), scale, *board.backtest.notes])
            )
        if self.on_map.isChecked():
            self.panel.window.show_result_layer(
                forecast_layer(board, self.panel.desk.grid, category)
            )

    def _category_name(self, code: str) -> str:
        if code == "*":
            return tr("all")
        index = self.category.findData(code)
        return self.category.itemText(index) if index >= 0 else code
