"""The scenario indicator: housing units after the plan on parcels near major roads."""

from __future__ import annotations

from functools import cache

import geopandas as gpd

from .exposure import exposed

DISTANCE_M = 50.0


@cache
def _major_roads(project: str, crs_wkt: str) -> gpd.GeoDataFrame:
    """The project's major roads (read once per project and CRS)."""
    from citydesk.layers.expressions import filter_mask
    from citydesk.layers.io import read_frame

    streets = read_frame(project, "street_centerlines")[0]
    return streets[filter_mask(streets, "MajorRoad = 1").to_numpy()].to_crs(crs_wkt)


def homes_near_major_roads(state: gpd.GeoDataFrame) -> float:
    """``state`` is a scenario's per-parcel table (or one neighbourhood of it), a
    GeoDataFrame in a metric CRS; ``state.attrs["project"]`` is the project file."""
    roads = _major_roads(state.attrs["project"], state.crs.to_wkt())
    near = exposed(state, roads, DISTANCE_M)
    return float(state.loc[near, "units_after"].sum())
