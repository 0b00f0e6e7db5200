"""GeoPackages read and written through Python's ``sqlite3``, never through GDAL.

Why CityDesk has its own GeoPackage code when GDAL has a fine driver: a project file is also
the case store, which a desk holds open through Python's ``sqlite3`` all day. GDAL carries a
second copy of SQLite; when it opened and closed the same file in the same process it deleted
the ``-wal`` and ``-shm`` files under the live connection, and the desk crashed with "file is
not a database" and once left the project unreadable (docs/ARCHITECTURE.md, "One SQLite per
project file"). So inside the CityDesk process every GeoPackage goes through this module, on
the one SQLite library, where SQLite's own locks and transactions protect it: a save is one
transaction in the file, so it can neither lose cases another connection is importing nor
leave half a project behind.

What is written is plain GeoPackage 1.2 (OGC 12-128r15) that GDAL and QGIS open: the core
tables, one feature table per layer with its fid and ``geom`` column, geometry blobs (the
"GP" header, an envelope, ISO WKB), and an R-tree spatial index with the standard triggers.
The triggers call ``ST_MinX`` and friends, which GDAL, QGIS and :func:`connect` register.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import struct
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .compact_geometry import CompactFeatures, CompactGeometry, batch_geometry, joined
from .errors import CityDeskError, LayerReadError, ProjectFormatError
from .feedback import Feedback, NullFeedback, check_canceled
from .i18n import _
from .wkb_arrays import compact_from_gpkg_blobs

log = logging.getLogger(__name__)

APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10200  # GeoPackage 1.2, what QGIS 3.22 opens without a warning
GEOMETRY_COLUMN = "geom"
BATCH_ROWS = 65_536

_WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],'
    'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4326"]]'
)

# OGC 12-128r15, clauses 1.1.2, 1.1.3, 2.1.5 and 2.3 (the required tables and rows)
_CORE_DDL = [
    """CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
        srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
        organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL,
        description TEXT)""",
    """CREATE TABLE IF NOT EXISTS gpkg_contents (
        table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
        identifier TEXT UNIQUE, description TEXT DEFAULT '',
        last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
        srs_id INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id)
        REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
        table_name TEXT NOT NULL, column_name TEXT NOT NULL,
        geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL,
        z TINYINT NOT NULL, m TINYINT NOT NULL,
        CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
        CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
        CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_extensions (
        table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
        definition TEXT NOT NULL, scope TEXT NOT NULL,
        CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))""",
]
_SRS_ROWS = [
    ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian"),
    ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic"),
    ("WGS 84 geodetic", 4326, "EPSG", 4326, _WGS84_WKT, "longitude/latitude WGS 84"),
]

_FLAGS_LE = 0b0000_0001  # little-endian header numbers, no envelope
_FLAGS_LE_XY_ENVELOPE = 0b0000_0011
_FLAG_EMPTY = 0b0001_0000
_FLAG_EXTENDED = 0b0010_0000
_ENVELOPE_BYTES = (0, 32, 48, 48, 64)
_INTEGER_TYPES = {"INTEGER", "INT", "MEDIUMINT", "SMALLINT", "TINYINT", "BIGINT"}
_REAL_TYPES = {"REAL", "FLOAT", "DOUBLE"}
#: the GeoPackage integer types and the dtypes GDAL reads them as (and writes them from)
_INTEGER_DTYPES = {"MEDIUMINT": "int32", "SMALLINT": "int16", "TINYINT": "int8"}
_INTEGER_NAMES = {"int32": "MEDIUMINT", "int16": "SMALLINT", "int8": "TINYINT"}


# --- connections -----------------------------------------------------------------------------
def _unreadable(path: str | Path, exc: Exception) -> LayerReadError:
    return LayerReadError(
        _("cannot read the file ({value0})").format(value0=str(exc).strip()),
        _("The file is damaged, truncated or not a GIS format; re-export or re-download it."),
        path=str(path),
    )


def connect(path: str | Path, *, timeout: float = 60.0, create: bool = False) -> sqlite3.Connection:
    """A connection to a GeoPackage in autocommit mode (transactions are explicit, see
    :func:`write_transaction`), with the functions the R-tree triggers call.

    A missing file is an error unless ``create``: ``sqlite3.connect`` would silently make an
    empty database of a mistyped path."""
    path = Path(path)
    if not create and not path.exists():
        raise LayerReadError(_("the file does not exist"), _("Check the path."), path=str(path))
    con = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    register_functions(con)
    return con


@contextmanager
def open_file(path: str | Path, *, create: bool = False) -> Iterator[sqlite3.Connection]:
    """:func:`connect` as a context manager that always closes the connection."""
    con = connect(path, create=create)
    try:
        yield con
    finally:
        con.close()


#: how long a write waits for another program's write lock before it gives up
WRITE_WAIT_S = 30.0


class FileBusyError(CityDeskError):
    """Another program has held the file's write lock for longer than the wait."""


