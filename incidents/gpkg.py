"""The GeoPackage parts the case store writes itself: the core tables of an empty
GeoPackage, and point geometry blobs, so the case table opens in QGIS as a point layer.

A GeoPackage geometry is a small header ("GP", version, flags, SRS id) followed by WKB
(OGC GeoPackage 1.2, clause 2.1.3). Cases are points, so only points are written here.
"""

from __future__ import annotations

import sqlite3
import struct

import numpy as np
import shapely

_FLAGS_LE_NO_ENVELOPE = 0b0000_0001
_APPLICATION_ID = 0x47504B47  # "GPKG"
_USER_VERSION = 10200  # GeoPackage 1.2, what QGIS 3.22 opens without a warning

_WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],'
    'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4326"]]'
)

# OGC 12-128r15, clauses 1.1.2, 1.1.3 and 2.1.5 (the required tables and rows)
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
]
_SRS_ROWS = [
    ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian"),
    ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic"),
    ("WGS 84 geodetic", 4326, "EPSG", 4326, _WGS84_WKT, "longitude/latitude WGS 84"),
]


def ensure_geopackage(con: sqlite3.Connection) -> bool:
    """Make a new or plain SQLite file a GeoPackage (a project file already is one), inside
    the caller's transaction, so a case store is always a file QGIS and GDAL can open.
    Returns True when it set the header: in WAL mode the caller must checkpoint after the
    commit, because GDAL reads the application id from the file's first bytes, not through
    SQLite, and would see the old header while the new one sits in the log."""
    for ddl in _CORE_DDL:
        con.execute(ddl)
    con.executemany(
        "INSERT OR IGNORE INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization, "
        "organization_coordsys_id, definition, description) VALUES (?, ?, ?, ?, ?, ?)",
        _SRS_ROWS,
    )
    if con.execute("PRAGMA application_id").fetchone()[0] != _APPLICATION_ID:
        con.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
        con.execute(f"PRAGMA user_version = {_USER_VERSION}")
        return True
    return False


def point_blobs(x, y, srs_id: int = 4326) -> list[bytes | None]:
    """GeoPackage point blobs (header + little-endian WKB) for many points at once; None
    where a coordinate is missing."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    header = b"GP" + struct.pack("<BBi", 0, _FLAGS_LE_NO_ENVELOPE, srs_id)
    out: list[bytes | None] = [None] * len(x)
    wkbs = shapely.to_wkb(shapely.points(x[ok], y[ok]), byte_order=1)
    for i, wkb in zip(np.flatnonzero(ok), wkbs, strict=True):
        out[i] = header + wkb
    return out
