"""Where to add facilities on the road network, weighted by real demand.

The demo question: "where should Cambridge put two more fire stations so that crashes are
reached sooner?" Demand is any set of points with weights (crash cases from the case store,
parcels with their housing units); it is snapped to the road graph and summed per node.
Candidate sites are road nodes thinned to one per square of ``candidate_spacing_m``; the
existing facilities are pre-sited. Costs are travel seconds along one-way streets from the
site, plus the existing station's own access to the road. The answer comes with the
before/after demand-weighted mean and 90th percentile, which is what a fire chief asks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from citydesk.layers.errors import CityDeskError
from citydesk.layers.feedback import Feedback, NullFeedback
from citydesk.layers.i18n import _
from citydesk.layers.road_network import RoadNetwork
from citydesk.layers.style import Symbol
from citydesk.optimization.covering import solve_lscp, solve_mclp
from citydesk.optimization.facility_problem import (
    FacilityProblem,
    FacilityResult,
    assign_nearest,
    weighted_mean,
    weighted_percentile,
)
from citydesk.optimization.network_costs import travel_cost_matrix
from citydesk.optimization.pcenter import solve_pcenter
from citydesk.optimization.pmedian import solve_pmedian
from citydesk.optimization.solve import SolveOptions

log = logging.getLogger(__name__)
MODELS = ("pmedian", "pcenter", "mclp", "lscp")


@dataclass(frozen=True)
class SitingSpec:
    """How many facilities to add, where they may go and what "better" means."""

    add: int = 2
    candidate_spacing_m: float = 400.0
    # pmedian: mean time; pcenter: worst time; mclp: demand within radius_s; lscp: fewest
    # added sites that bring every demand node within radius_s (``add`` is then ignored)
    model: str = "pmedian"
    radius_s: float = 120.0  # the service standard of MCLP and LSCP (seconds)
    options: SolveOptions = field(default_factory=lambda: SolveOptions(time_limit=120))

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise CityDeskError(
                _("Unknown siting model {name!r}.").format(name=self.model),
                _("Use one of: {names}.").format(names=", ".join(MODELS)),
            )
        if self.add < 1 or self.candidate_spacing_m <= 0:
            raise CityDeskError(
                _("Add at least one facility, on a positive candidate spacing."),
                _("For example: add 2, candidate spacing 400 m."),
            )


@dataclass
class SitingResult:
    """The chosen sites, and demand-weighted response times before and after."""

    facility: FacilityResult
    existing: gpd.GeoDataFrame  # EPSG:4326 points of the facilities that stay
    new_sites: gpd.GeoDataFrame  # EPSG:4326 points of the added facilities
    demand: gpd.GeoDataFrame  # one point per demand node: weight, before_s, after_s
    n_candidates: int
    before_mean_s: float
    before_p90_s: float
    after_mean_s: float
    after_p90_s: float

    def summary(self) -> list[str]:
        """The lines a report shows: what was proven, and the before/after times (only
        after, where there was no facility before: a city whose data has none of the kind)."""
        status = _("{model}: {status}").format(
            model=self.facility.model, status=self.facility.outcome.describe()
        )
        values = {
            "n": len(self.demand),
            "c": self.n_candidates,
            "b_mean": self.before_mean_s,
            "a_mean": self.after_mean_s,
            "b_p90": self.before_p90_s,
            "a_p90": self.after_p90_s,
        }
        if self.existing.empty:
            times = _(
                "{n} demand nodes, {c} candidate sites; no facility before; response time"
                " (weighted) mean {a_mean:.0f} s, 90th percentile {a_p90:.0f} s"
            )
        else:
            times = _(
                "{n} demand nodes, {c} candidate sites; response time (weighted) mean"
                " {b_mean:.0f} s -> {a_mean:.0f} s, 90th percentile {b_p90:.0f} s -> {a_p90:.0f} s"
            )
        return [status, times.format(**values)]


def candidate_nodes(network: RoadNetwork, spacing_m: float) -> np.ndarray:
    """One road node per ``spacing_m`` square: the one nearest the square's centre."""
    xy = network.node_xy
    cell = np.floor(xy / spacing_m)
    centre = (cell + 0.5) * spacing_m
    off = np.hypot(*(xy - centre).T)
    frame = pd.DataFrame({"cx": cell[:, 0], "cy": cell[:, 1], "off": off, "i": np.arange(len(xy))})
    best = frame.sort_values("off", kind="stable").drop_duplicates(["cx", "cy"])
    return network.node_ids[np.sort(best["i"].to_numpy())]


