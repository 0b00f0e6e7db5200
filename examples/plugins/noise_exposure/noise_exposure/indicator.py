"""The scenario indicator: housing units after the plan on parcels near major roads."""

from __future__ import annotations

from functools import cache

import geopandas as gpd

from .exposure import exposed

DISTANCE_M = 50.0


@cache
def _major_roads(project: str, crs_wkt: str) -> gpd.GeoDataFrame:
    """The project's major roads (read once per project and CRS): the city profile's streets
    whose road class is one of its ``major_classes`` (docs/CITY.md)."""
    from citydesk.layers.city_layers import MissingData, read_role, require_field
    from citydesk.layers.city_profile import profile_or_none

    profile = profile_or_none(project)
    feature = "Homes near major roads"
    layers = profile.layers if profile is not None else None
    road_class = require_field(layers, "streets", "road_class", feature)
    major = profile.streets.major_classes if profile is not None else []
    if not major:
        raise MissingData(
            f"{feature} needs to know which road classes are major roads",
            'Add major_classes = ["..."] under [layers.streets] in the city profile.',
        )
    from citydesk.layers.road_network import major_road_mask

    streets = read_role(project, "streets", feature)
    assert profile is not None and road_class
    return streets[major_road_mask(streets, profile.streets)].to_crs(crs_wkt)


def homes_near_major_roads(state: gpd.GeoDataFrame) -> float:
    """``state`` is a scenario's per-parcel table (or one neighbourhood of it), a
    GeoDataFrame in a metric CRS; ``state.attrs["project"]`` is the project file."""
    roads = _major_roads(state.attrs["project"], state.crs.to_wkt())
    near = exposed(state, roads, DISTANCE_M)
    return float(state.loc[near, "units_after"].sum())
