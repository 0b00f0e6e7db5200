"""Dispatch on the real Cambridge streets: the road graph, the nearest crew (checked against
plain networkx), routing rules, bulk dispatch, duplicates, time left and the geocoder."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import geopandas as gpd
import networkx as nx
import pandas as pd
import pytest
import shapely
from conftest import CRASHES_GPKG, FACILITIES, STREETS

from citydesk.incidents.deadlines import due_within, time_left
from citydesk.incidents.dispatch import crews_from_points, dispatch, plan_dispatch
from citydesk.incidents.duplicates import DuplicateRule, merge_duplicate, possible_duplicates
from citydesk.incidents.geocode import GeocodeError, Geocoder
from citydesk.incidents.lifecycle import Role, State
from citydesk.incidents.routing import RoutingError, RoutingTable, department_names
from citydesk.incidents.store import NewCase, SqliteCaseStore, VersionConflict
from citydesk.layers.city_profile import read_profile
from citydesk.layers.measure import geodesic_distance_m
from citydesk.layers.road_network import build_network, network_spec

NY = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def streets():
    return gpd.read_file(STREETS, layer="street_centerlines")


@pytest.fixture(scope="module")
def network(streets):
    return build_network(streets, network_spec(read_profile("cambridge")))


@pytest.fixture(scope="module")
def fire_crews():
    stations = gpd.read_file(FACILITIES, layer="fire_station")
    return crews_from_points(stations, "fire", "SITE_NAME")


@pytest.fixture(scope="module")
def crash_points():
    crashes = gpd.read_file(CRASHES_GPKG)
    crashes = crashes[crashes.geometry.notna() & ~crashes.geometry.is_empty]
    return crashes.sample(40, random_state=3)


@pytest.mark.shared_data
def test_one_way_streets_get_one_edge(network, streets):
    direction = pd.to_numeric(streets["Direction"])
    one_way = streets[(direction == 1) & streets["FromNode"].notna()]
    pairs = {(int(a), int(b)) for a, b in zip(one_way["FromNode"], one_way["ToNode"], strict=True)}
    two_way = streets[(direction == 0) | direction.isna()]
    both = {
        (int(a), int(b))
        for a, b in zip(two_way["FromNode"].dropna(), two_way["ToNode"], strict=False)
    }
    checked = [
        (a, b)
        for a, b in pairs
        if (b, a) not in pairs and (a, b) not in both and (b, a) not in both
    ]
    assert len(checked) > 100
    assert all(
        network.graph.has_edge(a, b) and not network.graph.has_edge(b, a) for a, b in checked
    )
    assert network.graph.number_of_nodes() == 1872


@pytest.mark.shared_data
def test_nearest_crew_equals_a_plain_networkx_search(network, fire_crews, crash_points):
    nodes, access = network.snap(fire_crews["lon"].to_numpy(), fire_crews["lat"].to_numpy())
    crews = {
        c: (int(n), float(a)) for c, n, a in zip(fire_crews["crew_id"], nodes, access, strict=True)
    }
    targets, _ = network.snap(
        crash_points.geometry.x.to_numpy(), crash_points.geometry.y.to_numpy()
    )
    for target in map(int, targets):
        crew, seconds, path = network.nearest(target, crews)
        lengths = {
            c: nx.shortest_path_length(network.graph, n, target, weight="travel_s") + a
            for c, (n, a) in crews.items()
            if nx.has_path(network.graph, n, target)
        }
        assert seconds == pytest.approx(min(lengths.values()))
        assert lengths[crew] == pytest.approx(seconds)
        assert path[0] == crews[crew][0] and path[-1] == target
        assert all(network.graph.has_edge(a, b) for a, b in itertools.pairwise(path))


@pytest.fixture()
def desk(store_target, cambridge_grid, fire_crews):
    with store_target.open(cambridge_grid) as store:
        store.save_crews(fire_crews)
        yield store


def _registered(store, lon, lat, code="0490", at=None):
    at = at or dt.datetime(2024, 3, 4, 9, 0, tzinfo=NY)
    c = store.report(NewCase("event", code, lon=lon, lat=lat, reported_at=at), "sup", at=at)
    c = store.transition(c.case_id, "accept", "ben", Role.INTAKE, c.version, at=at)
    return store.transition(c.case_id, "register", "chen", Role.SHIFT_CHIEF, c.version, at=at)


@pytest.mark.shared_data
def test_plan_and_bulk_dispatch(desk, network, crash_points):
    table = RoutingTable.load("cambridge")
    pts = crash_points.head(6)
    cases = [_registered(desk, p.x, p.y) for p in pts.geometry]
    noise = _registered(desk, -71.1167, 42.3736, code="0590")  # Harvard Sq, Mid-Cambridge
    lost = _registered(desk, None, None)
    frame = desk.query(status=["registered"])
    plans = {
        p.case_id: p for p in plan_dispatch(frame, desk.crews(), desk.catalogue, table, network)
    }
    for c in cases:
        plan = plans[c.case_id]
        assert plan.department == "fire" and plan.crew.startswith("fire-")
        assert "rule: event:0490" in plan.reason and plan.route is not None
    assert plans[noise.case_id].manual and "inspectional_services" in plans[noise.case_id].reason
    assert plans[lost.case_id].manual and "no location" in plans[lost.case_id].reason
    first = plans[cases[0].case_id]
    end = shapely.Point(first.route.coords[-1])
    assert geodesic_distance_m(end.x, end.y, pts.geometry.iloc[0].x, pts.geometry.iloc[0].y) < 400

    stale = plans[cases[1].case_id]
    stale.version -= 1  # another desk moved it meanwhile: the whole bulk dispatch is refused
    with pytest.raises(VersionConflict):
        dispatch(desk, list(plans.values()), "dora")
    assert desk.get(cases[0].case_id).status == State.REGISTERED
    stale.version += 1
    sent, manual = dispatch(desk, list(plans.values()), "dora")
    assert len(sent) == 6 and {p.case_id for p in manual} == {noise.case_id, lost.case_id}
    case = desk.get(cases[0].case_id)
    assert case.status == State.DISPATCHED and case.crew == first.crew and case.dispatcher == "dora"
    event = desk.events_frame().query("case_id == @case.case_id and action == 'dispatch'")
    assert json.loads(event["detail"].iloc[0]) == {"crew": first.crew, "department": "fire"}


@pytest.mark.shared_data
def test_unavailable_crews_are_skipped(desk, network, crash_points):
    p = crash_points.geometry.iloc[0]
    case = _registered(desk, p.x, p.y)
    table = RoutingTable.load("cambridge")
    frame = desk.query(status=["registered"])
    first = plan_dispatch(frame, desk.crews(), desk.catalogue, table, network)[0]
    desk.set_crew_available(first.crew, False)
    second = plan_dispatch(frame, desk.crews(), desk.catalogue, table, network)[0]
    assert second.crew != first.crew and second.travel_s >= first.travel_s
    for crew in desk.crews()["crew_id"]:
        desk.set_crew_available(crew, False)
    none = plan_dispatch(frame, desk.crews(), desk.catalogue, table, network)[0]
    assert none.manual and "no crew of fire is available" in none.reason
    assert case.case_id == none.case_id


@pytest.mark.shared_data
def test_duplicates_are_found_and_merged(desk):
    at = dt.datetime(2024, 3, 4, 9, 0, tzinfo=NY)
    lon, lat = -71.1056, 42.3736
    original = desk.report(NewCase("event", "0102", lon=lon, lat=lat, reported_at=at), "a", at=at)
    far = desk.report(
        NewCase("event", "0102", lon=lon + 0.003, lat=lat, reported_at=at), "a", at=at
    )
    later = at + dt.timedelta(hours=2)
    near = possible_duplicates(desk, "event", "0102", lon + 0.0002, lat, later)
    assert list(near["case_id"]) == [original.case_id]  # 16 m away; the other is 250 m
    assert near["distance_m"].iloc[0] == pytest.approx(16.4, abs=0.5)
    assert near["hours_apart"].iloc[0] == pytest.approx(2.0)
    assert possible_duplicates(desk, "event", "0102", lon, lat, at + dt.timedelta(hours=80)).empty
    wide = possible_duplicates(desk, "event", "0102", lon, lat, later, DuplicateRule(radius_m=300))
    assert set(wide["case_id"]) == {original.case_id, far.case_id}
    dup = desk.report(NewCase("event", "0102", lon=lon, lat=lat, reported_at=later), "b", at=later)
    merged = merge_duplicate(desk, dup.case_id, original.case_id, "ben", Role.INTAKE, dup.version)
    assert merged.status == State.CANCELLED and merged.duplicate_of == original.case_id
    third = desk.report(
        NewCase("event", "0102", lon=lon, lat=lat, reported_at=later), "c", at=later
    )
    chained = merge_duplicate(desk, third.case_id, dup.case_id, "ben", Role.INTAKE, third.version)
    assert chained.duplicate_of == original.case_id  # never a chain of duplicates


@pytest.mark.shared_data
def test_time_left_turns_amber_then_red(desk):
    monday_9 = dt.datetime(2024, 3, 4, 9, 0, tzinfo=NY)
    c = desk.report(NewCase("event", "0102", lon=-71.1, lat=42.37, reported_at=monday_9), "a")
    frame = desk.query()
    levels = {}
    for hour in (10, 12, 14):
        table = time_left(frame, desk.calendar, monday_9.replace(hour=hour))
        row = table.set_index("case_id").loc[c.case_id]
        levels[hour] = (row["level"], round(row["hours_left"], 2))
    limit = table.set_index("case_id").loc[c.case_id, "limit_hours"]
    assert limit == pytest.approx(desk.catalogue.get("event", "0102").limit)
    assert levels[10][0] == "ok" and levels[10][1] == pytest.approx(limit - 1)
    assert levels[12][0] == ("amber" if 3 / limit >= 0.75 else "ok")
    assert levels[14][0] == ("red" if limit <= 5 else levels[14][0])
    soon = due_within(time_left(frame, desk.calendar, monday_9.replace(hour=10)), limit - 0.5)
    assert c.case_id in set(soon["case_id"])


@pytest.mark.shared_data
def test_geocoder_places_addresses_on_their_segment(streets):
    from citydesk.incidents.geocode import RangeFields
    from citydesk.layers.city_profile import read_profile

    geocoder = Geocoder(streets, RangeFields.from_profile(read_profile("cambridge")))
    hit = geocoder.geocode("1334 Cambridge Street")
    assert hit.exact and hit.label == "1334 Cambridge St"
    segment = streets.iloc[0]  # Cambridge St 1334-1378 / 1337-1369
    assert segment.geometry.distance(shapely.Point(hit.lon, hit.lat)) < 1e-6
    assert geocoder.geocode("1378 cambridge st.").exact
    halls = gpd.read_file(FACILITIES, layer="municipal_building")
    city_hall = halls[halls["ADDRESS"] == "795 Massachusetts Ave"].geometry.iloc[0]
    placed = geocoder.geocode("795 Massachusetts Avenue")
    assert geodesic_distance_m(placed.lon, placed.lat, city_hall.x, city_hall.y) < 60
    with pytest.raises(GeocodeError, match=r"no street 'Cambrige St'.*Cambridge St"):
        geocoder.geocode("12 Cambrige St")
    with pytest.raises(GeocodeError, match="a street and a house number"):
        geocoder.geocode("Cambridge St")


def test_routing_rules_and_department_names(tmp_path):
    table = RoutingTable.load("cambridge")
    assert table.route("event", "0590", "25017000600101", "police").department == (
        "inspectional_services"
    )
    assert table.route("event", "0590", "25017000100101", "police").department == "police"
    assert table.route("event", "0102", None, None).department is None
    bad = tmp_path / "rules.toml"
    bad.write_text('[[rules]]\ncategory = "event:0102"\n')
    with pytest.raises(RoutingError, match=r"rules\[0\]\.department: missing"):
        RoutingTable.load(bad)
    bad.write_text('[[rules]]\ncategory = "event:0102"\ndepartmnet = "police"\n')
    with pytest.raises(RoutingError, match="did you mean 'department'"):
        RoutingTable.load(bad)
    assert department_names("zh_CN")["sanitation"] == "环境卫生"
    assert set(department_names()) >= {"fire", "police", "public_works"}


def test_dispatch_cli_end_to_end(demo_copy, tmp_path):
    """crews from the demo's fire stations, a registered crash, dispatch, due list, geocode."""
    exe = str(Path(sys.executable).parent / "citydesk")

    def run(*args):
        out = subprocess.run([exe, *map(str, args)], capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        return out.stdout

    crews = run(
        "dispatch",
        "crews",
        f"{demo_copy}::all_facilities",
        "--project",
        demo_copy,
        "--department",
        "fire",
        "--name-field",
        "name",
        "--where",
        "category = 'fire_station'",
    )
    assert "Fire Headquarters" in crews and crews.count("fire-") == 8
    at = dt.datetime(2024, 3, 4, 9, 0, tzinfo=NY)
    with SqliteCaseStore(demo_copy) as store:
        case = _registered(store, -71.1056, 42.3736, at=at)  # by City Hall
    plan = run("dispatch", "run", "--project", demo_copy, "--rules", "cambridge", "--actor", "dora")
    assert "1 dispatched" in plan and "nearest by road" in plan
    with SqliteCaseStore(demo_copy) as store:
        sent = store.get(case.case_id)
        assert sent.status == State.DISPATCHED and sent.crew.startswith("fire-")
    due = run(
        "dispatch", "due", "--project", demo_copy, "--within", "100", "--at", "2024-03-05T12:00"
    )
    assert case.case_id in due and "red" in due
    hit = run("dispatch", "geocode", "1334 Cambridge St", "--project", demo_copy)
    assert hit.startswith("1334 Cambridge St: -71.09")


def test_desk_model_filters_and_cards(demo_copy):
    """The Qt-free desk behind the GUI: filters, time left, the card's role-limited actions."""
    from citydesk.incidents.demo_desk import prepare_demo_desk
    from citydesk.incidents.desk import CaseFilter, open_desk

    prepare_demo_desk(demo_copy)
    desk = open_desk(demo_copy, "ben", Role.INTAKE)
    at = dt.datetime(2024, 3, 4, 9, 0, tzinfo=NY)
    crash = desk.report(NewCase("event", "0490", lon=-71.1042, lat=42.3672, reported_at=at))
    noise = desk.report(NewCase("event", "0590", lon=-71.1189, lat=42.3736, reported_at=at))
    now = at + dt.timedelta(hours=3, minutes=30)  # 3.5 of the crash's 4 working hours used
    every = desk.cases(CaseFilter(), now)
    assert set(every["case_id"]) == {crash.case_id, noise.case_id}
    only = desk.cases(CaseFilter(category="event:0490"), now)
    assert list(only["case_id"]) == [crash.case_id]
    assert only["level"].iloc[0] == "amber" and only["hours_left"].iloc[0] == pytest.approx(0.5)
    assert list(desk.cases(CaseFilter(due_within_hours=1), now)["case_id"]) == [crash.case_id]
    cell = crash.grid_code
    assert list(desk.cases(CaseFilter(grid_prefix=cell), now)["case_id"]) == [crash.case_id]
    assert desk.cases(CaseFilter(status=("closed",)), now).empty
    # the list shows what the staff read: category and department names, not codes
    assert only["category"].iloc[0].startswith("E0490 ") and len(only["category"].iloc[0]) > 6
    desk.lang = "zh_CN"
    chinese = desk.cases(CaseFilter(), now).set_index("case_id")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese.loc[noise.case_id, "category"])
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese.loc[crash.case_id, "department_name"])
    desk.lang = "en"
    card = desk.card(crash.case_id, now)
    assert card.actions == ["accept", "cancel"] and card.level == "amber"
    assert card.category_label.startswith("E0490")
    desk.sign_in("chen", Role.SHIFT_CHIEF)
    assert desk.card(crash.case_id, now).actions == ["cancel"]
    hit = desk.locate("795 Massachusetts Ave")
    assert abs(hit.lat - 42.3672) < 0.001
    desk.store.close()


