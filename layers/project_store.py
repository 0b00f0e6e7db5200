"""A CityDesk project is one GeoPackage.

Inside the file:

- one feature table per vector layer (named by the layer id), readable by QGIS and GDAL;
- ``layer_styles``: the standard QGIS table, one QML per layer, so QGIS shows our symbology;
- ``citydesk_project``: key/value JSON with the format version, CRS, extent, layer tree and
  each layer's settings;
- ``citydesk_rasters``: rasters as GeoTIFF blobs (GDAL's GPKG raster writer refuses float DEMs
  without tiling-scheme gymnastics; see docs/ARCHITECTURE.md).

Reading and writing go through Python's ``sqlite3`` (:mod:`citydesk.layers.gpkg`), never GDAL:
the case store holds the same file open, and two SQLite libraries on one file in one process
destroyed a project once. Saving over a project is one SQLite transaction that replaces the
layer tables and settings and leaves every other table (the cases) as it is; a new project is
written beside the target and renamed into place. Loading parses JSON only: project content
is data, never code (no pickle, no eval).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import gpkg
from .crs import crs_to_string
from .errors import LayerReadError, ProjectFormatError
from .feedback import Feedback, NullFeedback, check_canceled
from .i18n import _
from .layer import Layer, LayerRole, RasterLayer, VectorLayer
from .project import GroupNode, LayerNode, Project, layers_extent, union_of_boxes
from .qml import style_to_qml
from .style import Style
from .version import PROJECT_FORMAT_VERSION, __version__

log = logging.getLogger(__name__)

#: a layer's metadata key: when put_layers wrote it (ISO UTC), see layers_written_since
WRITTEN_AT = "written_at"

META_TABLE = "citydesk_project"
RASTER_TABLE = "citydesk_rasters"

_LAYER_STYLES_DDL = """
CREATE TABLE IF NOT EXISTS layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  f_table_catalog TEXT(256),
  f_table_schema TEXT(256),
  f_table_name TEXT(256),
  f_geometry_column TEXT(256),
  styleName TEXT(30),
  styleQML TEXT,
  styleSLD TEXT,
  useAsDefault BOOLEAN,
  description TEXT,
  owner TEXT(30),
  ui TEXT(30),
  update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
)"""


def _layer_record(layer: Layer) -> dict[str, Any]:
    record = {
        "id": layer.id,
        "name": layer.name,
        "kind": layer.kind,
        "role": str(layer.role),
        "source": layer.source,
        "visible": layer.visible,
        "opacity": layer.opacity,
        "style": layer.style.to_dict(),
        "metadata": _json_safe(layer.metadata),
    }
    if isinstance(layer, RasterLayer):
        record["units"] = layer.units
    if layer.kind == "shared":  # features in a PostGIS database: where, not what
        record["shared"] = layer.record()  # type: ignore[attr-defined]
    return record


def _json_safe(value: Any) -> Any:
    """Drop what JSON cannot hold (numpy scalars become numbers, the rest strings)."""
    return json.loads(
        json.dumps(value, default=lambda o: o.item() if hasattr(o, "item") else str(o))
    )


def connect_tables(
    path: str | Path, tables: dict[str, tuple[str, str]], *, write: bool = True
) -> sqlite3.Connection:
    """A connection to an existing project file with the attribute ``tables`` present
    ({name: (CREATE TABLE IF NOT EXISTS ..., description)}) and listed in
    ``gpkg_contents``, so QGIS shows them. A missing file, a file that is not a project and a
    project of a newer format are errors, never a new empty database (which
    ``sqlite3.connect`` would silently create) nor a write into what this version cannot
    read. Only what is missing is created. For a read (``write=False``) nothing is written:
    a missing table is an empty TEMP table of this connection (the file stays byte for byte
    as it was: a read-only command must not change a project, tests/test_fuzz_parsers.py)."""
    path = Path(path)
    # a CityDesk project this version can write (issue 21: plan save wrote scenarios into a
    # newer-format project that every other command refuses)
    read_project_meta(path)
    con = sqlite3.connect(path, timeout=30)
    registered = {
        row[0]
        for row in con.execute(
            "SELECT table_name FROM gpkg_contents WHERE data_type = 'attributes'"
        ).fetchall()
    }
    missing = {t: d for t, d in tables.items() if t not in registered or not gpkg.has_table(con, t)}
    if missing and not write:
        for table, (ddl, _description) in missing.items():
            if not gpkg.has_table(con, table):
                con.execute(ddl.replace("CREATE TABLE", "CREATE TEMP TABLE", 1))
    elif missing:
        with con:
            for table, (ddl, description) in missing.items():
                con.execute(ddl)
                register_attributes_table(con, table, description)
    return con


def register_attributes_table(con: sqlite3.Connection, table: str, description: str) -> None:
    con.execute(
        "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, description, "
        "last_change) VALUES (?, 'attributes', ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ','now'))",
        (table, table, description),
    )


def _raster_bytes(layer: RasterLayer) -> bytes:
    from rasterio.io import MemoryFile

    bands, rows, cols = layer.shape
    with MemoryFile() as mem:
        with mem.open(
            driver="GTiff",
            width=cols,
            height=rows,
            count=bands,
            dtype=str(layer.array.dtype),
            crs=layer.crs.to_wkt() if layer.crs else None,
            transform=layer.transform,
            nodata=layer.nodata,
            compress="deflate",
        ) as dst:
            dst.write(layer.array)
        return bytes(mem.read())


def _common_settings(record: dict[str, Any]) -> dict[str, Any]:
    """The settings every layer kind stores, parsed (and type-checked) from its JSON record."""
    return {
        "name": str(record["name"]),
        "source": str(record.get("source", "")),
        "role": LayerRole(record.get("role", "other")),
        "style": Style.from_dict(record.get("style", {})),
        "visible": bool(record.get("visible", True)),
        "opacity": float(record.get("opacity", 1.0)),
        "id": str(record["id"]),
        "metadata": dict(record.get("metadata") or {}),
    }


def _raster_from_bytes(blob: bytes, record: dict[str, Any]) -> RasterLayer:
    from pyproj import CRS
    from rasterio.io import MemoryFile

    with MemoryFile(blob) as mem, mem.open() as src:
        return RasterLayer(
            **_common_settings(record),
            array=src.read(),
            transform=src.transform,
            raster_crs=CRS.from_wkt(src.crs.to_wkt()) if src.crs else None,
            nodata=src.nodata,
            units=record.get("units", ""),
        )


def save_project(
    project: Project, path: str | Path | None = None, feedback: Feedback | None = None
) -> Path:
    """Write ``project`` to its GeoPackage as one transaction. Returns the path written.

    An existing file is updated in place, inside one SQLite write transaction: the layer
    tables, styles and settings are replaced, and every other table (the cases, the
    scenarios, a plugin's tables) is left exactly as it is. SQLite makes that all or nothing:
    an interrupted save leaves the previous project, and cases another desk or an import
    commits meanwhile are neither lost nor overwritten (the save waits for the import's
    transaction, then runs). A new file is written beside the target and renamed over it."""
    feedback = feedback or NullFeedback()
    target = Path(path or project.path or "")
    if not target.name:
        raise ProjectFormatError(
            _("the project has no file name yet"), _("Choose where to save it.")
        )
    if target.suffix.lower() != ".gpkg":
        target = target.with_suffix(".gpkg")
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        if _is_project(target):
            read_project_meta(target)
        else:
            _check_sqlite(target, _("Save the project under a new .gpkg name."))
        unchanged = {
            lid
            for lid, layer in project.layers.items()
            if isinstance(layer, VectorLayer) and layer.stored_in(target, lid)
        }
        _read_pending_attributes(
            layer for lid, layer in project.layers.items() if lid not in unchanged
        )
        with gpkg.open_file(target) as con:
            with _busy_is_an_error(target), gpkg.write_transaction(con):
                _write_project(con, project, feedback, unchanged=unchanged)
            _give_back_free_pages(con)
    else:
        _read_pending_attributes(project.layers.values())
        _write_new(project, target, feedback)
    for lid, layer in project.layers.items():
        if isinstance(layer, VectorLayer) and layer.kind != "shared":
            layer.mark_stored(target, lid)
    project.path = str(target)
    log.info("saved project %s: %d layers", target, len(project.layers))
    return target


def _read_pending_attributes(layers: Iterable[Layer]) -> None:
    """Read the attribute columns a layer left for later (they come from its file, maybe
    this one) before a write transaction opens: read through a second connection while the
    save holds the file's write lock, they could wait on the save itself."""
    for layer in layers:
        if isinstance(layer, VectorLayer) and layer.kind != "shared":
            layer.read_attributes()


def _write_new(project: Project, target: Path, feedback: Feedback) -> None:
    """A new project file, written under a temporary name and renamed into place."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".gpkg", dir=target.parent)
    os.close(fd)
    os.unlink(tmp_name)
    tmp = Path(tmp_name)
    try:
        with gpkg.open_file(tmp, create=True) as con:
            # freed pages go back to the file system after a save (see _give_back_free_pages)
            con.execute("PRAGMA auto_vacuum = INCREMENTAL")
            with gpkg.write_transaction(con):
                _write_project(con, project, feedback)
            # WAL: a desk's case writes and a reader loading the project do not wait for
            # each other (the shipped demo is switched back, tools/build_demo.py)
            con.execute("PRAGMA journal_mode=WAL")
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), Path(f"{tmp}-journal")):
            leftover.unlink(missing_ok=True)


def _give_back_free_pages(con: sqlite3.Connection) -> None:
    """Rewriting the layer tables frees their old pages; in a file made with incremental
    auto-vacuum (every project CityDesk creates) they go back to the file system, so saving
    over and over does not grow the file."""
    try:
        con.execute("PRAGMA incremental_vacuum")
    except sqlite3.OperationalError:  # busy: the pages are reused by the next save anyway
        log.debug("incremental vacuum skipped: the file is busy")


def _is_project(path: Path) -> bool:
    try:
        with gpkg.open_file(path) as con:
            return gpkg.has_table(con, META_TABLE)
    except sqlite3.DatabaseError:
        return False


def _check_sqlite(path: Path, fix: str) -> None:
    """Refuse a file that is not an SQLite database (saving over it would destroy it)."""
    with open(path, "rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise ProjectFormatError(
                _("this is not a GeoPackage (not an SQLite file)"), fix, path=str(path)
            )


@contextmanager
def _busy_is_an_error(path: Path) -> Iterator[None]:
    """A project another program keeps writing to for longer than the wait: say so, with
    nothing changed, instead of a raw 'database is locked'."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise ProjectFormatError(
                _("the project file is busy: another program is writing to it"),
                _("Try again when the import or the other desk has finished; nothing was changed."),
                path=str(path),
            ) from exc
        raise
    except sqlite3.DatabaseError as exc:
        raise gpkg.not_a_project(path, exc) from exc


