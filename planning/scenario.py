"""Planning scenarios: a versioned TOML file a planner can read, diff and edit.

A scenario says which layers play which role, what the city must add (housing units, jobs
floor area, school seats, park area), what may not change (floodplain, open space, water,
zoning, a cap on the share of parcels that change), which parcels are candidates (a filter
in the attribute-table language, e.g. ``improvement_value_usd < 0.5 * land_value_usd``), the
objectives with their weights or epsilon ranges, optional suitability factors, and the
phasing periods with their budgets.

Parsing is strict on purpose: an unknown or misspelt field is an error that names its dotted
path and suggests the nearest known field ("targets.housing_unit: did you mean
housing_units?"), because a silently ignored typo would quietly change the plan. Parsing
never executes anything from the file (``tomllib`` plus a typed schema).

``kind = "baseline"`` keeps every parcel's current use: the reference the other scenarios
are measured against. ``kind = "allocate"`` runs the land-use optimization.
"""

from __future__ import annotations

import typing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _
from citydesk.layers.toml_schema import Reader, parse_toml, read_table, read_text_file

SCHEMA_VERSION = 2
KINDS = ("baseline", "allocate")
LAYER_ROLES = (
    "parcels",
    "zoning",
    "floodplain",
    "open_space",
    "water",
    "streets",
    "neighborhoods",
)
PROTECTED_ROLES = ("floodplain", "open_space", "water")
#: what a scenario may weigh; "cost" (development and public cost, minimised) is what holds a
#: plan near its targets where the city has no land values to weigh against building
OBJECTIVES = ("economic", "social", "environment", "suitability", "cost")
FACTOR_SOURCES = ("network", "field", "distance", "raster", "overlay")


#: the scenarios shipped with the Cambridge demo (planning/data/scenarios/NAME.toml)
DEMO_SCENARIOS = ("baseline", "housing_first", "balanced")


def shipped_scenario(name: str) -> str:
    """The TOML text of a shipped demo scenario."""
    from importlib.resources import files

    return (files("citydesk.planning") / "data" / "scenarios" / f"{name}.toml").read_text(
        encoding="utf-8"
    )


class ScenarioError(CityDeskError):
    """A scenario file that cannot be used as written; the message names the field."""


@dataclass
class FacilityKind:
    """A kind of facility residents need: which layer, which rows, and their capacity."""

    layer: str
    where: str = ""  # filter, e.g. "category = 'public_school'"
    capacity: float | None = None  # per facility (school seats), when there is no field
    capacity_field: str | None = None
    mode: str = "walk"  # walk | drive: how residents (or crews) travel
    from_facility: bool = False  # drive from the facility to the parcel (fire engines)
    label: str = ""


#: sensible ranges: a count of homes or seats, an area in m², a share, money
_COUNT = {"range": (0, 1e8)}
_AREA = {"range": (0, 1e11)}
_MONEY = {"range": (0, 1e15)}


@dataclass
class Targets:
    housing_units: float = field(default=0.0, metadata=_COUNT)
    jobs_floor_m2: float = field(default=0.0, metadata=_AREA)
    school_seats: float = field(default=0.0, metadata=_COUNT)
    park_area_m2: float = field(default=0.0, metadata=_AREA)


@dataclass
class Constraints:
    exclude: list[str] = field(default_factory=lambda: list(PROTECTED_ROLES))
    # a parcel this much inside an excluded layer keeps its use
    protected_share: float = 0.5  # checked in (0, 1] below
    max_changed_share: float | None = 0.05  # of the candidates, in (0, 1]
    budget: float | None = field(default=None, metadata=_MONEY)  # the city's currency
    zoning: bool = True  # uses allowed by the zoning district family only
    # district prefix: homes/ha
    density_caps: dict[str, float] = field(default_factory=dict, metadata={"range": (0, 1e5)})
    protected_where: str = ""  # parcels that keep their use (historic, listed, ...)


@dataclass
class Candidates:
    where: str = ""  # blank: every parcel
    description: str = ""


@dataclass
class Objectives:
    weights: dict[str, float] = field(
        default_factory=lambda: {"economic": 1.0, "social": 1.0, "environment": 1.0},
        metadata={"range": (0, 1e6)},
    )
    epsilon: dict[str, list[float]] = field(default_factory=dict)  # objective: [lo, hi]


@dataclass
class Factor:
    source: str  # network | field | distance | raster | overlay
    facility: str = ""  # network: a facility kind
    layer: str = ""  # distance, raster, overlay: a project layer
    expression: str = ""  # field: a column or arithmetic on columns
    statistic: str = "mean"  # raster
    transform: str = "linear"
    better: str = "higher"
    lo: float | None = None
    hi: float | None = None
    scale: float | None = None
    scores: dict[str, float] = field(default_factory=dict)
    default: float = 0.0

    def to_transform(self):
        """The :class:`citydesk.planning.suitability.Transform` this factor's fields describe."""
        from .suitability import Transform

        return Transform(
            self.transform, self.better, self.lo, self.hi, self.scale, self.scores, self.default
        )


