"""The case store in the project GeoPackage, on the real Cambridge demo and crash locations."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
from zoneinfo import ZoneInfo

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from conftest import CRASHES_GPKG

from citydesk.incidents.calendar import WorkingCalendar
from citydesk.incidents.case_store import FACT_OUTPUT
from citydesk.incidents.grid_index import GridIndex
from citydesk.incidents.lifecycle import Role, RoleError, State, TransitionError
from citydesk.incidents.new_cases import HistoryError
from citydesk.incidents.store import (
    DuplicateCase,
    HistoryStep,
    NewCase,
    SqliteCaseStore,
    VersionConflict,
)
from citydesk.layers.errors import CityDeskError

NY = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def grid(cambridge_grid):
    return cambridge_grid


@pytest.fixture(scope="module")
def crashes():
    return gpd.read_file(CRASHES_GPKG)


@pytest.fixture()
def store(store_target, grid):
    with store_target.open(grid) as s:
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


@pytest.mark.shared_data
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


@pytest.mark.shared_data
def test_the_loop_with_rework_and_history(store, crashes):
    c = store.report(crash_case(crashes.iloc[1]), "anna", Role.SUPERVISOR)
    steps = _loop_steps(rework=True, fail_note="debris still on the road")
    for action, actor, role, note in steps:
        c = store.transition(c.case_id, action, actor, role, c.version, note)
    assert c.status == State.CLOSED and c.rework_count == 1 and c.closed_at is not None
    history = store.history(c.case_id)
    assert [e.action for e in history] == ["report"] + [s[0] for s in steps]
    assert history[6].note == "debris still on the road" and history[6].role == Role.INSPECTOR
    assert store.verify_all() == []


@pytest.mark.shared_data
def test_refused_actions_change_nothing(store, crashes):
    c = store.report(crash_case(crashes.iloc[2]), "anna", Role.SUPERVISOR)
    with pytest.raises(RoleError):
        store.transition(c.case_id, "accept", "ivy", Role.INSPECTOR, c.version)
    with pytest.raises(TransitionError):
        store.transition(c.case_id, "close", "chen", Role.SHIFT_CHIEF, c.version)
    again = store.get(c.case_id)
    assert again.version == c.version and again.status == State.REPORTED
    assert len(store.history(c.case_id)) == 1


@pytest.mark.shared_data
def test_optimistic_locking_two_desks(store_target, grid, crashes):
    desk1 = store_target.open(grid)
    desk2 = store_target.open(grid)
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


@pytest.mark.shared_data
def test_history_is_append_only_in_the_database(store, crashes, store_target):
    c = store.report(crash_case(crashes.iloc[4]), "anna", Role.SUPERVISOR)
    statements = ["UPDATE case_events SET actor = 'mallory'", "DELETE FROM case_events"]
    if store_target.backend == "postgis":
        statements.append("TRUNCATE case_events CASCADE")
    for sql in statements:
        with pytest.raises(Exception, match="append-only"):
            store_target.sql(sql)
    assert store.history(c.case_id)[0].actor == "anna"


@pytest.mark.shared_data
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


@pytest.mark.shared_data
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


@pytest.mark.shared_data
def test_cases_are_a_point_layer_and_survive_project_saves(demo_copy, grid, crashes):
    from citydesk.layers.project_store import load_project, save_project

    store = SqliteCaseStore(demo_copy, grid=GridIndex(grid))
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


@pytest.mark.shared_data
def test_rows_without_coordinates_need_location(store):
    c = store.report(
        NewCase(kind="event", category_code="0102", description="no address"), "ben", Role.INTAKE
    )
    assert c.needs_location and c.grid_code is None


def _loop_steps(rework: bool = False, fail_note: str = "not done") -> list[tuple]:
    """(action, actor, role, note) of the whole loop after the report."""
    names = [
        ("accept", "ben", Role.INTAKE, ""),
        ("register", "chen", Role.SHIFT_CHIEF, ""),
        ("dispatch", "dora", Role.DISPATCHER, ""),
        ("start", "crew7", Role.DEPARTMENT, ""),
        ("handle", "crew7", Role.DEPARTMENT, ""),
    ]
    if rework:
        names += [("check_fail", "ivy", Role.INSPECTOR, fail_note), names[-1]]
    return [
        *names,
        ("check_pass", "ivy", Role.INSPECTOR, ""),
        ("close", "chen", Role.SHIFT_CHIEF, ""),
    ]


def _loop(t0: dt.datetime, rework: bool = False) -> list[HistoryStep]:
    """A migrated case's steps after its report, an hour apart."""
    return [
        HistoryStep(a, who, r, t0 + dt.timedelta(hours=k + 1), n)
        for k, (a, who, r, n) in enumerate(_loop_steps(rework))
    ]


