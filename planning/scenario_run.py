"""Running a scenario on a project: layers -> candidates -> plan -> indicators -> results.

The steps, each a function so that a test, the CLI, the workbench and the report can call
the part they need:

1. :func:`prepare_inputs` reads the layers by role once, in one metric CRS, and builds the
   street network (walk and drive costs); several scenarios on one project share it.
2. :func:`candidate_mask` applies the scenario's candidate filter.
3. suitability (when the scenario defines factors) scores every parcel 0..1.
4. :func:`allocate` solves the land-use model over the candidates (``kind = "allocate"``),
   with the network walking access in the social objective; ``kind = "baseline"`` keeps
   every parcel as it is.
5. phasing (when the scenario has periods) orders the changes under each period's budget.
6. :func:`plan_state` evaluates the plan parcel by parcel (new schools and parks become
   facilities, so access is measured *after* the plan) and :mod:`citydesk.planning.indicators`
   sums it per city and neighbourhood.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from citydesk.layers.city_profile import CityProfile
from citydesk.layers.crs import suggest_projected_crs, to_lonlat_bounds
from citydesk.layers.errors import CityDeskError
from citydesk.layers.expressions import filter_mask
from citydesk.layers.feedback import Feedback, NullFeedback, check_canceled
from citydesk.layers.i18n import _
from citydesk.layers.overlay import made_valid, nearest_distance, share_inside
from citydesk.optimization.landuse import USES, LandUseInfeasible, LandUseProblem, solve_landuse
from citydesk.optimization.solve import SolveOptions, SolveOutcome

from .indicators import indicator_table
from .landuse_inputs import (
    ParcelFacts,
    assumptions_for,
    landuse_problem,
    parcel_facts,
    plan_over_layer,
)
from .network_access import DRIVE, WALK, NetworkCosts
from .scenario import FacilityKind, Scenario, ScenarioError
from .two_step_fca import two_step_fca

#: facility kinds the built-in indicators read (scenario key -> indicator column)
INDICATOR_KINDS = {"school": "walk_school_m", "park": "walk_park_m", "clinic": "walk_clinic_m"}
FIRE_KIND = "fire"
ACCESS_ROAD_FREE_M = 30.0  # a changed parcel this close to a street needs no new street


@dataclass
class PlanningInputs:
    """A project's layers in one metric CRS and its street network, read once."""

    project: Path
    layer_names: dict[str, str]
    crs: object
    parcels: gpd.GeoDataFrame  # metric CRS, valid geometry, index 0..n-1
    neighborhood: np.ndarray
    walk: NetworkCosts
    drive: NetworkCosts
    network_lines: list[str]
    street_distance: np.ndarray  # straight-line metres from each parcel to the nearest street
    profile: CityProfile | None = None
    facts: ParcelFacts | None = None
    notes: list[str] = field(default_factory=list)  # what the city's data leaves out
    _places: dict = field(default_factory=dict, repr=False)
    _frames: dict = field(default_factory=dict, repr=False)
    _shares: dict = field(default_factory=dict, repr=False)
    _costs: dict = field(default_factory=dict, repr=False)

    def layer(self, name: str, where: str) -> gpd.GeoDataFrame:
        """A project layer in the metric CRS; a missing one is named by its scenario field."""
        if name not in self._frames:
            frame = read_scenario_layer(self.project, name, where, allow_empty=True)
            self._frames[name] = frame.to_crs(self.crs)
        return self._frames[name]

    def share_in(self, name: str, where: str) -> np.ndarray:
        """Each parcel's share of area inside a layer, computed once per layer: the
        floodplain's and the open space's were cut again by every scenario's land-use model
        and again by a suitability factor on the same layer (0.6-0.7 s each on the demo)."""
        if name not in self._shares:
            self._shares[name] = share_inside(self.parcels, self.layer(name, where))
        return self._shares[name]

    @property
    def flood_share(self) -> np.ndarray:
        """Each parcel's share inside the floodplain (0 where the city names none)."""
        return self.role_share("floodplain")

    @property
    def open_share(self) -> np.ndarray:
        """Each parcel's share inside open space (0 where the city names none)."""
        return self.role_share("open_space")

    def role_share(self, role: str) -> np.ndarray:
        """:meth:`share_in` the layer the scenario gives a role (``floodplain``...), by the
        role's field in errors; zeros where it names none."""
        name = self.layer_names.get(role)
        return self.share_in(name, f"layers.{role}") if name else np.zeros(len(self.parcels))

    def places(self, costs: NetworkCosts):
        """Each parcel's network node and access cost, per travel mode (computed once)."""
        if costs.mode.name not in self._places:
            self._places[costs.mode.name] = costs.snap_places(self.parcels.geometry)
        return self._places[costs.mode.name]

    def facilities(self, key: str, kind: FacilityKind) -> gpd.GeoDataFrame:
        """The facilities of a kind (layer and filter), filtered once per run of inputs."""
        cache_key = ("facilities", kind.layer, kind.where)
        if cache_key not in self._frames:
            self._frames[cache_key] = self._filtered_facilities(key, kind)
        return self._frames[cache_key]

    def _filtered_facilities(self, key: str, kind: FacilityKind) -> gpd.GeoDataFrame:
        frame = self.layer(kind.layer, f"facilities.{key}.layer")
        if kind.where:
            try:
                frame = frame[filter_mask(frame, kind.where).to_numpy()]
            except CityDeskError as exc:
                raise ScenarioError(
                    _("facilities.{key}.where: {problem}").format(key=key, problem=exc.problem),
                    exc.fix,
                    gui_fix=exc.gui_fix,
                ) from exc
        if frame.empty:
            raise ScenarioError(
                _("facilities.{key}: no facility matches").format(key=key),
                _("Check the layer and the filter."),
            )
        return frame

    def facility_cost(self, key: str, kind: FacilityKind) -> np.ndarray:
        """:meth:`cost_to` the city's own facilities of a kind, computed once per run of
        inputs: every plan a report compares (three scenarios and a front's dozen Pareto
        plans) asked again for the same clinics and fire stations."""
        cache_key = (key, kind.layer, kind.where, kind.mode, kind.from_facility)
        if cache_key not in self._costs:
            self._costs[cache_key] = self.cost_to(self.facilities(key, kind), kind)
        return self._costs[cache_key].copy()  # a caller's change must not reach the cache

    def identity_columns(self) -> list[str]:
        """The parcels' id, address and land-use columns as the inputs' city profile names
        them (:func:`~citydesk.layers.city_layers.identity_columns`): what a result layer
        keeps so a row can be traced back to its parcel."""
        from citydesk.layers.city_layers import identity_columns

        layers = self.profile.layers if self.profile is not None else None
        return identity_columns(self.parcels, layers)

    def cost_to(self, frame: gpd.GeoDataFrame, kind: FacilityKind) -> np.ndarray:
        """Network cost from each parcel to the nearest facility of ``frame`` (walk metres
        or drive seconds; from the facility when ``kind.from_facility``)."""
        costs = self.walk if kind.mode == "walk" else self.drive
        node, access = self.places(costs)
        ent = costs.entrances(frame.geometry)
        if kind.from_facility:
            dist, _owner = costs.from_facilities(ent)
        else:
            dist, _owner = costs.to_facilities(ent)
        return dist[node] + access


