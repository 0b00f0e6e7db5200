"""Dispatch: each case to its department (``routing``) and to the department's nearest
available crew by travel time on the road network (``road_network``), many at once.

``plan_dispatch`` is pure: it says, for every case, who would go, how long the drive is and
the route, or why the case needs a human (the manual queue). ``dispatch`` then writes the
planned moves in one transaction, so a bulk dispatch happens completely or not at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _
from citydesk.layers.measure import geodesic_distance_m
from citydesk.layers.road_network import RoadNetwork

from .categories import Catalogue
from .lifecycle import Role
from .routing import RoutingTable
from .store import Move


@dataclass
class DispatchPlan:
    case_id: str
    version: int
    department: str | None
    crew: str | None
    crew_name: str | None
    travel_s: float | None
    reason: str  # why this department / crew, or why the manual queue
    route: shapely.LineString | None = None

    @property
    def manual(self) -> bool:
        return self.crew is None


def crews_from_points(
    points: gpd.GeoDataFrame, department: str, name_field: str | None, prefix: str = ""
) -> pd.DataFrame:
    """One crew at each point (e.g. the fire stations), ready for ``store.save_crews``;
    without a name field the crews are numbered ("fire 1", "fire 2", ...)."""
    if name_field is not None and name_field not in points.columns:
        raise CityDeskError(
            _("the crew points have no field '{name}'").format(name=name_field),
            _("Fields: {names}. Name the crews by one of them.").format(
                names=", ".join(str(c) for c in points.columns if c != "geometry")
            ),
        )
    if points.empty:
        raise CityDeskError(
            _("there are no crew points"), _("Check the point layer and its filter.")
        )
    pts = points.to_crs(4326)
    names = (
        pts[name_field].fillna("").astype(str).tolist()
        if name_field
        else [f"{department} {i + 1}" for i in range(len(pts))]
    )
    return pd.DataFrame(
        {
            "crew_id": [f"{prefix}{department}-{i + 1}" for i in range(len(pts))],
            "name": names,
            "department": department,
            "lon": pts.geometry.x.to_numpy(),
            "lat": pts.geometry.y.to_numpy(),
            "available": True,
        }
    )


def plan_dispatch(
    cases: pd.DataFrame,
    crews: pd.DataFrame,
    catalogue: Catalogue,
    table: RoutingTable,
    network: RoadNetwork | None,
) -> list[DispatchPlan]:
    """A plan for each case (rows of ``store.query``); crews are ``store.crews()``."""
    free = crews[crews["available"].astype(bool) & crews["lon"].notna() & crews["lat"].notna()]
    by_department = {d: g for d, g in free.groupby("department")}
    crew_names: dict[str, str] = dict(zip(free["crew_id"], free["name"], strict=True))
    snapped: dict[str, dict] = {}
    located = cases["lon"].notna() & cases["lat"].notna()
    case_nodes: dict[str, tuple[int, float]] = {}
    if network is not None and located.any():  # one projection for all cases, not one each
        at = cases[located]
        case_nodes = network.snap_named(at["case_id"], at["lon"], at["lat"])
    plans = []
    for case in cases.itertuples(index=False):
        category = catalogue.stored(case.kind, case.category_code, case.category_standard)
        # a rule of the city's decides; else the case's own department (kept from its source
        # system, or set at intake), which is the one its KPIs count; else the catalogue's
        own = case.department if isinstance(case.department, str) and case.department else None
        routing = table.route(
            case.kind,
            case.category_code,
            case.grid_code,
            own or category.department,
            _("the case's department") if own and own != category.department else None,
        )
        plan = DispatchPlan(
            case.case_id, int(case.version), routing.department, None, None, None, routing.reason
        )
        plans.append(plan)
        if routing.department is None:
            continue
        pool = by_department.get(routing.department)
        if pool is None or pool.empty:
            plan.reason = _("no crew of {department} is available").format(
                department=routing.department
            )
            continue
        if pd.isna(case.lon) or pd.isna(case.lat):
            plan.reason = _("the case has no location; place it on the map first")
            continue
        if network is None:
            _nearest_straight(plan, pool, case.lon, case.lat)
            continue
        if routing.department not in snapped:
            snapped[routing.department] = network.snap_named(
                pool["crew_id"], pool["lon"], pool["lat"]
            )
        node, access = case_nodes[case.case_id]
        found = network.nearest(node, snapped[routing.department])
        if found is None:
            plan.reason = _("no crew of {department} can reach the case by road").format(
                department=routing.department
            )
            continue
        crew, seconds, path = found
        plan.crew, plan.travel_s, plan.crew_name = crew, seconds + access, crew_names[crew]
        plan.route = network.route_geometry(path)
        plan.reason += "; " + _("nearest by road: {minutes:.1f} min").format(
            minutes=plan.travel_s / 60
        )
    return plans


def _nearest_straight(plan: DispatchPlan, pool: pd.DataFrame, lon: float, lat: float) -> None:
    """Without a road network: the nearest crew as the crow flies, and saying so."""
    metres = geodesic_distance_m(pool["lon"].to_numpy(), pool["lat"].to_numpy(), lon, lat)
    i = int(np.argmin(metres))
    plan.crew = pool["crew_id"].iloc[i]
    plan.crew_name = pool["name"].iloc[i]
    plan.reason += "; " + _("nearest in a straight line ({m:.0f} m; no road network)").format(
        m=metres[i]
    )


def dispatch(
    store,
    plans: list[DispatchPlan],
    actor: str,
    role: Role | str = Role.DISPATCHER,
    at: dt.datetime | None = None,
) -> tuple[list[DispatchPlan], list[DispatchPlan]]:
    """Dispatch every planned case in one transaction; returns (sent, manual queue)."""
    sent = [p for p in plans if not p.manual]
    moves = [
        Move(
            p.case_id,
            "dispatch",
            p.version,
            _("to {crew} ({reason})").format(crew=p.crew_name, reason=p.reason),
            {"department": p.department, "crew": p.crew},
        )
        for p in sent
    ]
    if moves:
        store.transition_many(moves, actor, role, at)
    return sent, [p for p in plans if p.manual]