def begin_write(
    con: sqlite3.Connection, wait_s: float | None = None, feedback: Feedback | None = None
) -> None:
    """``BEGIN IMMEDIATE``, waiting for another desk's or an import's write lock in short
    steps that say so (log and progress text), then a clear error instead of SQLite's
    "database is locked" (issue 21: a lock held over 30 s ended as an internal error)."""
    wait_s = WRITE_WAIT_S if wait_s is None else wait_s
    start = time.monotonic()
    said = 0
    old = con.execute("PRAGMA busy_timeout").fetchone()[0]
    con.execute("PRAGMA busy_timeout = 1000")
    try:
        while True:
            try:
                con.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                waited = time.monotonic() - start
                if waited >= wait_s:
                    raise FileBusyError(
                        _(
                            "another desk or an import has been writing to this file for over "
                            "{s:.0f} s"
                        ).format(s=waited),
                        _("Try again when it has finished; nothing was changed."),
                    ) from exc
                if int(waited) // 5 > said:
                    said = int(waited) // 5
                    text = _("waiting for another program's write ({s:.0f} s)").format(s=waited)
                    log.info(text)
                    if feedback is not None:
                        feedback.push_info(text)
    finally:
        con.execute(f"PRAGMA busy_timeout = {int(old)}")


@contextmanager
def write_transaction(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken at once (``BEGIN IMMEDIATE``) so a reader that turns
    writer cannot deadlock; committed on success, rolled back on any error or cancel."""
    begin_write(con)
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


@contextmanager
def read_transaction(con: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One consistent snapshot for several reads (a project's settings and its layers)."""
    con.execute("BEGIN")
    try:
        yield con
    finally:
        con.execute("COMMIT")


def _header_envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) of a geometry blob, None for NULL or empty."""
    if blob is None or len(blob) < 8 or blob[:2] != b"GP" or blob[3] & _FLAG_EMPTY:
        return None
    geom = decode([blob])[0]
    if geom is None or shapely.is_empty(geom):
        return None
    minx, miny, maxx, maxy = shapely.bounds(geom)
    return float(minx), float(maxx), float(miny), float(maxy)


def register_functions(con: sqlite3.Connection) -> None:
    """``ST_IsEmpty``, ``ST_MinX`` ... as GDAL and QGIS define them, so inserts and updates
    through this connection keep a GeoPackage's R-tree index current."""

    def part(i: int):
        def fn(blob):
            env = _header_envelope(blob)
            return None if env is None else env[i]

        return fn

    con.create_function(
        "ST_IsEmpty", 1, lambda b: int(_header_envelope(b) is None), deterministic=True
    )
    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        con.create_function(name, 1, part(i), deterministic=True)


def ensure_core(con: sqlite3.Connection) -> bool:
    """Make a new or plain SQLite file a GeoPackage, inside the caller's transaction.
    Returns True when it set the header: in WAL mode the caller should checkpoint after the
    commit, because other programs read the application id from the file's first bytes."""
    for ddl in _CORE_DDL:
        con.execute(ddl)
    con.executemany(
        "INSERT OR IGNORE INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization, "
        "organization_coordsys_id, definition, description) VALUES (?, ?, ?, ?, ?, ?)",
        _SRS_ROWS,
    )
    if con.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
        con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        con.execute(f"PRAGMA user_version = {USER_VERSION}")
        return True
    return False


def quote(name: str) -> str:
    """An SQL identifier, quoted (layer ids and field names come from users' files)."""
    return '"' + str(name).replace('"', '""') + '"'


# --- coordinate reference systems --------------------------------------------------------------
def srs_id(con: sqlite3.Connection, crs: Any) -> int:
    """The ``gpkg_spatial_ref_sys`` id of ``crs``, adding the row when it is new. An EPSG CRS
    keeps its EPSG code as id (what GDAL and QGIS do); any other CRS gets a free id from
    100000 up with its WKT. No CRS is the spec's "undefined cartesian" (-1)."""
    from pyproj import CRS

    if crs is None:
        return -1
    crs = CRS.from_user_input(crs)
    epsg = crs.to_epsg()
    wkt = crs.to_wkt("WKT1_GDAL") if epsg else crs.to_wkt()
    if epsg:
        con.execute(
            "INSERT OR IGNORE INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization, "
            "organization_coordsys_id, definition, description) VALUES (?, ?, 'EPSG', ?, ?, '')",
            (crs.name, epsg, epsg, wkt),
        )
        return int(epsg)
    row = con.execute(
        "SELECT srs_id FROM gpkg_spatial_ref_sys WHERE definition = ?", (wkt,)
    ).fetchone()
    if row:
        return int(row[0])
    new = con.execute(
        "SELECT max(100000, coalesce(max(srs_id), 0) + 1) FROM gpkg_spatial_ref_sys"
    ).fetchone()[0]
    con.execute(
        "INSERT INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization, "
        "organization_coordsys_id, definition, description) VALUES (?, ?, 'NONE', ?, ?, '')",
        (crs.name, new, new, wkt),
    )
    return int(new)