@pytest.mark.slow  # over 10 s: started early, so it does not end the run
def test_intake_and_report_from_the_command_line(demo_copy, tmp_path):
    """What the GUI's intake and dashboard tabs do, headless: report by address with the
    duplicate check, then the PDF evaluation report."""
    from citydesk.incidents.demo_desk import prepare_demo_desk

    prepare_demo_desk(demo_copy)
    exe = str(Path(sys.executable).parent / "citydesk")

    def run(*args, ok=True):
        out = subprocess.run([exe, *map(str, args)], capture_output=True, text=True, timeout=300)
        assert (out.returncode == 0) == ok, out.stderr
        return out.stdout + out.stderr

    report = ["cases", "report", "--project", demo_copy, "--category", "event:0490"]
    first = run(*report, "--address", "795 Massachusetts Ave", "--actor", "ann")
    assert "reported in cell 250170" in first and "police" in first
    lat, lon = first.splitlines()[0].split(": ")[1].split(", ")
    again = run(*report, f"--at={float(lon) + 0.0003},{lat}", "--actor", "ann", ok=False)
    assert "possible duplicate" in again and "nothing was reported" in again
    assert "--even-if-duplicate" in again
    run(*report, f"--at={lon},{lat}", "--actor", "ann", "--even-if-duplicate")
    bad = run(*report, "--at=north,south", "--actor", "ann", ok=False)
    assert "is not LON,LAT" in bad
    with SqliteCaseStore(demo_copy) as store:
        assert store.count() == 2
    pdf = tmp_path / "week.pdf"
    out = run("dispatch", "report", "--project", demo_copy, "--out", pdf)
    assert pdf.read_bytes()[:4] == b"%PDF" and "ALL" in out
    assert "NaN" not in out  # nothing to measure is a dash, as cases kpi prints it


def test_searches_run_on_32_bit_indices_and_match_networkx():
    """csgraph casts 64-bit index arrays to 32 bits on every call (0.3 of a 0.8 ms nearest-
    crew search on a 100k-node grid), so the matrices are built with 32-bit ones; the
    nearest crew is still networkx's answer."""
    import numpy as np

    from citydesk.layers.shortest_paths import GraphMatrix

    g = nx.grid_2d_graph(12, 12).to_directed()
    g = nx.convert_node_labels_to_integers(g)
    rng = np.random.default_rng(3)
    for a, b in g.edges:
        g.edges[a, b]["travel_s"] = float(rng.uniform(5, 40))
    paths = GraphMatrix(g, "travel_s")
    for m in (paths.forward, paths.backward):
        assert m.indices.dtype == np.int32 and m.indptr.dtype == np.int32
    crews = np.array([5, 77, 130])
    offsets = np.array([3.0, 0.0, 10.0])
    for target in (0, 60, 143):
        found = paths.first_to_reach(target, crews, offsets)
        assert found is not None
        cost = found[1]
        expected = min(
            nx.shortest_path_length(g, int(c), target, weight="travel_s") + o
            for c, o in zip(crews, offsets, strict=True)
        )
        assert cost == pytest.approx(expected)
