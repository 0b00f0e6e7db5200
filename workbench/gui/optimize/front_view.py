"""A Pareto front on screen: the chart and one row per plan, with its proven gap."""

from __future__ import annotations

from PyQt5.QtWidgets import QFrame, QLabel, QScrollArea, QTableView, QVBoxLayout, QWidget

from citydesk.layers.i18n import ngettext
from citydesk.planning.landuse_front import FrontRun, pareto_chart

from ..attribute_table import FrameModel, fit_columns
from ..i18n import tr


class FrontView(QWidget):
    def __init__(self, run: FrontRun, parent=None) -> None:
        from matplotlib.backends.backend_qt5agg import FigureCanvasQTAgg

        super().__init__(parent)
        self.run = run
        layout = QVBoxLayout(self)
        figure = pareto_chart(run)  # a plain Figure (no pyplot): the Qt canvas owns it
        self.canvas = FigureCanvasQTAgg(figure)
        self.canvas.setFixedHeight(int(figure.get_figheight() * figure.dpi))
        layout.addWidget(self.canvas)
        table = run.table.copy()
        if "gap" in table:  # a front the time limit ended before any plan has no columns
            table["gap"] = ["-" if g is None or g != g else f"{g:.3%}" for g in table["gap"]]
        self.model = FrameModel(table)
        self.table = QTableView()
        self.table.setModel(self.model)
        fit_columns(self.table, self.model)  # whole figures, not "871,286,..."
        layout.addWidget(self.table, 1)
        within = sum(
            1 for p in run.front.points if p.outcome.gap is not None and p.outcome.gap <= 0.001
        )
        headline = (
            ngettext(
                "{n} plan in {s:.0f} s, {k} proven within 0.1 %; layer {layer}: one column"
                " per plan",
                "{n} plans in {s:.0f} s, {k} proven within 0.1 %; layer {layer}: one column"
                " per plan",
                len(run.front.points),
            ).format(n=len(run.front.points), s=run.front.seconds, k=within, layer=run.layer_id)
            if run.front.points
            else tr("No plan in {s:.0f} s: give the front more time.").format(s=run.front.seconds)
        )
        self.summary = QLabel(
            headline + "".join("\n" + note for note in run.front.notes)  # what is missing
        )
        self.summary.setWordWrap(True)
        # the notes scroll when they are long (a city without land values has five), so
        # that the table always shows its first plans
        rows = min(max(len(table), 1), 3)
        self.table.setMinimumHeight(
            self.table.horizontalHeader().sizeHint().height()
            + rows * self.table.verticalHeader().defaultSectionSize()
            + self.table.horizontalScrollBar().sizeHint().height()
            + 2 * self.table.frameWidth()
        )
        notes = QScrollArea()
        notes.setWidgetResizable(True)
        notes.setFrameShape(QFrame.NoFrame)
        notes.setWidget(self.summary)
        layout.addWidget(notes)
