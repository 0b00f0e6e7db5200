"""Suitability: AHP weights, factor transforms, the weighted overlay, and zonal statistics
of the real San Francisco DEM (checked against a per-polygon rasterio mask loop)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from citydesk.planning.ahp import AhpError, ahp_weights, pairwise_matrix
from citydesk.planning.suitability import SuitabilityError, Transform, normalise, weighted_overlay


def test_ahp_saaty_three_factor_example():
    # Saaty's textbook matrix: weights 0.637 / 0.258 / 0.105, lambda 3.039, CR 0.033
    names = ["a", "b", "c"]
    m = pairwise_matrix(names, [("a", "b", 3), ("a", "c", 5), ("b", "c", 3)])
    result = ahp_weights(names, m)
    assert np.allclose(result.weights, [0.637, 0.258, 0.105], atol=1e-3)
    assert result.lambda_max == pytest.approx(3.0385, abs=1e-3)
    assert result.consistency_ratio == pytest.approx(0.033, abs=1e-3)
    assert result.consistent


def test_ahp_flags_inconsistent_judgements_and_refuses_bad_ones():
    names = ["a", "b", "c"]
    # a > b, b > c, yet c > a: circular
    circular = ahp_weights(
        names, pairwise_matrix(names, [("a", "b", 5), ("b", "c", 5), ("c", "a", 5)])
    )
    assert not circular.consistent and circular.consistency_ratio > 1
    perfectly = ahp_weights(
        names, pairwise_matrix(names, [("a", "b", 2), ("b", "c", 2), ("a", "c", 4)])
    )
    assert perfectly.consistency_ratio == pytest.approx(0, abs=1e-9)
    assert np.allclose(perfectly.weights, [4 / 7, 2 / 7, 1 / 7])
    with pytest.raises(AhpError, match="unknown factor 'd'"):
        pairwise_matrix(names, [("a", "d", 3)])
    with pytest.raises(AhpError, match="twice"):
        pairwise_matrix(names, [("a", "b", 3), ("b", "a", 3)])
    with pytest.raises(AhpError, match="not reciprocal"):
        ahp_weights(names, np.array([[1, 2, 1], [2, 1, 1], [1, 1, 1]]))


def test_transforms():
    x = pd.Series([0.0, 400.0, 800.0, np.nan])
    decay = normalise(x, Transform("decay", "lower", scale=800))
    assert np.allclose(decay[:3], [1, np.exp(-0.5), np.exp(-1)]) and np.isnan(decay[3])
    lin = normalise(x, Transform("linear", "lower", lo=0, hi=800))
    assert np.allclose(lin[:3], [1, 0.5, 0])
    cut = normalise(x, Transform("threshold", "lower", hi=400))
    assert list(cut[:3]) == [1, 1, 0]
    cats = normalise(
        pd.Series(["C-1", "B", "X"]),
        Transform("categories", scores={"C-1": 1, "B": 0.5}, default=0.1),
    )
    assert list(cats) == [1, 0.5, 0.1]
    # default bounds are the 5th/95th percentiles: one outlier does not flatten the rest
    skewed = pd.Series(np.r_[np.arange(100.0), 1e9])
    scores = normalise(skewed, Transform("linear"))
    assert scores[50] == pytest.approx(0.5, abs=0.05) and scores.iloc[-1] == 1
    with pytest.raises(SuitabilityError, match=r"factor 'd'.*scale"):
        normalise(x, Transform("decay"), "d")


def test_overlay_renormalises_over_present_factors():
    scores = pd.DataFrame({"a": [1.0, 0.0, np.nan], "b": [0.0, 1.0, 1.0]})
    out = weighted_overlay(scores, {"a": 3, "b": 1})
    assert np.allclose(out["suitability"], [0.75, 0.25, 1.0])
    assert list(out["factors_missing"]) == [0, 0, 1]
    with pytest.raises(SuitabilityError, match=r"weighted factor\(s\) c"):
        weighted_overlay(scores, {"c": 1})


@pytest.mark.shared_data
def test_zonal_stats_match_a_mask_loop_on_the_sf_dem():
    import rasterio
    import rasterio.mask
    from conftest import SF_DEM_TIF

    from citydesk.layers.readers.raster import read_raster
    from citydesk.layers.zonal_stats import zonal_stats

    dem = read_raster(SF_DEM_TIF)
    t = dem.transform
    rows, cols = dem.shape[1:]
    x0, y1 = t.c, t.f
    cells = [
        shapely.box(x, y, x + 250, y + 250)
        for x in np.arange(x0, x0 + cols * t.a, 250)
        for y in np.arange(y1 + rows * t.e, y1, 250)
    ]
    # a sliver smaller than a pixel, and an empty geometry
    cells += [shapely.box(x0 + 3000, y1 - 3000, x0 + 3005, y1 - 2995), shapely.Polygon()]
    polygons = gpd.GeoSeries(cells, crs=dem.raster_crs)
    stats = zonal_stats(polygons, dem, ("mean", "min", "max", "count"))
    with rasterio.open(SF_DEM_TIF) as src:
        for i in range(0, len(cells) - 2, 37):
            data, _ = rasterio.mask.mask(src, [cells[i]], crop=True, filled=False)
            values = data.compressed()
            values = values[values != src.nodata]
            if values.size == 0:
                assert stats["pixels"].iloc[i] == 0
                continue
            assert stats["count"].iloc[i] == values.size
            assert stats["mean"].iloc[i] == pytest.approx(values.mean(), rel=1e-5)
            assert stats["min"].iloc[i] == pytest.approx(values.min())
            assert stats["max"].iloc[i] == pytest.approx(values.max())
    sliver = stats.iloc[-2]
    assert sliver["pixels"] == 0 and np.isfinite(sliver["mean"])  # sampled at its point
    assert stats.iloc[-1].isna()[["mean", "min", "max"]].all()
    # the same cells in another CRS give the same answer (polygons are reprojected)
    again = zonal_stats(polygons.to_crs(4326), dem, ("mean",))
    assert np.nanmax(np.abs(again["mean"] - stats["mean"])) < 5  # metres; edges resampled


@pytest.mark.shared_data
def test_slope_needs_metres_and_handles_the_feet_quad():
    from conftest import SF_DEM_SOUTH, SF_DEM_TIF

    from citydesk.layers.errors import LayerReadError
    from citydesk.layers.raster_ops import reproject_raster, slope_degrees
    from citydesk.layers.readers.raster import read_raster

    slope = slope_degrees(read_raster(SF_DEM_TIF))
    values = slope.array[0]
    assert np.nanmin(values) >= 0 and np.nanmax(values) < 70 and slope.units == "degree"
    feet = read_raster(SF_DEM_SOUTH)
    assert feet.units == "ft"
    from_feet = slope_degrees(feet)  # converted to metres before the gradient
    assert np.nanmax(from_feet.array[0]) < 70
    with pytest.raises(LayerReadError, match="projected CRS"):
        slope_degrees(reproject_raster(read_raster(SF_DEM_TIF), "EPSG:4326"))
