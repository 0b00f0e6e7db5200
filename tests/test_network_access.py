"""The planning road graph and network accessibility on the real Cambridge centerlines.

Counts of the graph are checked both ways it can be built (node ids from the layer, and
endpoints snapped within a tolerance); nearest-facility costs are checked against plain
networkx on the same graph; 2SFCA against a hand-computed example and against its
conservation invariant on real parcels and schools.
"""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from citydesk.layers.city_profile import read_profile
from citydesk.layers.road_network import build_network, network_spec
from citydesk.planning.network_access import (
    DRIVE,
    WALK,
    NetworkCosts,
    nearest_facility,
    service_areas,
)
from citydesk.planning.two_step_fca import network_two_step_fca, two_step_fca

DEMO = "layers/demo_data/cambridge_demo.gpkg"

CAMBRIDGE = read_profile("cambridge")  # the street columns of the Cambridge layer


@pytest.fixture(scope="module")
def city():
    from conftest import ROOT

    path = ROOT / DEMO
    streets = gpd.read_file(path, layer="street_centerlines")
    parcels = gpd.read_file(path, layer="parcels")
    facilities = gpd.read_file(path, layer="all_facilities")
    network = build_network(streets, network_spec(CAMBRIDGE, use_node_ids=False))
    return streets, parcels, facilities, network


def test_cambridge_graph_counts_both_ways(city):
    streets, _parcels, _facilities, snapped = city
    by_ids = build_network(streets, network_spec(CAMBRIDGE)).report
    assert (by_ids.node_source, by_ids.nodes, by_ids.edges) == ("ids", 1872, 4333)
    assert by_ids.skipped_segments == 1  # one centerline has no node ids
    report = snapped.report
    assert report.node_source == "snapped" and report.snap_tolerance_m == 1.0
    # snapping endpoints within 1 m finds the city's own topology to within one node
    assert report.nodes == 1871 and report.edges == 4342
    assert report.snapped_endpoints == 11
    assert report.one_way_segments == 937
    assert report.weak_components == 2
    assert report.routable_nodes == 1851
    assert report.largest_share == pytest.approx(0.9893, abs=1e-4)
    assert "1 m" in report.lines()[0]
    # a coarser tolerance merges more endpoints into fewer nodes
    coarse = build_network(
        streets, network_spec(CAMBRIDGE, use_node_ids=False, snap_tolerance_m=5)
    ).report
    assert coarse.nodes < report.nodes and coarse.snapped_endpoints > report.snapped_endpoints


def test_posted_speed_field_sets_travel_time(city):
    streets = city[0].copy()
    streets["SPEED_MPH"] = 10.0
    slow = build_network(
        streets, network_spec(CAMBRIDGE, speed_field="SPEED_MPH", speed_field_unit="mph")
    )
    *_ends, data = next(iter(slow.graph.edges(data=True)))
    assert data["travel_s"] == pytest.approx(data["length_m"] / (10 * 1.609344 / 3.6))


def _reference(graph: nx.DiGraph, costs: NetworkCosts, entrances, reverse: bool) -> dict:
    """networkx Dijkstra from a virtual source joined to every entrance by its cost."""
    g = graph.reverse(copy=True) if reverse else graph.copy()
    if not costs.mode.directed:
        g = nx.DiGraph(g)
        for a, b, d in list(g.edges(data=True)):
            if not g.has_edge(b, a) or g.edges[b, a][costs.mode.weight] > d[costs.mode.weight]:
                g.add_edge(b, a, **d)
    for node, cost in zip(entrances.node, entrances.cost, strict=True):
        node = int(costs.nodes[node])
        if not g.has_edge("src", node) or g.edges["src", node]["w"] > cost:
            g.add_edge("src", node, w=cost, **{costs.mode.weight: cost})
    return nx.single_source_dijkstra_path_length(g, "src", weight=costs.mode.weight)


@pytest.mark.parametrize(
    ("mode", "category", "to_facility"),
    [
        (WALK, "public_school", True),
        (DRIVE, "fire_station", False),
        (DRIVE, "fire_station", True),
    ],
)
def test_nearest_facility_matches_networkx(city, mode, category, to_facility):
    _streets, parcels, facilities, network = city
    costs = NetworkCosts(network, mode)
    places = parcels.geometry.iloc[::25]
    fac = facilities[facilities["category"] == category].geometry
    cost, owner = nearest_facility(costs, places, fac, to_facility=to_facility)
    entrances = costs.entrances(fac)
    expected = _reference(network.graph, costs, entrances, reverse=to_facility)
    node, access = costs.snap_places(places)
    want = np.array([expected.get(int(costs.nodes[n]), np.inf) for n in node]) + access
    assert np.allclose(cost, want)
    # the owner is a facility at exactly that cost (ties aside)
    matrix = costs.facility_costs(entrances, (node, access), to_facility=to_facility)
    assert np.allclose(matrix[np.arange(len(owner)), owner], cost)
    assert np.allclose(matrix.min(axis=1), cost)


