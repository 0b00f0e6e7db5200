"""A Chinese shapefile without a .cpg whose field names are Chinese and whose values are all
codes and numbers (地块编号, 用地代码 ...): its encoding is found from the names, however many
ASCII values there are."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from citydesk.layers.io import read_layer


@pytest.mark.parametrize("rows", [20, 20_000])
def test_gbk_field_names_over_ascii_values_are_read(tmp_path, rows):
    frame = gpd.GeoDataFrame(
        {
            "地块编号": [f"{k:08d}" for k in range(rows)],
            "用地代码": np.where(np.arange(rows) % 2, "0701", "0901"),
            "住宅套数": np.arange(rows) % 7,
        },
        geometry=shapely.points(np.arange(rows) * 1.0, np.zeros(rows)),
        crs="EPSG:4544",
    )
    frame.to_file(tmp_path / "地块.shp", encoding="gbk")
    (tmp_path / "地块.cpg").unlink()  # as ArcGIS 9 and many converters leave them
    layer = read_layer(tmp_path / "地块.shp")
    assert list(layer.data.columns[:3]) == ["地块编号", "用地代码", "住宅套数"]
    assert layer.metadata["read"]["encoding_source"] == "detected"
    assert set(layer.data["用地代码"]) == {"0701", "0901"}
