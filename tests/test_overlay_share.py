"""A parcel's share inside a layer: overlapping areas count once (floodplain zones drawn one
over another, a park inside a forest), invalid parcels are repaired, and the answer is the
plain geometric one: area(parcel & union(areas)) / area(parcel)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import GeometryCollection, LineString, Point, Polygon, box

from citydesk.layers.overlay import share_inside


def frame(geoms) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=list(geoms), crs="EPSG:3857")


def truth(parcels, areas) -> np.ndarray:
    union = shapely.union_all(shapely.make_valid(np.array(list(areas), dtype=object)))
    out = []
    for parcel in parcels:
        parcel = shapely.make_valid(parcel)
        out.append(min(1.0, parcel.intersection(union).area / parcel.area))
    return np.array(out)


def test_overlapping_zones_count_once():
    """Two zones over the same half of a parcel: half inside, not wholly inside (the
    overlay summed each zone's piece, 0.5 + 0.5, and clipped the 1.0)."""
    parcel = box(0, 0, 10, 10)
    zones = [box(0, 0, 5, 10), box(-5, -5, 5, 15)]
    assert share_inside(frame([parcel]), frame(zones)) == pytest.approx([0.5])


def test_whole_partial_outside_and_missing_parcels():
    parcels = [box(1, 1, 2, 2), box(9, 0, 11, 10), box(50, 50, 60, 60), None]
    areas = [box(0, 0, 10, 10)]
    share = share_inside(frame(parcels), frame(areas))
    assert share[:3] == pytest.approx([1.0, 0.5, 0.0])
    assert share[3] == 0 or np.isnan(share[3])


def test_an_invalid_parcel_is_repaired_before_it_is_cut():
    """A bow-tie's shoelace area is zero; repaired it is two triangles of 25 each, one of
    them inside the area."""
    bowtie = Polygon([(0, 0), (10, 10), (10, 0), (0, 10), (0, 0)])
    assert not bowtie.is_valid
    share = share_inside(frame([bowtie]), frame([box(-1, -1, 5, 11)]))
    assert share == pytest.approx([0.5])


def test_areas_without_polygons_give_zero():
    parcels = frame([box(0, 0, 10, 10)])
    assert share_inside(parcels, None) == pytest.approx([0.0])
    assert share_inside(parcels, frame([])) == pytest.approx([0.0])
    lines = frame([LineString([(0, 0), (10, 10)]), Point(5, 5), GeometryCollection()])
    assert share_inside(parcels, lines) == pytest.approx([0.0])


rectangles = st.tuples(
    st.integers(0, 40), st.integers(0, 40), st.integers(1, 20), st.integers(1, 20)
).map(lambda r: box(r[0], r[1], r[0] + r[2], r[1] + r[3]))


@settings(max_examples=60, deadline=None)
@given(st.lists(rectangles, min_size=1, max_size=6), st.lists(rectangles, min_size=1, max_size=6))
def test_share_is_the_area_inside_the_union(parcels, areas):
    assert share_inside(frame(parcels), frame(areas)) == pytest.approx(
        truth(parcels, areas), abs=1e-9
    )
