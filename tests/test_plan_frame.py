"""A plan layer's rows start with the parcel's own id, address and land use as the city
profile names them, and a city field named like a result column does not clash with it."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

from citydesk.layers.city_layers import CityLayers, ParcelsRole, identity_columns
from citydesk.planning.scenario_results import plan_frame


def _parcels(**columns) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=[box(i, 0, i + 1, 1) for i in range(3)], crs=3067)


def test_the_profile_names_the_identity_columns():
    parcels = _parcels(kiinteistotunnus=["a", "b", "c"], osoite=["x", "y", "z"], extra=[1, 2, 3])
    layers = CityLayers(parcels=ParcelsRole("p", id="kiinteistotunnus", address="osoite"))
    assert identity_columns(parcels, layers) == ["kiinteistotunnus", "osoite"]
    assert identity_columns(parcels, None) == []
    # a field the profile maps but this layer lacks is left out, not an error
    assert identity_columns(parcels, CityLayers(parcels=ParcelsRole("p", id="ML"))) == []


def test_a_city_field_named_like_a_result_column_gives_way_to_the_result():
    """A city whose land-use field is called ``use``: the plan's ``use`` column (the new use)
    is the one the layer keeps, once."""
    parcels = _parcels(pid=[1, 2, 3], use=["res", "com", "ind"])
    layers = CityLayers(parcels=ParcelsRole("p", id="pid", land_use="use"))
    state = pd.DataFrame({"use": ["keep", "park", "keep"], "changed": [0.0, 1.0, 0.0]})
    frame = plan_frame(parcels, state, identity_columns(parcels, layers))
    assert list(frame.columns) == ["pid", "use", "changed", "geometry"]
    assert frame["use"].tolist() == ["keep", "park", "keep"]
    assert np.array_equal(frame["pid"], [1, 2, 3])