def crs_of(con: sqlite3.Connection, srs: int | None) -> Any:
    """The pyproj CRS of an SRS id (None for the spec's undefined systems)."""
    from pyproj import CRS

    if srs is None or srs in (0, -1):
        return None
    row = con.execute(
        "SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys "
        "WHERE srs_id = ?",
        (srs,),
    ).fetchone()
    if row is None:
        return None
    org, code, definition = row
    if str(org).upper() == "EPSG":
        try:
            return CRS.from_epsg(int(code))
        except Exception:  # an EPSG code PROJ does not know: fall back to the stored WKT
            pass
    if definition and definition != "undefined":
        return CRS.from_wkt(definition)
    return None


# --- geometry blobs ------------------------------------------------------------------------
def point_blobs(x, y, srs: int = 4326) -> list[bytes | None]:
    """GeoPackage point blobs (header + little-endian WKB) for many points at once; None
    where a coordinate is missing. Points carry no envelope (the spec allows it)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    header = b"GP" + struct.pack("<BBi", 0, _FLAGS_LE, srs)
    out: list[bytes | None] = [None] * len(x)
    wkbs = shapely.to_wkb(shapely.points(x[ok], y[ok]), byte_order=1)
    for i, wkb in zip(np.flatnonzero(ok), wkbs, strict=True):
        out[i] = header + wkb
    return out


def encode(geometries: Sequence[Any] | np.ndarray, srs: int) -> list[bytes | None]:
    """GeoPackage blobs of shapely geometries: header, xy envelope (none for points and empty
    geometries) and ISO WKB, so Z coordinates survive as GDAL and QGIS expect them."""
    geoms = np.asarray(geometries, dtype=object)
    out: list[bytes | None] = [None] * len(geoms)
    present = ~shapely.is_missing(geoms)
    if not present.any():
        return out
    idx = np.flatnonzero(present)
    chosen = geoms[idx]
    wkbs = shapely.to_wkb(chosen, byte_order=1, flavor="iso", output_dimension=3)
    bounds = shapely.bounds(chosen)
    empty = shapely.is_empty(chosen)
    points = shapely.get_type_id(chosen) == 0
    plain = b"GP" + struct.pack("<BBi", 0, _FLAGS_LE, srs)
    hollow = b"GP" + struct.pack("<BBi", 0, _FLAGS_LE | _FLAG_EMPTY, srs)
    boxed = b"GP" + struct.pack("<BBi", 0, _FLAGS_LE_XY_ENVELOPE, srs)
    for n, i in enumerate(idx.tolist()):
        if empty[n]:
            out[i] = hollow + wkbs[n]
        elif points[n]:
            out[i] = plain + wkbs[n]
        else:
            minx, miny, maxx, maxy = bounds[n]
            out[i] = boxed + struct.pack("<4d", minx, maxx, miny, maxy) + wkbs[n]
    return out


def decode(blobs: Sequence[bytes | None]) -> np.ndarray:
    """Shapely geometries of GeoPackage blobs (None stays None). A blob that is not a
    standard GeoPackage geometry (the spec's "extended" curve types, or plain WKB written by
    another tool) raises ValueError naming what it found."""
    wkbs: list[bytes | None] = []
    for blob in blobs:
        if blob is None:
            wkbs.append(None)
            continue
        blob = bytes(blob)
        if len(blob) < 8 or blob[:2] != b"GP":
            raise ValueError("a geometry is not a GeoPackage geometry blob")
        flags = blob[3]
        if flags & _FLAG_EXTENDED:
            raise ValueError("a geometry uses the GeoPackage extended (curve) types")
        envelope = (flags >> 1) & 0b111
        if envelope >= len(_ENVELOPE_BYTES):
            raise ValueError("a geometry blob has an invalid envelope code")
        wkbs.append(blob[8 + _ENVELOPE_BYTES[envelope] :])
    return from_wkb_in_slices(np.asarray(wkbs, dtype=object))


def from_wkb_in_slices(array: np.ndarray) -> np.ndarray:
    """Geometries from WKB, parsed ``_SLICE`` at a time: shapely holds the GIL for a whole
    ``from_wkb`` call, and 13k parcels in one call froze the workbench's window for 0.23 s
    while an analysis saved its result in the background (issue 20); between slices the
    window thread gets its turn."""
    return np.concatenate(
        [shapely.from_wkb(array[i : i + _SLICE]) for i in range(0, len(array), _SLICE)]
        or [np.empty(0, dtype=object)]
    )


_SLICE = 2_000  # geometries parsed per C call that holds the GIL (see decode)
_ROWS_SLICE = 256  # rows transposed per C call (see read_features)


# --- reading -----------------------------------------------------------------------------------
def feature_tables(con: sqlite3.Connection) -> list[tuple[str, str]]:
    """(table name, geometry type) of every feature table, in the file's order."""
    try:
        rows = con.execute(
            "SELECT c.table_name, coalesce(g.geometry_type_name, 'Unknown') FROM gpkg_contents c "
            "LEFT JOIN gpkg_geometry_columns g ON g.table_name = c.table_name "
            "WHERE c.data_type = 'features' ORDER BY c.rowid"
        ).fetchall()
    except sqlite3.DatabaseError as exc:
        raise LayerReadError(
            _("this file is not a GeoPackage ({exc})").format(exc=exc),
            _("Open a .gpkg written by QGIS, GDAL or CityDesk, or re-export the data."),
        ) from exc
    return [(str(name), _title_type(str(kind))) for name, kind in rows]


