"""A project layer whose features live in a PostGIS database, shared between departments.

It is a :class:`~citydesk.layers.layer.VectorLayer` to everything that reads ``data``
(analyses, the attribute table, identify, exports): the table is read whole on first use and
kept until :meth:`SharedLayer.forget`. The canvas does not need it whole: it calls
:meth:`SharedLayer.fetch` with the view, which reads only the features in it through the GiST
index, on the render threads. Extent, count, CRS, geometry type and fields come from the
database's description (and the catalogue), not from reading the features, so a project with
a 500,000-parcel shared layer opens without reading them.

The project file keeps the URL without password, the table's description and the last
extent and count seen: a layer whose database is down still has its name, style and place in
the tree, and comes back when the database does.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from pyproj import CRS

from .crs import transformer
from .errors import CityDeskError
from .layer import Layer, VectorLayer
from .shared_db import SharedDatabase, SharedLayerError, shared_database
from .shared_table import SharedTable, crs_of, inspect_table, read_features

if TYPE_CHECKING:
    import geopandas as gpd

    from .shared_catalogue import CatalogueEntry

#: "not read by the caller" (None means "read: not in the catalogue")
MISSING: Any = object()

log = logging.getLogger(__name__)

_FAMILY = {
    "POINT": "Point",
    "MULTIPOINT": "Point",
    "LINESTRING": "LineString",
    "MULTILINESTRING": "LineString",
    "POLYGON": "Polygon",
    "MULTIPOLYGON": "Polygon",
}


@dataclass(eq=False, kw_only=True, repr=False)
class SharedLayer(VectorLayer):
    """Features in ``table`` of the database at ``url`` (stored without password)."""

    url: str
    table: SharedTable
    known_extent: tuple[float, float, float, float] | None = None
    known_count: int | None = None
    _frame: Any = field(default=None, repr=False)
    _load_lock: Any = field(default_factory=threading.Lock, repr=False)

    kind = "shared"

    def __post_init__(self) -> None:
        Layer.__post_init__(self)  # no features yet: they are read when first asked for
        if not self.source:
            self.source = f"{self.url} {self.table.label}"

    def __repr__(self) -> str:
        return f"SharedLayer(id={self.id!r}, table={self.table.label!r}, url={self.url!r})"

    # --- the features, read when first needed ----------------------------------------------
    def _get_data(self) -> gpd.GeoDataFrame:
        with self._load_lock:
            if self._frame is None:
                log.info("reading shared layer %s from %s", self.table.label, self.url)
                self._frame = read_features(self.database, self.table)
                self.known_count = len(self._frame)
            return self._frame

    def _set_data(self, value: gpd.GeoDataFrame | None) -> None:
        self._frame = value
        if hasattr(self, "_cache"):
            self._cache.clear()

    data = property(_get_data, _set_data)

    @property
    def loaded(self) -> bool:
        return self._frame is not None

    def forget(self) -> None:
        """Drop the features read so far (after an edit, or to see others' edits)."""
        self._set_data(None)

    # --- what the database says, without reading the features ------------------------------
    @property
    def database(self) -> SharedDatabase:
        return shared_database(self.url)

    @property
    def crs(self) -> CRS | None:
        return crs_of(self.table)

    @property
    def extent(self) -> tuple[float, float, float, float]:
        if self.known_extent is None:
            return (np.nan, np.nan, np.nan, np.nan)
        return self.known_extent

    @property
    def feature_count(self) -> int:
        return int(self.known_count or 0)

    @property
    def geometry_type(self) -> str:
        return _FAMILY.get(self.table.geometry_type, "Polygon")

    @property
    def fields(self) -> list[str]:
        return list(self.table.fields)

    @property
    def editable(self) -> bool:
        """Can CityDesk edit it: a table (not a view) with the version column that keeps two
        editors from overwriting each other (one published with CityDesk)."""
        return self.table.versioned and not self.table.is_view

    def refresh(self) -> None:
        """Check the table again and read its extent and count (the catalogue's when it is
        catalogued). Raises :class:`SharedLayerError` with the reason when it is not usable:
        the project then lists the layer as unavailable."""
        try:
            self.table = inspect_table(
                self.database,
                self.table.table,
                self.table.schema,
                self.table.geometry_column,
                None if not self.table.is_view else self.table.key,
            )
            self.known_extent, self.known_count = table_extent_and_count(self.database, self.table)
        except SharedLayerError:
            raise
        except CityDeskError as exc:
            raise SharedLayerError(exc.problem, exc.fix, gui_fix=exc.gui_fix) from exc
        self.forget()

    def fetch(
        self,
        bbox: tuple[float, float, float, float],
        crs: CRS | str | None = None,
        columns: list[str] | None = None,
    ) -> gpd.GeoDataFrame:
        """The features meeting ``bbox`` (given in ``crs``, default the layer's), in ``crs``,
        with ``columns`` (default all): what the canvas draws for one view, which needs only
        the geometry and the style's fields."""
        target = CRS.from_user_input(crs) if crs is not None else self.crs
        own = self.crs
        box = bbox
        if target is not None and own is not None and target != own:
            box = transformer(target, own).transform_bounds(*bbox, densify_pts=21)
        if self._frame is not None:  # already read whole: no round trip
            frame = self._frame.cx[box[0] : box[2], box[1] : box[3]]
        else:
            frame = read_features(self.database, self.table, bbox=box, columns=columns)
        if target is not None and own is not None and target != own:
            frame = frame.to_crs(target)
        return frame

    def features(self, keys: list[Any], crs: CRS | str | None = None) -> gpd.GeoDataFrame:
        """The features with these keys (a selection), in ``crs``, without reading the rest."""
        if self._frame is not None:
            frame = self._frame.loc[self._frame.index.intersection(keys)]
        else:
            frame = read_features(self.database, self.table, keys=list(keys))
        return frame.to_crs(crs) if crs is not None and self.crs is not None else frame

    def describe(self) -> dict[str, Any]:
        info = Layer.describe(self)
        info.update(
            features=self.feature_count,
            geometry=self.geometry_type,
            fields=self.fields,
            database=self.url,
            table=self.table.label,
            editable=self.editable,
        )
        return info

    def record(self) -> dict[str, Any]:
        """What the project file keeps besides the common settings."""
        return {
            "url": self.url,
            "table": self.table.to_dict(),
            "extent": list(self.known_extent) if self.known_extent else None,
            "count": self.known_count,
        }


def _check_srid_fits(table: SharedTable, extent) -> None:
    """A table whose coordinates do not fit its SRID (metres labelled 4326, swapped axes,
    another zone) is refused with the reason, before anything is drawn in the wrong place."""
    from .crs import check_coordinates_fit_crs
    from .i18n import _

    if extent is None:
        return
    fits = check_coordinates_fit_crs(extent, crs_of(table))
    if not fits.ok:
        raise SharedLayerError(
            _("the geometries of {table} do not fit their SRID {srid}: {why}").format(
                table=table.label, srid=table.srid, why=fits.problem
            ),
            _(
                "Set the real SRID in the database: ALTER TABLE {table} ALTER COLUMN {column} "
                "TYPE geometry USING ST_SetSRID({column}, EPSG_CODE)"
            ).format(table=table.label, column=table.geometry_column),
        )


def table_extent_and_count(
    db: SharedDatabase, table: SharedTable, entry: CatalogueEntry | None = MISSING
) -> tuple[tuple[float, float, float, float] | None, int]:
    """The catalogue's extent and count of a catalogued layer (kept up to date by its
    triggers; ``entry`` when the caller has read it), or the table's own (one scan) for any
    other table or view; checked against the table's SRID."""
    if entry is MISSING:
        from .shared_catalogue import catalogue_entry

        entry = catalogue_entry(db, table.table) if table.schema == db.schema else None
    extent: tuple[float, float, float, float] | None
    if entry is not None and entry.extent is not None:
        extent, count = entry.extent, entry.feature_count
    else:
        extent, count = _scanned_extent_and_count(db, table)
    _check_srid_fits(table, extent)
    return extent, count


def _scanned_extent_and_count(
    db: SharedDatabase, table: SharedTable
) -> tuple[tuple[float, float, float, float] | None, int]:
    from psycopg import sql

    from .shared_db import qualified

    with db.connection() as con:
        row = con.execute(
            sql.SQL(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e), n FROM "
                "(SELECT ST_Extent({g}) AS e, count(*) AS n FROM {t}) s"
            ).format(
                g=sql.Identifier(table.geometry_column), t=qualified(table.schema, table.table)
            )
        ).fetchone()
    if row is None or row[0] is None:
        return None, int(row[4]) if row else 0
    return (float(row[0]), float(row[1]), float(row[2]), float(row[3])), int(row[4])


