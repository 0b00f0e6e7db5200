"""The dialog that sets up facility siting: which model, how many sites, which solver.

It only builds a :class:`citydesk.planning.station_siting.SitingSpec`; the main window runs
:func:`citydesk.planning.station_siting.fire_station_scenario` in the task runner (progress and
Cancel, which stops the solver), then reopens the project with the result layers.
"""

from __future__ import annotations

from PyQt5.QtWidgets import QDoubleSpinBox, QSpinBox

from citydesk.optimization.solve import SolveOptions, highs_available
from citydesk.planning.station_siting import SitingSpec

from ..i18n import N_, tr
from .spec_dialog import SpecDialog, choice_box

MODEL_LABELS = {
    "pmedian": N_("Shortest mean response time (p-median)"),
    "pcenter": N_("Shortest worst response time (p-center)"),
    "mclp": N_("Most crashes within the service standard (MCLP)"),
    "lscp": N_("Fewest stations for the service standard (LSCP)"),
}


class SitingDialog(SpecDialog):
    def __init__(self, parent=None) -> None:
        self.model = choice_box(MODEL_LABELS)
        self.add = QSpinBox(minimum=1, maximum=20, value=2)
        self.radius = QDoubleSpinBox(minimum=10, maximum=3600, value=120, suffix=" s")
        self.spacing = QDoubleSpinBox(minimum=50, maximum=5000, value=400, suffix=" m")
        self.solver = choice_box(
            {"cbc": "CBC", **({"highs": "HiGHS"} if highs_available() else {})}
        )
        self.time_limit = QSpinBox(minimum=1, maximum=3600, value=120, suffix=" s")
        super().__init__(
            tr("Site more fire stations"),
            tr(
                "Demand: every case in the project's case store, snapped to the road"
                " network. The existing fire stations stay open."
            ),
            [
                (tr("Objective"), self.model),
                (tr("Stations to add"), self.add),
                (tr("Service standard"), self.radius),
                (tr("Candidate spacing"), self.spacing),
                (tr("Solver"), self.solver),
                (tr("Time limit"), self.time_limit),
            ],
            parent,
        )
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