def _title_type(name: str) -> str:
    """GDAL's spelling of a geometry type (``MULTIPOLYGON`` -> ``MultiPolygon``), which the
    rest of CityDesk compares against."""
    spelled = {
        "POINT": "Point",
        "LINESTRING": "LineString",
        "POLYGON": "Polygon",
        "MULTIPOINT": "MultiPoint",
        "MULTILINESTRING": "MultiLineString",
        "MULTIPOLYGON": "MultiPolygon",
        "GEOMETRYCOLLECTION": "GeometryCollection",
        "GEOMETRY": "Unknown",
    }
    return spelled.get(name.upper(), name)


def _geometry_column(con: sqlite3.Connection, table: str) -> tuple[str, int] | None:
    row = con.execute(
        "SELECT column_name, srs_id FROM gpkg_geometry_columns WHERE table_name = ?", (table,)
    ).fetchone()
    return None if row is None else (str(row[0]), int(row[1]))


def table_fields(con: sqlite3.Connection, table: str) -> dict[str, str]:
    """{attribute column: declared type} of a table, without its key and geometry."""
    info = con.execute(f"PRAGMA table_info({quote(table)})").fetchall()
    geometry = _geometry_column(con, table)
    skip = {geometry[0]} if geometry else set()
    return {str(r[1]): str(r[2]).upper() for r in info if not r[5] and r[1] not in skip}


def has_table(con: sqlite3.Connection, table: str) -> bool:
    return (
        con.execute(
            "SELECT 1 FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?", (table,)
        ).fetchone()
        is not None
    )


def _rtree_of(con: sqlite3.Connection, table: str, geometry: str) -> str | None:
    """The table's GeoPackage R-tree (``rtree_<table>_<column>``), when it has one that this
    SQLite can read."""
    name = f"rtree_{table}_{geometry}"
    try:
        row = con.execute(
            "SELECT 1 FROM gpkg_extensions WHERE table_name = ? AND column_name = ? "
            "AND extension_name = 'gpkg_rtree_index'",
            (table, geometry),
        ).fetchone()
        if row is None:
            return None
        con.execute(f"SELECT id FROM {quote(name)} LIMIT 0")
    except sqlite3.DatabaseError:  # no extensions table, or the index missing or unreadable
        return None
    return name


def _primary_key(con: sqlite3.Connection, table: str) -> str | None:
    for row in con.execute(f"PRAGMA table_info({quote(table)})"):
        if row[5]:
            return str(row[1])
    return None


def _column(values: list[Any], declared: str) -> pd.Series:
    """A column with the dtype GDAL would give the declared GeoPackage type."""
    base = declared.split("(")[0].strip()
    missing = any(v is None for v in values)
    if base in _INTEGER_TYPES:
        if missing:
            return pd.Series(values, dtype="float64")
        return pd.Series(values, dtype=_INTEGER_DTYPES.get(base, "int64"))
    if base in _REAL_TYPES:
        return pd.Series([np.nan if v is None else v for v in values], dtype="float64")
    if base == "BOOLEAN":
        return pd.Series(
            [None if v is None else bool(v) for v in values], dtype=object if missing else bool
        )
    if base in ("DATETIME", "DATE"):
        present = [v for v in values if v is not None]
        utc = bool(present) and all(isinstance(v, str) and v.endswith("Z") for v in present)
        parsed = pd.to_datetime(
            pd.Series(values, dtype=object), format="ISO8601", utc=utc, errors="coerce"
        )
        return parsed.dt.as_unit("ms") if hasattr(parsed, "dt") else parsed
    return pd.Series(values)


