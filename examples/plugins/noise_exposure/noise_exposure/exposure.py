"""The analysis itself, free of CityDesk: which parcels lie near major roads."""

from __future__ import annotations

import geopandas as gpd
import numpy as np


def exposed(parcels: gpd.GeoDataFrame, roads: gpd.GeoDataFrame, distance: float) -> np.ndarray:
    """True for each parcel within ``distance`` metres of any road (both in one metric CRS)."""
    if roads.empty or parcels.empty:
        return np.zeros(len(parcels), dtype=bool)
    zone = roads.geometry.buffer(distance).union_all()
    return parcels.geometry.intersects(zone).to_numpy()


def metric_crs(frame: gpd.GeoDataFrame):
    """A UTM CRS for the frame (metres), from its centre."""
    return frame.estimate_utm_crs()
