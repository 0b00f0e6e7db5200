"""A table or view in a PostGIS database, described and read as a layer's features.

:func:`inspect_table` checks what a layer needs before anything is drawn: the table exists, it
has one geometry column with a known SRID, and one key column that names a feature (a table's
primary key; a view has none, so the user names it). Each failure is one message with its
fix. :func:`read_features` reads the whole table or, for the canvas, only the features whose
bounding box meets the view: ``geom && ST_MakeEnvelope(...)``, which the GiST index answers.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from psycopg import sql
from pyproj import CRS

from .i18n import _
from .shared_db import SharedDatabase, SharedLayerError, qualified

log = logging.getLogger(__name__)

#: the column that carries a feature's version (raised by a trigger on every update)
VERSION_COLUMN = "citydesk_version"

_RELATION_KINDS = {"r": "table", "p": "table", "v": "view", "m": "view", "f": "table"}


@dataclass(frozen=True)
class SharedTable:
    """Where a shared layer's features are, and their shape."""

    schema: str
    table: str
    geometry_column: str
    key: str
    srid: int
    geometry_type: str  # PostGIS' name: POLYGON, MULTIPOLYGON, ..., GEOMETRY
    fields: tuple[str, ...] = ()
    versioned: bool = False  # has citydesk_version: edits are checked against it
    is_view: bool = False

    @property
    def label(self) -> str:
        return f"{self.schema}.{self.table}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "table": self.table,
            "geometry_column": self.geometry_column,
            "key": self.key,
            "srid": self.srid,
            "geometry_type": self.geometry_type,
            "fields": list(self.fields),
            "versioned": self.versioned,
            "is_view": self.is_view,
        }

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> SharedTable:
        return cls(
            schema=str(record["schema"]),
            table=str(record["table"]),
            geometry_column=str(record["geometry_column"]),
            key=str(record["key"]),
            srid=int(record["srid"]),
            geometry_type=str(record.get("geometry_type") or "GEOMETRY"),
            fields=tuple(str(f) for f in record.get("fields") or ()),
            versioned=bool(record.get("versioned")),
            is_view=bool(record.get("is_view")),
        )


def inspect_table(
    db: SharedDatabase,
    table: str,
    schema: str | None = None,
    geometry_column: str | None = None,
    key: str | None = None,
) -> SharedTable:
    """The layer description of ``schema.table`` (the URL's schema when not given), checked."""
    schema = schema or db.schema
    label = f"{schema}.{table}"
    with db.connection() as con:
        kind = con.execute(
            "SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s",
            (schema, table),
        ).fetchone()
        if kind is None or kind[0] not in _RELATION_KINDS:
            raise SharedLayerError(
                _("there is no table or view {table} in the database {url}").format(
                    table=label, url=db.location
                ),
                _(
                    "It was deleted or renamed. List the shared layers with: citydesk layers "
                    "catalogue URL; or remove the layer from the project."
                ),
                gui_fix=_(
                    "It was deleted or renamed. Look for it in Project > Add shared layer, or "
                    "remove the layer from the project."
                ),
            )
        geometries = con.execute(
            "SELECT f_geometry_column, srid, type FROM geometry_columns "
            "WHERE f_table_schema = %s AND f_table_name = %s ORDER BY f_geometry_column",
            (schema, table),
        ).fetchall()
        columns = con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
            "AND table_name = %s ORDER BY ordinal_position",
            (schema, table),
        ).fetchall()
        primary = con.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indisprimary "
            "AND i.indrelid = (quote_ident(%s) || '.' || quote_ident(%s))::regclass",
            (schema, table),
        ).fetchall()
        chosen = _geometry(geometries, geometry_column, label)
        srid = int(chosen[1]) or _srid_of_data(con, schema, table, chosen[0])
        _check_srid(con, srid, label, chosen[0])
    names = [c[0] for c in columns]
    key = key or _primary_key([p[0] for p in primary], label)
    if key not in names:
        raise SharedLayerError(
            _("the table {table} has no column {column}").format(table=label, column=key),
            _("Name one of its columns: {names}").format(names=", ".join(names)),
        )
    geometry_names = {g[0] for g in geometries}
    fields = tuple(n for n in names if n not in geometry_names and n != VERSION_COLUMN)
    return SharedTable(
        schema=schema,
        table=table,
        geometry_column=str(chosen[0]),
        key=key,
        srid=srid,
        geometry_type=str(chosen[2]).upper(),
        fields=fields,
        versioned=VERSION_COLUMN in names,
        is_view=_RELATION_KINDS[kind[0]] == "view",
    )


def _geometry(rows: list[Any], wanted: str | None, label: str) -> tuple[Any, ...]:
    if not rows:
        raise SharedLayerError(
            _("the table {table} has no geometry column").format(table=label),
            _(
                "Add one (ALTER TABLE ... ADD COLUMN geom geometry(Polygon, 4326)), or open "
                "the table as attributes only."
            ),
        )
    if wanted is None and len(rows) == 1:
        return tuple(rows[0])
    found = [r for r in rows if r[0] == wanted]
    if not found:
        raise SharedLayerError(
            _("the table {table} has several geometry columns or none named {column}").format(
                table=label, column=wanted or ""
            ),
            _("Choose one: {names} (--geometry-column)").format(
                names=", ".join(str(r[0]) for r in rows)
            ),
        )
    return tuple(found[0])


