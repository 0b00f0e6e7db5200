"""The Cambridge dispatch desk of the demo: a unit grid, fire crews at the real fire stations
and the crash history replayed through the desk, then the evaluation dashboard.

Used by the headless demo and by the GUI tests, so both run the same desk. Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from citydesk.layers.city_profile import project_profile
from citydesk.layers.feedback import Feedback, NullFeedback
from citydesk.layers.project_store import read_project_layer
from citydesk.layers.road_network import RoadNetwork, build_network, network_spec

from .dashboard import Dashboard, DashboardSpec, build_dashboard
from .dispatch import crews_from_points
from .grid import GridSpec, build_unit_grid
from .project_grid import read_project_grid, save_grid_to_project
from .replay import ReplayResult, ReplaySpec, replay_crashes
from .routing import RoutingTable
from .stores import open_project_store

#: the demo's grid: county code of Middlesex County, MA; the 13 neighbourhoods as streets
DEMO_GRID = GridSpec("250170", street_code_field="N_HOOD", street_name_field="NAME")


@dataclass
class DemoDesk:
    project: Path
    grid: gpd.GeoDataFrame
    network: RoadNetwork
    routing: RoutingTable


def prepare_demo_desk(project: str | Path) -> DemoDesk:
    """Give a copy of the Cambridge demo project its unit grid and the fire crews."""
    project = Path(project)
    grid = read_project_grid(project)
    if grid is None:
        grid = build_unit_grid(
            read_project_layer(project, "city_boundary"),
            read_project_layer(project, "neighborhoods"),
            DEMO_GRID,
        )
        save_grid_to_project(grid, project, {"routing_rules": "cambridge"})
        grid = read_project_grid(project)
    facilities = read_project_layer(project, "all_facilities")
    stations = facilities[facilities["category"] == "fire_station"]
    with open_project_store(project, grid) as store:
        store.save_crews(crews_from_points(stations, "fire", "name"))
    network = build_network(
        read_project_layer(project, "street_centerlines"), network_spec(project_profile(project))
    )
    return DemoDesk(project, grid, network, RoutingTable.load("cambridge"))


def run_demo_desk(
    project: str | Path, spec: ReplaySpec | None = None, feedback: Feedback | None = None
) -> tuple[DemoDesk, ReplayResult, Dashboard]:
    """Prepare the desk, replay the crashes and compute the dashboard of the live window."""
    feedback = feedback or NullFeedback()
    desk = prepare_demo_desk(project)
    crashes = read_project_layer(desk.project, "crashes")
    with open_project_store(desk.project, desk.grid) as store:
        result = replay_crashes(store, crashes, desk.network, desk.routing, spec, feedback)
        board = build_dashboard(store, desk.grid, DashboardSpec(start=result.start, end=result.end))
    return desk, result, board