def read_scenario_layer(
    project: Path, name: str, where: str, allow_empty: bool = False
) -> gpd.GeoDataFrame:
    """A layer of the project named by the scenario field ``where``; a missing layer, a
    layer without a CRS or (unless ``allow_empty``: a floodplain layer may be empty) one
    without features is an error that names that field."""
    from citydesk.layers.io import read_frame

    try:
        frame = read_frame(project, name)[0]
    except CityDeskError as exc:
        raise ScenarioError(
            _("{where} = '{name}': {problem}").format(where=where, name=name, problem=exc.problem),
            exc.fix,
            gui_fix=exc.gui_fix,
        ) from exc
    if frame.crs is None:
        raise ScenarioError(
            _("{where} = '{name}': the layer has no CRS").format(where=where, name=name),
            _("Set the layer's CRS in the project."),
        )
    if frame.empty and not allow_empty:
        raise ScenarioError(
            _("{where} = '{name}': the layer has no features").format(where=where, name=name),
            _("Load the city's data into it, or name a layer that has them."),
        )
    return frame


def prepare_inputs(
    project: str | Path, scenario: Scenario, feedback: Feedback | None = None
) -> PlanningInputs:
    """Read the scenario's layers (completed by the city profile, see
    :func:`citydesk.planning.scenario_defaults.with_city_defaults`) and build the street
    network."""
    from citydesk.layers.city_layers import missing_layer
    from citydesk.layers.city_profile import profile_or_none
    from citydesk.layers.road_network import build_network, network_spec

    from .scenario_defaults import with_city_defaults

    feedback = feedback or NullFeedback()
    project = Path(project)
    profile = profile_or_none(project)
    scenario = with_city_defaults(scenario, profile)
    names = scenario.layers
    if "parcels" not in names:
        raise missing_layer(_("Planning scenarios"), "parcels")
    parcels = read_scenario_layer(project, names["parcels"], "layers.parcels")
    crs = suggest_projected_crs(
        to_lonlat_bounds(tuple(parcels.total_bounds), parcels.crs), parcels.crs.geodetic_crs
    )
    parcels = parcels.reset_index(drop=True).to_crs(crs)
    parcels["geometry"] = gpd.GeoSeries(made_valid(parcels.geometry.values), crs=crs)
    feedback.set_progress(10)
    if "streets" not in names:
        raise missing_layer(_("Planning scenarios (network access)"), "streets")
    streets = read_scenario_layer(project, names["streets"], "layers.streets")
    network = build_network(streets, network_spec(profile, "drive", use_node_ids=False))
    walk_network = network
    if profile is not None and (profile.streets.walk_field or profile.streets.drive_field):
        # the city says which segments are walked and which driven (OSM: footways, steps)
        walk_network = build_network(streets, network_spec(profile, "walk", use_node_ids=False))
    feedback.set_progress(30)
    inputs = PlanningInputs(
        project=project,
        layer_names=dict(names),
        crs=crs,
        parcels=parcels,
        neighborhood=np.full(len(parcels), "", dtype=object),
        walk=NetworkCosts(walk_network, WALK),
        drive=NetworkCosts(network, DRIVE),
        network_lines=_network_lines(network, walk_network),
        street_distance=nearest_distance(parcels, streets.to_crs(crs)),
        profile=profile,
    )
    inputs.facts = parcel_facts(parcels, profile, inputs.notes)
    zoning = profile.layers.zoning if profile is not None else None
    if scenario.constraints.zoning and ("zoning" not in names or not (zoning and zoning.code)):
        inputs.notes.append(
            _(
                "constraints.zoning: the city has no zoning districts with a code field "
                "([layers.zoning] layer and code): every use is allowed everywhere"
            )
        )
    for role in ("floodplain", "open_space"):  # now: a layer that cannot be read is said here
        inputs.role_share(role)
    if "neighborhoods" in names:
        inputs.neighborhood = _area_names(
            parcels,
            inputs.layer(names["neighborhoods"], "layers.neighborhoods"),
            profile,
            inputs.notes,
        )
    feedback.set_progress(60)
    return inputs


