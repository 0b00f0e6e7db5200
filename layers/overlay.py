"""Two vector measures analyses keep needing: area share inside a layer, nearest distance.

Both expect the two frames in one metric CRS (the caller projects once for many calls).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely


def share_inside(parcels: gpd.GeoDataFrame, areas: gpd.GeoDataFrame | None) -> np.ndarray:
    """Share of each parcel's area inside ``areas`` (0 when there are none); both in one
    metric CRS."""
    if areas is None or areas.empty:
        return np.zeros(len(parcels))
    inside = gpd.overlay(
        parcels[["geometry"]].assign(_i=np.arange(len(parcels))),
        areas[["geometry"]],
        how="intersection",
        keep_geom_type=True,
    )
    part = inside.geometry.area.groupby(inside["_i"]).sum()
    share = np.zeros(len(parcels))
    share[part.index.to_numpy()] = part.to_numpy()
    return np.clip(share / np.maximum(parcels.geometry.area.to_numpy(), 1e-9), 0, 1)


def nearest_distance(parcels: gpd.GeoDataFrame, layer: gpd.GeoDataFrame) -> np.ndarray:
    """Straight-line metres from each parcel to the nearest feature (0 when touching)."""
    geoms = layer.geometry.values
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    out = np.full(len(parcels), np.nan)
    if len(geoms) == 0:
        return out
    tree = shapely.STRtree(geoms)
    own = parcels.geometry.values
    present = ~(shapely.is_missing(own) | shapely.is_empty(own))
    (left, _right), dist = tree.query_nearest(own[present], return_distance=True, all_matches=False)
    values = np.full(present.sum(), np.nan)
    values[left] = dist
    out[present] = values
    return out
