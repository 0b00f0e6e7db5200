"""The dialog that sets up facility siting: which model, how many sites, which solver.

It only builds a :class:`planning.station_siting.SitingSpec`; the main window runs
:func:`planning.station_siting.fire_station_scenario` in the task runner (progress and
Cancel, which stops the solver), then reopens the project with the result layers.
"""

from __future__ import annotations

from PyQt5.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
)

from optimization.solve import SolveOptions, highs_available
from planning.station_siting import SitingSpec

from ..i18n import N_, tr

MODEL_LABELS = {
    "pmedian": N_("Shortest mean response time (p-median)"),
    "pcenter": N_("Shortest worst response time (p-center)"),
    "mclp": N_("Most crashes within the service standard (MCLP)"),
    "lscp": N_("Fewest stations for the service standard (LSCP)"),
}


class SitingDialog(QDialog):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Site more fire stations"))
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                tr(
                    "Demand: every case in the project's case store, snapped to the road"
                    " network. The existing fire stations stay open."
                )
            )
        )
        form = QFormLayout()
        self.model = QComboBox()
        for key, label in MODEL_LABELS.items():
            self.model.addItem(tr(label), key)
        self.add = QSpinBox(minimum=1, maximum=20, value=2)
        self.radius = QDoubleSpinBox(minimum=10, maximum=3600, value=120, suffix=" s")
        self.spacing = QDoubleSpinBox(minimum=50, maximum=5000, value=400, suffix=" m")
        self.solver = QComboBox()
        self.solver.addItem("CBC", "cbc")
        if highs_available():
            self.solver.addItem("HiGHS", "highs")
        self.time_limit = QSpinBox(minimum=1, maximum=3600, value=120, suffix=" s")
        form.addRow(tr("Objective"), self.model)
        form.addRow(tr("Stations to add"), self.add)
        form.addRow(tr("Service standard"), self.radius)
        form.addRow(tr("Candidate spacing"), self.spacing)
        form.addRow(tr("Solver"), self.solver)
        form.addRow(tr("Time limit"), self.time_limit)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.model.currentIndexChanged.connect(self._sync)
        self._sync()

    def _sync(self) -> None:
        covering = self.model.currentData() in ("mclp", "lscp")
        self.radius.setEnabled(covering)
        self.add.setEnabled(self.model.currentData() != "lscp")

    def spec(self) -> SitingSpec:
        return SitingSpec(
            add=self.add.value(),
            candidate_spacing_m=self.spacing.value(),
            model=self.model.currentData(),
            radius_s=self.radius.value(),
            options=SolveOptions(
                solver=self.solver.currentData(), time_limit=float(self.time_limit.value())
            ),
        )
