"""What only the PostGIS backend has: moving a project's cases into it, the connection
setting in the project, its logical backup and restore, server-side schema versions, and
the point geometry PostGIS derives. (The store's behaviour itself is tested on both
backends in test_case_store.py and the others that take ``store_target``.)"""

from __future__ import annotations

import pytest
from conftest import pg_sql

from citydesk.incidents.backup import summarize
from citydesk.incidents.lifecycle import Role, State
from citydesk.incidents.new_cases import NewCase
from citydesk.incidents.postgis_store import PostgisCaseStore
from citydesk.incidents.stores import store_place
from citydesk.layers.pg_migrate import SchemaError
from citydesk.layers.pg_url import StoreUrl, StoreUrlError
from citydesk.workbench.cli.main import main


@pytest.fixture()
def project_with_cases(demo_with_cases):
    return demo_with_cases  # the replayed Cambridge crash history: 9,110 cases


@pytest.mark.slow  # over 10 s: started early, so it does not end the run
def test_migrate_moves_every_case_and_event_and_connects_the_project(
    project_with_cases, pg_url, capsys
):
    project = project_with_cases
    local = summarize(project)
    assert local.cases == 9110
    assert main(["cases", "migrate", str(project), "--to", "postgis", pg_url]) == 0
    out = capsys.readouterr().out
    assert "9110 cases" in out and local.checksum[:12] in out
    assert store_place(project) == pg_url  # the project now points at the database
    with PostgisCaseStore(pg_url) as store:
        assert store.summary() == local  # every column of every case and event
        assert store.verify_all() == []
    # the CLI now reads and writes the database
    report = ["--category", "event:0490", "--at=-71.1042,42.3672", "--even-if-duplicate"]
    assert main(["cases", "report", "--project", str(project), *report, "--actor", "ann"]) == 0
    capsys.readouterr()
    assert main(["cases", "list", "--project", str(project), "--status", "reported"]) == 0
    (case_id,) = pg_sql(pg_url, "SELECT case_id FROM cases WHERE status = 'reported'")[0]
    assert case_id in capsys.readouterr().out
    assert main(["cases", "move", case_id, "accept", "--project", str(project),
                 "--as", "intake_clerk", "--actor", "ben"]) == 0  # fmt: skip
    status, grid_code = pg_sql(pg_url, "SELECT status, grid_code FROM cases WHERE case_id = %s",
                             (case_id,))[0]  # fmt: skip
    assert status == "accepted" and grid_code.startswith("250170")  # the project's grid
    assert summarize(project) == local  # the file's own copy is left as it was
    # a second migration into the same database is refused, not doubled
    assert main(["cases", "connect", str(project), "--embedded"]) == 0
    assert main(["cases", "migrate", str(project), "--to", "postgis", pg_url]) == 2
    assert "already holds 9111 cases" in capsys.readouterr().err


def test_a_password_never_goes_into_the_project(demo_copy, pg_url, capsys):
    with_password = pg_url.replace("citydesk_dba@", "citydesk_dba:secret@")
    assert main(["cases", "connect", str(demo_copy), with_password]) == 2
    err = capsys.readouterr().err
    assert "contains a password" in err and "PGPASSWORD" in err and "secret" not in err
    assert store_place(demo_copy) == demo_copy
    # every form (issue 21): in the query string too, never stored, never echoed
    for query in ("password=secret", "sslpassword=secret"):
        sep = "&" if "?" in pg_url else "?"
        assert main(["cases", "connect", str(demo_copy), f"{pg_url}{sep}{query}"]) == 2
        err = capsys.readouterr().err
        assert "contains a password" in err and "secret" not in err
        assert store_place(demo_copy) == demo_copy
    assert b"secret" not in demo_copy.read_bytes()
    assert main(["cases", "connect", str(demo_copy), pg_url]) == 0
    assert store_place(demo_copy) == pg_url
    assert main(["cases", "connect", str(demo_copy), "--embedded"]) == 0
    assert store_place(demo_copy) == demo_copy


