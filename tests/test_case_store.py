"""The case store in the project GeoPackage, on the real Cambridge demo and crash locations."""

from __future__ import annotations

import datetime as dt
import sqlite3
from zoneinfo import ZoneInfo

import geopandas as gpd
import pyogrio
import pytest
from conftest import CRASHES_GPKG

from incidents.grid_index import GridIndex
from incidents.lifecycle import Role, RoleError, State, TransitionError
from incidents.store import NewCase, SqliteCaseStore, VersionConflict

pytestmark = pytest.mark.shared_data
NY = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def grid(cambridge_grid):
    return cambridge_grid


@pytest.fixture(scope="module")
def crashes():
    return gpd.read_file(CRASHES_GPKG)


@pytest.fixture()
def store(demo_copy, grid):
    with SqliteCaseStore(demo_copy, grid=GridIndex(grid)) as s:
        yield s


def crash_case(row, **kw) -> NewCase:
    return NewCase(
        kind="event",
        category_code="0490",
        lon=row.geometry.x,
        lat=row.geometry.y,
        description=f"{row.street_name} / {row.cross_street}",
        source="import",
        source_id=str(row.crash_number),
        **kw,
    )


def test_report_fills_grid_department_and_due_time(store, crashes, grid):
    row = crashes.iloc[0]
    friday_5pm = dt.datetime(2024, 3, 1, 17, 0, tzinfo=NY)
    case = store.report(crash_case(row, reported_at=friday_5pm), "anna", Role.SUPERVISOR)
    assert case.status == State.REPORTED and case.version == 1
    assert case.department == "police"
    assert case.due_at == dt.datetime(2024, 3, 4, 12, 0, tzinfo=NY)  # 4 working hours
    cell = grid[grid["code"] == case.grid_code].to_crs(4326).geometry.iloc[0]
    assert cell.covers(row.geometry)
    assert case.grid_code.startswith("250170") and len(case.grid_code) == 14


def test_the_loop_with_rework_and_history(store, crashes):
    c = store.report(crash_case(crashes.iloc[1]), "anna", Role.SUPERVISOR)
    steps = [
        ("accept", "ben", Role.INTAKE, ""),
        ("register", "chen", Role.SHIFT_CHIEF, ""),
        ("dispatch", "dora", Role.DISPATCHER, ""),
        ("start", "crew7", Role.DEPARTMENT, ""),
        ("handle", "crew7", Role.DEPARTMENT, ""),
        ("check_fail", "ivy", Role.INSPECTOR, "debris still on the road"),
        ("handle", "crew7", Role.DEPARTMENT, ""),
        ("check_pass", "ivy", Role.INSPECTOR, ""),
        ("close", "chen", Role.SHIFT_CHIEF, ""),
    ]
    for action, actor, role, note in steps:
        c = store.transition(c.case_id, action, actor, role, c.version, note)
    assert c.status == State.CLOSED and c.rework_count == 1 and c.closed_at is not None
    history = store.history(c.case_id)
    assert [e.action for e in history] == ["report"] + [s[0] for s in steps]
    assert history[6].note == "debris still on the road" and history[6].role == Role.INSPECTOR
    assert store.verify_all() == []


def test_refused_actions_change_nothing(store, crashes):
    c = store.report(crash_case(crashes.iloc[2]), "anna", Role.SUPERVISOR)
    with pytest.raises(RoleError):
        store.transition(c.case_id, "accept", "ivy", Role.INSPECTOR, c.version)
    with pytest.raises(TransitionError):
        store.transition(c.case_id, "close", "chen", Role.SHIFT_CHIEF, c.version)
    again = store.get(c.case_id)
    assert again.version == c.version and again.status == State.REPORTED
    assert len(store.history(c.case_id)) == 1


def test_optimistic_locking_two_desks(demo_copy, grid, crashes):
    desk1 = SqliteCaseStore(demo_copy, grid=GridIndex(grid))
    desk2 = SqliteCaseStore(demo_copy, grid=GridIndex(grid))
    try:
        c = desk1.report(crash_case(crashes.iloc[3]), "anna", Role.SUPERVISOR)
        seen_by_2 = desk2.get(c.case_id)
        desk1.transition(c.case_id, "accept", "ben", Role.INTAKE, c.version)
        with pytest.raises(VersionConflict, match="someone else"):
            desk2.transition(c.case_id, "cancel", "bo", Role.INTAKE, seen_by_2.version, "duplicate")
        assert desk2.get(c.case_id).status == State.ACCEPTED
    finally:
        desk1.close()
        desk2.close()


def test_history_is_append_only_in_the_database(store, crashes, demo_copy):
    c = store.report(crash_case(crashes.iloc[4]), "anna", Role.SUPERVISOR)
    con = sqlite3.connect(demo_copy)
    try:
        for sql in ("UPDATE case_events SET actor = 'mallory'", "DELETE FROM case_events"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                con.execute(sql)
    finally:
        con.close()
    assert store.history(c.case_id)[0].actor == "anna"


def test_import_is_all_or_nothing_and_idempotent(store, crashes):
    batch = [crash_case(r) for r in crashes.iloc[10:60].itertuples()]
    assert store.import_batch(batch) == (50, 0)
    assert store.import_batch(batch) == (0, 50)
    broken = [crash_case(r) for r in crashes.iloc[60:70].itertuples()]
    broken[5].category_code = "9999"  # unknown category in the middle of the batch
    before = store.count()
    with pytest.raises(Exception, match="9999"):
        store.import_batch(broken)
    assert store.count() == before


def test_query_filters_are_parameters_not_sql(store, crashes):
    store.import_batch([crash_case(r) for r in crashes.iloc[100:130].itertuples()])
    all_cases = store.query()
    assert len(all_cases) >= 30
    code = all_cases["grid_code"].dropna().iloc[0]
    by_grid = store.query(grid_prefix=code[:9])
    assert len(by_grid) >= 1 and by_grid["grid_code"].str.startswith(code[:9]).all()
    for evil in ["' OR 1=1 --", "%", "_", "police'; DROP TABLE cases; --"]:
        assert store.query(department=evil).empty
        assert store.query(grid_prefix=evil).empty
    assert store.count() == len(all_cases)


def test_cases_are_a_point_layer_and_survive_project_saves(store, crashes, demo_copy):
    from layers.project_store import load_project, save_project

    store.import_batch([crash_case(r) for r in crashes.iloc[200:220].itertuples()])
    layers = dict(pyogrio.list_layers(demo_copy))
    assert layers.get("cases") == "Point"
    frame = gpd.read_file(demo_copy, layer="cases")
    assert len(frame) == 20 and frame.crs.to_epsg() == 4326
    n, case_id = store.count(), frame["case_id"].iloc[0]
    store.close()
    project = load_project(demo_copy)
    project.name = "renamed"
    save_project(project, demo_copy)  # rewrites the file: the cases must come along
    with SqliteCaseStore(demo_copy) as reopened:
        assert reopened.count() == n
        assert reopened.history(case_id)[0].action == "report"
        c = reopened.get(case_id)
        reopened.transition(c.case_id, "accept", "ben", Role.INTAKE, c.version)
    con = sqlite3.connect(demo_copy)
    with pytest.raises(sqlite3.IntegrityError):
        con.execute("DELETE FROM case_events")
    con.close()


def test_rows_without_coordinates_need_location(store):
    c = store.report(
        NewCase(kind="event", category_code="0102", description="no address"), "ben", Role.INTAKE
    )
    assert c.needs_location and c.grid_code is None