@pytest.mark.shared_data
def test_migrated_histories_are_checked_and_summarised(store, crashes):
    t0 = dt.datetime(2023, 6, 5, 9, 0, tzinfo=NY)
    rows = crashes.iloc[300:303]
    batch = [crash_case(r, reported_at=t0) for r in rows.itertuples()]
    batch[0].history = _loop(t0)
    batch[1].history = _loop(t0, rework=True)
    batch[2].history = _loop(t0)[:3]  # registered and dispatched, still open
    assert store.import_batch(batch) == (3, 0)
    cases = store.query().set_index("source_id")
    first, second, third = (
        store.get(cases.loc[str(r.crash_number), "case_id"]) for r in rows.itertuples()
    )
    assert first.status == State.CLOSED and first.rework_count == 0
    assert second.status == State.CLOSED and second.rework_count == 1
    assert third.status == State.DISPATCHED and third.closed_at is None
    assert first.registered_at == t0 + dt.timedelta(hours=2)
    assert first.dispatched_at == t0 + dt.timedelta(hours=3) and first.dispatcher == "dora"
    assert second.closed_at == t0 + dt.timedelta(hours=9)
    assert [e.action for e in store.history(second.case_id)][-3:] == [
        "handle",
        "check_pass",
        "close",
    ]
    assert store.verify_all() == []
    facts = store.case_facts()  # one row per case, without its id
    assert len(facts) == 3 and "case_id" not in facts
    still_open = facts[facts["closed_at"].isna()]
    assert list(still_open["dispatcher"]) == ["dora"]
    assert list(facts["rework_count"].sort_values()) == [0, 0, 1]
    assert set(facts["registered_at"]) == {pd.Timestamp(first.registered_at)}


@pytest.mark.shared_data
def test_kpi_facts_from_a_child_process_equal_the_direct_read(tmp_path, crashes, monkeypatch):
    """Large stores are scanned by GDAL in a child process (GDAL must not open a file this
    process holds); the frame must be the one the store's own connection reads."""
    import citydesk.incidents.store as store_module

    t0 = dt.datetime(2023, 6, 5, 9, 0, tzinfo=NY)
    with SqliteCaseStore(tmp_path / "facts.gpkg") as s:
        batch = [crash_case(r, reported_at=t0) for r in crashes.iloc[400:440].itertuples()]
        for k, case in enumerate(batch):
            case.history = _loop(t0, rework=k % 3 == 0)[: 3 + k % 4]
        # and imported cases never registered here: registered at their report time
        imported = [crash_case(r, reported_at=t0) for r in crashes.iloc[440:445].itertuples()]
        s.import_batch(batch + imported)
        every = list(FACT_OUTPUT)
        here = s.case_facts(registered_since=t0).sort_values(every).reset_index(drop=True)
        monkeypatch.setattr(store_module, "CHILD_SCAN_ROWS", 0)
        child = s.case_facts(registered_since=t0).sort_values(every).reset_index(drop=True)
    assert len(here) == 45 and int(here["imported"].sum()) == 5
    pd.testing.assert_frame_equal(here, child, check_dtype=False)


@pytest.mark.shared_data
def test_an_illegal_migrated_history_is_refused_whole(store, crashes):
    t0 = dt.datetime(2023, 6, 5, 9, 0, tzinfo=NY)
    batch = [crash_case(r, reported_at=t0) for r in crashes.iloc[310:315].itertuples()]
    for case in batch:
        case.history = _loop(t0)
    batch[3].history = _loop(t0)[1:]  # registered without being accepted
    before = store.count()
    refused = rf"{batch[3].source_id}.*step 2.*“Register.*not possible"
    with pytest.raises(HistoryError, match=refused):
        store.import_batch(batch)
    assert store.count() == before


@pytest.mark.shared_data
def test_a_migrated_history_that_goes_back_in_time_is_refused(store, crashes):
    """The benchmark's own migration once lost the unit of its step times and imported
    histories dated 1970 after reports dated 2014; now such a batch is refused."""
    t0 = dt.datetime(2023, 6, 5, 9, 0, tzinfo=NY)
    batch = [crash_case(r, reported_at=t0) for r in crashes.iloc[330:333].itertuples()]
    for case in batch:
        case.history = _loop(t0)
    batch[1].history[0] = dataclasses.replace(batch[1].history[0], at=t0 - dt.timedelta(hours=1))
    before = store.count()
    with pytest.raises(HistoryError, match=rf"{batch[1].source_id}.*back in time at step 2"):
        store.import_batch(batch)
    assert store.count() == before


@pytest.mark.shared_data
def test_reporting_a_stored_source_id_again_is_refused(store, crashes):
    case = crash_case(crashes.iloc[320])
    store.report(case, "anna")
    with pytest.raises(DuplicateCase, match=case.source_id):
        store.report(case, "anna")


