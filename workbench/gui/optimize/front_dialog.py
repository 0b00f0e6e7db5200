"""The dialog that sets up a land-use Pareto front: two objectives, points, targets, caps.

It only builds a :class:`planning.landuse_front.FrontSpec`; the main window runs it in the
task runner and shows the result in :class:`FrontView`.
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

from planning.landuse_front import FrontSpec

from ..i18n import N_, tr

PAIRS = {
    ("economic", "social"): N_("Economic value against social benefit"),
    ("economic", "environment"): N_("Economic value against floodplain impact"),
    ("social", "environment"): N_("Social benefit against floodplain impact"),
}


class FrontDialog(QDialog):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Land-use Pareto front"))
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                tr(
                    "Every parcel is a candidate for keep, housing (low, high), mixed use,"
                    " commercial, park or school, within zoning; floodplain, open space and"
                    " water stay as they are."
                )
            )
        )
        form = QFormLayout()
        self.pair = QComboBox()
        for key, label in PAIRS.items():
            self.pair.addItem(tr(label), key)
        self.points = QSpinBox(minimum=2, maximum=100, value=22)
        self.housing = QDoubleSpinBox(minimum=0, maximum=1e6, value=2000, decimals=0)
        self.budget = QDoubleSpinBox(minimum=0, maximum=1e6, value=300, decimals=0, suffix=" M USD")
        self.max_changed = QSpinBox(minimum=0, maximum=100_000, value=600)
        form.addRow(tr("Objectives"), self.pair)
        form.addRow(tr("Plans on the front"), self.points)
        form.addRow(tr("New housing units (target)"), self.housing)
        form.addRow(tr("Budget"), self.budget)
        form.addRow(tr("Most parcels changed"), self.max_changed)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def spec(self) -> FrontSpec:
        housing = self.housing.value()
        return FrontSpec(
            objectives=self.pair.currentData(),
            points=self.points.value(),
            targets={"housing": housing} if housing else {},
            budget=self.budget.value() * 1e6 if self.budget.value() else None,
            max_changed=self.max_changed.value() or None,
        )
