"""CRS handling, including CGCS2000 Gauss-Krueger zones and state plane in US feet."""

from __future__ import annotations

import pytest
from pyproj import CRS, Transformer

from citydesk.layers.crs import (
    cgcs2000_gauss_kruger,
    check_coordinates_fit_crs,
    linear_unit_to_metres,
    parse_crs,
    suggest_projected_crs,
    utm_crs_for,
)
from citydesk.layers.errors import CRSError


@pytest.mark.parametrize(
    ("lon", "width", "prefix", "epsg"),
    [
        (116.40, 3, False, 4548),  # Beijing: CM 117E
        (116.40, 3, True, 4527),  # Beijing: zone 39 with zone prefix
        (121.47, 3, False, 4549),  # Shanghai: CM 120E (121.47 rounds to zone 40)
        (116.40, 6, False, 4509),  # Beijing 6-degree: CM 117E
        (116.40, 6, True, 4498),  # 6-degree zone 20
        (113.26, 3, False, 4547),  # Guangzhou: CM 114E
    ],
)
def test_cgcs2000_gauss_kruger_zones(lon, width, prefix, epsg):
    crs = cgcs2000_gauss_kruger(lon, width, prefix)
    assert crs.to_epsg() == epsg
    assert "CGCS2000" in crs.name


def test_gauss_kruger_central_meridian_matches_zone():
    crs = cgcs2000_gauss_kruger(116.4)
    lon0 = next(
        p.value
        for p in crs.coordinate_operation.params
        if "longitude of natural origin" in p.name.lower()
    )
    assert lon0 == 117


def test_gauss_kruger_outside_china_is_refused():
    with pytest.raises(CRSError, match="outside China"):
        cgcs2000_gauss_kruger(-71.1)


def test_cgcs2000_data_gets_a_gauss_kruger_crs_and_others_utm():
    beijing = (116.2, 39.8, 116.6, 40.1)
    assert suggest_projected_crs(beijing, CRS.from_epsg(4490)).to_epsg() == 4548
    cambridge = (-71.16, 42.35, -71.06, 42.40)
    assert suggest_projected_crs(cambridge, CRS.from_epsg(4326)).to_epsg() == 32619
    assert utm_crs_for(-122.4, 37.7).to_epsg() == 32610
    state_plane = CRS.from_epsg(2249)
    assert suggest_projected_crs(cambridge, state_plane) == state_plane


def test_state_plane_feet_units_and_a_known_point():
    crs = CRS.from_epsg(2249)
    assert linear_unit_to_metres(crs) == pytest.approx(0.3048006096, rel=1e-9)
    # Cambridge City Hall, 795 Massachusetts Ave, in MA state plane (ftUS)
    x, y = Transformer.from_crs(4326, 2249, always_xy=True).transform(-71.1054, 42.3670)
    assert 760_000 < x < 766_000 and 2_955_000 < y < 2_962_000


def test_parse_crs_gives_a_clear_error():
    with pytest.raises(CRSError, match="EPSG"):
        parse_crs("EPSG:99999999")
    assert parse_crs("EPSG:4490").to_epsg() == 4490


CAMBRIDGE_LONLAT = (-71.16, 42.35, -71.06, 42.40)


def test_plausible_coordinates_pass():
    assert check_coordinates_fit_crs(CAMBRIDGE_LONLAT, CRS.from_epsg(4326)).ok


def test_swapped_lat_long_is_detected():
    swapped = (42.35, -71.16, 42.40, -71.06)
    # Inside the world's degree range, so only the area of use of a regional CRS reveals it:
    res = check_coordinates_fit_crs(swapped, CRS.from_epsg(4269))  # NAD83: North America
    assert not res.ok and "swapped" in res.problem
    # latitude beyond 90 is unambiguous for any geographic CRS
    res = check_coordinates_fit_crs((42.35, -171.16, 42.40, -171.06), CRS.from_epsg(4326))
    assert not res.ok and "swapped" in res.problem


def test_projected_numbers_labelled_as_degrees():
    res = check_coordinates_fit_crs((760000, 2950000, 770000, 2960000), CRS.from_epsg(4326))
    assert not res.ok and "projected" in res.problem


def test_wrong_zone_is_detected():
    # Cambridge state-plane feet labelled as CGCS2000 GK CM 117E
    res = check_coordinates_fit_crs((760000, 2950000, 770000, 2960000), CRS.from_epsg(4548))
    assert not res.ok and "area of use" in res.problem


def test_layers_reproject_on_the_fly_into_cgcs2000_and_gauss_kruger():
    import geopandas as gpd
    import shapely

    from citydesk.layers.layer import VectorLayer
    from citydesk.layers.project import Project

    # Tiananmen Square in WGS 84; CGCS2000 and WGS 84 agree to well under a metre here.
    frame = gpd.GeoDataFrame(
        {"name": ["天安门"]}, geometry=[shapely.Point(116.3975, 39.9087)], crs=4326
    )
    layer = VectorLayer(name="poi", data=frame)
    project = Project("Beijing", crs="EPSG:4490")
    project.add_layer(layer)
    cgcs = layer.in_crs(project.crs).geometry.iloc[0]
    assert cgcs.x == pytest.approx(116.3975, abs=1e-6)
    gk = layer.in_crs(cgcs2000_gauss_kruger(116.3975)).geometry.iloc[0]
    # 3-degree zone, CM 117E: ~51 km west of the central meridian, false easting 500 km
    assert 448_000 < gk.x < 449_500 and 4_417_000 < gk.y < 4_420_000
    assert layer.in_crs("EPSG:4548") is layer.in_crs("EPSG:4548")  # cached
    project.set_crs("EPSG:4548")
    x0, y0, x1, y1 = project.extent
    assert x0 == pytest.approx(gk.x) == pytest.approx(x1)
    assert y0 == pytest.approx(gk.y) == pytest.approx(y1)


def test_web_mercator_is_refused_for_measuring_and_never_chosen():
    """A unit grid drawn in EPSG:3857 at Cambridge's latitude had 74 m cells for "100 m"
    (64 m at Helsinki): 3857 is refused when given, and data in 3857 gets a UTM grid."""
    import geopandas as gpd
    import pytest

    from citydesk.incidents.grid import GridSpec, build_unit_grid
    from citydesk.layers.demo import SHIPPED_DEMO
    from citydesk.layers.errors import CRSError

    boundary = gpd.read_file(SHIPPED_DEMO, layer="city_boundary").to_crs(3857)
    hoods = gpd.read_file(SHIPPED_DEMO, layer="neighborhoods").to_crs(3857)
    spec = dict(county_code="250170", street_code_field="N_HOOD", street_name_field="NAME")
    with pytest.raises(CRSError, match="web-map projection"):
        build_unit_grid(boundary, hoods, GridSpec(crs="EPSG:3857", **spec))
    grid = build_unit_grid(boundary, hoods, GridSpec(**spec))
    assert "UTM" in grid.crs.name
    full = grid.geometry.area.round() == 10_000  # whole cells are 100 m x 100 m on the ground
    assert full.sum() > 0.5 * len(grid)