@pytest.mark.shared_data
def test_verify_all_catches_a_tampered_summary(store, crashes, store_target):
    c = store.report(crash_case(crashes.iloc[321]), "anna", Role.SUPERVISOR)
    assert store.verify_all() == []
    store_target.sql("UPDATE cases SET rework_count = 3 WHERE case_id = ?", (c.case_id,))
    assert store.verify_all() == [c.case_id]


def test_a_store_of_its_own_is_a_geopackage_with_utc_datetimes(tmp_path):
    path = tmp_path / "desk.sqlite"
    reported = dt.datetime(2024, 3, 1, 17, 0, tzinfo=NY)
    with SqliteCaseStore(path, calendar=WorkingCalendar(tz="America/New_York")) as s:
        c = s.report(NewCase("event", "0102", lon=-71.1, lat=42.37, reported_at=reported), "a")
        assert c.reported_at == reported and c.reported_at.tzinfo is not None
        assert c.due_at.utcoffset() == dt.timedelta(hours=-5)  # shown in the city's time
        raw = s.query()["reported_at"].iloc[0]
    with SqliteCaseStore(tmp_path / "plain.gpkg") as s:  # no project, no profile: UTC
        assert s.calendar.tz == "UTC"
    assert raw == "2024-03-01T22:00:00.000Z"  # stored in UTC, fixed width: text order = time
    frame = pyogrio.read_dataframe(path, layer="cases")
    assert frame.crs.to_epsg() == 4326 and len(frame) == 1
    assert str(frame["reported_at"].dtype).startswith("datetime64")
    assert frame["reported_at"].iloc[0] == pd.Timestamp(reported)


def test_a_store_of_another_schema_version_is_refused(tmp_path):
    path = tmp_path / "old.gpkg"
    SqliteCaseStore(path).close()
    con = sqlite3.connect(path)
    with con:
        con.execute("UPDATE case_store_meta SET value = '1' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(CityDeskError, match="schema version 1"):
        SqliteCaseStore(path)


EVIL = [
    "' OR 1=1 --",
    "x'); DROP TABLE cases; --",
    '"; DELETE FROM case_events; --',
    "%",
    "_",
    "\\",
    "?",
    "%s",
    "$1",
    "Robert'); DROP TABLE crews;--",
    "李雷'; --",
]


@pytest.mark.shared_data
def test_every_text_field_and_filter_is_a_parameter(store, crashes):
    """Each hostile string goes through every text filter and every text field a user or an
    import can fill; it is stored and found verbatim, and every table is still there."""
    import pandas as pd

    from citydesk.incidents.case_store import CaseNotFound

    stored = []
    for k, evil in enumerate(EVIL):
        case = store.report(
            NewCase(
                "event", "0490", lon=-71.1042, lat=42.3672, description=evil,
                source=evil, source_id=f"{evil}-{k}", reporter_name=evil,
                reporter_phone=evil, reporter_email=evil, photos=[evil],
            ),
            actor=evil, role=Role.SUPERVISOR,
        )  # fmt: skip
        case = store.transition(case.case_id, "accept", evil, Role.INTAKE, case.version, evil)
        store.transition(case.case_id, "cancel", evil, Role.INTAKE, case.version, evil,
                         duplicate_of=evil)  # fmt: skip
        stored.append(case.case_id)
    store.save_crews(pd.DataFrame({"crew_id": EVIL, "name": EVIL, "department": EVIL}))
    for evil in EVIL:
        assert store.query(status=[evil]).empty
        assert store.query(department=evil).empty
        assert store.query(category_code=evil).empty
        assert store.query(grid_prefix=evil).empty
        assert store.crews(department=evil)["crew_id"].tolist() == [evil]
        store.set_crew_available(evil, False)
        with pytest.raises(CaseNotFound):
            store.get(evil)
        assert store.history(evil) == []
        with pytest.raises(ValueError):
            store.query(columns=[evil])
        with pytest.raises(ValueError):
            store.events_frame(columns=[evil])
    assert store.query_ids(EVIL).empty
    assert store.count() == len(EVIL)
    for k, (case_id, evil) in enumerate(zip(stored, EVIL, strict=True)):
        case = store.get(case_id)
        assert (case.description, case.source, case.reporter_phone) == (evil, evil, evil)
        assert case.source_id == f"{evil}-{k}" and case.photos == [evil]
        assert case.duplicate_of == evil and case.status == "cancelled"
        assert [e.note for e in store.history(case_id)][1:] == [evil, evil]
    assert len(store.crews(available_only=False)) == len(EVIL)
    assert store.crews(available_only=True).empty
    assert store.verify_all() == []