def demand_by_node(
    network: RoadNetwork, lon: np.ndarray, lat: np.ndarray, weights: np.ndarray | None = None
) -> pd.Series:
    """Demand points snapped to their nearest road node, weights summed per node."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    keep = np.isfinite(lon) & np.isfinite(lat)
    if not keep.any():
        raise CityDeskError(
            _("None of the demand points has a location."),
            _("Geocode the cases or choose a layer with point geometries."),
        )
    w = np.ones(len(lon)) if weights is None else np.asarray(weights, dtype=float)
    nodes, _access = network.snap(lon[keep], lat[keep])
    return pd.Series(w[keep]).groupby(nodes).sum()


def site_facilities(
    network: RoadNetwork,
    demand: pd.Series,
    existing: gpd.GeoDataFrame,
    spec: SitingSpec | None = None,
    feedback: Feedback | None = None,
) -> SitingResult:
    """Add ``spec.add`` facilities to ``existing`` (points, any CRS) for ``demand`` per node."""
    spec = spec or SitingSpec()
    feedback = feedback or NullFeedback()
    points = existing.to_crs(4326)
    held, access = network.snap(points.geometry.x.to_numpy(), points.geometry.y.to_numpy())
    existing_nodes = list(dict.fromkeys(int(n) for n in held))
    station_access = {int(n): float(a) for n, a in zip(held, access, strict=True)}
    candidates = [int(n) for n in candidate_nodes(network, spec.candidate_spacing_m)]
    sites = existing_nodes + [n for n in candidates if n not in set(existing_nodes)]
    feedback.push_info(_("travel times from {n} sites").format(n=len(sites)))
    costs = travel_cost_matrix(network.graph, sites, list(demand.index), feedback=feedback)
    costs += np.array([station_access.get(s, 0.0) for s in sites])[None, :]
    weights = demand.to_numpy(dtype=float)
    presited = tuple(range(len(existing_nodes)))
    # demand nodes no site reaches (pockets of one-way streets) cannot be served by anyone
    reachable = np.isfinite(costs).any(axis=1)
    problem = FacilityProblem(costs[reachable], weights[reachable], presited=presited)
    p = len(existing_nodes) + spec.add
    if spec.model == "pmedian":
        result = solve_pmedian(problem, p, spec.options, feedback)
    elif spec.model == "pcenter":
        result = solve_pcenter(problem, p, spec.options, feedback)
    elif spec.model == "mclp":
        result = solve_mclp(problem, spec.radius_s, p, spec.options, feedback)
    else:
        result = solve_lscp(problem, spec.radius_s, spec.options, feedback)
    before = assign_nearest(problem.costs, presited)[1]
    after = result.client_cost
    w = problem.demand
    new = [sites[j] for j in result.open_sites if j not in presited]
    xy = network.node_xy[np.searchsorted(network.node_ids, new)] if new else np.empty((0, 2))
    new_sites = gpd.GeoDataFrame(
        {"node": new, "rank": range(1, len(new) + 1)},
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=network.crs,
    ).to_crs(4326)
    nodes = np.array(demand.index)[reachable]
    dxy = network.node_xy[np.searchsorted(network.node_ids, nodes)]
    demand_frame = gpd.GeoDataFrame(
        {"node": nodes, "weight": w, "before_s": before, "after_s": after},
        geometry=gpd.points_from_xy(dxy[:, 0], dxy[:, 1]),
        crs=network.crs,
    ).to_crs(4326)
    return SitingResult(
        facility=result,
        existing=points,
        new_sites=new_sites,
        demand=demand_frame,
        n_candidates=len(sites) - len(existing_nodes),
        before_mean_s=weighted_mean(before, w),
        before_p90_s=weighted_percentile(before, w, 90),
        after_mean_s=result.mean_cost(),
        after_p90_s=result.percentile_cost(90),
    )


def save_siting_to_project(
    result: SitingResult, project, name: str, title: str | None = None
) -> list[str]:
    """Add the new sites and the demand (with before/after seconds) as project layers.

    Earlier layers of the same name are replaced, so re-running a scenario does not pile up.
    Returns the layer ids written.
    """
    from citydesk.layers.layer import LayerRole
    from citydesk.layers.project_store import put_layers

    title = title or name
    demand = _point_layer(
        _("{name}: demand and response time").format(name=title),
        result.demand,
        LayerRole.INCIDENTS,
        f"{name}_demand",
        Symbol(fill="#9ecae1", stroke_width=0.1, size=1.2),
    )
    sites = _point_layer(
        _("{name}: new sites").format(name=title),
        result.new_sites,
        LayerRole.FACILITIES,
        f"{name}_sites",
        Symbol(fill="#d62728", stroke_width=0.8, size=6.0),
    )
    return put_layers(project, [demand, sites], group=_("Optimization"))


def _point_layer(name, frame, role, layer_id, symbol):
    from citydesk.layers.layer import VectorLayer
    from citydesk.layers.style import Style

    return VectorLayer(name=name, data=frame, role=role, id=layer_id, style=Style(symbol=symbol))


def case_points(project, category: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(lon, lat) of the cases in the project's case store (one category, or all)."""
    from citydesk.incidents.stores import open_project_store

    with open_project_store(project) as store:
        cases = store.query(category_code=category, columns=["lon", "lat"], ordered=False)
    if cases.empty:
        raise CityDeskError(
            _("The project's case store has no cases to weigh demand with."),
            _("Import or replay cases first, or give --demand LAYER."),
            gui_fix=_(
                "Put cases in the project's case store first (Dispatch > Replay the project's "
                "incident history through the desk)."
            ),
        )
    return cases["lon"].to_numpy(), cases["lat"].to_numpy()