def _network_lines(drive, walk) -> list[str]:
    """The build report of the network(s), for the planning report."""
    if walk is drive:
        return drive.report.lines() if drive.report else []
    lines = []
    for label, network in ((_("driving"), drive), (_("walking"), walk)):
        lines += [f"{label}: {line}" for line in (network.report.lines() if network.report else [])]
    return lines


def _area_names(
    parcels: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    profile: CityProfile | None,
    notes: list[str],
) -> np.ndarray:
    """The name of the area holding each parcel's inner point ('' outside every area), by
    the profile's ``[layers.neighborhoods] name`` (or code)."""
    from citydesk.layers.city_layers import column as mapped

    layers = profile.layers if profile is not None else None
    feature = _("Indicators per neighbourhood")
    column = mapped(areas, layers, "neighborhoods", "name", feature) or mapped(
        areas, layers, "neighborhoods", "code", feature
    )
    if column is None:
        notes.append(
            _("neighbourhoods have no name field ([layers.neighborhoods] name): they are numbered")
        )
        areas = areas.assign(_area=[str(i + 1) for i in range(len(areas))])
        column = "_area"
    points = gpd.GeoDataFrame(geometry=parcels.geometry.representative_point(), crs=parcels.crs)
    joined = gpd.sjoin(points, areas[[column, "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated()]
    return joined[column].fillna("").astype(str).to_numpy(dtype=object)


def _parcel_filter(inputs: PlanningInputs, where: str, text: str) -> np.ndarray:
    try:
        return filter_mask(inputs.parcels, text).to_numpy(bool)
    except CityDeskError as exc:
        raise ScenarioError(
            _("{where}: {problem}").format(where=where, problem=exc.problem),
            exc.fix,
            gui_fix=exc.gui_fix,
        ) from exc


def candidate_mask(inputs: PlanningInputs, scenario: Scenario) -> np.ndarray:
    """The candidate filter, minus the parcels the scenario protects by filter."""
    mask = _parcel_filter(inputs, "candidates.where", scenario.candidates.where)
    protected = scenario.constraints.protected_where
    if protected.strip():
        mask = mask & ~_parcel_filter(inputs, "constraints.protected_where", protected)
    if scenario.kind == "allocate" and not mask.any():
        raise ScenarioError(
            _("candidates.where: no parcel matches"), _("Loosen the candidate filter.")
        )
    return mask


def walking_distances(inputs: PlanningInputs, scenario: Scenario) -> dict[str, np.ndarray]:
    """Network walking metres from each parcel to the nearest school and park (the kinds
    the social objective reads), for those the scenario defines."""
    return {
        key: inputs.facility_cost(key, scenario.facilities[key])
        for key in ("school", "park")
        if key in scenario.facilities
    }


def build_problem(
    inputs: PlanningInputs,
    scenario: Scenario,
    candidates: np.ndarray,
    walk: dict[str, np.ndarray] | None = None,
    suitability: np.ndarray | None = None,
) -> LandUseProblem:
    """The land-use model inputs of the scenario over its candidate parcels.

    With the walking distances of :func:`walking_distances`, the social objective weighs new
    homes by exp(-d / walk radius) (mean over school and park) on the street network, and a
    new school or park is credited once with the homes it brings within walking reach."""
    c = scenario.constraints
    t = scenario.targets
    caps = {district.upper(): cap for district, cap in c.density_caps.items()}
    rules = assumptions_for(inputs.profile, protected_share=c.protected_share, density_caps=caps)
    if not c.zoning:
        rules = assumptions_for(
            inputs.profile,
            protected_share=c.protected_share,
            zoning={},
            default_zoning=USES[1:],
            density_caps=caps,
        )
    names = inputs.layer_names

    def role(name: str) -> gpd.GeoDataFrame | None:
        return inputs.layer(names[name], f"layers.{name}") if name in names else None

    targets = {
        "housing": t.housing_units,
        "jobs": t.jobs_floor_m2,
        "school_seats": t.school_seats,
        "park_area": t.park_area_m2,
    }
    facilities = {
        key: inputs.facilities(key, scenario.facilities[key])
        for key in ("school", "park")
        if key in scenario.facilities
    }
    n_candidates = int(candidates.sum())
    radius = scenario.assumptions.walk_radius_m
    walk = walk or {}
    access = (
        np.mean([np.exp(-np.nan_to_num(d, posinf=1e9) / radius) for d in walk.values()], axis=0)
        if walk
        else None
    )
    served = {f"{key}s": d <= radius for key, d in walk.items()}
    return landuse_problem(
        inputs.parcels,
        zoning=role("zoning") if c.zoning else None,
        floodplain=role("floodplain"),
        open_space=role("open_space"),
        water=role("water"),
        schools=facilities.get("school"),
        parks=facilities.get("park"),
        candidates=candidates,
        targets={k: v for k, v in targets.items() if v > 0},
        budget=c.budget,
        max_changed=None
        if c.max_changed_share is None
        else max(1, math.floor(c.max_changed_share * n_candidates)),
        assumptions=rules,
        access=access,
        suitability=suitability,
        protect=tuple(c.exclude),
        served=served,
        coverage=True,
        profile=inputs.profile,
        notes=[],  # the same notes as inputs.notes
        cut_shares={r: inputs.role_share(r) for r in ("floodplain", "open_space", "water")},
    )


def allocate(
    inputs: PlanningInputs,
    scenario: Scenario,
    candidates: np.ndarray,
    suitability: np.ndarray | None = None,
    options: SolveOptions | None = None,
    feedback: Feedback | None = None,
) -> tuple[np.ndarray, SolveOutcome, LandUseProblem]:
    """The plan over all parcels (use index; non-candidates keep), the solve outcome and the
    model inputs. Infeasible targets raise :class:`citydesk.optimization.landuse.LandUseInfeasible`,
    which names them."""
    problem = build_problem(
        inputs, scenario, candidates, walking_distances(inputs, scenario), suitability
    )
    o = scenario.objectives
    weights = {k: v for k, v in o.weights.items() if v > 0}
    bounds = {k: (v[0], v[1]) for k, v in o.epsilon.items()}
    try:
        outcome, plan = solve_landuse(
            problem, weights, options, feedback, bounds=bounds, normalise=True
        )
    except LandUseInfeasible as exc:
        raise ScenarioError(*_infeasible_in_scenario_terms(exc)) from exc
    if plan is None:
        raise CityDeskError(
            _("the land-use model found no plan ({status})").format(status=outcome.describe()),
            _("Loosen the scenario's targets or constraints, or give the solver more time."),
        )
    return plan_over_layer(plan, np.flatnonzero(candidates), len(inputs.parcels)), outcome, problem


#: what the land-use model calls a target or a limit -> the scenario field that sets it
TARGET_FIELDS = {
    "housing": "targets.housing_units",
    "jobs": "targets.jobs_floor_m2",
    "school_seats": "targets.school_seats",
    "park_area": "targets.park_area_m2",
}
LIMIT_FIELDS = {
    "budget": "constraints.budget",
    "max_changed": "constraints.max_changed_share",
    "zoning": "constraints.zoning",
    "protected": "constraints.exclude",
}


def _infeasible_in_scenario_terms(exc: LandUseInfeasible) -> tuple[str, str]:
    """The model's explanation with each target and limit named by its scenario field, so
    the planner knows which line of the file to change."""
    lines = []
    for short in exc.shortfalls:
        limits = ", ".join(LIMIT_FIELDS[g] for g in short.limited_by)
        line = f"{TARGET_FIELDS.get(short.target, short.target)}: {short.describe()}"
        lines.append(line + (f" ({limits})" if limits else ""))
    return (
        _("the targets cannot all be met: {lines}").format(lines="; ".join(lines)),
        _("Lower the targets named, or relax the constraints in brackets."),
    )


def plan_state(
    inputs: PlanningInputs,
    scenario: Scenario,
    plan: np.ndarray,
    feedback: Feedback | None = None,
    problems: list[str] | None = None,
) -> pd.DataFrame:
    """Per parcel, everything the indicators read (see :mod:`citydesk.planning.indicators`), after
    ``plan`` (a use index per parcel; 0 keeps)."""
    feedback = feedback or NullFeedback()
    problems = problems if problems is not None else []
    a = scenario.assumptions
    parcels = inputs.parcels
    changed = plan != 0
    effect = (
        landuse_problem(
            parcels,
            candidates=changed,
            access=np.zeros(len(parcels)),
            profile=inputs.profile,
            notes=[],
        )
        if changed.any()
        else None
    )
    facts = inputs.facts or parcel_facts(parcels, inputs.profile)
    uses = plan[changed]

    def added(table: np.ndarray) -> np.ndarray:
        out = np.zeros(len(parcels))
        if effect is not None:
            out[changed] = table[np.arange(len(uses)), uses]
        return out

    units_before = (
        facts.units_now.astype(float) if facts.units_now is not None else np.zeros(len(parcels))
    )
    yields = effect.yields if effect is not None else {}
    zero = np.zeros((len(parcels), len(USES)))
    units_after = np.maximum(units_before + added(yields.get("housing", zero)), 0)
    floor_before = _job_floor_now(facts)
    floor_after = np.where(changed, 0.0, floor_before) + added(yields.get("jobs", zero))
    area = parcels.geometry.area.to_numpy()
    state = pd.DataFrame(
        {
            "use": np.asarray(USES, dtype=object)[plan],
            "changed": changed.astype(float),
            "units_before": units_before,
            "units_after": units_after,
            "residents": units_after * a.persons_per_unit,
            "jobs_after": floor_after / a.floor_m2_per_job,
            "green_m2": np.where(plan == USES.index("park"), area, inputs.open_share * area),
            "land_value_gain": added(effect.coefficients["economic"] if effect else zero),
            "plan_cost": added(effect.cost if effect else zero),
            "flood_share": inputs.flood_share,
            "neighborhood": inputs.neighborhood,
        }
    )
    # a GeoDataFrame, so that plugin indicators can measure on the parcels themselves
    state = gpd.GeoDataFrame(state, geometry=parcels.geometry.values, crs=inputs.crs)
    state.attrs["walk_radius_m"] = a.walk_radius_m
    # figures the city does not have: the indicators that need them are left out, said so
    state.attrs["unknown"] = [
        name
        for name, missing in (
            ("housing_units", facts.units_now is None),
            ("floor_area", facts.floor_m2 is None),
            ("land_value", facts.land_value is None),
            ("floodplain", "floodplain" not in inputs.layer_names),
            ("open_space", "open_space" not in inputs.layer_names),
        )
        if missing
    ]
    state.attrs["project"] = str(inputs.project)
    state["new_network_m"] = np.where(
        changed, np.maximum(inputs.street_distance - ACCESS_ROAD_FREE_M, 0), 0
    )
    new_sites = {"school": plan == USES.index("school"), "park": plan == USES.index("park")}
    for n, (key, column) in enumerate(INDICATOR_KINDS.items()):
        check_canceled(feedback)
        if key not in scenario.facilities:
            state.attrs["unknown"].append(f"kind:{key}")  # its indicators say they are left out
            continue
        kind = scenario.facilities[key]
        if key in new_sites and new_sites[key].any():
            frame = pd.concat(
                [
                    inputs.facilities(key, kind)[["geometry"]],
                    parcels.loc[new_sites[key], ["geometry"]],
                ],
                ignore_index=True,
            )
            state[column] = inputs.cost_to(frame, kind)
        else:
            state[column] = inputs.facility_cost(key, kind)
        feedback.set_progress(100.0 * (n + 1) / (len(INDICATOR_KINDS) + 2))
    if FIRE_KIND in scenario.facilities:
        state["drive_fire_s"] = inputs.facility_cost(FIRE_KIND, scenario.facilities[FIRE_KIND])
    else:
        state.attrs["unknown"].append(f"kind:{FIRE_KIND}")
    if "school" in scenario.facilities:
        state["school_access"] = _school_access(
            inputs, scenario, state, added(yields.get("school_seats", zero))
        )
    feedback.set_progress(100)
    return state


def _school_access(
    inputs: PlanningInputs, scenario: Scenario, state: pd.DataFrame, new_seats: np.ndarray
) -> np.ndarray:
    """2SFCA seats per resident within the walk radius, new schools included."""
    kind = scenario.facilities["school"]
    schools = inputs.facilities("school", kind)
    if kind.capacity_field:
        if kind.capacity_field not in schools:
            raise ScenarioError(
                _("facilities.school.capacity_field: no column '{c}'").format(
                    c=kind.capacity_field
                ),
                _("Columns: {names}.").format(names=", ".join(map(str, schools.columns))),
            )
        seats = (
            pd.to_numeric(schools[kind.capacity_field], errors="coerce").fillna(0).to_numpy(float)
        )
    else:
        seats = np.full(
            len(schools), kind.capacity or scenario.assumptions.school_seats_per_facility
        )
    geoms = schools.geometry
    new = new_seats > 0
    if new.any():
        geoms = pd.concat([geoms, inputs.parcels.geometry[new]], ignore_index=True)
        seats = np.concatenate([seats, new_seats[new]])
    costs = inputs.walk
    radius = scenario.assumptions.walk_radius_m
    matrix = costs.facility_costs(
        costs.entrances(gpd.GeoSeries(geoms, crs=inputs.crs)), inputs.places(costs), limit=radius
    )
    return two_step_fca(matrix, seats, state["residents"].to_numpy(float), radius).access


def _job_floor_now(facts: ParcelFacts) -> np.ndarray:
    """Job floor area today (m²): the floor area of non-residential parcels, half of it for
    mixed use (by the land-use class); 0 where the city has no floor area field."""
    from citydesk.layers.land_use import JOB_SHARES

    if facts.floor_m2 is None:
        return np.zeros(len(facts.land_class))
    share = np.array([JOB_SHARES.get(c, 0.0) for c in facts.land_class], dtype=float)
    return facts.floor_m2 * share


@dataclass
class ScenarioResult:
    scenario: Scenario
    revision: int | None
    plan: np.ndarray
    state: pd.DataFrame
    indicators: pd.DataFrame
    outcome: SolveOutcome | None
    candidates: int
    suitability: pd.DataFrame | None = None
    phasing: object | None = None
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    network_lines: list[str] = field(default_factory=list)


def run_scenario(
    project: str | Path,
    scenario: Scenario,
    revision: int | None = None,
    inputs: PlanningInputs | None = None,
    options: SolveOptions | None = None,
    feedback: Feedback | None = None,
) -> ScenarioResult:
    """Every step of the module docstring for one scenario."""
    from citydesk.layers.city_profile import profile_or_none

    from .scenario_defaults import with_city_defaults
    from .suitability_run import run_suitability

    started = time.perf_counter()
    feedback = feedback or NullFeedback()
    scenario = with_city_defaults(scenario, profile_or_none(project))
    if inputs is None or inputs.layer_names != scenario.layers:
        inputs = prepare_inputs(project, scenario, feedback)
    problems: list[str] = list(inputs.notes)
    candidates = candidate_mask(inputs, scenario)
    suit = run_suitability(inputs, scenario) if scenario.suitability.factors else None
    score = None if suit is None else suit["suitability"].to_numpy(float)
    outcome, problem = None, None
    plan = np.zeros(len(inputs.parcels), dtype=int)
    if scenario.kind == "allocate":
        plan, outcome, problem = allocate(inputs, scenario, candidates, score, options, feedback)
        problems[:0] = _beyond_target(problem, plan[candidates], scenario)  # first: it acts
    check_canceled(feedback)
    phasing = None
    if scenario.phasing.periods and problem is not None:
        phasing = _phase(scenario, problem, plan[candidates], options, feedback)
        problems += phasing.notes
    state = plan_state(inputs, scenario, plan, feedback, problems)
    if suit is not None:
        state["suitability"] = suit["suitability"].to_numpy()
    if phasing is not None:
        period = np.zeros(len(plan), dtype=int)
        changed_candidates = np.flatnonzero(candidates)[plan[candidates] != 0]
        period[changed_candidates] = phasing.period
        state["phase"] = period
    table = indicator_table(state, problems=problems)
    return ScenarioResult(
        scenario=scenario,
        revision=revision,
        plan=plan,
        state=state,
        indicators=table,
        outcome=outcome,
        candidates=int(candidates.sum()),
        suitability=suit,
        phasing=phasing,
        problems=problems,
        seconds=time.perf_counter() - started,
        network_lines=inputs.network_lines,
    )


def _beyond_target(problem: LandUseProblem, plan: np.ndarray, scenario: Scenario) -> list[str]:
    """Notes when the plan does far more than it was asked: targets are floors, and the
    weighted objectives gain from every change (social from every home, economic from every
    dollar of gross uplift, which is not net of cost). 300 homes asked gave 22,476 in a
    Santiago extract, and 124,430 on the demo at a cost of USD 8.1 billion for
    3.2 billion of land value: a scenario without a budget or a weight on cost changes all
    the change cap allows. Each note says how to hold the plan (there, cost 1 against
    social 0.5 gave 302 homes)."""
    from citydesk.optimization.landuse import plan_totals

    notes = []
    target = scenario.targets.housing_units
    totals = plan_totals(problem, plan)
    added = totals.get("housing", 0.0)
    if target > 0 and added > 2 * target:
        notes.append(
            _(
                "the plan adds {added:,.0f} homes for a target of {target:,.0f}: targets are"
                " floors, and the weighted objectives gain from every home beyond them. To keep"
                " the plan near its targets, give a budget ([constraints] budget), weigh cost"
                " above the benefits in [objectives.weights] (e.g. cost = 1, social = 0.5), or"
                " cap the changes"
            ).format(added=added, target=target)
        )
    changed = int(totals["changed"])
    unpriced = problem.budget is None and not scenario.objectives.weights.get("cost", 0) > 0
    if unpriced and problem.max_changed is not None and changed >= problem.max_changed:
        notes.append(
            _(
                "the plan changes {changed:,} parcels, all that max_changed_share allows: with"
                " no budget and no weight on cost, every objective weighed gains from each"
                " change. Give [constraints] budget, weigh cost, or lower max_changed_share to"
                " change only what the targets need"
            ).format(changed=changed)
        )
    return notes


def _phase(scenario: Scenario, problem: LandUseProblem, plan, options, feedback):
    from citydesk.optimization.phasing import phasing_from_plan, solve_phasing

    p = scenario.phasing
    targets = {"housing": p.housing_units} if p.housing_units else {}
    phasing = phasing_from_plan(
        problem, plan, p.budgets, targets, years_per_period=p.years_per_period
    )
    return solve_phasing(phasing, options, feedback)


def run_stored_scenarios(
    project: str | Path,
    names: list[str],
    options: SolveOptions | None = None,
    feedback: Feedback | None = None,
    save: bool = True,
) -> tuple[list[ScenarioResult], PlanningInputs]:
    """Run scenarios stored in the project (latest revisions), sharing one read of the
    layers and network where their layer roles agree; with ``save`` each result's layer and
    indicators go into the project. Progress is shared out over the scenarios."""
    from citydesk.layers.feedback import ScaledFeedback

    from .scenario_defaults import runnable_scenario
    from .scenario_results import save_result
    from .scenario_store import scenario_text

    feedback = feedback or NullFeedback()
    results: list[ScenarioResult] = []
    inputs: PlanningInputs | None = None
    for n, name in enumerate(names):
        check_canceled(feedback)
        scenario = runnable_scenario(project, name)
        revision = scenario_text(project, name)[1]
        part = ScaledFeedback(feedback, 100.0 * n / len(names), 100.0 * (n + 1) / len(names))
        feedback.push_info(_("running scenario {name}").format(name=name))
        if inputs is None or inputs.layer_names != scenario.layers:
            inputs = prepare_inputs(project, scenario, part)
        result = run_scenario(project, scenario, revision, inputs, options, part)
        if save:
            save_result(project, inputs.parcels, result, inputs.identity_columns())
        results.append(result)
    if inputs is None:
        raise CityDeskError(_("No scenario was named."), _("Name at least one stored scenario."))
    return results, inputs
