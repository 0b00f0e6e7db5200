"""A CSV imported a part at a time (issue 22: flat memory at ten million rows) does exactly
what the file read whole did: same cases, same counts, repeats decided by their first row,
all or nothing, and file lines named across parts."""

from __future__ import annotations

from pathlib import Path

import pytest

from citydesk.incidents import import_csv as module
from citydesk.incidents.import_csv import (
    CaseImportError,
    ColumnMapping,
    check_cases,
    import_csv,
)
from citydesk.incidents.store import SqliteCaseStore

MAPPING = """
source = "city311"
[columns]
source_id = "id"
reported_at = "opened"
closed_at = "closed"
status = "status"
lat = "lat"
lon = "lon"
category = "type"
[dates]
formats = ["%Y-%m-%d %H:%M:%S"]
timezone = "UTC"
[categories]
"crash" = "event:0490"
"pothole" = "component:0101"
[statuses]
"Open" = "open"
"Closed" = "closed"
"""


def _csv(path: Path, rows: list[tuple]) -> Path:
    lines = ["id,opened,closed,status,lat,lon,type"]
    lines += [",".join(str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rows(n: int) -> list[tuple]:
    return [
        (
            f"r{i}",
            f"2024-03-{1 + i % 28:02d} {8 + i % 10:02d}:00:00",
            "",
            "Open",
            42.37 + (i % 7) * 1e-3,
            -71.1 - (i % 5) * 1e-3,
            "crash" if i % 3 else "pothole",
        )
        for i in range(n)
    ]


@pytest.fixture()
def mapping(tmp_path) -> ColumnMapping:
    path = tmp_path / "mapping.toml"
    path.write_text(MAPPING, encoding="utf-8")
    return ColumnMapping.load(path)


def _stored(path: Path) -> list[tuple]:
    with SqliteCaseStore(path) as store:
        cases = store.query()
    return sorted(zip(cases["source_id"], cases["status"], cases["category_code"], strict=True))


def test_parts_import_what_the_whole_file_imports(tmp_path, mapping, monkeypatch):
    rows = _rows(23)
    # a repeat in a later part, saying closed: an update of the first, as in one batch
    rows.append(
        ("r2", "2024-03-03 10:00:00", "2024-03-04 10:00:00", "Closed", 42.37, -71.1, "crash")
    )
    first = _csv(tmp_path / "a.csv", rows)
    with SqliteCaseStore(tmp_path / "whole.gpkg") as store:
        whole = import_csv(store, first, mapping, parsed=module.read_cases(first, mapping))
    monkeypatch.setattr(module, "PART_ROWS", 5)
    with SqliteCaseStore(tmp_path / "parts.gpkg") as store:
        parts = import_csv(store, first, mapping)
    assert {k: parts[k] for k in ("rows", "added", "skipped", "updated", "closed")} == {
        k: whole[k] for k in ("rows", "added", "skipped", "updated", "closed")
    }
    assert parts["added"] == 23 and parts["updated"] == 1
    assert _stored(tmp_path / "parts.gpkg") == _stored(tmp_path / "whole.gpkg")
    # the next export in parts: the closes apply once, a second run changes nothing
    later = _csv(
        tmp_path / "b.csv",
        [r if i % 4 else (r[0], r[1], "2024-04-01 09:00:00", "Closed", *r[4:])
         for i, r in enumerate(_rows(23))],
    )  # fmt: skip
    with SqliteCaseStore(tmp_path / "parts.gpkg") as store:
        again = import_csv(store, later, mapping)
        # six closed there since, and r2 open there again (its repeat had closed it)
        assert again["added"] == 0 and again["updated"] == 7
        assert import_csv(store, later, mapping)["updated"] == 0
    statuses = [s for _i, s, _c in _stored(tmp_path / "parts.gpkg")]
    assert statuses.count("closed") == 6  # r0, r4, r8, r12, r16, r20


def test_a_bad_row_in_a_later_part_refuses_the_whole_file(tmp_path, mapping, monkeypatch):
    monkeypatch.setattr(module, "PART_ROWS", 4)
    rows = _rows(12)
    rows[9] = ("r9", "2024-03-10 08:00:00", "", "Assigned", 42.37, -71.1, "crash")
    bad = _csv(tmp_path / "bad.csv", rows)
    with pytest.raises(CaseImportError, match=r"Assigned.*file lines 11"):
        check_cases(bad, mapping, rows=4)
    with SqliteCaseStore(tmp_path / "cases.gpkg") as store:
        with pytest.raises(CaseImportError, match="Assigned"):
            import_csv(store, bad, mapping)
        assert store.count() == 0  # nothing of the first two parts stayed


def test_a_header_only_file_is_refused_in_parts_too(tmp_path, mapping):
    empty = _csv(tmp_path / "empty.csv", [])
    with pytest.raises(CaseImportError, match="header but no rows"):
        check_cases(empty, mapping, rows=4)


def test_a_large_import_and_its_reimport_on_postgis(pg_url, tmp_path, mapping, monkeypatch):
    """Past 10,000 rows the stored ids are found by joining a temporary table, per part."""
    from citydesk.incidents.postgis_store import PostgisCaseStore

    monkeypatch.setattr(module, "PART_ROWS", 6_000)
    rows = _rows(12_500)
    first = _csv(tmp_path / "a.csv", rows)
    closed = [(r[0], r[1], "2024-04-01 09:00:00", "Closed", *r[4:]) if i % 10 == 0 else r
              for i, r in enumerate(rows)]  # fmt: skip
    later = _csv(tmp_path / "b.csv", closed)
    with PostgisCaseStore(pg_url) as store:
        built = _index_oids(store)
        assert import_csv(store, first, mapping)["added"] == 12_500
        # a load that made the table: its indexes rebuilt packed (REINDEX CONCURRENTLY
        # gives each a new oid), every one valid, no half-built copy left
        rebuilt = _index_oids(store)
        assert set(rebuilt) == set(built) and not set(rebuilt.values()) & set(built.values())
        again = import_csv(store, later, mapping)
        assert (again["added"], again["updated"], again["unchanged"]) == (0, 1_250, 11_250)
        assert store.count() == 12_500
        assert _index_oids(store) == rebuilt  # nothing added: nothing rebuilt


def _index_oids(store) -> dict[str, int]:
    """The store's indexes on cases and events, by name; all must be valid."""
    with store.transaction() as con:
        rows = con.execute(
            "SELECT c.relname, c.oid, i.indisvalid FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid IN ('cases'::regclass, 'case_events'::regclass)"
        ).fetchall()
    assert all(row["indisvalid"] for row in rows), rows
    return {row["relname"]: row["oid"] for row in rows}


def test_a_failed_index_rebuild_keeps_the_import(pg_url, tmp_path, mapping, monkeypatch, caplog):
    """The rebuild runs after the import committed: its failure is a warning, the cases stay
    and the old indexes with them."""
    from citydesk.incidents import postgis_store
    from citydesk.incidents.postgis_store import PostgisCaseStore

    monkeypatch.setattr(postgis_store, "_REINDEX", "REINDEX TABLE CONCURRENTLY {}_missing")
    first = _csv(tmp_path / "a.csv", _rows(10_000))
    with PostgisCaseStore(pg_url) as store:
        built = _index_oids(store)
        assert import_csv(store, first, mapping)["added"] == 10_000
        assert store.count() == 10_000
        assert _index_oids(store) == built
    assert "rebuilding its indexes failed" in caplog.text
