"""One SQLite per project file per process (issue 20, defect 1; docs/ARCHITECTURE.md).

The desk crashed, and once left a project unreadable, because GDAL opened and closed the
project file while the desk's own sqlite3 connection held it in WAL mode. And a save during
an import lost every imported case, because the save replaced the file under the import.
These tests run a desk that polls and writes cases while every project-reading and -writing
path of the application runs against the same file, with GDAL forbidden to touch it.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import threading
import time
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely

from citydesk.incidents.new_cases import NewCase
from citydesk.incidents.stores import open_project_store
from citydesk.layers import gpkg
from citydesk.layers.layer import VectorLayer
from citydesk.layers.project_store import (
    load_project,
    project_layer_fields,
    put_layers,
    read_project_layer,
    save_project,
)
from citydesk.layers.readers.vector import list_vector_layers

SOAK_SECONDS = float(os.environ.get("CITYDESK_SOAK_SECONDS", "8"))


@pytest.fixture()
def gdal_kept_away(monkeypatch, demo_copy):
    """Every pyogrio entry point fails the test if it is handed the project file."""
    project = Path(demo_copy).resolve()
    touched: list[str] = []

    def guard(name, real):
        def wrapped(path, *args, **kwargs):
            if Path(str(path)).resolve() == project:
                touched.append(name)
                raise AssertionError(f"GDAL ({name}) opened the project file")
            return real(path, *args, **kwargs)

        return wrapped

    for name in (
        "read_info",
        "list_layers",
        "read_dataframe",
        "read_arrow",
        "open_arrow",
        "write_dataframe",
    ):
        monkeypatch.setattr(pyogrio, name, guard(name, getattr(pyogrio, name)))
    yield touched
    assert not touched, touched


def _cases(n: int, tag: str) -> list[NewCase]:
    at = dt.datetime(2024, 3, 4, 9, 0, tzinfo=dt.UTC)
    return [
        NewCase(
            "event",
            "0490",
            lon=-71.11 + (i % 50) * 1e-4,
            lat=42.37 + (i // 50) * 1e-4,
            source="import",
            source_id=f"{tag}-{i}",
            reported_at=at,
        )
        for i in range(n)
    ]


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as con:
        return con.execute("PRAGMA integrity_check").fetchone()[0]


def test_a_save_during_an_import_keeps_every_case(demo_copy, gdal_kept_away):
    """An import commits batches while the planner saves the project three times: every
    imported case is in the file afterwards, and the save's layers too."""
    project = load_project(demo_copy)
    batches, per_batch = 12, 400
    errors: list[BaseException] = []

    def importing() -> None:
        try:
            with open_project_store(demo_copy) as store:
                for b in range(batches):
                    store.import_batch(_cases(per_batch, f"b{b}"), actor="import")
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=importing)
    worker.start()
    for n in range(3):
        project.name = f"saved {n}"
        save_project(project, demo_copy)
    worker.join()
    assert not errors, errors
    with open_project_store(demo_copy) as store:
        stored = store.count()
    assert stored == batches * per_batch
    assert load_project(demo_copy).name == "saved 2"
    assert _integrity(demo_copy) == "ok"


def test_a_store_from_another_process_survives_a_save(demo_copy, tmp_path):
    """A case written through a connection opened before the save is in the saved file
    (the save no longer replaces the file under open connections)."""
    with open_project_store(demo_copy) as store:
        store.import_batch(_cases(5, "before"), actor="import")
        save_project(load_project(demo_copy), demo_copy)
        store.import_batch(_cases(5, "after"), actor="import")
    with sqlite3.connect(demo_copy) as con:
        assert con.execute("SELECT count(*) FROM cases").fetchone()[0] == 10


@pytest.mark.slow
def test_soak_a_polling_desk_beside_every_project_path(demo_copy, tmp_path, gdal_kept_away):
    """A desk polls ``data_version`` and reads its KPI facts every few milliseconds and files
    cases, while the project is loaded, read layer by layer, listed, checked, extended
    (put_layers) and saved over and over. Nothing may fail, no case may be lost, and the
    file must pass SQLite's integrity check."""
    stop = threading.Event()
    errors: list[BaseException] = []
    filed = {"n": 0}

    def desk() -> None:
        try:
            with open_project_store(demo_copy) as store:
                seen = store.data_version()
                while not stop.is_set():
                    seen = max(seen, store.data_version())
                    store.case_facts()
                    store.import_batch(_cases(3, f"desk{filed['n']}"), actor="desk")
                    filed["n"] += 1
                    time.sleep(0.005)
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=desk)
    worker.start()
    extra = gpd.GeoDataFrame(
        {"v": [1]}, geometry=[shapely.Point(-71.1, 42.37)], crs="EPSG:4326"
    ).to_crs(load_project(demo_copy).crs)
    rounds = 0
    deadline = time.monotonic() + SOAK_SECONDS
    try:
        while time.monotonic() < deadline:
            project = load_project(demo_copy)
            read_project_layer(demo_copy, "neighborhoods")
            list_vector_layers(demo_copy)
            project_layer_fields(demo_copy)
            put_layers(demo_copy, [VectorLayer(name="soak", data=extra, id="soak")], group="Soak")
            save_project(project, demo_copy)
            rounds += 1
    finally:
        stop.set()
        worker.join()
    assert not errors, errors
    assert rounds >= 2
    with sqlite3.connect(demo_copy) as con:
        assert con.execute("SELECT count(*) FROM cases").fetchone()[0] == 3 * filed["n"]
    assert _integrity(demo_copy) == "ok"
    with gpkg.open_file(demo_copy) as con:
        assert dict(gpkg.feature_tables(con))["parcels"] == "MultiPolygon"


def test_exporting_over_a_project_is_refused(demo_copy):
    from citydesk.layers.errors import LayerWriteError
    from citydesk.layers.io import write_frame

    frame = read_project_layer(demo_copy, "neighborhoods")
    with pytest.raises(LayerWriteError, match="would destroy it"):
        write_frame(frame, demo_copy)
    assert load_project(demo_copy).layers["neighborhoods"].data.shape == frame.shape
