"""Departments' layers shared on PostGIS (issue 24): publish, catalogue, project layers that
fetch only their view, edits checked against their version, permissions the database
enforces, and clear messages when the database or the table is not there.

Every test runs on the throwaway cluster ``scripts/test.sh`` starts, in a fresh schema.
Staff sign in as their own database users, each in a department, as in a city's setup.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import uuid
from pathlib import Path

import numpy as np
import psycopg
import pytest
import shapely
from conftest import pg_sql, shared_staff

from citydesk.layers.demo import SHIPPED_DEMO
from citydesk.layers.project_store import load_project, save_project
from citydesk.layers.shared_catalogue import catalogue
from citydesk.layers.shared_db import AccessDenied, SharedLayerError, close_all, shared_database
from citydesk.layers.shared_edits import EditConflict, read_feature, update_feature
from citydesk.layers.shared_layer import SharedLayer, open_shared_layer
from citydesk.layers.shared_publish import PublishOptions, publish
from citydesk.workbench.cli.main import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _close_pools():
    yield
    close_all()


@pytest.fixture(scope="module")
def demo():
    return load_project(SHIPPED_DEMO)


@pytest.fixture()
def city_db(pg_cluster, pg_url):
    """A shared schema with departments planning and housing, and one user in each:
    returns (admin URL, {user: URL signing in as them}, tag)."""
    tag = uuid.uuid4().hex[:6]
    staff = {f"alice_{tag}": f"planning_{tag}", f"bob_{tag}": f"housing_{tag}"}
    urls = shared_staff(pg_cluster, pg_url, staff)
    return pg_url, {login.split("_")[0]: u for login, u in urls.items()}, tag


def _parcels(demo):
    return demo.layers["parcels"]


def test_publish_round_trips_and_the_catalogue_describes_it(city_db, demo, tmp_path):
    _url, users, tag = city_db
    parcels = _parcels(demo)
    entry = publish(
        parcels,
        users["alice"],
        PublishOptions(
            department=f"planning_{tag}",
            description="Assessor's parcels with land use",
            licence="PDDL-1.0",
        ),
    )
    assert entry.feature_count == len(parcels.data) == 13116
    assert entry.crs == "EPSG:4326" and entry.geometry_type == "MULTIPOLYGON"
    assert entry.extent == pytest.approx(tuple(parcels.data.total_bounds))
    assert entry.can_write and not entry.restricted
    # what the other department's user finds when searching the catalogue
    found = catalogue(shared_database(users["bob"]), "land USE assessor")
    assert [e.table for e in found] == ["parcels"]
    assert found[0].department == f"planning_{tag}" and found[0].licence == "PDDL-1.0"
    assert found[0].can_read and not found[0].can_write
    assert catalogue(shared_database(users["bob"]), "no such words") == []

    layer = open_shared_layer(users["bob"], "parcels")
    assert layer.name == "Parcels" and layer.feature_count == 13116
    assert layer.crs.to_epsg() == 4326 and layer.geometry_type == "Polygon"
    assert not layer.loaded  # nothing read to open it
    # the attributes and geometries are the ones published
    shared = layer.data.set_index("fid")
    source = parcels.data.reset_index(drop=True)
    assert list(shared["land_use"]) == list(source["land_use"])
    # the same coordinates (single polygons come back as one-part multipolygons, the
    # table's declared type, as GDAL writes them)
    assert np.array_equal(
        shapely.get_coordinates(np.asarray(shared.geometry.values)),
        shapely.get_coordinates(np.asarray(source.geometry.values)),
    )
    # a view fetches only what meets it, through the index: the same features as a box query
    x0, y0, x1, y1 = layer.extent
    box = (x0 + (x1 - x0) * 0.4, y0 + (y1 - y0) * 0.4, x0 + (x1 - x0) * 0.5, y0 + (y1 - y0) * 0.5)
    layer.forget()
    fetched = layer.fetch(box)
    expected = source.cx[box[0] : box[2], box[1] : box[3]]
    assert 0 < len(fetched) < len(source) / 10
    assert set(fetched["LOC_ID"]) >= set(expected["LOC_ID"])
    assert not layer.loaded
    # in the project CRS (state plane feet), the same features
    projected = layer.fetch(
        tuple(parcels.data.cx[box[0] : box[2], box[1] : box[3]].to_crs(2249).total_bounds),
        "EPSG:2249",
    )
    assert projected.crs.to_epsg() == 2249 and len(projected) >= len(expected)

    # the project keeps where the layer is, never a password, and reopens it
    project = load_project(SHIPPED_DEMO)
    project.add_layer(open_shared_layer(users["bob"] + "&password=s3cret", "parcels", name="P"))
    path = tmp_path / "p.gpkg"
    save_project(project, path)
    assert b"s3cret" not in path.read_bytes()
    again = load_project(path)
    reopened = next(lay for lay in again.layers.values() if isinstance(lay, SharedLayer))
    assert reopened.feature_count == 13116 and not again.unreadable
    assert reopened.url.startswith("postgresql://bob_")


def test_the_database_enforces_who_may_read_and_write(city_db, demo):
    url, users, tag = city_db
    publish(_parcels(demo), users["alice"], PublishOptions(department=f"planning_{tag}"))
    layer = open_shared_layer(users["bob"], "parcels")
    feature = read_feature(layer, 1)
    with pytest.raises(AccessDenied, match="refused"):
        update_feature(layer, 1, feature.version, {"land_use": "Housing"})
    refused = (
        "UPDATE parcels SET land_use = 'x'",
        "DELETE FROM parcels",
        "DROP TABLE parcels",
        "INSERT INTO parcels (land_use) VALUES ('x')",
    )
    for statement in refused:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            pg_sql(users["bob"], statement)
    # row security: another department's catalogue entry is not bob's to change
    assert pg_sql(users["bob"], "UPDATE catalogue SET licence = 'mine' RETURNING 1") == []
    assert pg_sql(url, "SELECT licence FROM catalogue") == [("",)]
    # bob cannot publish as planning
    with pytest.raises(AccessDenied, match="not in department"):
        publish(_parcels(demo), users["bob"], PublishOptions(department=f"planning_{tag}"))
    # alice edits her department's layer; the version moves and the catalogue follows
    mine = open_shared_layer(users["alice"], "parcels")
    saved = update_feature(mine, 1, feature.version, {"land_use": "Housing"})
    assert saved.version == feature.version + 1 and saved.values["land_use"] == "Housing"

    # a restricted layer: invisible and unreadable to housing until it is named a reader
    publish(
        _parcels(demo),
        users["alice"],
        PublishOptions(department=f"planning_{tag}", table="secret", restricted=True),
    )
    assert [e.table for e in catalogue(shared_database(users["bob"]))] == ["parcels"]
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        pg_sql(users["bob"], "SELECT count(*) FROM secret")
    with pytest.raises(SharedLayerError):
        open_shared_layer(users["bob"], "secret").data  # noqa: B018 - reading is the test
    publish(
        _parcels(demo),
        users["alice"],
        PublishOptions(
            department=f"planning_{tag}",
            table="secret",
            restricted=True,
            readers=(f"housing_{tag}",),
            replace=True,
        ),
    )
    visible = {e.table: e for e in catalogue(shared_database(users["bob"]))}
    assert visible["secret"].restricted and visible["secret"].readers == (f"housing_{tag}",)
    assert pg_sql(users["bob"], "SELECT count(*) FROM secret") == [(13116,)]


def _edit_at(url: str, version: int, value: str, start: float, out) -> None:
    """One editor, in its own process: waits for the common start, then saves."""
    import time

    time.sleep(max(0.0, start - time.time()))
    layer = open_shared_layer(url, "parcels")
    try:
        update_feature(layer, 7, version, {"land_use": value})
        out.put(("saved", value))
    except EditConflict as exc:
        out.put(("conflict", exc.current.values["land_use"] if exc.current else None))
    finally:
        close_all()


def test_two_editors_of_one_feature_one_wins_the_other_sees_its_value(city_db, demo):
    import time

    url, users, tag = city_db
    publish(_parcels(demo), users["alice"], PublishOptions(department=f"planning_{tag}"))
    version = read_feature(open_shared_layer(url, "parcels"), 7).version
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start = time.time() + 3
    editors = [
        ctx.Process(target=_edit_at, args=(users["alice"], version, value, start, out))
        for value in ("Park", "School")
    ]
    for p in editors:
        p.start()
    results = sorted(out.get(timeout=120) for _ in editors)
    for p in editors:
        p.join(timeout=60)
    assert [r[0] for r in results] == ["conflict", "saved"]
    winner = results[1][1]
    assert results[0][1] == winner  # the loser is shown the winner's value
    now = read_feature(open_shared_layer(url, "parcels"), 7)
    assert now.values["land_use"] == winner and now.version == version + 1


def test_bad_tables_and_lost_databases_get_one_clear_message(city_db, demo, pg_cluster, tmp_path):
    url, _users, tag = city_db
    schema = url.rsplit("schema=", 1)[1]
    pg_sql(url, "CREATE TABLE no_key (name text, geom geometry(Point, 4326))")
    pg_sql(url, "CREATE TABLE no_geom (id serial PRIMARY KEY, name text)")
    pg_sql(url, "CREATE TABLE no_srid (id serial PRIMARY KEY, geom geometry(Point))")
    pg_sql(url, "INSERT INTO no_srid (geom) VALUES ('POINT(1 2)')")
    pg_sql(url, "INSERT INTO no_key VALUES ('a', 'SRID=4326;POINT(-71.1 42.37)')")
    pg_sql(url, "CREATE VIEW points_view AS SELECT 1 AS id, name, geom FROM no_key")
    pg_sql(url, "CREATE TABLE feet_as_degrees (id serial PRIMARY KEY, geom geometry(Point, 4326))")
    pg_sql(url, "INSERT INTO feet_as_degrees (geom) VALUES ('SRID=4326;POINT(759000 2960000)')")
    with pytest.raises(SharedLayerError, match=r"no single-column primary key.*--key"):
        open_shared_layer(url, "no_key")
    with pytest.raises(SharedLayerError, match="no geometry column"):
        open_shared_layer(url, "no_geom")
    with pytest.raises(SharedLayerError, match=r"no SRID \(0\).*ST_SetSRID"):
        open_shared_layer(url, "no_srid")
    with pytest.raises(SharedLayerError, match=r"do not fit their SRID 4326.*ST_SetSRID"):
        open_shared_layer(url, "feet_as_degrees")
    with pytest.raises(SharedLayerError, match=r"no table or view t_\w+\.nowhere"):
        open_shared_layer(url, "nowhere")
    view = open_shared_layer(url, "points_view", key="id")
    assert view.feature_count == 1 and view.table.is_view and view.crs.to_epsg() == 4326

    # a project with a shared layer whose table goes, and one whose server is down
    publish(_parcels(demo), url, PublishOptions(department=f"planning_{tag}"))
    pg_sql(url, f"CREATE TABLE {schema}.copy AS SELECT * FROM parcels")
    pg_sql(url, f"ALTER TABLE {schema}.copy ADD PRIMARY KEY (fid)")
    project = load_project(SHIPPED_DEMO)
    project.add_layer(open_shared_layer(url, "copy", name="Copy"))
    down = url.replace(f":{pg_cluster.port}/", ":1/")
    gone = open_shared_layer(url, "parcels", name="Elsewhere")
    gone.url = down
    gone.id = "elsewhere"
    project.add_layer(gone)
    path = tmp_path / "p.gpkg"
    save_project(project, path)
    pg_sql(url, f"DROP TABLE {schema}.copy")
    again = load_project(path)  # opens; the two layers are listed as unavailable
    assert set(again.unreadable) == {"copy", "elsewhere"}
    assert "no table or view" in again.unreadable["copy"]
    assert "cannot connect to the shared-layer database" in again.unreadable["elsewhere"]
    assert "parcels" in again.layers  # the file layers are all there
    save_project(again, path)  # saving keeps the unavailable layers' settings
    records = {r["id"] for r in load_project(path).unreadable_records}
    assert records == {"copy", "elsewhere"}


def test_the_commands_publish_search_add_and_edit(city_db, tmp_path, capsys):
    _url, users, tag = city_db
    project = tmp_path / "demo.gpkg"
    project.write_bytes(Path(SHIPPED_DEMO).read_bytes())
    assert main(["layers", "publish", str(project), "parcels", users["alice"],
                 "--department", f"planning_{tag}", "--description", "Land use by parcel",
                 "--licence", "PDDL-1.0"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "13116 features" in out and "now uses the shared table" in out
    assert isinstance(load_project(project).layers["parcels"], SharedLayer)
    assert main(["layers", "catalogue", users["bob"], "--search", "land use", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["table"] == "parcels" and listed[0]["can_write"] is False
    assert main(["layers", "catalogue", users["bob"]]) == 0
    assert "your access: read" in capsys.readouterr().out
    assert main(["layers", "edit", users["alice"], "parcels", "5", "--set", "land_use=Park"]) == 0
    assert "version 2" in capsys.readouterr().out
    assert main(["layers", "edit", users["alice"], "parcels", "5", "--set", "land_use=X",
                 "--version", "1"]) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert "changed by someone else (version 2" in err and len(err.strip().splitlines()) == 1
    assert main(["layers", "edit", users["bob"], "parcels", "5", "--set", "land_use=X"]) == 2
    assert "refused" in capsys.readouterr().err
    other = tmp_path / "other.gpkg"
    other.write_bytes(Path(SHIPPED_DEMO).read_bytes())
    assert main(["layers", "add-shared", str(other), users["bob"], "parcels"]) == 0
    assert "13116 features" in capsys.readouterr().out
    assert main(["layers", "department", "list", users["bob"]]) == 0
    assert f"housing_{tag} *" in capsys.readouterr().out
    assert main(["layers", "catalogue", "postgresql://nobody@127.0.0.1:1/none"]) == 2
    assert "cannot connect" in capsys.readouterr().err


def _has_qgis() -> bool:
    probe = subprocess.run(
        ["/usr/bin/python3", "-c", "import qgis.core"], capture_output=True, timeout=60
    )
    return probe.returncode == 0


@pytest.mark.skipif(
    not Path("/usr/bin/python3").exists() or not _has_qgis(),
    reason="QGIS (python3-qgis) is not installed",
)
def test_qgis_opens_the_published_table_with_the_same_symbology(city_db, demo, pg_cluster):
    url, _users, tag = city_db
    schema = url.rsplit("schema=", 1)[1]
    publish(_parcels(demo), url, PublishOptions(department=f"planning_{tag}"))
    conninfo = f"host=127.0.0.1 port={pg_cluster.port} dbname=citydesk_test user=citydesk_dba"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("PYTHONPATH", None)
    out = subprocess.run(
        ["/usr/bin/python3", str(ROOT / "tools" / "qgis_check_postgis.py"), conninfo, schema,
         "parcels"],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["valid"] and seen["features"] == 13116 and seen["crs"] == "EPSG:4326"
    assert seen["style_loaded"] and seen["renderer"] == "categorizedSymbol"
    assert seen["attr"] == "land_use"
    assert seen["classes"] == len(_parcels(demo).style.categories)
