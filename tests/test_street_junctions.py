"""Street lines cut at their junctions before the road network is built from their ends."""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from citydesk.layers.city_profile import parse_profile
from citydesk.layers.errors import CityDeskError
from citydesk.layers.road_network import build_network, network_spec
from citydesk.layers.street_junctions import cut_at_junctions

CRS = "EPSG:3067"  # metres


def _streets(lines, **columns) -> gpd.GeoDataFrame:
    """The lines drawn in central Helsinki (their coordinates are metres from a corner)."""
    moved = [
        shapely.transform(g, lambda xy: xy + np.array([385_000.0, 6_672_000.0])) for g in lines
    ]
    return gpd.GeoDataFrame(columns, geometry=moved, crs=CRS)


def _grid(shared: bool) -> list[shapely.LineString]:
    """Four avenues and four cross streets 100 m apart, each one line running 50 m past the
    grid (so no line ends on another); ``shared``: each line has a vertex where it crosses
    another (a GIS-drawn grid), else only its two ends (a hand-drawn one)."""
    ticks = [0.0, 100.0, 200.0, 300.0]
    along = [-50.0, *ticks, 350.0] if shared else [-50.0, 350.0]
    out = []
    for t in ticks:
        out.append(shapely.LineString([(x, t) for x in along]))
        out.append(shapely.LineString([(t, y) for y in along]))
    return out


def test_a_grid_sharing_its_crossing_points_is_one_network_once_the_profile_says_so(caplog):
    """Lines through the points they share (OSM's ways, a grid drawn with snapping): by
    default the file is taken as split at its junctions and the warning says what to set."""
    streets = _streets(_grid(shared=True))
    ends = build_network(streets)
    assert ends.report.cut_lines == 0 and ends.report.weak_components == 8
    assert "8 lines pass through points where other streets join them" in ends.report.hint
    assert 'junctions = "shared"' in caplog.text
    plain = build_network(streets, network_spec(None, junctions="shared"))
    assert plain.report.hint == ""
    assert plain.report.largest_share == 1.0
    assert plain.report.nodes == 16 + 16  # the crossings and the lines' ends
    assert plain.report.cut_lines == 8
    assert plain.report.edges == 2 * 8 * 5  # each line in five pieces, both ways
    assert "8 lines cut where other streets join them" in plain.report.lines()[0]


def test_lines_that_only_cross_stay_apart_unless_the_profile_says_so(caplog):
    """A crossing without a shared point is a bridge in a real street file: not a junction.
    Hand-drawn data without bridges says so in the city profile."""
    streets = _streets(_grid(shared=False))
    for junctions in ("ends", "shared"):
        apart = build_network(streets, network_spec(None, junctions=junctions))
        assert apart.report.cut_lines == 0 and apart.report.weak_components == 8
        assert "16 pairs of lines cross without a shared point" in apart.report.hint
        assert apart.report.lines()[-1] == apart.report.hint
    assert 'junctions = "crossings"' in caplog.text
    joined = build_network(streets, network_spec(None, junctions="crossings"))
    assert joined.report.largest_share == 1.0 and joined.report.nodes == 32
    profile = parse_profile(
        'schema = 2\nname = "Grid"\ntimezone = "Europe/Helsinki"\ncrs = "EPSG:3067"\n'
        '[layers.streets]\nlayer = "streets"\njunctions = "crossings"\n'
    )
    assert network_spec(profile).junctions == "crossings"
    with pytest.raises(CityDeskError, match="junctions"):
        parse_profile(
            'schema = 2\nname = "Grid"\ntimezone = "Europe/Helsinki"\ncrs = "EPSG:3067"\n'
            '[layers.streets]\nlayer = "streets"\njunctions = "crossing"\n'
        )


def test_a_bridge_over_a_road_is_not_a_junction():
    road = shapely.LineString([(0, 0), (200, 0)])
    bridge = shapely.LineString([(100, -100), (100, 100)])
    net = build_network(_streets([road, bridge]), network_spec(None, junctions="shared"))
    assert net.report.cut_lines == 0 and net.report.weak_components == 2


