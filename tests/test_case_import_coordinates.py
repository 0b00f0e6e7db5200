"""Case coordinates as Chinese systems give them: x/y in the city's CGCS2000 zone, or lon/lat
from a web map shifted by GCJ-02 (AMap, Tencent, WeChat) or BD-09 (Baidu). The mapping's
[coordinates] says which; the store keeps WGS 84 lon/lat, so the case lands in its cell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer

from citydesk.incidents.import_csv import CaseImportError, ColumnMapping, read_cases
from citydesk.layers.chinese_offsets import gcj02_to_bd09, wgs84_to_gcj02

LON = np.array([104.0665, 104.0801, 104.0932])  # Chengdu, Jinjiang district
LAT = np.array([30.6570, 30.6498, 30.6601])

MAPPING = """
source = "12345"
[columns]
source_id = "id"
reported_at = "time"
lon = "X"
lat = "Y"
category = "type"
[dates]
timezone = "Asia/Shanghai"
[categories]
"bin" = "component:0302"
[coordinates]
{coordinates}
"""


def _read(tmp_path, xs, ys, coordinates):
    csv = tmp_path / "cases.csv"
    pd.DataFrame(
        {"id": ["1", "2", "3"], "time": "2024-03-05 09:30", "X": xs, "Y": ys, "type": "bin"}
    ).to_csv(csv, index=False)
    toml = tmp_path / "mapping.toml"
    toml.write_text(MAPPING.format(coordinates=coordinates), encoding="utf-8")
    return read_cases(csv, ColumnMapping.load(toml)).cases


def test_projected_x_y_become_lon_lat(tmp_path):
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:4544", always_xy=True).transform(LON, LAT)
    assert x.min() > 300_000  # metres: as lon/lat they would be refused
    cases = _read(tmp_path, x, y, 'crs = "EPSG:4544"')
    np.testing.assert_allclose(cases["lon"], LON, atol=1e-8)
    np.testing.assert_allclose(cases["lat"], LAT, atol=1e-8)


@pytest.mark.parametrize("offset", ["gcj02", "bd09"])
def test_a_web_maps_offset_is_undone(tmp_path, offset):
    lon, lat = wgs84_to_gcj02(LON, LAT)
    if offset == "bd09":
        lon, lat = gcj02_to_bd09(lon, lat)
    assert np.abs(lon - LON).max() > 1e-3  # hundreds of metres off as given
    cases = _read(tmp_path, lon, lat, f'offset = "{offset}"')
    np.testing.assert_allclose(cases["lon"], LON, atol=1e-6)  # about 0.1 m
    np.testing.assert_allclose(cases["lat"], LAT, atol=1e-6)


@pytest.mark.parametrize(
    ("coordinates", "said"),
    [
        ('crs = "EPSG:999999"', "coordinates.crs"),
        ('crs = "EPSG:4544"\noffset = "gcj02"', "crs is projected"),
        ('ofset = "gcj02"', "offset"),  # misspelt: the nearest key is named
    ],
)
def test_a_wrong_coordinates_table_is_named(tmp_path, coordinates, said):
    with pytest.raises(CaseImportError) as err:
        _read(tmp_path, LON, LAT, coordinates)
    assert said in err.value.message + err.value.fix


def test_x_y_the_crs_cannot_place_are_refused_with_their_lines(tmp_path):
    with pytest.raises(CaseImportError, match=r"no place has \(file line 3\)"):
        _read(tmp_path, [500_000.0, 1e30, 500_000.0], [3_400_000.0] * 3, 'crs = "EPSG:4544"')


def test_cases_outside_the_unit_grid_are_counted_and_said(tmp_path):
    """A whole file outside the grid is coordinates read wrongly; the summary says so."""
    import geopandas as gpd
    import shapely

    from citydesk.incidents.case_files import import_case_file, import_summary
    from citydesk.incidents.grid import GridSpec, build_unit_grid
    from citydesk.incidents.project_grid import save_grid_to_project
    from citydesk.layers.project import Project
    from citydesk.layers.project_store import save_project

    project = tmp_path / "city.gpkg"
    save_project(Project("city", crs="EPSG:4544"), project)
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:4544", always_xy=True).transform(LON, LAT)
    area = gpd.GeoDataFrame(
        {"name": ["锦江"]}, geometry=[shapely.box(x.min() - 500, y.min() - 500, x.max() + 500,
                                                 y.max() + 500)], crs="EPSG:4544"
    )  # fmt: skip
    save_grid_to_project(build_unit_grid(area, area, GridSpec("510104")), project)
    csv = tmp_path / "cases.csv"
    lon, lat = wgs84_to_gcj02(LON, LAT)  # from AMap, the mapping not saying so
    lon[2], lat[2] = 116.40, 39.90  # and one in Beijing
    pd.DataFrame(
        {"id": ["1", "2", "3"], "time": "2024-03-05 09:30", "X": lon, "Y": lat, "type": "bin"}
    ).to_csv(csv, index=False)
    toml = tmp_path / "mapping.toml"
    toml.write_text(MAPPING.format(coordinates=""), encoding="utf-8")
    result = import_case_file(project, csv, toml)
    assert result["outside_grid"] >= 1  # Beijing at least; the shifted ones may fall out too
    said = import_summary(result)[-1]
    assert said.startswith(f"{result['outside_grid']} cases lie outside the unit grid")
    toml.write_text(MAPPING.format(coordinates='offset = "gcj02"').replace("12345", "amap"))
    assert import_case_file(project, csv, toml)["outside_grid"] == 1  # Beijing only


LOCATION_MAPPING = """
source = "portal311"
[columns]
source_id = "id"
reported_at = "time"
location = "Location"
category = "type"
[categories]
"bin" = "component:0302"
"""


def _read_location(tmp_path, values, mapping=LOCATION_MAPPING):
    csv = tmp_path / "cases.csv"
    pd.DataFrame(
        {"id": [str(i) for i in range(len(values))], "time": "2024-03-05 09:30",
         "Location": values, "type": "bin"}
    ).to_csv(csv, index=False)  # fmt: skip
    toml = tmp_path / "mapping.toml"
    toml.write_text(mapping, encoding="utf-8")
    return read_cases(csv, ColumnMapping.load(toml)).cases


def test_one_location_column_as_wkt_or_socratas_lat_lon(tmp_path):
    """Portals export the point as one column: WKT ``POINT (lon lat)``, or Socrata's
    ``(lat, lon)``; two columns were the only way in."""
    cases = _read_location(
        tmp_path,
        ["POINT (104.0665 30.657)", "(30.6498, 104.0801)", "point(104.0932 30.6601)", ""],
    )
    np.testing.assert_allclose(cases["lon"][:3], LON, atol=1e-9)
    np.testing.assert_allclose(cases["lat"][:3], LAT, atol=1e-9)
    assert np.isnan(cases["lon"][3])  # an empty cell: a case that needs a location
    with pytest.raises(CaseImportError, match=r"neither POINT \(x y\) nor two numbers") as err:
        _read_location(tmp_path, ["POINT (104.0665 30.657)", "near the park"])
    assert "'near the park' (file lines 3)" in err.value.message
    # two numbers without brackets: which is the latitude is not guessed
    with pytest.raises(CaseImportError, match="which is the latitude") as err:
        _read_location(tmp_path, ["POINT (104.0665 30.657)", "30.6 104.0"])
    assert "'30.6 104.0' (file line 3)" in err.value.message
    assert 'order = "lat_lon" or "lon_lat"' in err.value.fix
    both = LOCATION_MAPPING.replace('location = "Location"', 'location = "Location"\nlon = "X"')
    with pytest.raises(CaseImportError, match="both give the place"):
        _read_location(tmp_path, ["(30.6498, 104.0801)"], both)


@pytest.mark.parametrize(
    ("values", "order"),
    [
        (["30.6570, 104.0665", "30.6498 104.0801", "(30.6601, 104.0932)"], "lat_lon"),
        (["104.0665,30.657", "104.0801;30.6498", "104.0932 30.6601"], "lon_lat"),
    ],
)
def test_two_numbers_in_one_column_are_read_in_the_mappings_order(tmp_path, values, order):
    """A 数字城管 list's 坐标 column writes "lon,lat" without brackets, other exports "lat, lon":
    [coordinates] order says which comes first, and both read the same places."""
    mapping = LOCATION_MAPPING + f'\n[coordinates]\norder = "{order}"\n'
    cases = _read_location(tmp_path, values, mapping)
    np.testing.assert_allclose(cases["lon"], LON, atol=1e-9)
    np.testing.assert_allclose(cases["lat"], LAT, atol=1e-9)
