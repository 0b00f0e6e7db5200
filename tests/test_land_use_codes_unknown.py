"""Parcels whose land-use values the profile's land-use system does not know are said, with
examples: the wrong system (another country's codes) used to leave every parcel's use today
"unknown" without a word."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import shapely

from citydesk.layers.city_profile import read_profile
from citydesk.planning.landuse_inputs import parcel_facts


def _parcels(values):
    return gpd.GeoDataFrame(
        {"osm_id": range(len(values)), "landuse": values},
        geometry=[shapely.box(k, 0, k + 1, 1) for k in range(len(values))],
        crs="EPSG:3067",
    )


def test_values_the_system_does_not_know_are_named():
    profile = read_profile("helsinki")
    parcels = _parcels(["residential", "commercial", "residential", None])
    notes: list[str] = []
    facts = parcel_facts(parcels, profile, notes)
    assert not any("does not know" in n for n in notes)  # OSM values in the OSM system
    assert set(facts.land_class[:3]) != {"unknown"}
    wrong = dataclasses.replace(profile, land_use_system="cn_2023")
    notes = []
    facts = parcel_facts(parcels, wrong, notes)
    said = [n for n in notes if "does not know" in n]
    assert said and said[0].startswith("3 of 3 parcels have land-use values the 'cn_2023'")
    assert "'residential'" in said[0] and set(facts.land_class) == {"unknown"}