def test_a_side_street_ending_on_a_line_joins_it_and_one_way_pieces_keep_their_way():
    """A T-junction digitised onto the avenue (not onto a vertex of it), within the snapping
    tolerance; the avenue is one-way, and both of its pieces are one-way the same way."""
    avenue = shapely.LineString([(0, 0), (300, 0)])
    side = shapely.LineString([(120, 80), (120, 0.4)])
    net = build_network(
        _streets([avenue, side], oneway=[1, 0]),
        network_spec(None, direction="oneway", junctions="shared"),
    )
    assert net.report.cut_lines == 1
    assert net.report.nodes == 4 and net.report.weak_components == 1
    graph = net.graph
    by_x = sorted(graph.nodes, key=lambda n: graph.nodes[n]["xy"][0])
    north = max(graph.nodes, key=lambda n: graph.nodes[n]["xy"][1])
    west, east = by_x[0], by_x[-1]
    (junction,) = set(graph.nodes) - {west, east, north}
    assert graph.has_edge(west, junction) and not graph.has_edge(junction, west)
    assert graph.has_edge(junction, east) and not graph.has_edge(east, junction)
    assert graph.edges[west, junction]["length_m"] == pytest.approx(120, abs=0.5)
    assert graph.has_edge(junction, north) and graph.has_edge(north, junction)


def test_lines_given_with_node_ids_are_never_cut():
    lines = _grid(shared=True)
    ids = {"a": list(range(0, 16, 2)), "b": list(range(1, 16, 2))}
    spec = network_spec(None, from_node="a", to_node="b", junctions="crossings")
    net = build_network(_streets(lines, **ids), spec)
    assert net.report.node_source == "ids" and net.report.cut_lines == 0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=2, max_size=6).filter(
            lambda p: len(set(p)) == len(p)
        ),
        min_size=1,
        max_size=8,
    ),
    st.booleans(),
)
def test_cutting_keeps_every_metre_and_each_piece_on_its_line(paths, crossings):
    """Whatever the lines, the pieces of each line add up to it: the same length, each piece
    lying on it, and in the order it was drawn."""
    lines = [shapely.LineString([(10.0 * x, 10.0 * y) for x, y in p]) for p in paths]
    cut = cut_at_junctions(lines, 1.0, crossings)
    assert len(cut.lines) == len(cut.rows) >= len(lines)
    for i, line in enumerate(lines):
        pieces = [cut.lines[k] for k in np.flatnonzero(cut.rows == i)]
        assert sum(p.length for p in pieces) == pytest.approx(line.length, abs=1e-6)
        assert all(line.buffer(1e-6).covers(p) for p in pieces)
        assert pieces[0].coords[0] == line.coords[0]
        assert pieces[-1].coords[-1] == line.coords[-1]
        for before, after in itertools.pairwise(pieces):  # end to end, in order
            assert before.coords[-1] == after.coords[0]
    assert cut.cut_lines == sum(int((cut.rows == i).sum() > 1) for i in range(len(lines)))


def grid_project(folder, junctions: str = "ends"):
    """A project whose streets are the GIS-drawn grid (lines through the points they share),
    with a profile mapping them; ``junctions`` as the profile says."""
    from citydesk.layers.city_init import project_from_folder
    from citydesk.layers.city_profile import store_profile

    data = folder / "data"
    data.mkdir()
    _streets(_grid(shared=True), name=[f"street {k}" for k in range(8)]).to_file(
        data / "streets.gpkg"
    )
    project = project_from_folder(data, folder / "grid.gpkg")
    store_profile(project, grid_profile(junctions))
    return project


def grid_profile(junctions: str) -> str:
    return (
        'name = "Grid"\ntimezone = "Europe/Helsinki"\ncrs = "EPSG:3067"\n'
        f'[layers.streets]\nlayer = "streets"\nname = "name"\njunctions = "{junctions}"\n'
    )


def test_city_check_says_when_the_streets_do_not_join_up_and_which_setting_joins_them(
    tmp_path, caplog
):
    """Names and fields were all `city check` looked at: a street layer whose lines run
    through their junctions was "ready" and planning then routed on 8 separate lines."""
    from citydesk.layers.city_check import check_project
    from citydesk.layers.city_profile import store_profile

    project = grid_project(tmp_path)
    checks = {c.feature: c for c in check_project(project)}
    for feature in ("Road network (driving)", "Walking network"):
        assert checks[feature].status == "partly", checks[feature]
        said = checks[feature].missing[-1]  # after the optional fields it lacks
        assert said.startswith("only 12.5% of the street nodes can reach each other: ")
        assert 'set junctions = "shared"' in said
    assert "WARNING" not in caplog.text  # said once, in the check's line
    store_profile(project, grid_profile("shared"))
    for check in check_project(project):
        assert not any("reach each other" in said for said in check.missing), check