def test_one_way_streets_make_drive_direction_matter(city):
    _streets, parcels, facilities, network = city
    costs = NetworkCosts(network, DRIVE)
    fac = facilities[facilities["category"] == "fire_station"].geometry
    out, _ = nearest_facility(costs, parcels.geometry.iloc[::10], fac, to_facility=False)
    back, _ = nearest_facility(costs, parcels.geometry.iloc[::10], fac, to_facility=True)
    assert (np.abs(out - back) > 1).mean() > 0.3
    walk = NetworkCosts(network, WALK)
    w_out, _ = nearest_facility(walk, parcels.geometry.iloc[::10], fac, to_facility=False)
    w_back, _ = nearest_facility(walk, parcels.geometry.iloc[::10], fac, to_facility=True)
    assert np.allclose(w_out, w_back)  # walkers ignore one-way rules


def test_polygon_facility_entered_along_its_outline(city):
    _streets, _parcels, _facilities, network = city
    from conftest import ROOT

    parks = gpd.read_file(ROOT / DEMO, layer="open_space")
    costs = NetworkCosts(network, WALK)
    named = parks.set_index("NAME").geometry
    entrances = costs.entrances(named.loc[["Fresh Pond Reservation"]])
    assert len(entrances.node) == 17  # street nodes within 30 m of its outline
    assert (entrances.cost <= 30).all()
    # the pond itself lies 46 m from the nearest street node: entered there, not at a node
    # near the middle of the water
    largest = parks.to_crs(network.crs).area.idxmax()
    assert parks.loc[largest, "NAME"] == "Surface Water"
    pond = costs.entrances(parks.geometry.loc[[largest]])
    assert len(pond.node) == 1 and pond.cost[0] == pytest.approx(45.8, abs=0.1)


def test_service_areas_grow_and_hold_the_reached_nodes(city):
    _streets, _parcels, facilities, network = city
    costs = NetworkCosts(network, WALK)
    school = facilities[facilities["category"] == "public_school"].geometry.iloc[:1]
    areas = service_areas(costs, school, [400, 800, 1200])
    assert list(areas["threshold"]) == [400, 800, 1200]
    assert areas.area.is_monotonic_increasing
    dist, _ = costs.from_facilities(costs.entrances(school))
    reached = costs.nodes[dist <= 800]
    xy = np.array([network.graph.nodes[n]["xy"] for n in reached])
    inside = shapely.contains_xy(areas.geometry.iloc[1], xy[:, 0], xy[:, 1])
    assert inside.all()
    far = costs.nodes[(dist > 1600) & np.isfinite(dist)]
    far_xy = np.array([network.graph.nodes[n]["xy"] for n in far])
    assert not shapely.contains_xy(areas.geometry.iloc[1], far_xy[:, 0], far_xy[:, 1]).any()


def test_two_step_fca_by_hand():
    cost = np.array([[1.0, 5.0, np.inf], [2.0, 2.0, np.inf], [9.0, 1.0, np.inf]])
    supply = np.array([10.0, 6.0, 5.0])  # the third facility reaches nobody
    demand = np.array([4.0, 6.0, 2.0])
    result = two_step_fca(cost, supply, demand, catchment=3.0)
    # R = 10 / (4 + 6) = 1.0 and 6 / (6 + 2) = 0.75; A = [1.0, 1.0 + 0.75, 0.75]
    assert np.allclose(result.ratio, [1.0, 0.75, 0.0])
    assert np.allclose(result.access, [1.0, 1.75, 0.75])
    assert result.served_supply == 16.0
    assert demand @ result.access == pytest.approx(16.0)
    with pytest.raises(ValueError):
        two_step_fca(cost[:2], supply, demand, 3.0)


def test_two_step_fca_conserves_seats_on_cambridge(city):
    _streets, parcels, facilities, network = city
    schools = facilities[facilities["category"] == "public_school"]
    seats = np.linspace(200, 900, len(schools))
    people = parcels["res_units_est"].fillna(0).to_numpy(float) * 2.08
    costs = NetworkCosts(network, WALK)
    result = network_two_step_fca(costs, parcels.geometry, people, schools.geometry, seats, 800)
    assert people @ result.access == pytest.approx(result.served_supply, rel=1e-9)
    served = result.demand_in_reach > 0
    assert result.served_supply == pytest.approx(seats[served].sum())
    assert served.sum() >= len(schools) - 2
    assert (result.access > 0).mean() > 0.5
