"""Every reader and writer on real data: formats, encodings, CSV quirks, rasters and units."""

from __future__ import annotations

import broken_inputs as bi
import numpy as np
import pandas as pd
import pytest
from conftest import (
    BOUNDARIES,
    CRASHES_CSV,
    NYC311,
    PARCELS,
    SF_DEM_NORTH,
    SF_DEM_SOUTH,
    SF_DEM_TIF,
)

from citydesk.layers import LayerReadError, LayerRole, RecordingFeedback, read_layer, write_layer
from citydesk.layers.feedback import CanceledError
from citydesk.layers.io import read_frame
from citydesk.layers.raster_ops import mosaic, reproject_raster, to_metres


@pytest.fixture(scope="module")
def hoods():
    return read_layer(BOUNDARIES, "neighborhoods")


@pytest.mark.shared_data
@pytest.mark.parametrize("ext", [".gpkg", ".geojson", ".fgb", ".parquet", ".shp"])
def test_vector_round_trip(tmp_path, hoods, ext):
    out = write_layer(hoods, tmp_path / f"hoods{ext}")
    back = read_layer(out)
    assert back.feature_count == 13
    assert sorted(back.data["NAME"]) == sorted(hoods.data["NAME"])
    assert back.crs.to_epsg() == 4326
    area_in = hoods.data.to_crs(2249).area.sum()
    assert back.data.to_crs(2249).area.sum() == pytest.approx(area_in, rel=1e-6)


@pytest.mark.shared_data
def test_geoparquet_bbox_read_uses_the_covering(tmp_path):
    parcels = read_layer(PARCELS)
    out = write_layer(parcels, tmp_path / "parcels.parquet")
    bbox = (-71.12, 42.36, -71.10, 42.37)
    frame, _ = read_frame(out, bbox=bbox)
    b = parcels.data.geometry.bounds
    expected = b[
        (b.minx <= bbox[2]) & (b.maxx >= bbox[0]) & (b.miny <= bbox[3]) & (b.maxy >= bbox[1])
    ]
    assert 0 < len(frame) < len(parcels.data)
    assert len(frame) == len(expected)


@pytest.mark.shared_data
def test_geojson_is_written_in_wgs84(tmp_path, hoods):
    hoods_sp = read_layer(BOUNDARIES, "neighborhoods")
    hoods_sp.set_data(hoods_sp.data.to_crs(2249))
    back = read_layer(write_layer(hoods_sp, tmp_path / "h.geojson"))
    assert back.crs.to_epsg() == 4326


@pytest.mark.shared_data
def test_gpkg_keeps_feature_ids(tmp_path):
    parcels = read_layer(PARCELS)
    assert parcels.data.index.name == "fid"
    back = read_layer(write_layer(parcels, tmp_path / "p.gpkg"))
    assert list(back.data.index[:5]) == list(parcels.data.index[:5])


@pytest.mark.shared_data
def test_layer_role_is_guessed_from_the_name():
    assert read_layer(PARCELS).role == LayerRole.LAND
    assert read_layer(BOUNDARIES, "neighborhoods").role == LayerRole.BOUNDARY


def test_gbk_shapefile_reads_chinese_names(tmp_path):
    shp = bi.gbk_shapefile_without_cpg(tmp_path)
    layer = read_layer(shp)
    names = dict(zip(layer.data["NAME"], layer.data["name_zh"], strict=True))
    assert names["Cambridgeport"] == "剑桥港"
    assert names["East Cambridge"] == "东剑桥"
    assert set(layer.data["note"]) == {"城市管理网格"}
    assert layer.metadata["read"]["encoding_source"] == "detected"


def test_gbk_shapefile_with_explicit_wrong_encoding_gives_mojibake_not_a_crash(tmp_path):
    shp = bi.gbk_shapefile_without_cpg(tmp_path)
    layer = read_layer(shp, encoding="latin-1")
    assert "剑桥港" not in set(layer.data["name_zh"])


@pytest.mark.shared_data
def test_csv_with_coordinates_real_crashes():
    layer = read_layer(CRASHES_CSV)
    assert layer.feature_count == 10335
    assert layer.crs.to_epsg() == 4326
    assert int(layer.data.geometry.isna().sum()) == 10335 - 9110
    assert layer.metadata["read"]["x_field"] == "Longitude"


