"""The layer data model: what a layer *is*, independent of how it is drawn or stored.

A layer keeps its data in its own CRS and hands out reprojected copies on demand, cached per
target CRS, so a project can mix EPSG:4326 downloads, state plane and CGCS2000 files and still
draw and analyse everything in the project CRS ("on-the-fly reprojection", as in QGIS).
"""

from __future__ import annotations

import dataclasses
import os
import re
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from pyproj import CRS

from .crs import crs_label
from .roles import LayerRole
from .style import Style

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from .compact_geometry import CompactFeatures, CompactGeometry


def slugify(name: str) -> str:
    """A table-safe identifier: GeoPackage table names must be plain SQL identifiers.
    A name with Latin letters keeps them ("Neighborhoods 街区" -> neighborhoods); a Chinese
    name is spelt in pinyin (道路中心线 -> dao_lu_zhong_xin_xian), so the id stays readable
    instead of becoming a random one. A qualifier in brackets does not make a name Latin:
    a drawing's "地块 (polygons)" and "绿地 (polygons)" are di_kuai_polygons and
    lv_di_polygons, not both "polygons"."""
    text = name.strip()
    core = re.sub(r"\([^)]*\)", "", text)
    if not re.search(r"[A-Za-z]", core) and re.search(r"[\u3400-\u9fff]", text):
        from pypinyin import lazy_pinyin

        text = "_".join(lazy_pinyin(text))
    slug = re.sub(r"[^0-9A-Za-z_]+", "_", text).strip("_").lower()
    slug = re.sub(r"_{2,}", "_", slug)
    if not slug or slug[0].isdigit():
        slug = f"layer_{slug}" if slug else f"layer_{uuid.uuid4().hex[:8]}"
    return slug[:60]


@dataclass(eq=False)
class Layer:
    """Common attributes of vector and raster layers."""

    name: str
    source: str = ""
    role: LayerRole = LayerRole.OTHER
    style: Style = field(default_factory=Style)
    visible: bool = True
    opacity: float = 1.0
    id: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.role = LayerRole(self.role)
        if not self.id:
            self.id = slugify(self.name)
        if not 0.0 <= self.opacity <= 1.0:
            raise ValueError(f"opacity {self.opacity} is not between 0 and 1")

    kind = "layer"

    @property
    def crs(self) -> CRS | None:  # pragma: no cover - overridden
        raise NotImplementedError

    def label_crs(self, crs: CRS) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def extent(self) -> tuple[float, float, float, float]:  # pragma: no cover - overridden
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "role": str(self.role),
            "crs": crs_label(self.crs),
            "extent": [round(v, 6) for v in self.extent],
            "source": self.source,
        }


class _Features:
    """The ``data`` field of a :class:`VectorLayer`: set with a GeoDataFrame, or with
    :class:`~citydesk.layers.compact_geometry.CompactFeatures` as a file reader makes them;
    read, it is always a GeoDataFrame, made on first read. (A descriptor is how a dataclass
    field computes on access; raising on class access leaves the field without a default.)"""

    def __get__(self, obj: VectorLayer | None, owner: type | None = None) -> gpd.GeoDataFrame:
        if obj is None:
            raise AttributeError("data")
        return obj._materialized()

    def __set__(self, obj: VectorLayer, value: gpd.GeoDataFrame | CompactFeatures) -> None:
        obj._hold(value)


_GEOMETRY_NAMES = {"point": "Point", "line": "LineString", "polygon": "Polygon"}


