"""A view's features from a CityDesk GeoPackage: the R-tree picks the rows to read, the exact
test decides, and the answer is the same as reading every row and testing each."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from citydesk.layers import gpkg


def _grid_with_a_sliver(n: int = 30) -> gpd.GeoDataFrame:
    """n x n unit squares, and one thin diagonal whose box covers the whole grid but whose
    line passes nowhere near the corner the views below look at."""
    squares = [shapely.box(i, j, i + 0.9, j + 0.9) for i in range(n) for j in range(n)]
    sliver = shapely.Polygon([(0, n), (n, 0.2), (n, 0)])  # from the top left to bottom right
    frame = gpd.GeoDataFrame(
        {"kind": ["square"] * len(squares) + ["sliver"], "k": np.arange(len(squares) + 1)},
        geometry=[*squares, sliver],
        crs=2249,
    )
    frame.index = pd.Index(np.arange(1, len(frame) + 1), name="fid")
    return frame


@pytest.fixture()
def stored(tmp_path):
    path = tmp_path / "grid.gpkg"
    frame = _grid_with_a_sliver()
    with gpkg.open_file(path, create=True) as con, gpkg.write_transaction(con):
        gpkg.write_features(con, "cells", frame)
    return path, frame


@pytest.mark.parametrize(
    "box",
    [(0.5, 0.5, 2.5, 2.5), (27.2, 27.2, 28.1, 40.0), (-5.0, -5.0, -1.0, -1.0), (0, 0, 30, 30)],
)
def test_a_view_reads_only_the_rows_its_index_box_meets(stored, box, monkeypatch):
    path, frame = stored
    decoded: list[int] = []
    real = gpkg._decoded

    def counting(blobs, table, where):
        decoded.append(len(blobs))
        return real(blobs, table, where)

    monkeypatch.setattr(gpkg, "_decoded", counting)
    with gpkg.open_file(path) as con:
        got = gpkg.read_features(con, "cells", bbox=box, path=path)
    expected = frame[frame.intersects(shapely.box(*box))]
    assert list(got.index) == list(expected.index)
    assert list(got["k"]) == list(expected["k"])
    candidates = frame.geometry.bounds
    meets = (
        (candidates.maxx >= box[0])
        & (candidates.minx <= box[2])
        & (candidates.maxy >= box[1])
        & (candidates.miny <= box[3])
    )
    assert decoded == [int(meets.sum())]  # the envelope's candidates, not all 901 rows
    if box != (0, 0, 30, 30):
        assert "sliver" not in set(got["kind"])  # its box meets the view, its shape does not


def test_a_where_and_a_box_together_and_a_file_without_an_index(stored):
    path, frame = stored
    box = (0.5, 0.5, 5.5, 5.5)
    with gpkg.open_file(path) as con:
        squares = gpkg.read_features(con, "cells", bbox=box, where="kind = 'square'", path=path)
    expected = frame[frame.intersects(shapely.box(*box)) & (frame["kind"] == "square")]
    assert list(squares.index) == list(expected.index)
    with gpkg.open_file(path) as con, gpkg.write_transaction(con):
        con.execute("DELETE FROM gpkg_extensions WHERE extension_name = 'gpkg_rtree_index'")
    with gpkg.open_file(path) as con:  # no index declared: every row read and tested
        plain = gpkg.read_features(con, "cells", bbox=box, where="kind = 'square'", path=path)
    assert list(plain.index) == list(expected.index)