@dataclass
class Suitability:
    factors: dict[str, Factor] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict, metadata={"range": (0, 1e6)})
    pairwise: list[list[Any]] = field(default_factory=list)  # [a, b, a-over-b] triples (AHP)


@dataclass
class Phasing:
    periods: list[str] = field(default_factory=list)
    budgets: list[float] = field(default_factory=list, metadata=_MONEY)  # the city's currency
    # cumulative, by period end
    housing_units: list[float] = field(default_factory=list, metadata=_COUNT)
    years_per_period: float = field(default=5.0, metadata={"range": (0.1, 100)})


@dataclass
class Assumptions:
    # default: the city profile's persons_per_household
    persons_per_unit: float | None = field(default=None, metadata={"range": (0.1, 50)})
    walk_radius_m: float = field(default=800.0, metadata={"range": (1, 100_000)})
    floor_m2_per_job: float = field(default=30.0, metadata={"range": (1, 10_000)})
    school_seats_per_facility: float = field(default=400.0, metadata=_COUNT)


@dataclass
class Scenario:
    name: str
    title: str = ""
    description: str = ""
    kind: str = "allocate"
    schema: int = SCHEMA_VERSION
    layers: dict[str, str] = field(default_factory=dict)
    facilities: dict[str, FacilityKind] = field(default_factory=dict)
    targets: Targets = field(default_factory=Targets)
    constraints: Constraints = field(default_factory=Constraints)
    candidates: Candidates = field(default_factory=Candidates)
    objectives: Objectives = field(default_factory=Objectives)
    suitability: Suitability = field(default_factory=Suitability)
    phasing: Phasing = field(default_factory=Phasing)
    assumptions: Assumptions = field(default_factory=Assumptions)

    def to_toml(self) -> str:
        import tomli_w

        data = asdict(self)
        data["schema"] = SCHEMA_VERSION  # what it is written in now, whatever it was read from
        return tomli_w.dumps(_without_none(data))

    def display_title(self) -> str:
        return self.title or self.name


def parse_scenario(text: str, source: str = "") -> Scenario:
    """A checked :class:`Scenario` from TOML text; errors name the field and the fix."""
    data = parse_toml(text, ScenarioError, _("scenario"), source)
    table = data.get("scenario", data)  # a [scenario] table or the keys at the top
    if "scenario" in data and len(data) > 1:
        table = {**data["scenario"], **{k: v for k, v in data.items() if k != "scenario"}}
    try:
        table = _renamed_keys(table)
        scenario = read_table(Scenario, table, ScenarioError)
        check_scenario(scenario)
    except ScenarioError as exc:
        exc.path = exc.path or source or None
        raise
    return scenario


#: keys of schema 1 and what schema 2 calls them: the money is in the city's currency,
#: which "usd" in a Helsinki or Chengdu scenario misnamed
_RENAMED = {("constraints", "budget_usd"): "budget", ("phasing", "budgets_usd"): "budgets"}


def _renamed_keys(table: dict) -> dict:
    """A schema-1 scenario's keys under their schema-2 names, so every scenario stored in a
    project or written by hand before still opens (and is saved with the new names)."""
    out = dict(table)
    for (section, old), new in _RENAMED.items():
        part = out.get(section)
        if not isinstance(part, dict) or old not in part:
            continue
        if new in part:
            _fail(
                f"{section}.{old}",
                _("given together with {new}").format(new=new),
                _("Keep {new} (in the city's currency) and remove {old}.").format(new=new, old=old),
            )
        part = dict(part)
        part[new] = part.pop(old)
        out[section] = part
    return out


def read_scenario(path: str | Path) -> Scenario:
    text = read_text_file(path, ScenarioError, _("scenario"))
    return parse_scenario(text, str(path))


def _fail(where: str, problem: str, fix: str) -> typing.NoReturn:
    raise ScenarioError(f"{where}: {problem}" if where else problem, fix)