def test_an_unreachable_server_is_named_with_the_fix(pg_cluster):
    closed = pg_cluster.url.replace(f":{pg_cluster.port}/", ":1/")
    with pytest.raises(StoreUrlError, match="cannot connect to the case store") as info:
        PostgisCaseStore(closed + "?schema=x")
    assert "Check that the server runs" in info.value.fix
    with pytest.raises(StoreUrlError, match="not a PostgreSQL URL"):
        StoreUrl.parse("mysql://a@b/c")
    with pytest.raises(StoreUrlError, match="schema name"):
        StoreUrl.parse("postgresql://a@b/c?schema=Robert'); DROP")


@pytest.mark.slow  # over 10 s: started early, so it does not end the run
def test_backup_and_restore_round_trip_on_postgis(project_with_cases, pg_url, tmp_path, capsys):
    project = project_with_cases
    assert main(["cases", "migrate", str(project), "--to", "postgis", pg_url]) == 0
    with PostgisCaseStore(pg_url) as store:
        before = store.summary()
    backup = tmp_path / "monday.gpkg"
    assert main(["cases", "backup", str(project), str(backup)]) == 0
    assert summarize(backup) == before  # a GeoPackage: QGIS opens it, restore checks it
    with PostgisCaseStore(pg_url) as store:  # work goes on after the backup
        case = store.report(NewCase("event", "0490", lon=-71.1042, lat=42.3672), "ann")
        store.transition(case.case_id, "accept", "ben", Role.INTAKE, case.version)
        assert store.summary() != before
    capsys.readouterr()
    assert main(["cases", "restore", str(backup), str(project)]) == 0
    out = capsys.readouterr().out
    assert "9110 cases" in out and "_replaced_" in out
    with PostgisCaseStore(pg_url) as store:
        assert store.summary() == before
        assert store.verify_all() == []
        assert (
            store.query(status=[State.ACCEPTED.value], columns=["case_id"])["case_id"]
            .tolist()
            .count(case.case_id)
            == 0
        )
        later = store.report(NewCase("event", "0490", lon=-71.1, lat=42.37), "ann")
        assert store.get(later.case_id).status == State.REPORTED  # the restored store works
        assert store.data_version() > 0


def test_schema_versions_are_kept_on_the_server(pg_url):
    PostgisCaseStore(pg_url).close()
    rows = pg_sql(pg_url, "SELECT version, name FROM schema_migrations ORDER BY version")
    assert rows == [
        (1, "case_store"),
        (2, "staff_roles"),
        (3, "due_given"),
        (4, "source_facts"),
        (5, "event_written"),
        (6, "extensions"),
        (7, "urge"),
    ]
    PostgisCaseStore(pg_url).close()  # opening again applies nothing
    assert len(pg_sql(pg_url, "SELECT * FROM schema_migrations")) == 7
    pg_sql(pg_url, "UPDATE schema_migrations SET checksum = 'edited by hand'")
    with pytest.raises(SchemaError, match="differs from the one this CityDesk ships"):
        PostgisCaseStore(pg_url)
    pg_sql(pg_url, "INSERT INTO schema_migrations VALUES (99, 'future', 'x', now())")
    with pytest.raises(SchemaError, match="have version 99"):
        PostgisCaseStore(pg_url)


def test_postgis_derives_the_point_and_indexes_it(pg_url):
    with PostgisCaseStore(pg_url) as store:
        located = store.report(NewCase("event", "0490", lon=-71.1042, lat=42.3672), "ann")
        unlocated = store.report(NewCase("event", "0102", description="no address"), "ann")
    rows = dict(
        pg_sql(
            pg_url,
            "SELECT case_id, ST_AsText(geom) || ' ' || ST_SRID(geom) FROM cases",
        )
    )
    assert rows[located.case_id] == "POINT(-71.1042 42.3672) 4326"
    assert rows[unlocated.case_id] is None
    near = pg_sql(
        pg_url,
        "SELECT case_id FROM cases WHERE ST_DWithin(geom::geography, "
        "ST_SetSRID(ST_MakePoint(-71.1043, 42.3672), 4326)::geography, 50)",
    )
    assert near == [(located.case_id,)]