def read_features(
    con: sqlite3.Connection,
    table: str,
    *,
    columns: Sequence[str] | None = None,
    where: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    path: str | Path = "",
    feedback: Feedback | None = None,
    compact: bool = False,
) -> Any:
    """One feature table as a GeoDataFrame indexed by its fid (named ``fid``), so reports and
    repairs name the same feature as QGIS. ``where`` is an SQLite expression over the
    table's columns; ``bbox`` keeps the features whose envelope meets it. With ``compact``
    (and no ``bbox``) the geometry is read into arrays batch by batch and the result may be
    :class:`~citydesk.layers.compact_geometry.CompactFeatures`, what a layer holds."""
    geometry = _geometry_column(con, table)
    if geometry is None:
        raise LayerReadError(
            _("this table has no geometry column"),
            _("Attribute tables are joined to a layer; CSV points need --x-field/--y-field."),
            gui_fix=_(
                "Attribute tables are joined to a layer; for CSV points, open {place} "
                "and choose the coordinate columns."
            ).format(place=_("Project > Add layer with options...")),
            path=str(path),
        )
    geom_col, srs = geometry
    fields = table_fields(con, table)
    wanted = list(fields) if columns is None else [c for c in columns if c in fields]
    key = _primary_key(con, table)
    arrays = compact and bbox is None
    # a whole layer read into arrays from a file reads its attributes when first asked for
    later = arrays and columns is None and where is None and bool(str(path))
    if later:
        wanted = []
    select = [quote(key) if key else "rowid", quote(geom_col)] + [quote(c) for c in wanted]
    sql = f"SELECT {', '.join(select)} FROM {quote(table)}"
    conditions = [f"({where})"] if where else []
    args: list[float] = []
    rtree = _rtree_of(con, table, geom_col) if bbox is not None else None
    if rtree is not None and bbox is not None:
        # only the rows whose index box meets the view are read and decoded (reading all
        # of a 500,000-parcel table for a 4,674-parcel view took 4.2 s); the exact test
        # below still decides
        conditions.append(
            f"{quote(key) if key else 'rowid'} IN (SELECT id FROM {quote(rtree)} "
            "WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?)"
        )
        args = [float(bbox[0]), float(bbox[2]), float(bbox[1]), float(bbox[3])]
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    feedback = feedback or NullFeedback()
    try:
        total = con.execute(f"SELECT count(*) FROM {quote(table)}").fetchone()[0] or 1
        cursor = con.execute(sql, args)
        # transposed as fetched (_append_columns)
        columns_of: list[list[Any]] = [[] for _ in select]
        pieces: list[Any] = []  # arrays: each batch's geometry, as arrays or shapely
        done = 0
        while batch := cursor.fetchmany(BATCH_ROWS):  # progress and cancel between batches
            check_canceled(feedback)
            blobs: list[Any] = []
            targets = [blobs if arrays and k == 1 else c for k, c in enumerate(columns_of)]
            _append_columns(targets, batch)
            if arrays:
                pieces.append(
                    batch_geometry(
                        compact_from_gpkg_blobs(blobs), partial(_decoded, blobs, table, path)
                    )
                )
            done += len(batch)
            feedback.set_progress(min(99.0, 100.0 * done / total))
    except sqlite3.DatabaseError as exc:
        raise _unreadable(path, exc) from exc
    index = pd.Index(np.asarray(columns_of[0], dtype="int64"), name="fid")
    data = _columns_as_read(wanted, columns_of[2:], fields, index)
    if arrays:
        held = joined(pieces)
        if isinstance(held, CompactGeometry):
            feedback.set_progress(100.0)
            source = _TableColumns(Path(path).resolve(), table, key, fields) if later else None
            return CompactFeatures(data, held, crs_of(con, srs), source)
        geoms = held
        if later:  # not arrays after all: the frame is the only copy, so read them now
            data = _TableColumns(Path(path), table, key, fields).read(list(fields), index)
    else:
        geoms = _decoded(list(columns_of[1]), table, path)
    frame = gpd.GeoDataFrame(
        data,
        geometry=gpd.GeoSeries(geoms, index=index),
        crs=crs_of(con, srs),
    )
    if bbox is not None:
        frame = frame[frame.intersects(shapely.box(*bbox))]
    feedback.set_progress(100.0)
    return frame


