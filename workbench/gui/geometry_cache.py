"""Geometry converted to Qt once, vectorised through numpy, and indexed for culling.

A layer's features (already in the project CRS) become one ``QPolygonF`` per ring or line part,
filled straight from shapely's coordinate array through the polygon's memory buffer: no Python
loop over vertices, no Qt item per feature. An STRtree answers "what is in the view" so a
render only touches visible features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from PyQt5.QtGui import QPainterPath, QPolygonF


def _qpolygon(xy: np.ndarray) -> QPolygonF:
    poly = QPolygonF(len(xy))
    ptr = poly.data()
    ptr.setsize(len(xy) * 16)
    np.frombuffer(ptr, dtype=np.float64).reshape(-1, 2)[:] = xy
    return poly


@dataclass
class GeometryCache:
    """Per feature: a list of Qt shapes (polygons may be QPainterPath when they have holes)."""

    kind: str  # "polygon", "line" or "point"
    shapes: list[list]  # feature -> parts
    points: np.ndarray  # point layers: (n, 2) coordinates
    tree: shapely.STRtree
    valid: np.ndarray  # feature has something to draw

    def visible(self, extent: tuple[float, float, float, float]) -> np.ndarray:
        hits = self.tree.query(shapely.box(*extent))
        hits = hits[self.valid[hits]]
        hits.sort()
        return hits


def build_cache(geoms: np.ndarray, kind: str) -> GeometryCache:
    """Convert shapely geometries (in project CRS) into Qt shapes."""
    geoms = np.asarray(geoms, dtype=object)
    valid = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    n = len(geoms)
    shapes: list[list] = [[] for _ in range(n)]
    points = np.full((n, 2), np.nan)
    if kind == "point":
        pts = shapely.get_coordinates(shapely.centroid(geoms[valid]))
        points[valid] = pts
    elif kind == "line":
        parts, idx = shapely.get_parts(geoms[valid], return_index=True)
        owners = np.flatnonzero(valid)[idx]
        coords, cidx = shapely.get_coordinates(parts, return_index=True)
        bounds = np.searchsorted(cidx, np.arange(len(parts) + 1))
        for p, owner in enumerate(owners):
            shapes[owner].append(_qpolygon(coords[bounds[p] : bounds[p + 1]]))
    else:
        polys, idx = shapely.get_parts(geoms[valid], return_index=True)
        owners = np.flatnonzero(valid)[idx]
        n_interior = shapely.get_num_interior_rings(polys)
        rings, ridx = shapely.get_rings(polys, return_index=True)
        coords, cidx = shapely.get_coordinates(rings, return_index=True)
        cb = np.searchsorted(cidx, np.arange(len(rings) + 1))
        rb = np.searchsorted(ridx, np.arange(len(polys) + 1))
        for p, owner in enumerate(owners):
            if n_interior[p] == 0:
                r = rb[p]
                shapes[owner].append(_qpolygon(coords[cb[r] : cb[r + 1]]))
            else:
                path = QPainterPath()
                for r in range(rb[p], rb[p + 1]):
                    path.addPolygon(_qpolygon(coords[cb[r] : cb[r + 1]]))
                shapes[owner].append(path)
    tree = shapely.STRtree(np.where(valid, geoms, None))
    return GeometryCache(kind, shapes, points, tree, valid)