def open_shared_layer(
    url: str,
    table: str,
    *,
    schema: str | None = None,
    name: str | None = None,
    geometry_column: str | None = None,
    key: str | None = None,
) -> SharedLayer:
    """A project layer for ``schema.table`` in the database at ``url`` (checked now)."""
    from .shared_catalogue import catalogue_entry

    db = shared_database(url)
    described = inspect_table(db, table, schema, geometry_column, key)
    entry = catalogue_entry(db, described.table) if described.schema == db.schema else None
    extent, count = table_extent_and_count(db, described, entry)
    title = name or (entry.title if entry else None) or table
    return SharedLayer(
        name=title,
        data=None,
        url=db.location,
        table=described,
        known_extent=extent,
        known_count=count,
    )


def shared_in_place_of(layer: Layer, url: str, table: str) -> SharedLayer:
    """The shared table ``table`` as a project layer standing in for ``layer`` (just
    published from it): same id, name, style, role, visibility and opacity."""
    shared = open_shared_layer(url, table, name=layer.name)
    shared.id, shared.style, shared.role = layer.id, layer.style, layer.role
    shared.visible, shared.opacity = layer.visible, layer.opacity
    return shared


def shared_layer_from_record(settings: dict[str, Any], record: dict[str, Any]) -> SharedLayer:
    """The layer a project file describes, without connecting (see :meth:`refresh`)."""
    extent = record.get("extent")
    return SharedLayer(
        **settings,
        data=None,
        url=str(record["url"]),
        table=SharedTable.from_dict(record["table"]),
        known_extent=tuple(float(v) for v in extent) if extent else None,  # type: ignore[arg-type]
        known_count=record.get("count"),
    )


__all__ = [
    "SharedLayer",
    "SharedLayerError",
    "open_shared_layer",
    "shared_in_place_of",
    "shared_layer_from_record",
    "table_extent_and_count",
]
