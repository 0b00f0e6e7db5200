"""Geometry converted to Qt on demand, from the layer's coordinate arrays.

A feature becomes one ``QPolygonF`` per ring or line part, filled straight from the layer's
coordinate array (:class:`~citydesk.layers.compact_geometry.CompactGeometry`) through the
polygon's memory buffer: no Python loop over vertices, no shapely object, no Qt item per
feature. Conversion is lazy: a render converts only the features it must draw as shapes
(visible, and at least a pixel across) and keeps them for the next render. Features smaller
than a pixel are drawn as single pixels straight into the image (see ``renderer``), so a
whole-city view of 500k parcels never converts them at all. The bounds array answers "what
is in the view".
"""

from __future__ import annotations

import functools
import threading

import numpy as np
import shapely
from PyQt5.QtGui import QPainterPath, QPolygonF

from citydesk.layers.compact_geometry import CompactGeometry, children


def _qpolygon(xy: np.ndarray) -> QPolygonF:
    poly = QPolygonF(len(xy))
    ptr = poly.data()
    ptr.setsize(len(xy) * 16)
    np.frombuffer(ptr, dtype=np.float64).reshape(-1, 2)[:] = xy
    return poly


class GeometryCache:
    """Per-layer drawing data in the project CRS: bounds, centres and Qt shapes, made from
    the layer's coordinate arrays (:class:`CompactGeometry`) without shapely objects."""

    def __init__(self, geometry: CompactGeometry, kind: str) -> None:
        self.kind = kind  # "polygon", "line" or "point"
        self.geometry = geometry
        n = len(geometry)
        self.bounds = geometry.bounds
        self.valid = ~np.isnan(self.bounds[:, 0])
        self._shapes: list[list | None] = [None] * n
        # renders of one layer may overlap (a stale one finishing while a new one starts)
        self._lock = threading.Lock()
        self._label_points: np.ndarray | None = None

    def _mean_points(self) -> np.ndarray:
        """The centroid of each point feature (a multipoint's mean), as shapely gives it."""
        off = self.geometry.coordinate_offsets()
        counts = np.diff(off)
        has = counts > 0
        out = np.full((len(counts), 2), np.nan)
        xy = self.geometry.xy
        starts = off[:-1][has]
        out[has, 0] = np.add.reduceat(xy[:, 0], starts) / counts[has]
        out[has, 1] = np.add.reduceat(xy[:, 1], starts) / counts[has]
        return out

    @functools.cached_property
    def centers(self) -> np.ndarray:
        """Each feature's bounds centre (a point feature: its point, a multipoint's mean);
        made when first asked, as only point layers and labels need them."""
        centers = np.column_stack(
            [
                (self.bounds[:, 0] + self.bounds[:, 2]) / 2,
                (self.bounds[:, 1] + self.bounds[:, 3]) / 2,
            ]
        )
        if self.kind == "point" and len(self.geometry.coords):
            centers[self.valid] = self._mean_points()[self.valid]
        return centers

    @property
    def points(self) -> np.ndarray:
        return self.centers

    def visible(self, extent: tuple[float, float, float, float]) -> np.ndarray:
        """Features whose bounds meet ``extent``, in order."""
        return self.geometry.meeting(extent)

    def sizes_in_pixels(self, idx: np.ndarray, units_per_pixel: float) -> np.ndarray:
        b = self.bounds[idx]
        return np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) / units_per_pixel

    def label_points(self, idx: np.ndarray) -> np.ndarray:
        """A point inside each feature (computed on first use, then cached)."""
        with self._lock:
            if self._label_points is None:
                self._label_points = np.full((len(self.geometry), 2), np.nan)
            todo = idx[np.isnan(self._label_points[idx, 0])]
            if len(todo):
                geoms = self.geometry.take(todo).to_shapely()
                pts = shapely.point_on_surface(geoms)
                self._label_points[todo] = shapely.get_coordinates(pts)[:, :2]
            return self._label_points[idx]

    def shapes(self, i: int) -> list:
        return self._shapes[i] or []

    def unconverted(self, idx: np.ndarray) -> int:
        """How many of the features ``idx`` have no Qt shapes yet."""
        return sum(1 for i in idx if self._shapes[i] is None)

    def ensure(self, idx: np.ndarray) -> None:
        """Convert the features ``idx`` that are not converted yet, straight from the arrays."""
        with self._lock:
            todo = np.array([i for i in idx if self._shapes[i] is None], dtype=np.int64)
            if len(todo) == 0:
                return
            built = self._convert(todo) if self.kind in ("line", "polygon") else {}
            for i in todo:
                self._shapes[i] = built.get(int(i), [])

    def _convert(self, todo: np.ndarray) -> dict[int, list]:
        """One QPolygonF per line part or hole-free polygon; a QPainterPath per polygon with
        holes (so they are cut out). A polygon layer's line parts, if any, are not drawn."""
        g = self.geometry
        if self.kind == "polygon" and g.family != "polygon":
            return {}
        xy = g.xy
        parts, part_offsets = children(g.feature_offsets, todo)
        owners = np.repeat(todo, np.diff(part_offsets))
        r0, r1 = g.part_offsets[parts], g.part_offsets[parts + 1]
        first = np.minimum(r0, len(g.ring_offsets) - 2)  # a part without rings has none
        c0, c1 = g.ring_offsets[first], g.ring_offsets[first + 1]
        ring_offsets = g.ring_offsets
        built: dict[int, list] = {}
        rows = zip(owners.tolist(), r0.tolist(), r1.tolist(), c0.tolist(), c1.tolist(), strict=True)
        for owner, a, b, s, e in rows:
            shapes = built.setdefault(owner, [])
            if b - a == 1:
                if e > s:
                    shapes.append(_qpolygon(xy[s:e]))
            elif b > a:
                path = QPainterPath()
                for r in range(a, b):
                    path.addPolygon(_qpolygon(xy[ring_offsets[r] : ring_offsets[r + 1]]))
                shapes.append(path)
        return built


def build_cache(geoms: CompactGeometry | np.ndarray, kind: str) -> GeometryCache:
    """The drawing cache of ``geoms``: a layer's arrays, or shapely geometries (a fetched
    view of a shared layer, a selection), turned into arrays here."""
    if not isinstance(geoms, CompactGeometry):
        family = {"point": "point", "line": "line"}.get(kind, "polygon")
        geoms = CompactGeometry.for_drawing(np.asarray(geoms, dtype=object), family)
    return GeometryCache(geoms, kind)
