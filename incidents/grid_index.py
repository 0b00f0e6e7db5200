"""Which unit-grid cell a point falls in, fast: the grid code every new case gets.

Most cells of a unit grid are untouched squares, so a point's cell is found by arithmetic
(row and column from its coordinates, then a lookup table). Only points in clipped or merged
cells along the boundary go through the STRtree. A million points take well under a second.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer


class GridIndex:
    """Point -> grid code, for points given in lon/lat (EPSG:4326)."""

    def __init__(self, grid: gpd.GeoDataFrame) -> None:
        self.codes = grid["code"].to_numpy()
        self.geoms = grid.geometry.values
        self.tree = shapely.STRtree(self.geoms)
        self._to_grid = Transformer.from_crs(4326, grid.crs, always_xy=True)
        self._lookup: np.ndarray | None = None
        if {"row", "col"} <= set(grid.columns) and len(grid):
            self._build_lookup(grid)

    def _build_lookup(self, grid: gpd.GeoDataFrame) -> None:
        bounds = shapely.bounds(self.geoms)
        widths = bounds[:, 2] - bounds[:, 0]
        heights = bounds[:, 3] - bounds[:, 1]
        size = float(np.median(np.maximum(widths, heights)))
        areas = shapely.area(self.geoms)
        square = (
            np.isclose(widths, size)
            & np.isclose(heights, size)
            & np.isclose(areas, size * size, rtol=1e-9)
        )
        if not square.any():
            return
        rows, cols = grid["row"].to_numpy(), grid["col"].to_numpy()
        first = np.flatnonzero(square)[0]
        self._x0 = bounds[first, 0] - cols[first] * size
        self._ytop = bounds[first, 3] + rows[first] * size
        self._size = size
        self._nrows, self._ncols = int(rows.max()) + 1, int(cols.max()) + 1
        table = np.full(self._nrows * self._ncols, -1, dtype=np.int64)
        table[rows[square] * self._ncols + cols[square]] = np.flatnonzero(square)
        self._lookup = table

    def codes_at(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Grid codes for many points at once (None outside the grid)."""
        x, y = self._to_grid.transform(np.asarray(lon, float), np.asarray(lat, float))
        x, y = np.asarray(x, float), np.asarray(y, float)
        out = np.full(len(x), None, dtype=object)
        ok = np.isfinite(x) & np.isfinite(y)
        pending = np.flatnonzero(ok)
        if self._lookup is not None and len(pending):
            col = np.floor((x[pending] - self._x0) / self._size).astype(np.int64)
            row = np.floor((self._ytop - y[pending]) / self._size).astype(np.int64)
            inside = (col >= 0) & (col < self._ncols) & (row >= 0) & (row < self._nrows)
            cell = np.full(len(pending), -1, dtype=np.int64)
            cell[inside] = self._lookup[row[inside] * self._ncols + col[inside]]
            hit = cell >= 0
            out[pending[hit]] = self.codes[cell[hit]]
            pending = pending[~hit]
        if len(pending):
            points = shapely.points(x[pending], y[pending])
            idx_points, idx_cells = self.tree.query(points, predicate="intersects")
            positions = pending[idx_points]
            out[positions[::-1]] = self.codes[idx_cells[::-1]]  # first match wins on edges
        return out

    def code_at(self, lon: float, lat: float) -> str | None:
        return self.codes_at(np.array([lon]), np.array([lat]))[0]
