"""Distances and areas in metres, whatever the CRS (feet state plane, degrees, metres)."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np
from pyproj import CRS, Geod

_GEOD = Geod(ellps="WGS84")


def measure_path(points: Sequence[tuple[float, float]], crs: CRS) -> tuple[float, float]:
    """(length in m, enclosed area in m^2) of a path drawn in ``crs``.

    Projected CRSs are measured in their plane, converted from their unit (US feet for
    EPSG:2249); geographic CRSs are measured on the WGS 84 ellipsoid. The area treats the
    path as closed and is 0 for fewer than three points.
    """
    if len(points) < 2:
        return 0.0, 0.0
    if crs.is_geographic:
        lons = [p[0] for p in points]
        lats = [p[1] for p in points]
        length = _GEOD.line_length(lons, lats)
        area = abs(_GEOD.polygon_area_perimeter(lons, lats)[0]) if len(points) >= 3 else 0.0
        return float(length), float(area)
    unit = float(crs.axis_info[0].unit_conversion_factor)
    length = sum(
        ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5 for (x0, y0), (x1, y1) in pairwise(points)
    )
    area = 0.0
    if len(points) >= 3:
        ring = [*points, points[0]]
        area = abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in pairwise(ring))) / 2
    return length * unit, area * unit * unit


def geodesic_distance_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Metres between lon/lat points on the WGS84 ellipsoid, element-wise (arrays broadcast)."""
    lon1, lat1, lon2, lat2 = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (lon1, lat1, lon2, lat2))
    )
    return np.asarray(_GEOD.inv(lon1, lat1, lon2, lat2)[2], dtype=float)
