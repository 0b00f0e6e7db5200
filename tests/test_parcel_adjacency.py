"""Parcel adjacency (the pairs the compatibility objective runs over): the same pairs, in
the same order, as the spatial join it replaced, and the tolerance means what it says."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from citydesk.layers.project_store import read_project_layer
from citydesk.planning.landuse_inputs import parcel_adjacency


def _joined(parcels: gpd.GeoDataFrame, tolerance_m: float = 0.5) -> np.ndarray:
    """The spatial join of the buffered parcels with themselves (the implementation until
    session 37), as the reference."""
    shapes = gpd.GeoDataFrame(geometry=parcels.geometry.make_valid().buffer(tolerance_m).values)
    pairs = gpd.sjoin(shapes, shapes, predicate="intersects")
    left, right = pairs.index.to_numpy(), pairs["index_right"].to_numpy()
    return np.column_stack([left[left < right], right[left < right]])


def test_gaps_under_the_tolerance_join_and_wider_ones_do_not():
    # squares 10 m wide in a row, with gaps of 0, 0.9, 1.1 and 0.2 m; a many-vertex ring
    # (a street parcel) around them touching only the first
    gaps = [0.0, 0.9, 1.1, 0.2]
    x, boxes = 0.0, []
    for gap in [0.0, *gaps]:
        x += gap
        boxes.append(shapely.box(x, 0, x + 10, 10))
        x += 10
    street = (
        shapely.Point(-60, 5)
        .buffer(60, quad_segs=2000)
        .difference(shapely.Point(-60, 5).buffer(55, quad_segs=2000))
    )
    frame = gpd.GeoDataFrame(geometry=[*boxes, street], crs="EPSG:3857")
    pairs = parcel_adjacency(frame).tolist()
    assert [0, 1] in pairs and [1, 2] in pairs  # touching, and 0.9 m apart (0.5 m each side)
    assert [2, 3] not in pairs  # 1.1 m apart
    assert [3, 4] in pairs
    assert [0, 5] in pairs and not any(5 in p and 0 not in p for p in pairs)
    assert np.array_equal(parcel_adjacency(frame), _joined(frame))


def test_the_demo_parcels_give_the_joins_pairs_in_its_order(demo_copy):
    parcels = read_project_layer(demo_copy, "parcels")
    parcels = parcels.to_crs(parcels.estimate_utm_crs()).iloc[:1500].reset_index(drop=True)
    mine = parcel_adjacency(parcels)
    assert len(mine) > 500
    assert np.array_equal(mine, _joined(parcels))  # the same model, variable for variable
