"""The columnar copy of the KPI facts (incidents/fact_snapshot.py): whatever happens to the
store, a refreshed copy gives exactly the facts a direct read gives."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid

import numpy as np
import pandas as pd
import pytest

from citydesk.incidents import fact_snapshot
from citydesk.incidents.case_store import FACT_OUTPUT, CaseStore
from citydesk.incidents.fact_snapshot import FactSnapshot, cache_path, case_keys
from citydesk.incidents.kpi import KpiSpec, kpis_from_store
from citydesk.incidents.lifecycle import Role
from citydesk.incidents.new_cases import NewCase
from citydesk.incidents.store import SqliteCaseStore

AT = dt.datetime(2024, 3, 4, 9, 0, tzinfo=dt.UTC)


def _imported(n: int, tag: str, category: str = "0490", department=None) -> list[NewCase]:
    return [
        NewCase(
            "event",
            category,
            lon=-71.11 + (i % 50) * 1e-4,
            lat=42.37 + (i // 50) * 1e-4,
            source="city311",
            source_id=f"{tag}-{i}",
            reported_at=AT + dt.timedelta(minutes=i),
            department=department,
        )
        for i in range(n)
    ]


def _direct(store: CaseStore, **kw) -> pd.DataFrame:
    """The facts read straight from the tables, in a canonical order."""
    saved = store.SNAPSHOT_ROWS
    store.SNAPSHOT_ROWS = 10**12
    try:
        return _canonical(store.case_facts(**kw))
    finally:
        store.SNAPSHOT_ROWS = saved


def _canonical(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out:
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out.sort_values(list(FACT_OUTPUT)).reset_index(drop=True)


def _snapshot(store: CaseStore, **kw) -> pd.DataFrame:
    store.SNAPSHOT_ROWS = 0
    return _canonical(store.case_facts(**kw))


def _walk(store: CaseStore, case_id: str, actions: list[tuple[str, Role, dict]]) -> None:
    for action, role, assign in actions:
        case = store.get(case_id)
        store.transition(case_id, action, "someone", role, case.version, **assign)


LOOP = [
    ("accept", Role.INTAKE, {}),
    ("register", Role.SHIFT_CHIEF, {}),
    ("dispatch", Role.DISPATCHER, {"department": "public_works"}),
]


def test_case_keys_are_distinct_and_sort_cityDesk_ids_by_date():
    ids = ["20240304-00000000ff", "20231231-ffffffffff", "20240304-0000000100"]
    keys = case_keys(ids)
    assert keys[1] < keys[0] < keys[2]
    odd = ["legacy-17", "事件-1", "20240304-00000000fG", "", "20241399-0000000001"]
    both = case_keys(ids + odd)
    assert len(set(both.tolist())) == len(ids + odd)
    assert (both[: len(ids)] == keys).all()  # an odd id does not change the others' keys
    assert (both[len(ids) :] >= 1 << 62).all()  # hashed, away from the packed range


@pytest.fixture()
def merges(monkeypatch) -> list[int]:
    """The number of rows each refresh re-read (a refresh must merge, not rebuild)."""
    monkeypatch.setattr(fact_snapshot, "REBUILD_SHARE", 10.0)
    seen: list[int] = []
    merged = FactSnapshot.merged

    def spy(self, mark, changed):
        seen.append(len(changed))
        return merged(self, mark, changed)

    monkeypatch.setattr(FactSnapshot, "merged", spy)
    return seen


def test_the_copy_follows_every_change_of_the_store(tmp_path, merges):
    with SqliteCaseStore(tmp_path / "cases.gpkg") as store:
        store.import_batch(_imported(40, "a"))
        first = _snapshot(store)
        pd.testing.assert_frame_equal(first, _direct(store))
        assert cache_path(store._snapshot_place()).exists()
        # desk work on a few cases, a new department, new cases, a re-import closing some
        reported = store.report(NewCase("event", "0101", lon=-71.1, lat=42.37), "ann", at=AT)
        _walk(store, reported.case_id, LOOP)
        store.import_batch(_imported(5, "b", category="0101", department="parks"))
        pd.testing.assert_frame_equal(_snapshot(store), _direct(store))
        assert store._snapshot is not None and len(store._snapshot) == 46
        assert merges == [6]  # the registered desk case and the 5 new ones, nothing else
        since = pd.Timestamp(AT + dt.timedelta(minutes=10))
        pd.testing.assert_frame_equal(
            _snapshot(store, registered_since=since), _direct(store, registered_since=since)
        )
        spec = KpiSpec(by="category", end=AT + dt.timedelta(days=30))
        store.SNAPSHOT_ROWS = 0
        via_copy = kpis_from_store(store, spec)
        store.SNAPSHOT_ROWS = 10**12
        pd.testing.assert_frame_equal(via_copy, kpis_from_store(store, spec))


def test_another_process_sees_what_was_written_after_the_copy_was_saved(tmp_path, merges):
    path = tmp_path / "cases.gpkg"
    with SqliteCaseStore(path) as store:
        store.import_batch(_imported(30, "a"))
        _snapshot(store)  # saved to the cache
    with SqliteCaseStore(path) as other:  # another desk adds and moves cases
        other.import_batch(_imported(3, "c", department="parks"))
        reported = other.report(NewCase("event", "0490", lon=-71.1, lat=42.37), "ann", at=AT)
        _walk(other, reported.case_id, LOOP)
    with SqliteCaseStore(path) as later:  # a new process: the saved copy, then the changes
        assert later._snapshot is None
        pd.testing.assert_frame_equal(_snapshot(later), _direct(later))
        assert len(later._snapshot) == 34 and merges == [4]


def test_another_file_at_the_same_path_is_never_read_through_the_old_copy(tmp_path):
    path = tmp_path / "cases.gpkg"
    with SqliteCaseStore(tmp_path / "other.gpkg") as other:
        other.import_batch(_imported(12, "other", category="0101"))
    with SqliteCaseStore(path) as store:
        store.import_batch(_imported(12, "mine"))
        _snapshot(store)
    shutil.copy(tmp_path / "other.gpkg", path)  # a restored backup, another city's file
    with SqliteCaseStore(path) as store:
        got = _snapshot(store)
        pd.testing.assert_frame_equal(got, _direct(store))
        assert set(got["category_code"]) == {"0101"}


def test_a_damaged_saved_copy_is_rebuilt(tmp_path):
    with SqliteCaseStore(tmp_path / "cases.gpkg") as store:
        store.import_batch(_imported(10, "a"))
        _snapshot(store)
        saved = cache_path(store._snapshot_place())
        saved.write_bytes(saved.read_bytes()[:200])
        store._snapshot = None
        pd.testing.assert_frame_equal(_snapshot(store), _direct(store))
        assert FactSnapshot.load(saved, store._snapshot_place()) is not None


def test_a_copy_whose_ids_collide_is_not_used(monkeypatch, tmp_path):
    monkeypatch.setattr(fact_snapshot, "case_keys", lambda ids: np.zeros(len(ids), np.int64))
    with SqliteCaseStore(tmp_path / "cases.gpkg") as store:
        store.import_batch(_imported(5, "a"))
        pd.testing.assert_frame_equal(_snapshot(store), _direct(store))
        assert store._snapshot is None


def test_the_copy_follows_a_postgis_store_and_is_not_used_under_row_security(
    pg_cluster, pg_url, merges
):
    from citydesk.incidents.postgis_store import PostgisCaseStore

    with PostgisCaseStore(pg_url) as owner:
        owner.import_batch(_imported(20, "a"))
        owner.SNAPSHOT_ROWS = 0
        pd.testing.assert_frame_equal(_snapshot(owner), _direct(owner))
        with PostgisCaseStore(pg_url) as desk:  # another connection's changes
            desk.import_batch(_imported(2, "b", department="parks"))
            reported = desk.report(NewCase("event", "0490", lon=-71.1, lat=42.37), "ann", at=AT)
            _walk(desk, reported.case_id, LOOP)
        pd.testing.assert_frame_equal(_snapshot(owner), _direct(owner))
        assert len(owner._snapshot) == 23 and merges == [3]
        login = f"crew_{uuid.uuid4().hex[:6]}"
        pg_cluster.psql(f"CREATE ROLE {login} LOGIN")
        owner.grant(login, Role.DEPARTMENT, ("public_works",))
    with PostgisCaseStore(pg_url.replace("citydesk_dba@", f"{login}@")) as crew:
        assert crew._snapshot_place() is None  # row security: reads only its own cases
        got = _snapshot(crew)
        assert len(got) == 1 and crew._snapshot is None


def test_a_postgis_read_of_a_period_equals_the_copy_s(pg_url):
    """The full read goes through COPY with the period's bounds bound as parameters."""
    from citydesk.incidents.postgis_store import PostgisCaseStore

    with PostgisCaseStore(pg_url) as store:
        store.import_batch(_imported(30, "a"))
        since = pd.Timestamp(AT + dt.timedelta(minutes=10))
        until = pd.Timestamp(AT + dt.timedelta(minutes=20))
        direct = _direct(store, registered_since=since, registered_until=until)
        assert len(direct) == 10
        pd.testing.assert_frame_equal(
            _snapshot(store, registered_since=since, registered_until=until), direct
        )


