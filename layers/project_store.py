"""A CityDesk project is one GeoPackage.

Inside the file:

- one feature table per vector layer (named by the layer id), readable by QGIS and GDAL;
- ``layer_styles``: the standard QGIS table, one QML per layer, so QGIS shows our symbology;
- ``citydesk_project``: key/value JSON with the format version, CRS, extent, layer tree and
  each layer's settings;
- ``citydesk_rasters``: rasters as GeoTIFF blobs (GDAL's GPKG raster writer refuses float DEMs
  without tiling-scheme gymnastics; see docs/ARCHITECTURE.md).

Saving writes a complete new file beside the target and renames it over the old one, so an
interrupted save leaves the previous project intact. Loading parses JSON only: project content
is data, never code (no pickle, no eval).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pyogrio

from .crs import crs_to_string
from .errors import ProjectFormatError
from .feedback import Feedback, NullFeedback, check_canceled
from .i18n import _
from .layer import Layer, LayerRole, RasterLayer, VectorLayer
from .project import GroupNode, LayerNode, Project
from .qml import style_to_qml
from .style import Style
from .version import PROJECT_FORMAT_VERSION, __version__

log = logging.getLogger(__name__)

META_TABLE = "citydesk_project"
RASTER_TABLE = "citydesk_rasters"
#: GeoPackage 1.2, not GDAL 3.12's default 1.4: QGIS 3.22 LTR (Debian 12) warns that 1.4 "may only
#: be partially supported", and nothing CityDesk stores needs 1.3/1.4 features.
GPKG_VERSION = "1.2"

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
    return record


def _json_safe(value: Any) -> Any:
    """Drop what JSON cannot hold (numpy scalars become numbers, the rest strings)."""
    return json.loads(
        json.dumps(value, default=lambda o: o.item() if hasattr(o, "item") else str(o))
    )


def connect_tables(path: str | Path, tables: dict[str, tuple[str, str]]) -> sqlite3.Connection:
    """A connection to an existing project file with the attribute ``tables`` present
    ({name: (CREATE TABLE IF NOT EXISTS ..., description)}) and listed in
    ``gpkg_contents``, so QGIS shows them. A missing file is an error, never a new empty
    database (which ``sqlite3.connect`` would silently create)."""
    path = Path(path)
    if not path.exists():
        raise ProjectFormatError(
            _("the project file does not exist"), _("Check the path."), path=str(path)
        )
    con = sqlite3.connect(path, timeout=30)
    with con:
        for table, (ddl, description) in tables.items():
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
    """Write ``project`` to one GeoPackage, atomically. Returns the path written."""
    feedback = feedback or NullFeedback()
    target = Path(path or project.path or "")
    if not target.name:
        raise ProjectFormatError(
            _("the project has no file name yet"), _("Choose where to save it.")
        )
    if target.suffix.lower() != ".gpkg":
        target = target.with_suffix(".gpkg")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".gpkg", dir=target.parent)
    os.close(fd)
    os.unlink(tmp_name)
    tmp = Path(tmp_name)
    try:
        _write_all(project, tmp, feedback)
        if target.exists():
            _carry_over_tables(target, tmp, project)
        os.replace(tmp, target)
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"), Path(f"{tmp}-journal")):
            leftover.unlink(missing_ok=True)
    project.path = str(target)
    log.info("saved project %s: %d layers", target, len(project.layers))
    return target


def _write_all(project: Project, tmp: Path, feedback: Feedback) -> None:
    order = project.layer_order()
    vectors = [lay for i in order if isinstance(lay := project.layers[i], VectorLayer)]
    rasters = [lay for i in order if isinstance(lay := project.layers[i], RasterLayer)]
    steps = max(1, len(vectors) + 1)
    for n, layer in enumerate(vectors):
        check_canceled(feedback)
        feedback.push_info(f"writing {layer.name}")
        frame = layer.data
        if frame.index.name == "fid":  # keep the source feature ids as the GPKG fid
            frame = frame.reset_index()
        pyogrio.write_dataframe(
            frame,
            str(tmp),
            layer=layer.id,
            driver="GPKG",
            dataset_options={"VERSION": GPKG_VERSION},
            layer_options={"FID": "fid", "DESCRIPTION": layer.name},
        )
        feedback.set_progress(100.0 * (n + 1) / steps)
    if not vectors:  # a raster-only project still needs a valid GeoPackage to hold the tables
        import geopandas as gpd

        empty = gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs=project.crs)
        pyogrio.write_dataframe(
            empty,
            str(tmp),
            layer="citydesk_placeholder",
            driver="GPKG",
            dataset_options={"VERSION": GPKG_VERSION},
        )
    con = sqlite3.connect(tmp)
    try:
        with con:  # one transaction for every CityDesk table
            con.execute(
                f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key TEXT PRIMARY KEY, value TEXT)"
            )
            register_attributes_table(con, META_TABLE, "CityDesk project settings (JSON)")
            if rasters:
                con.execute(
                    f"CREATE TABLE IF NOT EXISTS {RASTER_TABLE} "
                    "(id TEXT PRIMARY KEY, name TEXT, geotiff BLOB NOT NULL)"
                )
                register_attributes_table(con, RASTER_TABLE, "CityDesk raster layers (GeoTIFF)")
                for raster in rasters:
                    con.execute(
                        f"INSERT INTO {RASTER_TABLE} (id, name, geotiff) VALUES (?, ?, ?)",
                        (raster.id, raster.name, _raster_bytes(raster)),
                    )
            con.execute(_LAYER_STYLES_DDL)
            register_attributes_table(con, "layer_styles", "QGIS layer styles")
            for layer in vectors:
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
                "extent": list(project.extent),
                "tree": project.root.to_dict(),
                "layers": [_layer_record(project.layers[i]) for i in order],
                "metadata": _json_safe(project.metadata),
                "saved_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            }
            con.executemany(
                f"INSERT OR REPLACE INTO {META_TABLE} (key, value) VALUES (?, ?)",
                [(k, json.dumps(v, ensure_ascii=False)) for k, v in meta.items()],
            )
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    feedback.set_progress(100.0)


_OWN_TABLES = {META_TABLE, RASTER_TABLE, "layer_styles", "citydesk_placeholder"}


def _carry_over_tables(old: Path, new: Path, project: Project) -> None:
    """Copy the tables the project writer does not own (the case store, a plugin's tables)
    from the file being replaced into the new one, with their indexes and triggers.

    Saving rewrites the project as a new file; without this, the cases that live in the same
    GeoPackage would be lost on every save.
    """
    owned = _OWN_TABLES | set(project.layers)
    con = sqlite3.connect(new)
    try:
        con.execute("ATTACH DATABASE ? AS old", (str(old),))
        objects = con.execute(
            "SELECT type, name, tbl_name, sql FROM old.sqlite_master WHERE sql IS NOT NULL"
        ).fetchall()
        foreign = sorted(
            {
                tbl
                for kind, _n, tbl, _sql in objects
                if kind == "table"
                and not tbl.startswith(("gpkg_", "rtree_", "sqlite_"))
                and tbl not in owned
            }
        )
        if not foreign:
            return
        with con:
            for table in foreign:
                for kind, _name, tbl, sql in objects:
                    if tbl == table and kind == "table":
                        con.execute(sql)
                con.execute(f'INSERT INTO main."{table}" SELECT * FROM old."{table}"')
                for kind, _name, tbl, sql in objects:
                    if tbl == table and kind in ("index", "trigger"):
                        con.execute(sql)
                for meta in ("gpkg_contents", "gpkg_geometry_columns"):
                    con.execute(
                        f"INSERT OR REPLACE INTO main.{meta} SELECT * FROM old.{meta} "
                        "WHERE table_name = ?",
                        (table,),
                    )
            seq = con.execute(
                "SELECT 1 FROM old.sqlite_master WHERE name = 'sqlite_sequence'"
            ).fetchone()
            if seq:
                marks = ", ".join("?" for _ in foreign)
                con.execute(
                    "INSERT OR REPLACE INTO main.sqlite_sequence SELECT * FROM "
                    f"old.sqlite_sequence WHERE name IN ({marks})",
                    foreign,
                )
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


def read_project_meta(path: str | Path) -> dict[str, Any]:
    """The parsed ``citydesk_project`` table, after checking it is a project we can read."""
    path = Path(path)
    if not path.exists():
        raise ProjectFormatError(
            _("the project file does not exist"), _("Check the path."), path=str(path)
        )
    with open(path, "rb") as fh:
        if fh.read(16) != b"SQLite format 3\x00":
            raise ProjectFormatError(
                _("this is not a GeoPackage (not an SQLite file)"),
                _("Open a .gpkg saved by CityDesk, or add the file as a layer instead."),
                path=str(path),
            )
    con = sqlite3.connect(path)
    try:
        found = con.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (META_TABLE,)
        ).fetchone()
        if not found:
            raise ProjectFormatError(
                _("this GeoPackage is not a CityDesk project (no citydesk_project table)"),
                _("Create a project from it: citydesk project new NEW.gpkg --from FILE.gpkg"),
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
    """Open a project saved by :func:`save_project`."""
    from .readers.vector import read_vector

    feedback = feedback or NullFeedback()
    path = Path(path)
    meta = read_project_meta(path)
    project = Project(name=str(meta.get("name", path.stem)), crs=meta.get("crs") or "EPSG:4326")
    project.metadata = dict(meta.get("metadata") or {})
    project.path = str(path)
    records = list(meta.get("layers") or [])
    blobs: dict[str, bytes] = {}
    if any(r.get("kind") == "raster" for r in records):
        con = sqlite3.connect(path)
        try:
            blobs = dict(con.execute(f"SELECT id, geotiff FROM {RASTER_TABLE}").fetchall())
        finally:
            con.close()
    for n, record in enumerate(records):
        check_canceled(feedback)
        if record.get("kind") == "raster":
            layer: Layer = _raster_from_bytes(blobs[record["id"]], record)
        else:
            frame, _facts = read_vector(path, layer=record["id"])
            layer = VectorLayer(**_common_settings(record), data=frame)
        project.layers[layer.id] = layer
        feedback.set_progress(100.0 * (n + 1) / max(1, len(records)))
    project.root = GroupNode.from_dict(meta.get("tree") or {"type": "group", "children": []})
    _reconcile_tree(project)
    log.info("opened project %s: %d layers", path, len(project.layers))
    return project


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
    moves to the top of the map unless ``on_top=False``. The file is rewritten atomically, so
    call it with no case store open on it."""
    loaded = load_project(path)
    for layer in layers:
        if layer.id in loaded.layers:
            loaded.remove_layer(layer.id)
        loaded.add_layer(layer, group=group)
    if group and on_top:  # results go on top of the map, where the user looks for them
        node = loaded.group(group)
        loaded.root.children.remove(node)
        loaded.root.children.insert(0, node)
    loaded.metadata.update(metadata or {})
    save_project(loaded, path)
    return [layer.id for layer in layers]