@dataclass(eq=False, kw_only=True)
class VectorLayer(Layer):
    """Features in the layer's own CRS: a GeoDataFrame, or, until something asks for one, the
    compact arrays a file was read into (:mod:`citydesk.layers.compact_geometry`).

    Drawing, the layer's extent, count, type and fields, its attribute values and its
    validation work on the compact form; ``data`` (an analysis, an edit, the attribute table)
    builds the GeoDataFrame once, exactly as read, and from then on it is the only copy.
    """

    _held_frame: gpd.GeoDataFrame | None = field(default=None, init=False, repr=False)
    _compact: CompactFeatures | None = field(default=None, init=False, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, init=False, repr=False)
    _drawing: dict[str, CompactGeometry] = field(default_factory=dict, init=False, repr=False)
    _cache: dict[str, gpd.GeoDataFrame] = field(default_factory=dict, init=False, repr=False)
    #: (file, table) that holds exactly these features: set by the project reader and after
    #: a save, cleared by anything that could change them (see :meth:`stored_in`)
    _stored: tuple[str, int, int, str] | None = field(default=None, init=False, repr=False)
    data: _Features = _Features()  # after the state it sets: __init__ assigns in this order

    kind = "vector"

    def __repr__(self) -> str:  # the generated one would print (and build) the whole frame
        return f"VectorLayer(name={self.name!r}, id={self.id!r}, features={self.feature_count})"

    def _hold(self, value: gpd.GeoDataFrame | CompactFeatures | None) -> None:
        if value is None:
            raise ValueError("a VectorLayer needs data")
        from .compact_geometry import CompactFeatures

        with self._lock:
            if isinstance(value, CompactFeatures):
                self._compact, self._held_frame = value, None
            else:
                self._compact, self._held_frame = None, value
            self._stored = None
            self._cache.clear()
            self._drawing.clear()

    def _materialized(self) -> gpd.GeoDataFrame:
        with self._lock:
            if self._held_frame is None:
                assert self._compact is not None
                self._held_frame = self._compact.to_frame()
                self._compact = None  # one copy: the frame may now be edited
                self._stored = None  # ... in place, where nothing would tell
                self._drawing.clear()
            return self._held_frame

    def stored_in(self, path: str | os.PathLike[str], table: str) -> bool:
        """True when ``table`` of the file ``path`` holds exactly these features: the layer
        still holds the arrays that table was read into or written from, and nothing has
        replaced them or built the editable frame since. A save leaves such a table as it
        is instead of rewriting it (every layer's table was rewritten on every save:
        1.4 s for the demo, most of a save; the cost grows with the project)."""
        with self._lock:
            now = _file_table(path, table)
            return self._compact is not None and now is not None and self._stored == now

    def mark_stored(self, path: str | os.PathLike[str], table: str) -> None:
        """Record that ``table`` of ``path`` now holds these features (a layer already
        holding an editable frame is never marked: an edit to it leaves no trace)."""
        with self._lock:
            if self._compact is not None:
                self._stored = _file_table(path, table)

    def frame_to_write(self) -> gpd.GeoDataFrame:
        """The features as a GeoDataFrame for a writer, without keeping it: a layer held as
        arrays stays so after a save (the frame is built for the write and dropped)."""
        held = self._compact
        return held.to_frame() if held is not None else self.data

    @property
    def held_features(self) -> CompactFeatures | None:
        """The arrays and attribute table the layer holds, None once it has a GeoDataFrame."""
        return self._compact

    @property
    def compact(self) -> bool:
        """True while the features are held as arrays (no GeoDataFrame made yet)."""
        return self._compact is not None

    @property
    def crs(self) -> CRS | None:
        held = self._compact
        if held is not None:
            return None if held.crs is None else CRS.from_user_input(held.crs)
        return self.data.crs

    def label_crs(self, crs: CRS) -> None:
        """Give features read without a CRS the one they were made in (no reprojection)."""
        held = self._compact
        if held is not None:
            self._hold(dataclasses.replace(held, crs=crs))
        else:
            self._hold(self.data.set_crs(crs, allow_override=True))

    @property
    def extent(self) -> tuple[float, float, float, float]:
        held = self._compact
        if held is not None:
            return held.geometry.total_bounds()
        if len(self.data) == 0:
            return (np.nan, np.nan, np.nan, np.nan)
        x0, y0, x1, y1 = (float(v) for v in self.data.total_bounds)
        return (x0, y0, x1, y1)

    @property
    def feature_count(self) -> int:
        held = self._compact
        return len(held) if held is not None else len(self.data)

    @property
    def geometry_type(self) -> str:
        """Dominant geometry family: Point, LineString, Polygon (multi-parts folded in)."""
        held = self._compact
        if held is not None:
            present = not held.geometry.missing.all()
            return _GEOMETRY_NAMES[held.geometry.family] if present else "Unknown"
        types = self.data.geom_type.dropna().str.replace("Multi", "", regex=False)
        return str(types.mode().iloc[0]) if len(types) else "Unknown"

    @property
    def fields(self) -> list[str]:
        held = self._compact
        if held is not None:
            return [str(c) for c in held.fields]
        return [c for c in self.data.columns if c != self.data.geometry.name]

    @property
    def attributes(self) -> pd.DataFrame:
        """A frame to read attribute columns from, without building geometry: the held
        attribute table, or the GeoDataFrame itself once there is one."""
        held = self._compact
        return held.attributes if held is not None else self.data

    def read_attributes(self) -> None:
        """Read now any attribute columns not read yet from the layer's file."""
        held = self._compact
        if held is not None:
            held.columns(held.fields)

    def column(self, name: str) -> pd.Series:
        """One attribute column, reading no others (see :meth:`columns`); a field the
        layer does not have is a message naming it."""
        frame = self.columns([name])
        if name not in frame.columns:
            from .errors import CityDeskError
            from .i18n import _

            raise CityDeskError(
                _("the layer has no field '{field}'").format(field=name),
                _("Choose one of: {fields}.").format(fields=", ".join(self.fields) or "-"),
            )
        return frame[name]

    def columns(self, names: Sequence[str]) -> pd.DataFrame:
        """The attribute columns ``names`` (those the layer has), reading no others: what a
        style or a label draws with. A layer held as arrays may not have read its
        attribute table yet, and reads only these columns from its file."""
        held = self._compact
        if held is not None:
            return held.columns(names)
        data = self.data
        return data[[n for n in names if n in data.columns and n != data.geometry.name]]

    def drawing_geometry(self, crs: CRS | str | None) -> CompactGeometry:
        """The geometry as arrays in ``crs``, for drawing (reprojected coordinates cached)."""
        from .compact_geometry import CompactGeometry

        with self._lock:
            held = self._compact
            if held is None:
                family = {v: k for k, v in _GEOMETRY_NAMES.items()}.get(
                    self.geometry_type, "polygon"
                )
                return CompactGeometry.for_drawing(self.in_crs(crs).geometry.values, family)
            key = "" if crs is None or held.crs is None else CRS.from_user_input(crs).to_wkt()
            if key not in self._drawing:
                self._drawing[key] = _reprojected(held, crs)
            return self._drawing[key]

    def features_in(
        self, box: tuple[float, float, float, float], crs: CRS | str | None
    ) -> gpd.GeoDataFrame:
        """The features to search for a click or an area ``box`` (in ``crs``), as a frame in
        ``crs``: for a layer held as arrays, only those whose bounds meet the box (built
        from the arrays; the layer stays as it is), else all of them (the frame's spatial
        index finds the box)."""
        with self._lock:
            held = self._compact
            if held is None:
                return self.in_crs(crs)
            geometry = self.drawing_geometry(crs)
        near = geometry.meeting(box)
        import geopandas as gpd

        attributes = held.attributes.iloc[near]  # the search reports every field
        geoms = gpd.GeoSeries(geometry.take(near).to_shapely(), index=attributes.index, crs=crs)
        return gpd.GeoDataFrame(attributes, geometry=geoms, crs=crs)

    def in_crs(self, crs: CRS | str | None) -> gpd.GeoDataFrame:
        """The features in ``crs`` (reprojected once, then cached). No CRS -> as stored."""
        if crs is None or self.crs is None:
            return self.data
        target = CRS.from_user_input(crs)
        if target == self.crs:
            return self.data
        key = target.to_wkt()
        if key not in self._cache:
            self._cache[key] = self.data.to_crs(target)
        return self._cache[key]

    def set_data(self, data: gpd.GeoDataFrame) -> None:
        """Replace the features (e.g. after a repair) and drop stale reprojections."""
        self._hold(data)

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info.update(
            features=self.feature_count,
            geometry=self.geometry_type,
            fields=self.fields,
        )
        return info


