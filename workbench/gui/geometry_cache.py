"""Geometry converted to Qt on demand, vectorised through numpy, and indexed for culling.

A feature becomes one ``QPolygonF`` per ring or line part, filled straight from shapely's
coordinate array through the polygon's memory buffer: no Python loop over vertices, no Qt item
per feature. Conversion is lazy: a render converts only the features it must draw as shapes
(visible, and at least a pixel across) and keeps them for the next render. Features smaller
than a pixel are drawn as single pixels straight into the image (see ``renderer``), so a
whole-city view of 500k parcels never converts them at all. An STRtree answers "what is in
the view".
"""

from __future__ import annotations

import threading

import numpy as np
import shapely
from PyQt5.QtGui import QPainterPath, QPolygonF


def _qpolygon(xy: np.ndarray) -> QPolygonF:
    poly = QPolygonF(len(xy))
    ptr = poly.data()
    ptr.setsize(len(xy) * 16)
    np.frombuffer(ptr, dtype=np.float64).reshape(-1, 2)[:] = xy
    return poly


class GeometryCache:
    """Per-layer drawing data in the project CRS: bounds, centres, index, and Qt shapes."""

    def __init__(self, geoms: np.ndarray, kind: str) -> None:
        self.kind = kind  # "polygon", "line" or "point"
        self.geoms = np.asarray(geoms, dtype=object)
        n = len(self.geoms)
        self.valid = ~(shapely.is_missing(self.geoms) | shapely.is_empty(self.geoms))
        self.bounds = np.full((n, 4), np.nan)
        self.bounds[self.valid] = shapely.bounds(self.geoms[self.valid])
        self.centers = np.column_stack(
            [
                (self.bounds[:, 0] + self.bounds[:, 2]) / 2,
                (self.bounds[:, 1] + self.bounds[:, 3]) / 2,
            ]
        )
        if kind == "point":
            self.centers[self.valid] = shapely.get_coordinates(
                shapely.centroid(self.geoms[self.valid])
            )
        self.tree = shapely.STRtree(np.where(self.valid, self.geoms, None))
        self._shapes: list[list | None] = [None] * n
        # renders of one layer may overlap (a stale one finishing while a new one starts)
        self._lock = threading.Lock()
        self._label_points: np.ndarray | None = None

    @property
    def points(self) -> np.ndarray:
        return self.centers

    def visible(self, extent: tuple[float, float, float, float]) -> np.ndarray:
        hits = self.tree.query(shapely.box(*extent))
        hits = hits[self.valid[hits]]
        hits.sort()
        return hits

    def sizes_in_pixels(self, idx: np.ndarray, units_per_pixel: float) -> np.ndarray:
        b = self.bounds[idx]
        return np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) / units_per_pixel

    def label_points(self, idx: np.ndarray) -> np.ndarray:
        """A point inside each feature (computed on first use, then cached)."""
        with self._lock:
            if self._label_points is None:
                self._label_points = np.full((len(self.geoms), 2), np.nan)
            todo = idx[np.isnan(self._label_points[idx, 0])]
            if len(todo):
                pts = shapely.point_on_surface(self.geoms[todo])
                self._label_points[todo] = shapely.get_coordinates(pts)
            return self._label_points[idx]

    def shapes(self, i: int) -> list:
        return self._shapes[i] or []

    def unconverted(self, idx: np.ndarray) -> int:
        """How many of the features ``idx`` have no Qt shapes yet."""
        return sum(1 for i in idx if self._shapes[i] is None)

    def ensure(self, idx: np.ndarray) -> None:
        """Convert the features ``idx`` that are not converted yet, in one vectorised pass."""
        with self._lock:
            todo = np.array([i for i in idx if self._shapes[i] is None], dtype=np.int64)
            if len(todo) == 0:
                return
            if self.kind == "line":
                built = self._convert_lines(todo)
            elif self.kind == "polygon":
                built = self._convert_polygons(todo)
            else:
                built = {}
            for i in todo:
                self._shapes[i] = built.get(int(i), [])

    def _convert_lines(self, todo: np.ndarray) -> dict[int, list]:
        built: dict[int, list] = {}
        parts, idx = shapely.get_parts(self.geoms[todo], return_index=True)
        owners = todo[idx]
        coords, cidx = shapely.get_coordinates(parts, return_index=True)
        cb = np.searchsorted(cidx, np.arange(len(parts) + 1))
        for p, owner in enumerate(owners):
            built.setdefault(int(owner), []).append(_qpolygon(coords[cb[p] : cb[p + 1]]))
        return built

    def _convert_polygons(self, todo: np.ndarray) -> dict[int, list]:
        built: dict[int, list] = {}
        polys, idx = shapely.get_parts(self.geoms[todo], return_index=True)
        owners = todo[idx]
        n_interior = shapely.get_num_interior_rings(polys)
        rings, ridx = shapely.get_rings(polys, return_index=True)
        coords, cidx = shapely.get_coordinates(rings, return_index=True)
        cb = np.searchsorted(cidx, np.arange(len(rings) + 1))
        rb = np.searchsorted(ridx, np.arange(len(polys) + 1))
        for p, owner in enumerate(owners):
            if n_interior[p] == 0:
                r = rb[p]
                shape = _qpolygon(coords[cb[r] : cb[r + 1]])
            else:
                shape = QPainterPath()
                for r in range(rb[p], rb[p + 1]):
                    shape.addPolygon(_qpolygon(coords[cb[r] : cb[r + 1]]))
            built.setdefault(int(owner), []).append(shape)
        return built


def build_cache(geoms: np.ndarray, kind: str) -> GeometryCache:
    return GeometryCache(geoms, kind)
