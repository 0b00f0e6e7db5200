"""The Cambridge dispatch desk of the demo: a unit grid, fire crews at the real fire stations
and the crash history replayed through the desk, then the evaluation dashboard.

Used by the headless demo and by the GUI tests, so both run the same desk. Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from citydesk.layers.city_layers import read_crews, read_role
from citydesk.layers.city_profile import project_profile
from citydesk.layers.feedback import Feedback, NullFeedback
from citydesk.layers.i18n import _
from citydesk.layers.project_store import read_project_layer
from citydesk.layers.road_network import RoadNetwork, build_network, network_spec

from .dashboard import Dashboard, DashboardSpec, build_dashboard
from .dispatch import crews_from_points
from .grid import build_unit_grid
from .import_csv import ColumnMapping
from .project_grid import grid_spec_for, read_project_grid, save_grid_to_project
from .replay import ReplayResult, ReplaySpec, replay_crashes
from .routing import RoutingTable
from .stores import open_project_store


@dataclass
class DemoDesk:
    project: Path
    grid: gpd.GeoDataFrame
    network: RoadNetwork
    routing: RoutingTable


def prepare_demo_desk(project: str | Path) -> DemoDesk:
    """Give a project its unit grid (if it has none) and its crews, all by the city
    profile's roles: boundary and neighbourhoods for the grid, the crews role for the crews,
    the streets for the network, and the profile's routing rules."""
    project = Path(project)
    profile = project_profile(project)
    feature = _("The dispatch desk")
    grid = read_project_grid(project)
    if grid is None:
        grid = build_unit_grid(
            read_role(project, "boundary", feature),
            read_role(project, "neighborhoods", feature),
            grid_spec_for(profile),
        )
        rules = (
            {"routing_rules": profile.routing_rules} if profile and profile.routing_rules else {}
        )
        save_grid_to_project(grid, project, rules)
        grid = read_project_grid(project)
    points, name, department = read_crews(project, feature)
    with open_project_store(project, grid) as store:
        store.save_crews(crews_from_points(points, department, name))
    network = build_network(read_role(project, "streets", feature), network_spec(profile))
    rules_name = profile.routing_rules if profile is not None else ""
    return DemoDesk(project, grid, network, RoutingTable.load(rules_name or None))


def incident_layer(project: str | Path) -> tuple[str, ColumnMapping]:
    """The project's layer of past incidents and the mapping that reads it (the city
    profile's ``[layers.incidents]``)."""
    from citydesk.layers.city_layers import missing_layer

    profile = project_profile(project)
    spec = profile.layers.incidents if profile is not None else None
    if spec is None:
        raise missing_layer(_("The replay of past incidents"), "incidents")
    return spec.layer, ColumnMapping.load(spec.mapping)


def load_demo_history(
    project: str | Path, spec: ReplaySpec | None = None, feedback: Feedback | None = None
) -> tuple[DemoDesk, ReplayResult]:
    """Prepare the desk and replay the incident history through it (what the workbench's
    *Load the demo case history* does; the desk computes its dashboard when asked)."""
    feedback = feedback or NullFeedback()
    desk = prepare_demo_desk(project)
    layer, mapping = incident_layer(desk.project)
    incidents = read_project_layer(desk.project, layer)
    with open_project_store(desk.project, desk.grid) as store:
        result = replay_crashes(
            store, incidents, mapping, desk.network, desk.routing, spec, feedback
        )
    return desk, result


def run_demo_desk(
    project: str | Path, spec: ReplaySpec | None = None, feedback: Feedback | None = None
) -> tuple[DemoDesk, ReplayResult, Dashboard]:
    """Prepare the desk, replay the history and compute the dashboard of the live window."""
    desk, result = load_demo_history(project, spec, feedback)
    with open_project_store(desk.project, desk.grid) as store:
        board = build_dashboard(store, desk.grid, DashboardSpec(start=result.start, end=result.end))
    return desk, result, board
