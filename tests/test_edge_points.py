"""Demand placed on street segments: where a point lands, and the travel cost to it, checked
by hand on a three-street town and against networkx with the segment split at the point on
the Cambridge demo's streets."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from citydesk.layers.city_profile import profile_or_none
from citydesk.layers.demo import SHIPPED_DEMO
from citydesk.layers.edge_points import cost_to_edge_points, locate_on_edges
from citydesk.layers.project_store import load_project
from citydesk.layers.road_network import NetworkSpec, build_network, network_spec

X0, Y0 = 385_000.0, 6_672_000.0  # central Helsinki, EPSG:3067 (metres)


@pytest.fixture(scope="module")
def town():
    """A two-way street A-B (1 km), a one-way B->C (1 km north) and a one-way C->A back,
    all driven at 36 km/h (10 m/s)."""
    a, b, c = (X0, Y0), (X0 + 1000, Y0), (X0 + 1000, Y0 + 1000)
    streets = gpd.GeoDataFrame(
        {"direction": [0, 1, 1]},
        geometry=[shapely.LineString(ends) for ends in ((a, b), (b, c), (c, a))],
        crs=3067,
    )
    network = build_network(streets, NetworkSpec(direction="direction", default_speed_kmh=36.0))
    nodes, _metres = network.snap_xy(_to_network(network, [a, b, c]))
    return network, dict(zip("abc", (int(n) for n in nodes), strict=True))


def _to_network(network, xy):
    points = gpd.GeoSeries(gpd.points_from_xy(*np.asarray(xy).T), crs=3067).to_crs(network.crs)
    return np.column_stack([points.x, points.y])


def test_a_point_on_a_two_way_street_is_reached_from_either_end(town):
    network, ids = town
    located = locate_on_edges(network, _to_network(network, [(X0 + 250, Y0 + 5)]))
    assert {int(located.start[0]), int(located.end[0])} == {ids["a"], ids["b"]}
    along_from_a = located.fraction[0] if located.start[0] == ids["a"] else 1 - located.fraction[0]
    assert along_from_a == pytest.approx(0.25, abs=1e-3)
    assert located.offset_m[0] == pytest.approx(5.0, rel=1e-2)
    cost = cost_to_edge_points(network, [ids["a"], ids["b"]], located)
    assert cost[0] == pytest.approx([25.0, 75.0], rel=2e-3)  # 250 m and 750 m at 10 m/s


def test_a_point_on_a_one_way_street_is_reached_only_in_its_direction(town):
    network, ids = town
    located = locate_on_edges(network, _to_network(network, [(X0 + 1003, Y0 + 400)]))
    assert (int(located.start[0]), int(located.end[0])) == (ids["b"], ids["c"])
    cost = cost_to_edge_points(network, [ids["b"], ids["c"]], located)
    # from C there is no way back along B->C: round by C->A (1,414 m), A->B, then 400 m
    assert cost[0] == pytest.approx([40.0, (1000 * np.sqrt(2) + 1000 + 400) / 10], rel=2e-3)


def test_costs_match_networkx_with_the_segment_split_at_the_point():
    """Cambridge's one-way streets: for 40 parcels, the cost from 12 sites equals a Dijkstra
    on a copy of the graph where the point is a node splitting its segment."""
    project = load_project(SHIPPED_DEMO)
    network = build_network(
        project.layers["street_centerlines"].data, network_spec(profile_or_none(SHIPPED_DEMO))
    )
    parcels = project.layers["parcels"].data.to_crs(network.crs)
    rng = np.random.default_rng(3)
    xy = shapely.get_coordinates(
        shapely.point_on_surface(parcels.geometry.values[rng.choice(len(parcels), 40)])
    )
    located = locate_on_edges(network, xy)
    assert np.median(located.offset_m) < 40  # parcels front their streets
    sites = rng.choice(network.node_ids, 12, replace=False).tolist()
    costs = cost_to_edge_points(network, sites, located)
    graph = network.graph
    for k in range(len(located)):
        split = graph.copy()
        s, e, t = int(located.start[k]), int(located.end[k]), float(located.fraction[k])
        point = ("point", k)
        split.add_edge(s, point, travel_s=t * graph.edges[s, e]["travel_s"])
        if graph.has_edge(e, s):
            split.add_edge(e, point, travel_s=(1 - t) * graph.edges[e, s]["travel_s"])
        expected = [
            nx.shortest_path_length(split, site, point, weight="travel_s") for site in sites
        ]
        assert costs[k] == pytest.approx(expected, rel=1e-9, abs=1e-6)