def test_a_frame_handed_out_is_read_only_and_kept_by_a_refresh(tmp_path):
    with SqliteCaseStore(tmp_path / "cases.gpkg") as store:
        store.import_batch(_imported(20, "a"))
        store.SNAPSHOT_ROWS = 0
        before = store.case_facts()
        kept = before.copy(deep=True)
        with pytest.raises(ValueError, match="read-only"):  # never into the copy
            before.loc[0, "rework_count"] = 99
        mine = before.copy()  # what a caller who wants to change it does
        mine.loc[0, "rework_count"] = 99
        assert store.case_facts()["rework_count"].max() == 0
        reported = store.report(NewCase("event", "0490", lon=-71.1, lat=42.37), "ann", at=AT)
        _walk(store, reported.case_id, LOOP)
        store.import_batch(_imported(3, "b"))
        assert len(store.case_facts()) == 24
        pd.testing.assert_frame_equal(before, kept)  # what it showed, after the refresh


@pytest.mark.parametrize("backend", ["geopackage", "postgis"])
def test_the_copy_built_in_parts_is_the_copy_built_whole(tmp_path, monkeypatch, backend, request):
    """The first build streams the facts a part at a time (the child process of a
    GeoPackage, COPY on PostGIS), so its memory does not grow with the store's rows as
    text; parts of 7 rows give exactly the facts a direct read gives."""
    from citydesk.incidents import case_store, postgis_store
    from citydesk.incidents import store as store_module

    for module in (case_store, store_module, postgis_store):
        monkeypatch.setattr(module, "FACT_PART_ROWS", 7)
    monkeypatch.setattr(store_module, "CHILD_SCAN_ROWS", 0)  # the child even for a few
    parts: list[int] = []
    build = FactSnapshot.from_tables.__func__  # type: ignore[attr-defined]

    def counted(cls, place, mark, tables):
        tables = list(tables)
        parts.extend(t.num_rows for t in tables)
        return build(cls, place, mark, tables)

    monkeypatch.setattr(FactSnapshot, "from_tables", classmethod(counted))
    if backend == "postgis":
        from citydesk.incidents.postgis_store import PostgisCaseStore

        store: CaseStore = PostgisCaseStore(request.getfixturevalue("pg_url"))
    else:
        store = SqliteCaseStore(tmp_path / "cases.gpkg")
    with store:
        store.import_batch(_imported(40, "a"))
        store.import_batch(_imported(3, "b", category="0101", department="parks"))
        reported = store.report(NewCase("event", "0101", lon=-71.1, lat=42.37), "ann", at=AT)
        _walk(store, reported.case_id, LOOP)
        pd.testing.assert_frame_equal(_snapshot(store), _direct(store))
    assert len(parts) > 1 and sum(parts) == 44, parts