@pytest.mark.shared_data
def test_csv_real_nyc_311_keeps_rows_without_coordinates():
    layer = read_layer(NYC311)
    assert layer.feature_count == 924
    assert int(layer.data.geometry.notna().sum()) == 913
    # ids keep their exact text; zip codes with leading zeros are not turned into numbers
    assert layer.data["Unique Key"].notna().all()


@pytest.mark.shared_data
def test_csv_named_columns_override(tmp_path):
    df = pd.read_csv(CRASHES_CSV, nrows=2000).dropna(subset=["Latitude"])
    df = df.rename(columns={"Latitude": "north", "Longitude": "east"})
    out = tmp_path / "c.csv"
    df.to_csv(out, index=False)
    with pytest.raises(LayerReadError, match="no coordinate columns"):
        read_layer(out)
    layer = read_layer(out, x_field="east", y_field="north")
    assert layer.feature_count == len(df) and layer.crs.to_epsg() == 4326


@pytest.mark.shared_data
def test_csv_gbk_encoded_is_detected(tmp_path):
    df = pd.read_csv(CRASHES_CSV).dropna(subset=["Latitude"]).head(200)
    df["类别"] = "交通事故"
    out = tmp_path / "gbk.csv"
    df.to_csv(out, index=False, encoding="gb18030")
    layer = read_layer(out)
    assert set(layer.data["类别"]) == {"交通事故"}


@pytest.mark.shared_data
def test_progress_and_cancel_on_a_long_read():
    fb = RecordingFeedback()
    read_layer(PARCELS, feedback=fb)
    assert fb.progress and fb.progress[-1] == 100.0
    canceled = RecordingFeedback()
    canceled.cancel()
    with pytest.raises(CanceledError):
        read_layer(PARCELS, feedback=canceled)


@pytest.mark.shared_data
def test_geotiff_and_usgs_dem_with_units():
    north = read_layer(SF_DEM_NORTH)
    south = read_layer(SF_DEM_SOUTH)
    assert north.units == "m" and south.units == "ft"
    assert north.role == LayerRole.ELEVATION
    assert north.crs.to_epsg() == 26710
    assert float(south.masked().max()) == pytest.approx(1314.0)
    assert float(to_metres(south).masked().max()) == pytest.approx(1314.0 * 0.3048, rel=1e-5)


@pytest.mark.shared_data
def test_mosaic_of_mixed_unit_quads_matches_the_published_metre_mosaic():
    merged = mosaic([read_layer(SF_DEM_NORTH), read_layer(SF_DEM_SOUTH)])
    published = read_layer(SF_DEM_TIF)
    assert merged.units == "m"
    assert float(merged.masked().max()) == pytest.approx(400.5, abs=0.5)
    assert float(published.masked().max()) == pytest.approx(float(merged.masked().max()), abs=0.5)
    # a naive stack without conversion would reach 1314 "metres"
    assert float(merged.masked().max()) < 500


@pytest.mark.shared_data
def test_raster_round_trip_and_reprojection(tmp_path):
    dem = read_layer(SF_DEM_TIF)
    back = read_layer(write_layer(dem, tmp_path / "dem.tif"))
    assert back.units == "m"
    np.testing.assert_array_equal(back.array, dem.array)
    wgs = reproject_raster(dem, "EPSG:4326")
    x0, y0, x1, y1 = wgs.extent
    assert -122.6 < x0 < x1 < -122.3 and 37.6 < y0 < y1 < 37.9
    assert float(wgs.masked().max()) == pytest.approx(400.5, abs=15)


def test_unknown_and_missing_files_raise_clear_errors(tmp_path):
    with pytest.raises(LayerReadError, match="not a format"):
        read_layer(tmp_path / "x.docx")
    with pytest.raises(LayerReadError, match="does not exist"):
        read_layer(tmp_path / "x.gpkg")
    with pytest.raises(LayerReadError, match="truncated"):
        read_layer(bi.truncated_shapefile(tmp_path))
    with pytest.raises(LayerReadError, match="re-export"):
        read_layer(bi.truncated_gpkg(tmp_path))


def test_chinese_layer_names_get_readable_ids_and_roles():
    from citydesk.layers.io import guess_role
    from citydesk.layers.layer import slugify

    assert slugify("道路中心线") == "dao_lu_zhong_xin_xian"
    assert slugify("地块2024") == "di_kuai_2024"
    assert guess_role("道路中心线").value == "infrastructure"
    assert guess_role("锦江区街道边界").value == "boundary"  # 街道: the sub-district
    assert guess_role("控规地块").value == "land"
    assert guess_role("消防站").value == "facilities"
