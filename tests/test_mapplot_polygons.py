"""Printed maps draw polygons from shapely's arrays (layers.mapplot.plot_polygons): the
same pixels as geopandas' own drawing, one path per geometry whatever a layer holds."""

from __future__ import annotations

import io

import geopandas as gpd
import matplotlib
import numpy as np
import pytest
from shapely.geometry import GeometryCollection, LineString, MultiPolygon, Point, Polygon

from citydesk.layers.mapplot import plot_polygons, polygon_paths
from citydesk.layers.mpl_fonts import figure

matplotlib.use("Agg")


def _pixels(draw) -> np.ndarray:
    fig = figure(figsize=(4, 4))
    ax = fig.subplots()
    draw(ax)
    ax.set_aspect("equal")
    ax.set_xlabel("")
    ax.set_ylabel("")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="rgba", dpi=60)
    return np.frombuffer(buffer.getvalue(), dtype=np.uint8)


def _city(n: int = 60) -> gpd.GeoSeries:
    """Blocks with courtyards (holes), some split in two parts, drawn clockwise or not."""
    rng = np.random.default_rng(7)
    shapes = []
    for i in range(n):
        x, y = (i % 8) * 10.0, (i // 8) * 10.0
        ring = [(x, y), (x + 8, y), (x + 8, y + 8), (x, y + 8)]
        courtyard = [(x + 2, y + 2), (x + 4, y + 2), (x + 3, y + 5)]
        block = Polygon(ring[:: 1 if i % 3 else -1], [courtyard])
        if i % 5 == 0:
            block = MultiPolygon([block, Polygon([(x + 8.5, y), (x + 9.5, y), (x + 9.5, y + 1)])])
        shapes.append(block)
    rng.shuffle(shapes)
    return gpd.GeoSeries(shapes, crs="EPSG:3067")


def test_the_same_pixels_as_geopandas():
    city = _city()
    colours = [matplotlib.colors.to_hex(c) for c in np.random.default_rng(1).random((len(city), 3))]
    style = {"edgecolor": "#333333", "linewidth": 0.6, "alpha": 0.8}
    theirs = _pixels(lambda ax: city.plot(ax=ax, facecolor=colours, **style))
    ours = _pixels(lambda ax: plot_polygons(ax, city, facecolor=colours, **style))
    assert theirs.shape == ours.shape
    assert (theirs == ours).all()


def test_a_colour_ramp_is_the_same_as_geopandas_column_plot():
    from matplotlib.colors import Normalize

    city = _city()
    values = np.linspace(0, 1, len(city))
    theirs = _pixels(
        lambda ax: gpd.GeoDataFrame({"v": values}, geometry=city).plot(
            ax=ax, column="v", cmap="RdYlGn", vmin=0, vmax=1, linewidth=0
        )
    )
    ours = _pixels(
        lambda ax: plot_polygons(
            ax, city, array=values, cmap="RdYlGn", norm=Normalize(0, 1), linewidth=0
        )
    )
    assert (theirs == ours).all()


@pytest.mark.parametrize("odd", [None, Polygon(), Point(1, 1), LineString([(0, 0), (5, 5)])])
def test_one_path_per_geometry_whatever_it_is(odd):
    """A colour per geometry stays with its geometry: a missing, empty or stray non-polygon
    feature gets an empty path, a collection left by a repair keeps its polygons."""
    square = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)])
    repaired = GeometryCollection([LineString([(9, 9), (12, 12)]), square.buffer(-1)])
    paths = polygon_paths([square, odd, repaired])
    assert len(paths) == 3
    assert len(paths[1].vertices) == 0
    assert len(paths[2].vertices) == 5  # the polygon part only, closed
    assert polygon_paths([]) == []