def test_a_child_that_dies_leaves_the_copy_to_an_in_process_read(tmp_path, monkeypatch, caplog):
    from citydesk.incidents import store as store_module

    monkeypatch.setattr(store_module, "CHILD_SCAN_ROWS", 0)
    monkeypatch.setattr(store_module, "_CHILD_SCAN", "import sys; sys.exit('GDAL fell over')")
    with SqliteCaseStore(tmp_path / "cases.gpkg") as store:
        store.import_batch(_imported(20, "a"))
        pd.testing.assert_frame_equal(_snapshot(store), _direct(store))
    assert "GDAL fell over" in caplog.text


def test_the_copy_stream_fills_each_block_arrow_asks_for():
    """psycopg hands a COPY over a row at a time; the stream Arrow reads must gather rows into
    the block it asks for (a read per row allocating the whole block never finished at 10M)."""
    from citydesk.incidents.postgis_store import _CopyStream

    rows = [f"{i},row\n".encode() for i in range(1000)]

    class Copy:
        def __init__(self) -> None:
            self.left = list(rows)

        def read(self) -> bytes:
            return self.left.pop(0) if self.left else b""

    stream = _CopyStream(Copy())
    first = stream.read(4096)
    assert len(first) == 4096
    buffer = bytearray(1 << 20)
    n = stream.readinto(buffer)
    assert first + bytes(buffer[:n]) == b"".join(rows) and stream.read(10) == b""