def site_in_project(
    project,
    existing: gpd.GeoDataFrame,
    lon: np.ndarray,
    lat: np.ndarray,
    weights: np.ndarray | None = None,
    spec: SitingSpec | None = None,
    feedback: Feedback | None = None,
    name: str = "siting",
    title: str | None = None,
    streets: str | None = None,
) -> tuple[SitingResult, list[str]]:
    """Site facilities on the project's road network for demand points, and save the result.

    What the CLI, the workbench and the demo all run. Returns the result and the layer ids
    written (none when the solver found no plan). ``streets`` is a layer id; by default the
    city profile's streets role.
    """
    from citydesk.layers.city_layers import read_role
    from citydesk.layers.city_profile import profile_or_none
    from citydesk.layers.road_network import build_network, network_spec

    if existing.empty:  # a city whose data has none of the kind: sites chosen from scratch
        log.info("no existing facilities: siting %d from scratch", (spec or SitingSpec()).add)
    lines = read_role(project, "streets", _("Facility siting"), streets)
    network = build_network(lines, network_spec(profile_or_none(project)))
    demand = demand_by_node(network, lon, lat, weights)
    result = site_facilities(network, demand, existing, spec, feedback)
    ids: list[str] = []
    if result.facility.outcome.status.has_solution:
        ids = save_siting_to_project(result, project, name, title)
    return result, ids


def fire_station_scenario(
    project, spec: SitingSpec | None = None, feedback: Feedback | None = None
) -> SitingResult:
    """More fire stations for the case history in the project's case store.

    Demand is every case in the store (in the demo, the replayed crashes), the existing
    stations are the facilities of kind ``fire`` in the city profile, and the result is
    written into the project as the layers ``fire_stations_plus_N_sites`` and ``..._demand``.
    """
    from citydesk.layers.city_layers import read_kind

    spec = spec or SitingSpec()
    stations = read_kind(project, "fire", _("Fire station siting"))
    lon, lat = case_points(project)
    result, _ids = site_in_project(
        project,
        stations,
        lon,
        lat,
        spec=spec,
        feedback=feedback,
        name=f"fire_stations_plus_{spec.add}",
        title=_("Fire stations +{n}").format(n=spec.add),
    )
    return result


def siting_map(result: SitingResult, streets: gpd.GeoDataFrame):
    """Demand nodes coloured by the seconds saved, existing and new stations on the streets."""
    from citydesk.layers.mpl_fonts import figure

    fig = figure(figsize=(8, 8))
    ax = fig.subplots()
    streets.to_crs(4326).plot(ax=ax, color="#cccccc", linewidth=0.4)
    demand = result.demand
    saved = demand["before_s"] - demand["after_s"]
    demand.assign(saved=saved).plot(
        ax=ax,
        column="saved",
        cmap="viridis",
        markersize=4 + demand["weight"],
        legend=True,
        legend_kwds={"label": _("seconds saved per crash location"), "shrink": 0.6},
    )
    result.existing.plot(ax=ax, marker="^", color="black", markersize=60)
    result.new_sites.plot(ax=ax, marker="*", color="#d62728", markersize=260)
    ax.set_title(
        _("{n} more fire stations (red stars) for the crash history").format(
            n=len(result.new_sites)
        )
    )
    ax.set_axis_off()
    fig.tight_layout()
    return fig
