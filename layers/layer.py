"""The layer data model: what a layer *is*, independent of how it is drawn or stored.

A layer keeps its data in its own CRS and hands out reprojected copies on demand, cached per
target CRS, so a project can mix EPSG:4326 downloads, state plane and CGCS2000 files and still
draw and analyse everything in the project CRS ("on-the-fly reprojection", as in QGIS).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from pyproj import CRS

from .crs import crs_label
from .roles import LayerRole
from .style import Style

if TYPE_CHECKING:
    import geopandas as gpd


def slugify(name: str) -> str:
    """A table-safe identifier: GeoPackage table names must be plain SQL identifiers.
    A name with Latin letters keeps them ("Neighborhoods 街区" -> neighborhoods); a Chinese
    name is spelt in pinyin (道路中心线 -> dao_lu_zhong_xin_xian), so the id stays readable
    instead of becoming a random one."""
    text = name.strip()
    if not re.search(r"[A-Za-z]", text) and re.search(r"[\u3400-\u9fff]", text):
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


@dataclass(eq=False, kw_only=True)
class VectorLayer(Layer):
    """Features in a GeoDataFrame, in the layer's own CRS."""

    data: gpd.GeoDataFrame
    _cache: dict[str, gpd.GeoDataFrame] = field(default_factory=dict, repr=False)

    kind = "vector"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.data is None:
            raise ValueError("a VectorLayer needs data")

    @property
    def crs(self) -> CRS | None:
        return self.data.crs

    @property
    def extent(self) -> tuple[float, float, float, float]:
        if len(self.data) == 0:
            return (np.nan, np.nan, np.nan, np.nan)
        x0, y0, x1, y1 = (float(v) for v in self.data.total_bounds)
        return (x0, y0, x1, y1)

    @property
    def feature_count(self) -> int:
        return len(self.data)

    @property
    def geometry_type(self) -> str:
        """Dominant geometry family: Point, LineString, Polygon (multi-parts folded in)."""
        types = self.data.geom_type.dropna().str.replace("Multi", "", regex=False)
        return str(types.mode().iloc[0]) if len(types) else "Unknown"

    @property
    def fields(self) -> list[str]:
        return [c for c in self.data.columns if c != self.data.geometry.name]

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
        self.data = data
        self._cache.clear()

    def describe(self) -> dict[str, Any]:
        info = super().describe()
        info.update(
            features=self.feature_count,
            geometry=self.geometry_type,
            fields=self.fields,
        )
        return info


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
