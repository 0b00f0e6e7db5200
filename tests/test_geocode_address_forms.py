"""Addresses as each city writes them: the geocoder read only "1334 Cambridge St" (number
first), so a European desk's "Mannerheimintie 5" and a Chinese desk's "锦江区华兴街12号"
were refused as unreadable although their streets carried house-number ranges."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import LineString

from citydesk.incidents.geocode import GeocodeError, Geocoder, RangeFields, parse_address

FIELDS = RangeFields("name", "l_from", "l_to", "r_from", "r_to")


@pytest.fixture()
def geocoder():
    streets = gpd.GeoDataFrame(
        {
            "name": ["Mannerheimintie", "华兴街", "Main St", "市府路"],
            "l_from": [1, 1, 1, 1],
            "l_to": [99, 99, 99, 99],
            "r_from": [2, 2, 2, 2],
            "r_to": [100, 100, 100, 100],
        },
        geometry=[
            LineString([(385000, 6672000 + i * 500), (386000, 6672000 + i * 500)]) for i in range(4)
        ],
        crs=3067,
    )
    return Geocoder(streets, FIELDS)


@pytest.mark.parametrize(
    ("address", "label"),
    [
        ("Mannerheimintie 49", "Mannerheimintie 49"),  # street first: labelled so
        ("Mannerheimintie 49 B 5, 00100 Helsinki", "Mannerheimintie 49"),  # staircase, flat
        ("49 Main Street", "49 Main St"),  # number first
        ("华兴街49号", "华兴街 49"),
        ("四川省成都市锦江区华兴街49号", "华兴街 49"),  # province, city, district dropped
        ("市府路49号", "市府路 49"),  # a street whose own name has 市 in it
    ],
)
def test_each_way_of_writing_an_address_lands_halfway(geocoder, address, label):
    hit = geocoder.geocode(address)
    assert hit.label == label and hit.exact
    # number 49 of 1-99 on the left side: about halfway along its 1 km street
    from pyproj import Transformer

    x, _y = Transformer.from_crs(4326, 3067, always_xy=True).transform(hit.lon, hit.lat)
    assert abs(x - 385500) < 20


def test_an_address_without_a_number_says_what_is_expected(geocoder):
    assert parse_address("Mannerheimintie") is None
    with pytest.raises(GeocodeError) as err:
        geocoder.geocode("Mannerheimintie")
    assert "Main St 12" in err.value.fix and "Cambridge" not in err.value.fix
    with pytest.raises(GeocodeError, match="no street 'Aleksanterinkatu'"):
        geocoder.geocode("Aleksanterinkatu 5")


def test_address_points_are_exact_and_come_before_ranges(geocoder):
    """A city with address points (OpenStreetMap's addr:*, an address register) finds the
    house itself; the ranges answer what the points lack; neither: the first one's error."""
    from shapely.geometry import Point

    from citydesk.incidents.geocode import AddressPoints, ChainedGeocoder, PointFields

    points = gpd.GeoDataFrame(
        {"katu": ["Mannerheimintie", "Mannerheimintie", "Mannerheimintie"],
         "numero": ["49", "49a", "51"]},
        geometry=[Point(385490, 6672010), Point(385495, 6672012), Point(385510, 6672010)],
        crs=3067,
    )  # fmt: skip
    exact = AddressPoints(points, PointFields("katu", "numero"))
    hit = exact.geocode("Mannerheimintie 49a")
    assert hit.label == "Mannerheimintie 49a" and hit.exact
    assert exact.geocode("Mannerheimintie 49").label == "Mannerheimintie 49"
    near = exact.geocode("Mannerheimintie 52")
    assert not near.exact and near.label == "Mannerheimintie 51"
    chained = ChainedGeocoder(exact, geocoder)
    assert chained.geocode("Mannerheimintie 49a").label == "Mannerheimintie 49a"  # the point
    assert chained.geocode("Mannerheimintie 52").exact  # the range has it: exact wins
    assert chained.geocode("华兴街49号").exact  # no such point street: the ranges answer
    with pytest.raises(GeocodeError, match="no street 'Aleksanterinkatu'"):
        chained.geocode("Aleksanterinkatu 5")
    with pytest.raises(GeocodeError, match="no column"):
        AddressPoints(points, PointFields("street", "numero"))