def _append_columns(columns: list[list[Any]], rows: list[tuple[Any, ...]]) -> None:
    """Fetched rows appended to per-column lists, transposed ``_ROWS_SLICE`` rows at a time:
    ``zip(*rows)`` over every row is one C call that holds the GIL (0.1-0.2 s for the 13k
    parcels, and a read on a worker thread then froze the workbench's window, issue 20),
    while a Python loop per cell is slow."""
    for start in range(0, len(rows), _ROWS_SLICE):
        transposed = zip(*rows[start : start + _ROWS_SLICE], strict=True)
        for column, values in zip(columns, transposed, strict=True):
            column.extend(values)


def _columns_as_read(
    names: Sequence[str], values: Sequence[Sequence[Any]], declared: dict[str, str], index: pd.Index
) -> pd.DataFrame:
    """Fetched columns as a frame on ``index``, each with the dtype GDAL would give it."""
    data = {
        c: _column(list(v), declared[c]).set_axis(index) for c, v in zip(names, values, strict=True)
    }
    return pd.DataFrame(data, index=index)


class _TableColumns:
    """Attribute columns of one GeoPackage table, read when a layer first asks for them
    (:class:`~citydesk.layers.compact_geometry.CompactFeatures`).

    Read through its own short connection, so nothing stays open. The features must be the
    ones first read, in the same order; a table whose rows were added, removed or
    reordered in the meantime (the file replaced by another program) is refused with a
    message rather than joined to the wrong geometry. Values edited in the file meanwhile
    are read as they are now, as QGIS does."""

    def __init__(self, path: Path, table: str, key: str | None, declared: dict[str, str]):
        self.path, self.table, self.key, self.declared = path, table, key, dict(declared)

    @property
    def names(self) -> list[str]:
        return list(self.declared)

    def read(self, names: list[str], index: pd.Index) -> pd.DataFrame:
        select = [quote(self.key) if self.key else "rowid"] + [quote(c) for c in names]
        sql = f"SELECT {', '.join(select)} FROM {quote(self.table)}"
        columns_of: list[list[Any]] = [[] for _ in select]
        try:
            with open_file(self.path) as con, read_transaction(con):
                cursor = con.execute(sql)
                while batch := cursor.fetchmany(BATCH_ROWS):
                    _append_columns(columns_of, batch)
        except sqlite3.DatabaseError as exc:
            raise self._changed(str(exc)) from exc
        fids = np.asarray(columns_of[0], dtype="int64")
        if len(fids) != len(index) or not np.array_equal(fids, index.to_numpy()):
            raise self._changed(_("its features are not the ones first read"))
        return _columns_as_read(names, columns_of[1:], self.declared, index)

    def _changed(self, why: str) -> LayerReadError:
        return LayerReadError(
            _("cannot read the attributes of layer '{layer}' from its file ({why})").format(
                layer=self.table, why=why
            ),
            _("The file was moved, replaced or changed since it was opened; open it again."),
            path=str(self.path),
        )


def _decoded(blobs: list[Any], table: str, path: str | Path) -> np.ndarray:
    try:
        return decode(blobs)
    except (ValueError, shapely.errors.GEOSException) as exc:
        raise LayerReadError(
            _("cannot read the geometries of layer '{layer}' ({exc})").format(layer=table, exc=exc),
            _("Convert the layer to simple geometries in QGIS or with ogr2ogr, then add it again."),
            path=str(path),
        ) from exc


# --- writing -----------------------------------------------------------------------------------
_SINGLE_TO_MULTI: dict[str, Callable[..., np.ndarray]] = {
    "POINT": shapely.multipoints,
    "LINESTRING": shapely.multilinestrings,
    "POLYGON": shapely.multipolygons,
}


def declared_geometry(geoms: np.ndarray) -> tuple[str, np.ndarray]:
    """The layer's declared geometry type and its geometries, singles promoted to multi when
    both occur (as GDAL does), because a GeoPackage layer declares one type."""
    missing = shapely.is_missing(geoms)
    ids = shapely.get_type_id(geoms)
    names = {shapely.GeometryType(k).name for k in set(ids[~missing].tolist())}
    names = {"LINESTRING" if n == "LINEARRING" else n for n in names}
    if len(names) == 1:
        return names.pop(), geoms
    for single, make in _SINGLE_TO_MULTI.items():
        if names == {single, f"MULTI{single}"}:
            singles = (ids == shapely.GeometryType[single].value) & ~missing
            out = geoms.copy()
            out[singles] = make(geoms[singles], indices=np.arange(int(singles.sum())))
            return f"MULTI{single}", out
    return "GEOMETRY", geoms