def _primary_key(columns: list[str], label: str) -> str:
    if len(columns) == 1:
        return columns[0]
    raise SharedLayerError(
        _("the table {table} has no single-column primary key").format(table=label),
        _(
            "Add one (ALTER TABLE ... ADD COLUMN fid bigserial PRIMARY KEY), or name the "
            "column that identifies a feature (--key)."
        ),
        gui_fix=_(
            "Add one (ALTER TABLE ... ADD COLUMN fid bigserial PRIMARY KEY), or type the "
            "column that identifies a feature in the key column box."
        ),
    )


def _srid_of_data(con: Any, schema: str, table: str, column: str) -> int:
    """A view or an unconstrained column says SRID 0: the data may still carry one."""
    row = con.execute(
        sql.SQL("SELECT ST_SRID({g}) FROM {t} WHERE {g} IS NOT NULL LIMIT 1").format(
            g=sql.Identifier(column), t=qualified(schema, table)
        )
    ).fetchone()
    return int(row[0]) if row else 0


def _check_srid(con: Any, srid: int, label: str, column: str) -> None:
    if srid == 0:
        raise SharedLayerError(
            _("the geometries of {table} have no SRID (0), so their CRS is unknown").format(
                table=label
            ),
            _(
                "Set it in the database: ALTER TABLE {table} ALTER COLUMN {column} TYPE "
                "geometry USING ST_SetSRID({column}, EPSG_CODE)"
            ).format(table=label, column=column),
        )
    known = con.execute("SELECT 1 FROM spatial_ref_sys WHERE srid = %s", (srid,)).fetchone()
    if known is None:
        raise SharedLayerError(
            _("the SRID {srid} of {table} is not in the database's spatial_ref_sys").format(
                srid=srid, table=label
            ),
            _("Use an EPSG code the database knows, or add the CRS to spatial_ref_sys."),
        )


def crs_of(table: SharedTable) -> CRS:
    """The layer's CRS (PostGIS SRIDs are EPSG codes unless added by hand, and
    :func:`inspect_table` checked the database knows it); built once per SRID, as every
    fetch of a view asks for it."""
    return _epsg_crs(table.srid)


@functools.cache
def _epsg_crs(srid: int) -> CRS:
    return CRS.from_epsg(srid)


def read_features(
    db: SharedDatabase,
    table: SharedTable,
    bbox: tuple[float, float, float, float] | None = None,
    columns: list[str] | None = None,
    keys: list[Any] | None = None,
) -> gpd.GeoDataFrame:
    """The features of ``table`` (those whose box meets ``bbox``, in the table's CRS, or
    those with ``keys``, when given), with ``columns`` (default: every field; the key
    always), indexed by the key: a feature has the same label whether the
    layer was read whole or one view of it, so a selection means the same features."""
    wanted = list(table.fields if columns is None else columns)
    if table.key not in wanted:
        wanted.insert(0, table.key)
    geom = sql.Identifier(table.geometry_column)
    query = sql.SQL("SELECT {cols}, ST_AsBinary({g}) FROM {t}").format(
        cols=sql.SQL(", ").join(sql.Identifier(c) for c in wanted),
        g=geom,
        t=qualified(table.schema, table.table),
    )
    params: tuple[Any, ...] = ()
    if bbox is not None:
        query += sql.SQL(" WHERE {g} && ST_MakeEnvelope(%s, %s, %s, %s, %s)").format(g=geom)
        params = (*[float(v) for v in bbox], table.srid)
    else:  # the whole table or a selection: in key order (a view's order does not matter)
        if keys is not None:
            query += sql.SQL(" WHERE {k} = ANY(%s)").format(k=sql.Identifier(table.key))
            params = ([plain(k) for k in keys],)
        query += sql.SQL(" ORDER BY {k}").format(k=sql.Identifier(table.key))
    with db.connection() as con:
        cur = con.cursor(binary=True)
        cur.execute(query, params)
        rows = cur.fetchall()
    frame = _frame(rows, wanted, crs_of(table))
    frame.index = pd.Index(frame[table.key].to_numpy(), name=None)
    return frame


def plain(value: Any) -> Any:
    """A numpy scalar (a label from a frame) as the Python value the driver sends."""
    return value.item() if hasattr(value, "item") else value


def _frame(rows: list[tuple[Any, ...]], names: list[str], crs: CRS) -> gpd.GeoDataFrame:
    if rows:
        columns = list(zip(*rows, strict=True))
        blobs = np.asarray(columns[-1], dtype=object)
        data = {n: _column(values) for n, values in zip(names, columns[:-1], strict=True)}
    else:
        blobs = np.asarray([], dtype=object)
        data = {n: pd.Series([], dtype=object) for n in names}
    geometry = shapely.from_wkb(blobs)
    return gpd.GeoDataFrame(pd.DataFrame(data), geometry=geometry, crs=crs)


def _column(values: tuple[Any, ...]) -> pd.Series:
    """Decimals (numeric columns) as floats; everything else as pandas infers it."""
    from decimal import Decimal

    if any(isinstance(v, Decimal) for v in values):
        return pd.Series([None if v is None else float(v) for v in values], dtype="float64")
    return pd.Series(values)
