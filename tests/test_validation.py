"""Validation reports on real data and on real files damaged the way files get damaged."""

from __future__ import annotations

import json

import broken_inputs as bi
import geopandas as gpd
import pytest
import shapely
from conftest import CRASHES_GPKG, PARCELS, SF_DEM_SOUTH, SF_DEM_TIF

from citydesk.layers.validation import repair, validate_frame, validate_path


@pytest.fixture(scope="module")
def parcels_report():
    return validate_path(PARCELS, id_field="ML")


@pytest.mark.shared_data
def test_real_parcels_report_exactly_37_invalid(parcels_report):
    issue = parcels_report.get("invalid_geometry")
    assert issue is not None and issue.count == 37
    assert issue.severity == "error" and issue.repairable
    assert len(issue.feature_ids) == 37
    assert all("intersection" in d["reason"].lower() for d in issue.details)
    # the reason names where: shapely's location in brackets, and the parcel id is included
    assert all("[" in d["reason"] and "ML" in d for d in issue.details)


@pytest.mark.shared_data
def test_real_parcels_report_the_134_without_assessor_data(parcels_report):
    issue = parcels_report.get("missing_attributes")
    assert issue is not None and issue.count == 134
    assert "use_code" in issue.details[0]["fields"]
    frame = gpd.read_file(PARCELS)
    assert int(frame["use_code"].isna().sum()) == 134


@pytest.mark.shared_data
def test_real_parcels_other_findings(parcels_report):
    assert parcels_report.get("empty_geometry").count == 1
    assert parcels_report.get("duplicate_ids").count == 93
    assert not parcels_report.ok
    text = parcels_report.to_text()
    assert "37" in text and "134" in text and "make_valid" in text
    json.dumps(parcels_report.to_dict())  # the report is JSON-serialisable


@pytest.mark.shared_data
def test_required_field_check():
    report = validate_path(PARCELS, required_fields=["use_code", "no_such_field"])
    assert report.get("missing_values").count == 134
    assert report.get("missing_field") is not None


@pytest.mark.shared_data
def test_repair_makes_all_37_valid_and_keeps_polygons():
    frame = gpd.read_file(PARCELS)
    fixed, count = repair(frame)
    assert count == 37
    geoms = fixed.geometry.to_numpy()
    usable = ~shapely.is_empty(geoms)
    assert shapely.is_valid(geoms[usable]).all()
    assert set(fixed.geom_type[usable]) <= {"Polygon", "MultiPolygon"}
    # area is essentially preserved by the repair (self-touching rings, not lost land)
    bad = ~frame.is_valid & ~frame.is_empty
    before = frame[bad].to_crs(2249).geometry.buffer(0).area.sum()
    after = fixed[bad].to_crs(2249).area.sum()
    assert after == pytest.approx(before, rel=0.02)
    assert validate_frame(fixed).get("invalid_geometry") is None


@pytest.mark.shared_data
def test_clean_layer_passes():
    report = validate_path(CRASHES_GPKG)
    assert report.ok
    assert report.feature_count == 9110


def test_missing_crs(tmp_path):
    report = validate_path(bi.shapefile_without_prj(tmp_path))
    issue = report.get("missing_crs")
    assert issue and issue.severity == "error"
    # projected numbers: the fix names the command, not one city's state plane
    assert "--assign-crs" in issue.fix and "projected" in issue.fix
    assert "EPSG:2249" not in issue.fix and "Massachusetts" not in issue.fix


def test_projected_numbers_in_a_wgs84_file(tmp_path):
    report = validate_path(bi.projected_coordinates_labelled_wgs84(tmp_path))
    issue = report.get("crs_mismatch")
    assert issue is not None and "projected" in issue.message


CAMBRIDGE_LONLAT = (-71.161, 42.352, -71.064, 42.404)