def column_type_and_values(series: pd.Series) -> tuple[str, list[Any]]:
    """The GeoPackage type of a column and its values ready for SQLite."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "BOOLEAN", [None if pd.isna(v) else int(bool(v)) for v in series.tolist()]
    if pd.api.types.is_integer_dtype(dtype):
        name = _INTEGER_NAMES.get(str(dtype).lower(), "INTEGER")
        return name, [None if pd.isna(v) else int(v) for v in series.astype(object).tolist()]
    if pd.api.types.is_float_dtype(dtype):
        return "REAL", [None if v is None or v != v else float(v) for v in series.tolist()]
    if isinstance(dtype, pd.DatetimeTZDtype):
        text = series.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3] + "Z"
        return "DATETIME", [None if pd.isna(v) else v for v in text.tolist()]
    if pd.api.types.is_datetime64_dtype(dtype):
        text = series.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3]
        return "DATETIME", [None if pd.isna(v) else v for v in text.tolist()]
    values = series.astype(object).tolist()
    present = [v for v in values if v is not None and not (isinstance(v, float) and v != v)]
    if present and all(isinstance(v, bytes) for v in present):
        return "BLOB", [v if isinstance(v, bytes) else None for v in values]
    if present and all(isinstance(v, dt.datetime) for v in present):
        return "DATETIME", [v.isoformat() if isinstance(v, dt.datetime) else None for v in values]
    if present and all(isinstance(v, dt.date) and not isinstance(v, dt.datetime) for v in present):
        return "DATE", [v.isoformat() if isinstance(v, dt.date) else None for v in values]
    text = [None if v is None or (isinstance(v, float) and v != v) else str(v) for v in values]
    return "TEXT", text


def drop_features(con: sqlite3.Connection, table: str) -> None:
    """Remove a table and everything the GeoPackage keeps about it (its index, contents and
    geometry rows, extensions, styles stay to the caller)."""
    geometry = _geometry_column(con, table)
    if geometry is not None:
        con.execute(f"DROP TABLE IF EXISTS {quote(f'rtree_{table}_{geometry[0]}')}")
    con.execute(f"DROP TABLE IF EXISTS {quote(table)}")
    for meta in ("gpkg_geometry_columns", "gpkg_extensions", "gpkg_contents"):
        con.execute(f"DELETE FROM {meta} WHERE table_name = ?", (table,))
    if has_table(con, "gpkg_ogr_contents"):  # GDAL's feature counts
        con.execute("DELETE FROM gpkg_ogr_contents WHERE table_name = ?", (table,))


def keep_features(con: sqlite3.Connection, table: str, description: str = "") -> bool:
    """Leave feature table ``table`` as it is in a save (its description brought up to
    date, for a renamed layer): True when the file has it as a feature table, False when
    it must be written after all."""
    row = con.execute(
        "SELECT 1 FROM gpkg_contents WHERE table_name = ? AND data_type = 'features'", (table,)
    ).fetchone()
    if row is None or not has_table(con, table):
        return False
    con.execute(
        "UPDATE gpkg_contents SET description = ? WHERE table_name = ?", (description, table)
    )
    return True


def write_features(
    con: sqlite3.Connection, table: str, frame: gpd.GeoDataFrame, description: str = ""
) -> None:
    """Write ``frame`` as feature table ``table``, replacing one of that name, inside the
    caller's transaction. The frame's ``fid`` index or column becomes the feature id."""
    ensure_core(con)
    drop_features(con, table)
    data = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    given: pd.Index | None = None
    if "fid" in data.columns:
        given = pd.Index(data.pop("fid"))
    elif frame.index.name == "fid":
        given = frame.index
    if given is not None and pd.api.types.is_integer_dtype(given.dtype) and given.is_unique:
        fids = np.asarray(given, dtype="int64")
    else:  # no ids, or ids that cannot be keys (duplicates after a merge): number them
        fids = np.arange(1, len(frame) + 1, dtype="int64")
    srs = srs_id(con, frame.crs)
    geom_type, geoms = declared_geometry(np.asarray(frame.geometry.values, dtype=object))
    columns: list[tuple[str, str, list[Any]]] = []
    for name in data.columns:
        sql_type, values = column_type_and_values(data[name])
        columns.append((str(name), sql_type, values))
    ddl = ", ".join(
        [
            f"{quote('fid')} INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL",
            f"{quote(GEOMETRY_COLUMN)} {geom_type}",
        ]
        + [f"{quote(n)} {t}" for n, t, _v in columns]
    )
    con.execute(f"CREATE TABLE {quote(table)} ({ddl})")
    names = ["fid", GEOMETRY_COLUMN] + [n for n, _t, _v in columns]
    marks = ", ".join("?" for _ in names)
    blobs = encode(geoms, srs)
    con.executemany(
        f"INSERT INTO {quote(table)} ({', '.join(quote(n) for n in names)}) VALUES ({marks})",
        zip(fids.tolist(), blobs, *[v for _n, _t, v in columns], strict=True),
    )
    present = geoms[~shapely.is_missing(geoms)]
    bounds = shapely.total_bounds(present) if len(present) else [np.nan] * 4
    has_z = bool(len(present)) and bool(shapely.has_z(present).any())
    con.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, min_x, "
        "min_y, max_x, max_y, srs_id) VALUES (?, 'features', ?, ?, ?, ?, ?, ?, ?)",
        (table, table, description, *[None if v != v else float(v) for v in bounds], srs),
    )
    con.execute(
        "INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, "
        "srs_id, z, m) VALUES (?, ?, ?, ?, ?, 0)",
        (table, GEOMETRY_COLUMN, geom_type, srs, int(has_z)),
    )
    _spatial_index(con, table, fids, geoms)


def _spatial_index(
    con: sqlite3.Connection, table: str, fids: np.ndarray, geoms: np.ndarray
) -> None:
    """The GeoPackage R-tree extension: the index filled at once, and the triggers that keep
    it current when QGIS (or anyone) edits the layer later."""
    rtree = f"rtree_{table}_{GEOMETRY_COLUMN}"
    t, g, r = quote(table), quote(GEOMETRY_COLUMN), quote(rtree)
    con.execute(f"CREATE VIRTUAL TABLE {r} USING rtree(id, minx, maxx, miny, maxy)")
    if len(fids):
        keep = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
        bounds = shapely.bounds(geoms[keep])
        con.executemany(
            f"INSERT INTO {r} VALUES (?, ?, ?, ?, ?)",
            (
                (int(f), float(b[0]), float(b[2]), float(b[1]), float(b[3]))
                for f, b in zip(fids[keep], bounds, strict=True)
            ),
        )
    values = f"NEW.fid, ST_MinX(NEW.{g}), ST_MaxX(NEW.{g}), ST_MinY(NEW.{g}), ST_MaxY(NEW.{g})"
    new_ok = f"(NEW.{g} NOT NULL AND NOT ST_IsEmpty(NEW.{g}))"
    old_ok = f"(OLD.{g} NOT NULL AND NOT ST_IsEmpty(OLD.{g}))"
    upsert = f"INSERT OR REPLACE INTO {r} VALUES ({values})"
    triggers = {
        "insert": f"AFTER INSERT ON {t} WHEN {new_ok} BEGIN {upsert}; END",
        "update6": f"AFTER UPDATE OF {g} ON {t} WHEN OLD.fid = NEW.fid AND {new_ok} AND {old_ok} "
        f"BEGIN UPDATE {r} SET minx = ST_MinX(NEW.{g}), maxx = ST_MaxX(NEW.{g}), "
        f"miny = ST_MinY(NEW.{g}), maxy = ST_MaxY(NEW.{g}) WHERE id = NEW.fid; END",
        "update7": f"AFTER UPDATE OF {g} ON {t} WHEN OLD.fid = NEW.fid AND {new_ok} "
        f"AND NOT {old_ok} BEGIN INSERT INTO {r} VALUES ({values}); END",
        "update2": f"AFTER UPDATE OF {g} ON {t} WHEN OLD.fid = NEW.fid AND NOT {new_ok} "
        f"BEGIN DELETE FROM {r} WHERE id = OLD.fid; END",
        "update5": f"AFTER UPDATE ON {t} WHEN OLD.fid != NEW.fid AND {new_ok} "
        f"BEGIN DELETE FROM {r} WHERE id = OLD.fid; {upsert}; END",
        "update4": f"AFTER UPDATE ON {t} WHEN OLD.fid != NEW.fid AND NOT {new_ok} "
        f"BEGIN DELETE FROM {r} WHERE id IN (OLD.fid, NEW.fid); END",
        "delete": f"AFTER DELETE ON {t} WHEN OLD.{g} NOT NULL "
        f"BEGIN DELETE FROM {r} WHERE id = OLD.fid; END",
    }
    for suffix, body in triggers.items():
        con.execute(f"CREATE TRIGGER {quote(f'{rtree}_{suffix}')} {body}")
    con.execute(
        "INSERT OR REPLACE INTO gpkg_extensions (table_name, column_name, extension_name, "
        "definition, scope) VALUES (?, ?, 'gpkg_rtree_index', "
        "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        (table, GEOMETRY_COLUMN),
    )


def not_a_project(path: str | Path, exc: sqlite3.DatabaseError) -> ProjectFormatError:
    """The error for a file SQLite cannot read as a database."""
    return ProjectFormatError(
        _("the project file is damaged ({exc})").format(exc=exc),
        _("Restore it from a backup."),
        path=str(path),
    )
