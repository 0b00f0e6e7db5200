"""A form over a scenario's everyday fields, with the full TOML one tab away.

The form edits targets, constraints, candidates, objective weights and phasing; layers,
facilities and suitability factors are edited as TOML in the second tab. On OK both tabs
become one TOML text and go through the same strict parser as a file, so the GUI can never
store a scenario the CLI would refuse; the error names the field and the dialog stays open.
"""

from __future__ import annotations

import tomllib

import tomli_w
from PyQt5.QtGui import QFont
from PyQt5.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from citydesk.layers.errors import CityDeskError
from citydesk.planning.scenario import KINDS, OBJECTIVES, PROTECTED_ROLES, Scenario, parse_scenario

from ..i18n import tr

#: fields the form owns; everything else stays in the TOML tab
FORM_TABLES = ("targets", "constraints", "candidates", "objectives", "phasing")
FORM_KEYS = ("name", "title", "description", "kind")


def _spin(value: float, maximum: float, decimals: int = 0, suffix: str = "") -> QDoubleSpinBox:
    box = QDoubleSpinBox(minimum=0, maximum=maximum, decimals=decimals, suffix=suffix)
    box.setValue(value)
    return box


def _numbers(text: str) -> list[float]:
    return [float(p) for p in text.replace(";", ",").split(",") if p.strip()]


class ScenarioForm(QDialog):
    def __init__(self, scenario: Scenario, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Scenario {name}").format(name=scenario.name))
        self.scenario: Scenario | None = None
        s = scenario
        self.name = QLineEdit(s.name)
        self.title = QLineEdit(s.title)
        self.description = QLineEdit(s.description)
        self.kind = QComboBox()
        self.kind.addItems(KINDS)
        self.kind.setCurrentText(s.kind)
        t, c = s.targets, s.constraints
        self.housing = _spin(t.housing_units, 1e7)
        self.jobs = _spin(t.jobs_floor_m2, 1e9, suffix=" m²")
        self.seats = _spin(t.school_seats, 1e6)
        self.parks = _spin(t.park_area_m2, 1e9, suffix=" m²")
        self.changed = _spin((c.max_changed_share or 0) * 100, 100, 1, " %")
        from citydesk.layers.city_profile import project_currency

        path = getattr(parent, "path", None)
        money = " M " + (project_currency(path) if path else "")
        self.budget = _spin((c.budget or 0) / 1e6, 1e6, 0, money.rstrip())
        self.protect = {role: QCheckBox(role) for role in PROTECTED_ROLES}
        for role, box in self.protect.items():
            box.setChecked(role in c.exclude)
        self.zoning = QCheckBox(tr("only uses the zoning district allows"))
        self.zoning.setChecked(c.zoning)
        self.candidates = QLineEdit(s.candidates.where)
        self.candidates.setPlaceholderText(tr("blank: every parcel"))
        self.weights = {o: _spin(s.objectives.weights.get(o, 0.0), 100, 2) for o in OBJECTIVES}
        self.periods = QLineEdit(", ".join(s.phasing.periods))
        self.budgets = QLineEdit(", ".join(f"{b / 1e6:g}" for b in s.phasing.budgets))
        self.homes_by_period = QLineEdit(", ".join(f"{h:g}" for h in s.phasing.housing_units))
        self.toml = QPlainTextEdit(self._rest_toml(s))
        self.toml.setFont(QFont("monospace"))
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020")
        self.error.setWordWrap(True)

        form = QFormLayout()
        for label, widget in (
            (tr("Name"), self.name),
            (tr("Title"), self.title),
            (tr("Description"), self.description),
            (tr("Kind"), self.kind),
            (tr("New housing units"), self.housing),
            (tr("Job floor area"), self.jobs),
            (tr("School seats"), self.seats),
            (tr("Park area"), self.parks),
            (tr("Most parcels changed (share of candidates; 0: no cap)"), self.changed),
            (tr("Budget (0: none)"), self.budget),
            (tr("Zoning"), self.zoning),
            (tr("Candidate parcels (filter)"), self.candidates),
            (tr("Phasing periods (comma-separated)"), self.periods),
            (tr("Budget per period (millions)"), self.budgets),
            (tr("Homes built by the end of each period"), self.homes_by_period),
        ):
            form.addRow(label, widget)
        for role, box in self.protect.items():
            form.addRow(tr("Protected: {role}").format(role=role), box)
        for name, box in self.weights.items():
            form.addRow(tr("Weight: {objective}").format(objective=name), box)
        page = QWidget()
        page.setLayout(form)
        tabs = QTabWidget()
        tabs.addTab(page, tr("Scenario"))
        tabs.addTab(self.toml, tr("Layers, facilities, suitability (TOML)"))
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(tabs)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self._base = s
        self.resize(620, 720)

    @staticmethod
    def _rest_toml(s: Scenario) -> str:
        data = tomllib.loads(s.to_toml())
        rest = {k: v for k, v in data.items() if k not in FORM_TABLES + FORM_KEYS}
        return tomli_w.dumps(rest)

    def toml_text(self) -> str:
        """The scenario as TOML: the form's fields over the TOML tab's tables."""
        try:
            rest = tomllib.loads(self.toml.toPlainText())
        except tomllib.TOMLDecodeError as exc:
            raise CityDeskError(
                tr("The TOML tab is not valid TOML: {err}").format(err=exc)
            ) from exc
        base = tomllib.loads(self._base.to_toml())
        budget = self.budget.value() * 1e6
        data = {
            **{k: v for k, v in rest.items() if k not in FORM_TABLES + FORM_KEYS},
            "name": self.name.text().strip(),
            "title": self.title.text(),
            "description": self.description.text(),
            "kind": self.kind.currentText(),
            "targets": {
                "housing_units": self.housing.value(),
                "jobs_floor_m2": self.jobs.value(),
                "school_seats": self.seats.value(),
                "park_area_m2": self.parks.value(),
            },
            "constraints": {
                **base.get("constraints", {}),
                "exclude": [r for r, box in self.protect.items() if box.isChecked()],
                "zoning": self.zoning.isChecked(),
                "max_changed_share": self.changed.value() / 100,
            },
            "candidates": {**base.get("candidates", {}), "where": self.candidates.text()},
            "objectives": {
                **base.get("objectives", {}),
                "weights": {o: box.value() for o, box in self.weights.items() if box.value() > 0},
            },
            "phasing": {
                **base.get("phasing", {}),
                "periods": [p.strip() for p in self.periods.text().split(",") if p.strip()],
                "budgets": [b * 1e6 for b in _numbers(self.budgets.text())],
                "housing_units": _numbers(self.homes_by_period.text()),
            },
        }
        if budget > 0:
            data["constraints"]["budget"] = budget
        else:
            data["constraints"].pop("budget", None)
        if not data["constraints"]["max_changed_share"]:  # 0 %: no cap
            data["constraints"]["max_changed_share"] = 1.0
        return tomli_w.dumps(data)

    def accept(self) -> None:
        try:
            text = self.toml_text()
            self.scenario = parse_scenario(text)
        except (CityDeskError, ValueError) as exc:
            self.error.setText(getattr(exc, "message", str(exc)))
            return
        self.text = text
        super().accept()