def _file_table(path: str | os.PathLike[str], table: str) -> tuple[str, int, int, str] | None:
    """A table of a file as the file is now: its path, device and inode (another file
    moved over the project's path is not the file the layer was read from), and the
    table."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (os.path.realpath(path), status.st_dev, status.st_ino, table)


def _reprojected(held: CompactFeatures, crs: CRS | str | None) -> CompactGeometry:
    """The held geometry's coordinates in ``crs``, transformed as geopandas' ``to_crs`` does
    (pyproj, x/y order, Z transformed with them)."""
    geometry = held.geometry
    if crs is None or held.crs is None:
        return geometry
    source, target = CRS.from_user_input(held.crs), CRS.from_user_input(crs)
    if source == target:
        return geometry
    from .crs import transformer

    to_target = transformer(source, target)
    coords = geometry.coords
    if geometry.has_z:
        x, y, z = to_target.transform(coords[:, 0], coords[:, 1], coords[:, 2])
        return geometry.with_coords(np.column_stack([x, y, z]))
    x, y = to_target.transform(coords[:, 0], coords[:, 1])
    return geometry.with_coords(np.column_stack([x, y]))


@dataclass(eq=False, kw_only=True)
class RasterLayer(Layer):
    """A gridded layer held in memory: bands x rows x cols, with an affine transform.

    City rasters (DEMs, land cover, suitability surfaces) are small enough to keep in memory;
    anything larger should be read windowed through :func:`citydesk.layers.io.read_raster`.
    """

    array: np.ndarray
    transform: Any  # affine.Affine
    raster_crs: CRS | None = None
    nodata: float | None = None
    units: str = ""

    kind = "raster"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.array is None or self.transform is None:
            raise ValueError("a RasterLayer needs an array and a transform")
        if self.array.ndim == 2:
            self.array = self.array[np.newaxis, ...]

    @property
    def crs(self) -> CRS | None:
        return self.raster_crs

    def label_crs(self, crs: CRS) -> None:
        """Give a raster read without a CRS the one it was made in (no reprojection)."""
        self.raster_crs = crs

    @property
    def shape(self) -> tuple[int, int, int]:
        bands, rows, cols = self.array.shape
        return (bands, rows, cols)

    @property
    def extent(self) -> tuple[float, float, float, float]:
        _, rows, cols = self.array.shape
        t = self.transform
        xs = [t.c, t.c + t.a * cols]
        ys = [t.f, t.f + t.e * rows]
        return (min(xs), min(ys), max(xs), max(ys))

    def masked(self, band: int = 1) -> np.ma.MaskedArray:
        """One band with nodata (and NaN) masked."""
        data = self.array[band - 1]
        mask = ~np.isfinite(data) if data.dtype.kind == "f" else np.zeros(data.shape, bool)
        if self.nodata is not None:
            mask |= data == self.nodata
        return np.ma.MaskedArray(data, mask=mask)

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        band = self.masked(1)
        info.update(
            bands=self.shape[0],
            size=[self.shape[2], self.shape[1]],
            resolution=[abs(self.transform.a), abs(self.transform.e)],
            dtype=str(self.array.dtype),
            nodata=self.nodata,
            units=self.units,
            min=float(band.min()) if band.count() else None,
            max=float(band.max()) if band.count() else None,
        )
        return info