def test_swapped_lat_long_csv_against_the_project_area(tmp_path):
    swapped = bi.swapped_latlon_csv(tmp_path)
    # Cambridge with its axes swapped is a legal point (in Antarctica), so only the project
    # area reveals it; the report says so and names the fix.
    report = validate_path(swapped, expected_lonlat=CAMBRIDGE_LONLAT)
    issue = report.get("crs_mismatch")
    assert issue is not None, report.to_text()
    assert "swapped" in issue.message and "--x-field" in issue.fix
    # the unswapped real file is fine against the same area
    from conftest import CRASHES_CSV

    assert validate_path(CRASHES_CSV, expected_lonlat=CAMBRIDGE_LONLAT).get("crs_mismatch") is None


def test_empty_layer(tmp_path):
    report = validate_path(bi.empty_layer(tmp_path))
    assert report.codes() == ["empty_layer"]


def test_mixed_geometry_types(tmp_path):
    report = validate_path(bi.mixed_geometry_geojson(tmp_path))
    issue = report.get("mixed_geometry_types")
    assert issue and "Point" in issue.message and "Polygon" in issue.message


@pytest.mark.parametrize("maker", [bi.truncated_gpkg, bi.truncated_shapefile, bi.not_a_gis_file])
def test_corrupt_files_are_reported_not_raised(tmp_path, maker):
    report = validate_path(maker(tmp_path))
    issue = report.get("unreadable")
    assert issue is not None and issue.severity == "error"
    assert "re-export" in issue.fix or "re-download" in issue.fix


def test_missing_file_is_reported(tmp_path):
    report = validate_path(tmp_path / "nope.gpkg")
    assert report.get("unreadable") and "path" in report.get("unreadable").fix.lower()


def test_unknown_format_is_reported(tmp_path):
    f = tmp_path / "data.xyz"
    f.write_bytes(b"PK\x03\x04")
    report = validate_path(f)
    assert "not a format" in report.get("unreadable").message
    broken = tmp_path / "data.xlsx"  # Excel is read now: a broken workbook says so
    broken.write_bytes(b"PK\x03\x04")
    assert "spreadsheet" in validate_path(broken).get("unreadable").message


def test_gbk_shapefile_encoding_is_detected(tmp_path):
    report = validate_path(bi.gbk_shapefile_without_cpg(tmp_path))
    assert report.encoding == "gb18030"
    assert report.get("encoding_detected").severity == "info"
    assert report.ok


def test_malformed_csv_rows_are_listed_by_line(tmp_path):
    report = validate_path(bi.malformed_csv(tmp_path))
    issue = report.get("malformed_rows")
    assert issue is not None and issue.count == 2
    assert issue.feature_ids == [6, 10]  # 1-based file lines, header is line 1


@pytest.mark.shared_data
def test_csv_rows_without_coordinates_are_kept_and_reported(tmp_path):
    from conftest import CRASHES_CSV

    report = validate_path(CRASHES_CSV)
    # 10,335 records, 9,110 with coordinates (see the dataset README)
    assert report.feature_count == 10335
    assert report.get("missing_geometry").count == 10335 - 9110


@pytest.mark.shared_data
def test_dem_in_feet_is_flagged_and_metres_is_not():
    south = validate_path(SF_DEM_SOUTH)
    assert south.get("elevation_in_feet") is not None
    mosaic = validate_path(SF_DEM_TIF)
    assert mosaic.get("elevation_in_feet") is None
    assert mosaic.get("nodata_cells") is not None


@pytest.mark.parametrize("empty", [1, 3])
def test_counts_in_messages_agree_with_their_number(empty):
    """One feature without a required value is "1 feature has", three are "3 features have"
    (ngettext, in the interface language; zh_CN has one form)."""
    from citydesk.layers.i18n import set_language

    frame = gpd.GeoDataFrame(
        {"name": [None] * empty + ["a", "b"]},
        geometry=[shapely.Point(0, k) for k in range(empty + 2)],
        crs="EPSG:3857",
    )
    text = validate_frame(frame, required_fields=["name"]).get("missing_values").message
    if empty == 1:
        assert text == "1 feature has no value in the required field 'name'"
    else:
        assert text == "3 features have no value in the required field 'name'"
    set_language("zh_CN")  # the conftest fixture sets English back
    chinese = validate_frame(frame, required_fields=["name"]).get("missing_values").message
    assert chinese == f"{empty} 个要素的必需字段“name”没有值"
