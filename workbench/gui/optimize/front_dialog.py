"""The dialog that sets up a land-use Pareto front: its objectives, points, targets, caps.

It only builds a :class:`citydesk.planning.landuse_front.FrontSpec`; the main window runs it in the
task runner and shows the result in :class:`FrontView`.
"""

from __future__ import annotations

from PyQt5.QtWidgets import QDoubleSpinBox, QLineEdit, QSpinBox

from citydesk.planning.landuse_front import FrontSpec

from ..i18n import N_, tr
from .spec_dialog import SpecDialog, choice_box

PAIRS = {
    ("economic", "social"): N_("Economic value against social benefit"),
    ("economic", "environment"): N_("Economic value against floodplain impact"),
    ("social", "environment"): N_("Social benefit against floodplain impact"),
    ("social", "cost"): N_("Social benefit against development cost"),
    ("economic", "cost"): N_("Economic value against development cost"),
    ("economic", "social", "compatibility"): N_(
        "Economic value, social benefit and neighbour conflicts"
    ),
    ("social", "cost", "compatibility"): N_(
        "Social benefit, development cost and neighbour conflicts"
    ),
}


def money_suffix(parent) -> str:
    """ " M EUR": millions in the currency of the parent window's project."""
    from citydesk.layers.city_profile import currency_of

    project = getattr(parent, "project", None)
    currency = currency_of(getattr(project, "metadata", None)) if project is not None else ""
    return " M " + currency if currency else " M"


class FrontDialog(SpecDialog):
    def __init__(self, parent=None) -> None:
        self.pair = choice_box(PAIRS)
        self.points = QSpinBox(minimum=2, maximum=100, value=22)
        self.housing = QDoubleSpinBox(minimum=0, maximum=1e6, value=2000, decimals=0)
        self.budget = QDoubleSpinBox(
            minimum=0, maximum=1e6, value=300, decimals=0, suffix=money_suffix(parent)
        )
        self.max_changed = QSpinBox(minimum=0, maximum=100_000, value=600)
        self.where = QLineEdit()
        self.where.setPlaceholderText(tr("blank: every parcel"))
        super().__init__(
            tr("Land-use Pareto front"),
            tr(
                "Every parcel (or those the filter picks) is a candidate for keep, housing"
                " (low, high), mixed use, commercial, park or school, within zoning;"
                " floodplain, open space and water stay as they are."
            ),
            [
                (tr("Objectives"), self.pair),
                (tr("Plans on the front"), self.points),
                (tr("New housing units (target)"), self.housing),
                (tr("Budget"), self.budget),
                (tr("Most parcels changed"), self.max_changed),
                (tr("Candidate parcels (filter)"), self.where),
            ],
            parent,
        )

    def spec(self) -> FrontSpec:
        housing = self.housing.value()
        return FrontSpec(
            objectives=self.pair.currentData(),
            points=self.points.value(),
            targets={"housing": housing} if housing else {},
            budget=self.budget.value() * 1e6 if self.budget.value() else None,
            max_changed=self.max_changed.value() or None,
            where=self.where.text().strip(),
        )
