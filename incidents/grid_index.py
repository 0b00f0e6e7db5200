"""Which unit-grid cell a point falls in, fast: the grid code every new case gets."""

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

    def codes_at(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Grid codes for many points at once (None outside the grid)."""
        x, y = self._to_grid.transform(np.asarray(lon, float), np.asarray(lat, float))
        points = shapely.points(x, y)
        out = np.full(len(points), None, dtype=object)
        ok = ~np.isnan(x)
        idx_points, idx_cells = self.tree.query(points[ok], predicate="intersects")
        positions = np.flatnonzero(ok)[idx_points]
        out[positions[::-1]] = self.codes[idx_cells[::-1]]  # first match wins on shared edges
        return out

    def code_at(self, lon: float, lat: float) -> str | None:
        return self.codes_at(np.array([lon]), np.array([lat]))[0]