def check_scenario(s: Scenario) -> None:
    """Rules that hold whatever the project: names, ranges and cross-references."""
    if not s.name.strip() or not s.name.replace("_", "").replace("-", "").isalnum():
        _fail(
            "name",
            _("'{v}' is not a usable scenario name").format(v=s.name),
            _("Use letters, digits, '-' and '_' only."),
        )
    if s.schema > SCHEMA_VERSION:
        _fail(
            "schema",
            _("written for a newer CityDesk (schema {v})").format(v=s.schema),
            _("Update CityDesk to read it."),
        )
    _one_of("kind", s.kind, KINDS)
    for role in s.layers:
        _one_of(f"layers.{role}", role, LAYER_ROLES, what=_("layer role"))
    for name, value in asdict(s.targets).items():
        if value < 0:
            _fail(f"targets.{name}", _("must not be negative"), _("Give 0 for no target."))
    c = s.constraints
    for role in c.exclude:
        _one_of("constraints.exclude", role, PROTECTED_ROLES, what=_("protected layer role"))
    if not 0 < c.protected_share <= 1:
        _fail("constraints.protected_share", _("must be in (0, 1]"), _("For example 0.5."))
    if c.max_changed_share is not None and not 0 < c.max_changed_share <= 1:
        _fail("constraints.max_changed_share", _("must be in (0, 1]"), _("For example 0.05."))
    for district, cap in c.density_caps.items():
        if cap < 0:
            _fail(
                f"constraints.density_caps.{district}",
                _("must not be negative"),
                _("Homes per hectare, e.g. 60."),
            )
    if c.budget is not None and c.budget <= 0:
        _fail("constraints.budget", _("must be positive"), _("Leave it out for no budget."))
    o = s.objectives
    for name, weight in o.weights.items():
        _one_of(f"objectives.weights.{name}", name, OBJECTIVES, what=_("objective"))
        if weight < 0:
            _fail(f"objectives.weights.{name}", _("must not be negative"), _("Use 0 to ignore it."))
    if s.kind == "allocate" and not any(o.weights.values()):
        _fail("objectives.weights", _("all zero"), _("Weight at least one objective."))
    if "suitability" in {**o.weights, **o.epsilon} and not s.suitability.factors:
        _fail(
            "objectives",
            _("the suitability objective needs suitability factors"),
            _("Define [suitability.factors.*] or drop the suitability objective."),
        )
    for name, bounds in o.epsilon.items():
        _one_of(f"objectives.epsilon.{name}", name, OBJECTIVES, what=_("objective"))
        if len(bounds) != 2 or bounds[0] > bounds[1]:
            _fail(f"objectives.epsilon.{name}", _("must be [low, high]"), _("Give two numbers."))
    for name, kind in s.facilities.items():
        _one_of(f"facilities.{name}.mode", kind.mode, ("walk", "drive"))
        if kind.capacity is not None and kind.capacity <= 0:
            _fail(f"facilities.{name}.capacity", _("must be positive"), _("Seats per facility."))
    _check_suitability(s)
    p = s.phasing
    if len(p.periods) != len(p.budgets):
        _fail(
            "phasing.budgets",
            _("{b} budgets for {p} periods").format(b=len(p.budgets), p=len(p.periods)),
            _("Give one budget per period."),
        )
    if p.housing_units and len(p.housing_units) != len(p.periods):
        _fail(
            "phasing.housing_units",
            _("{b} targets for {p} periods").format(b=len(p.housing_units), p=len(p.periods)),
            _("Give one cumulative housing target per period, or none."),
        )
    if any(b <= 0 for b in p.budgets):
        _fail("phasing.budgets", _("budgets must be positive"), _("Check the amounts."))
    a = s.assumptions
    for name, value in asdict(a).items():
        if value is not None and value <= 0:
            _fail(f"assumptions.{name}", _("must be positive"), _("Check the value."))


def _check_suitability(s: Scenario) -> None:
    su = s.suitability
    for name, f in su.factors.items():
        where = f"suitability.factors.{name}"
        _one_of(f"{where}.source", f.source, FACTOR_SOURCES, what=_("factor source"))
        needs = {"network": "facility", "field": "expression"}.get(f.source, "layer")
        if not getattr(f, needs):
            _fail(
                where,
                _("a '{source}' factor needs '{key}'").format(source=f.source, key=needs),
                _('Add {key} = "...".').format(key=needs),
            )
        if f.source == "network" and f.facility not in s.facilities:
            _fail(
                f"{where}.facility",
                _("no facility kind '{v}'").format(v=f.facility),
                _("Define it under [facilities] or use one of: {names}.").format(
                    names=", ".join(s.facilities) or "-"
                ),
            )
        try:
            f.to_transform().check(name)
        except CityDeskError as exc:
            _fail(where, exc.problem, exc.fix)
    for name in su.weights:
        if name not in su.factors:
            _fail(
                f"suitability.weights.{name}",
                _("no factor '{v}'").format(v=name),
                _("Weight only the factors defined: {names}.").format(
                    names=", ".join(su.factors) or "-"
                ),
            )
    if su.weights and su.pairwise:
        _fail(
            "suitability",
            _("both weights and pairwise comparisons given"),
            _("Give either weights or pairwise, not both."),
        )
    for i, triple in enumerate(su.pairwise):
        if len(triple) != 3 or not isinstance(triple[2], int | float):
            _fail(
                f"suitability.pairwise[{i}]",
                _("must be [factor, factor, how many times more important]"),
                _('For example ["transit", "land_value", 3].'),
            )


def _one_of(where: str, value: str, allowed, what: str | None = None) -> None:
    Reader(ScenarioError).one_of(where, value, allowed, what)


def _without_none(value):
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value