def _old_layer_ids(con: sqlite3.Connection) -> set[str]:
    """The layers the file holds for the project now (from its settings), to drop the ones
    the project no longer has."""
    if not gpkg.has_table(con, META_TABLE):
        return set()
    row = con.execute(f"SELECT value FROM {META_TABLE} WHERE key = 'layers'").fetchone()
    try:
        records = json.loads(row[0]) if row else []
    except json.JSONDecodeError:
        return set()
    return {str(r.get("id")) for r in records if isinstance(r, dict) and r.get("id")}


def _write_project(
    con: sqlite3.Connection,
    project: Project,
    feedback: Feedback,
    only: list[str] | None = None,
    extent: tuple[float, float, float, float] | None = None,
    unchanged: set[str] | None = None,
) -> None:
    """Write the project's layers (or ``only`` those) and all of its settings, inside the
    caller's transaction. ``extent`` is the one to record when the project's other layers
    were read without their features; the feature tables of ``unchanged`` layers (the file
    already holds exactly their features) are left as they are."""
    gpkg.ensure_core(con)
    order = project.layer_order()
    chosen = set(order if only is None else only)
    # a shared layer's features stay in its database; the project keeps only its record
    vectors = [
        lay
        for i in order
        if isinstance(lay := project.layers[i], VectorLayer) and lay.kind != "shared"
    ]
    rasters = [lay for i in order if isinstance(lay := project.layers[i], RasterLayer)]
    gone: set[str] = set()
    if only is None:
        gone = (_old_layer_ids(con) | {"citydesk_placeholder"}) - set(project.layers)
        gone -= set(project.unreadable)  # never drop what could not be read
        for table in sorted(gone):
            gpkg.drop_features(con, table)
    steps = max(1, len(chosen) + 1)
    done = 0
    for layer in vectors:
        if layer.id not in chosen:
            continue
        check_canceled(feedback)
        if layer.id in (unchanged or ()) and gpkg.keep_features(con, layer.id, layer.name):
            log.debug("layer %s unchanged: its table is kept", layer.id)
        else:
            feedback.push_info(f"writing {layer.name}")
            gpkg.write_features(con, layer.id, layer.frame_to_write(), description=layer.name)
        done += 1
        feedback.set_progress(100.0 * done / steps)
    con.execute(f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key TEXT PRIMARY KEY, value TEXT)")
    register_attributes_table(con, META_TABLE, "CityDesk project settings (JSON)")
    if rasters or gpkg.has_table(con, RASTER_TABLE):
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {RASTER_TABLE} "
            "(id TEXT PRIMARY KEY, name TEXT, geotiff BLOB NOT NULL)"
        )
        register_attributes_table(con, RASTER_TABLE, "CityDesk raster layers (GeoTIFF)")
        if only is None:
            con.execute(f"DELETE FROM {RASTER_TABLE}")
        for raster in rasters:
            if raster.id in chosen:
                con.execute(
                    f"INSERT OR REPLACE INTO {RASTER_TABLE} (id, name, geotiff) VALUES (?, ?, ?)",
                    (raster.id, raster.name, _raster_bytes(raster)),
                )
    con.execute(_LAYER_STYLES_DDL)
    register_attributes_table(con, "layer_styles", "QGIS layer styles")
    restyled = sorted(chosen | gone)
    con.executemany("DELETE FROM layer_styles WHERE f_table_name = ?", [(i,) for i in restyled])
    for layer in vectors:
        if layer.id not in chosen:
            continue
        qml = style_to_qml(layer.style, layer.geometry_type, layer.opacity)
        con.execute(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
            "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
            "owner, ui) VALUES ('', '', ?, 'geom', ?, ?, '', 1, ?, '', '')",
            (layer.id, layer.name, qml, "CityDesk style"),
        )
    meta = {
        "format_version": PROJECT_FORMAT_VERSION,
        "app_version": __version__,
        "name": project.name,
        "crs": crs_to_string(project.crs),
        "extent": list(project.extent if extent is None else extent),
        "tree": project.root.to_dict(),
        "layers": [_layer_record(project.layers[i]) for i in order]
        + [r for r in project.unreadable_records if r.get("id") not in project.layers],
        "metadata": _json_safe(project.metadata),
        "saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    con.execute(f"DELETE FROM {META_TABLE}")
    con.executemany(
        f"INSERT INTO {META_TABLE} (key, value) VALUES (?, ?)",
        [(k, json.dumps(v, ensure_ascii=False)) for k, v in meta.items()],
    )
    feedback.set_progress(100.0)


def project_state(project: Project) -> str:
    """A fingerprint of what a save would write, features excepted (their counts are in it):
    equal fingerprints mean nothing to save. The workbench compares it with the one taken
    at the last open or save to ask before closing with unsaved changes."""
    import hashlib

    order = project.layer_order()
    state = {
        "name": project.name,
        "crs": crs_to_string(project.crs),
        "tree": project.root.to_dict(),
        "layers": [_layer_record(project.layers[i]) for i in order],
        "features": [_stored_count(project.layers[i]) for i in order],
        "metadata": _json_safe(project.metadata),
        "path": project.path,
    }
    text = json.dumps(state, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _stored_count(layer: Layer) -> int:
    """The features a save writes into the file (a shared layer's stay in its database,
    and others' edits there do not make the project unsaved)."""
    if layer.kind == "shared" or not isinstance(layer, VectorLayer):
        return 0
    return layer.feature_count


def read_project_meta(path: str | Path) -> dict[str, Any]:
    """The parsed ``citydesk_project`` table, after checking it is a project we can read."""
    path = Path(path)
    if not path.exists():
        raise ProjectFormatError(
            _("the project file does not exist"), _("Check the path."), path=str(path)
        )
    _check_sqlite(path, _("Open a .gpkg saved by CityDesk, or add the file as a layer instead."))
    con = sqlite3.connect(path, timeout=60)
    try:
        found = con.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (META_TABLE,)
        ).fetchone()
        if not found:
            raise ProjectFormatError(
                _("this GeoPackage is not a CityDesk project (no citydesk_project table)"),
                _("Create a project from it: citydesk project new NEW.gpkg --from FILE.gpkg"),
                gui_fix=_(
                    "Add its layers to a project with Project > Add layer, then save the project "
                    "with Project > Save as."
                ),
                path=str(path),
            )
        rows = con.execute(f"SELECT key, value FROM {META_TABLE}").fetchall()
    except sqlite3.DatabaseError as exc:
        raise ProjectFormatError(
            _("the project file is damaged ({exc})").format(exc=exc),
            _("Restore it from a backup."),
            path=str(path),
        ) from exc
    finally:
        con.close()
    return _parse_meta(rows, path)


def _parse_meta(rows: list[tuple[str, str]], path: Path) -> dict[str, Any]:
    """The project settings of the ``citydesk_project`` rows, checked for a format this
    CityDesk reads."""
    try:
        meta = {k: json.loads(v) for k, v in rows}
    except json.JSONDecodeError as exc:
        raise ProjectFormatError(
            _("the project settings are damaged ({exc})").format(exc=exc),
            _("Restore the file from a backup."),
            path=str(path),
        ) from exc
    version = meta.get("format_version")
    if not isinstance(version, int):
        raise ProjectFormatError(
            _("the project has no valid format_version"),
            _("Restore the file from a backup."),
            path=str(path),
        )
    if version > PROJECT_FORMAT_VERSION:
        raise ProjectFormatError(
            _(
                "the project was saved in format {version} by CityDesk {saved_by}; this CityDesk "
                "{ours} reads format {readable} and older"
            ).format(
                version=version,
                saved_by=meta.get("app_version", "?"),
                ours=__version__,
                readable=PROJECT_FORMAT_VERSION,
            ),
            _("Upgrade CityDesk to open it (opening it here could lose what it contains)."),
            path=str(path),
        )
    return meta


def load_project(path: str | Path, feedback: Feedback | None = None) -> Project:
    """Open a project saved by :func:`save_project`: its settings and every layer read in
    one snapshot, through the same SQLite library as the case store (never GDAL)."""
    feedback = feedback or NullFeedback()
    path = Path(path)
    read_project_meta(path)  # the checks, with their messages, before anything is read
    try:
        with gpkg.open_file(path) as con, gpkg.read_transaction(con):
            return _load(con, path, feedback)
    except sqlite3.DatabaseError as exc:
        raise gpkg.not_a_project(path, exc) from exc


def _load(
    con: sqlite3.Connection, path: Path, feedback: Feedback, features: bool = True
) -> Project:
    """The project in the file; with ``features=False`` its vector layers are read without
    their features (columns and CRS only): enough to rewrite the settings around them."""
    meta = _parse_meta(con.execute(f"SELECT key, value FROM {META_TABLE}").fetchall(), path)
    project = Project(name=str(meta.get("name", path.stem)), crs=meta.get("crs") or "EPSG:4326")
    project.metadata = dict(meta.get("metadata") or {})
    project.path = str(path)
    records = list(meta.get("layers") or [])
    blobs: dict[str, bytes] = {}
    if any(r.get("kind") == "raster" for r in records):
        blobs = dict(con.execute(f"SELECT id, geotiff FROM {RASTER_TABLE}").fetchall())
    for n, record in enumerate(records):
        check_canceled(feedback)
        try:
            layer = _read_layer_record(con, record, blobs, path, features)
        except (LayerReadError, sqlite3.DatabaseError, KeyError) as exc:
            # one missing or damaged layer table must not make the whole project unopenable
            # (issue 21); the other layers, the cases and the scenarios are still there
            why = exc.problem if isinstance(exc, LayerReadError) else str(exc)
            project.unreadable[str(record.get("id"))] = why
            project.unreadable_records.append(record)
            log.info("layer %s of %s cannot be read: %s", record.get("id"), path, why)
            continue
        project.layers[layer.id] = layer
        feedback.set_progress(100.0 * (n + 1) / max(1, len(records)))
    project.root = GroupNode.from_dict(meta.get("tree") or {"type": "group", "children": []})
    _reconcile_tree(project)
    log.info("opened project %s: %d layers", path, len(project.layers))
    return project


def _read_layer_record(
    con: sqlite3.Connection,
    record: dict[str, Any],
    blobs: dict[str, bytes],
    path: Path,
    features: bool = True,
) -> Layer:
    if record.get("kind") == "raster":
        return _raster_from_bytes(blobs[record["id"]], record)
    if record.get("kind") == "shared":
        return shared_layer_of_record(record, connect=features)
    where = None if features else "0"  # no rows: the table's columns and CRS only
    frame = gpkg.read_features(con, str(record["id"]), path=path, where=where, compact=True)
    layer = VectorLayer(**_common_settings(record), data=frame)
    if features:  # a save may leave this table as it is until the layer changes
        layer.mark_stored(path, layer.id)
    return layer


def shared_layer_of_record(record: dict[str, Any], connect: bool = True) -> Layer:
    """The shared (PostGIS) layer a project record describes. With ``connect`` its database
    is asked now, and a failure (the reason, as a :class:`LayerReadError`) marks the layer
    unavailable; the workbench calls it again to try an unavailable layer once more."""
    from .shared_layer import shared_layer_from_record

    if record.get("kind") != "shared":
        raise LayerReadError(
            _("layer {id} is not a shared layer").format(id=record.get("id")),
            _("Reopen the project to read its other layers again."),
        )
    shared = shared_layer_from_record(_common_settings(record), record["shared"])
    if connect:
        shared.refresh()
    return shared


def read_project_raster(path: str | Path, layer_id: str) -> RasterLayer | None:
    """One raster layer of the project (None when it has no raster of that id), without
    reading every other layer as :func:`load_project` does."""
    records = read_project_meta(path).get("layers") or []
    record = next(
        (r for r in records if r.get("id") == layer_id and r.get("kind") == "raster"), None
    )
    if record is None:
        return None
    con = sqlite3.connect(path)
    try:
        row = con.execute(
            f"SELECT geotiff FROM {RASTER_TABLE} WHERE id = ?", (layer_id,)
        ).fetchone()
    finally:
        con.close()
    return None if row is None else _raster_from_bytes(row[0], record)


@dataclass
class WrittenLayers:
    """What analyses wrote into a project file since a moment: the layers with the group
    each sits in, and the file's project settings (analyses merge theirs in)."""

    layers: list[tuple[Layer, str | None]]
    metadata: dict[str, Any]
    #: the project file they were read from
    path: str = ""

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (from an analysis process to the window) as the arrays they were read
        into, or with the geometries as WKB parsed in slices on arrival: a GeoDataFrame
        unpickles all its geometries in one call that holds the window process's interpreter
        lock (see ``gpkg.from_wkb_in_slices``). A layer that arrives as arrays still knows
        its table in the file, so the window's next save leaves that table as it is."""
        import dataclasses

        import pandas as pd
        import shapely

        layers: list[tuple] = []
        for layer, group in self.layers:
            if not isinstance(layer, VectorLayer):
                layers.append(("other", layer, group))
                continue
            settings = {
                f.name: getattr(layer, f.name)
                for f in dataclasses.fields(layer)
                if f.init and f.name != "data"
            }
            held = layer.held_features
            if held is not None:
                stored = bool(self.path) and layer.stored_in(self.path, layer.id)
                compact = (held.attributes, held.geometry, held.crs, stored)
                layers.append(("compact", settings, compact, group))
                continue
            frame = layer.data
            wkb = shapely.to_wkb(frame.geometry.values)
            plain = pd.DataFrame(frame.drop(columns=frame.geometry.name))
            where = (frame.geometry.name, frame.crs)
            layers.append(("vector", settings, plain, wkb, where, group))
        return {"layers": layers, "metadata": self.metadata, "path": self.path}

    def __setstate__(self, state: dict[str, Any]) -> None:
        from .compact_geometry import CompactFeatures

        self.metadata = state["metadata"]
        self.path = state.get("path", "")
        self.layers = []
        for item in state["layers"]:
            if item[0] == "other":
                self.layers.append((item[1], item[2]))
                continue
            if item[0] == "compact":
                _kind, settings, (table, geometry, crs, stored), group = item
                layer = VectorLayer(**settings, data=CompactFeatures(table, geometry, crs))
                if stored:
                    layer.mark_stored(self.path, layer.id)
                self.layers.append((layer, group))
                continue
            import geopandas as gpd

            _kind, settings, plain, wkb, (name, crs), group = item
            geometry = gpd.GeoSeries(gpkg.from_wkb_in_slices(wkb), index=plain.index, crs=crs)
            frame = gpd.GeoDataFrame(plain, geometry=geometry.rename(name), crs=crs)
            self.layers.append((VectorLayer(**settings, data=frame), group))


def layers_written_since(path: str | Path, since: str) -> WrittenLayers:
    """The layers :func:`put_layers` wrote at or after ``since`` (ISO UTC time), read in one
    snapshot. The workbench adds them to the project it holds in memory, so a result joins
    the user's unsaved restyles and layers instead of replacing them with the file."""
    path = Path(path)
    with gpkg.open_file(path) as con, gpkg.read_transaction(con):
        meta = _parse_meta(con.execute(f"SELECT key, value FROM {META_TABLE}").fetchall(), path)
        tree = GroupNode.from_dict(meta.get("tree") or {"type": "group", "children": []})
        groups = {
            node.layer_id: (parent.name if parent is not tree else None)
            for parent, node in tree.walk()
            if isinstance(node, LayerNode)
        }
        out: list[tuple[Layer, str | None]] = []
        for record in meta.get("layers") or []:
            written = str((record.get("metadata") or {}).get(WRITTEN_AT) or "")
            if not written or written < since or record.get("kind") == "raster":
                continue
            frame = gpkg.read_features(con, str(record["id"]), path=path, compact=True)
            layer = VectorLayer(**_common_settings(record), data=frame)
            layer.mark_stored(path, layer.id)  # the next save leaves the result's table be
            out.append((layer, groups.get(layer.id)))
    return WrittenLayers(out, dict(meta.get("metadata") or {}), str(path))


def read_project_layer(path: str | Path, layer_id: str, columns: list[str] | None = None):
    """One vector layer of the project as a GeoDataFrame, without reading the others.

    What analyses call instead of GDAL (``gpd.read_file``), which must not open a project
    file a case store holds open in the same process."""
    from .readers.vector import read_vector

    return read_vector(path, layer_id, columns=columns)[0]


def project_layer_fields(path: str | Path) -> dict[str, list[str]]:
    """{layer id: its attribute fields} of every vector layer, read from the table schemas
    only (instant, whatever the layer sizes)."""
    with gpkg.open_file(path) as con:
        return {
            name: list(gpkg.table_fields(con, name)) for name, _kind in gpkg.feature_tables(con)
        }


def project_empty_layers(path: str | Path) -> set[str]:
    """The vector layers without a single feature (one indexed probe per table): an OSM
    extract without landuse areas or amenities writes such layers, and the city check must
    not call a feature on them ready."""
    with gpkg.open_file(path) as con:
        return {
            name
            for name, _kind in gpkg.feature_tables(con)
            if con.execute(f"SELECT 1 FROM {gpkg.quote(name)} LIMIT 1").fetchone() is None
        }


def _reconcile_tree(project: Project) -> None:
    """Make the tree and the layer list agree after reading a hand-edited or damaged file:
    tree entries without a layer are dropped, layers missing from the tree go to the bottom."""
    for parent, node in list(project.root.walk()):
        if isinstance(node, LayerNode) and node.layer_id not in project.layers:
            parent.children.remove(node)
    known = set(project.layer_order())
    for lid in project.layers:
        if lid not in known:
            project.root.children.append(LayerNode(lid))


def put_layers(
    path: str | Path,
    layers: list[Layer],
    group: str | None = None,
    metadata: dict[str, Any] | None = None,
    on_top: bool = True,
) -> list[str]:
    """Add ``layers`` to the project at ``path``, replacing layers with the same ids, and
    merge ``metadata``. What analyses call to leave their results in the project; their group
    moves to the top of the map unless ``on_top=False``.

    One write transaction: the project is read and the new layers written under the same
    lock, so two analyses finishing together both keep their results, and the cases and
    every other layer's table are not touched."""
    path = Path(path)
    stored_extent = read_project_meta(path).get("extent")
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    for layer in layers:  # so a workbench can tell what an analysis wrote (layers_written_since)
        layer.metadata[WRITTEN_AT] = stamp
    _read_pending_attributes(layers)
    with gpkg.open_file(path) as con, _busy_is_an_error(path), gpkg.write_transaction(con):
        # the other layers without their features: only their settings are rewritten, and
        # reading every parcel again held the GIL long enough to freeze the workbench's
        # window while a scenario saved its result (issue 20)
        loaded = _load(con, path, NullFeedback(), features=False)
        extent = union_of_boxes([stored_extent, layers_extent(layers, loaded.crs)])
        for layer in layers:
            if layer.id in loaded.layers:
                loaded.remove_layer(layer.id)
            loaded.add_layer(layer, group=group)
        if group and on_top:  # results go on top of the map, where the user looks for them
            node = loaded.group(group)
            loaded.root.children.remove(node)
            loaded.root.children.insert(0, node)
        loaded.metadata.update(metadata or {})
        _write_project(
            con, loaded, NullFeedback(), only=[layer.id for layer in layers], extent=extent
        )
    return [layer.id for layer in layers]
