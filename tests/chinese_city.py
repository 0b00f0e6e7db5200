"""A Chinese-style city's data, made from real data by renaming, recoding and moving it.

No open Chinese municipal data set ships with CityDesk, so this fixture takes the real
Cambridge layers of the embedded demo (a 1.6 km square of its centre), moves them without
distortion to central Chengdu in CGCS2000 / 3-degree Gauss-Krüger CM 105E (EPSG:4544),
and writes them as a Chinese city's files would be: Chinese file and layer names, Chinese
field names, land use recoded to the 2023 国土空间用地用海分类, floor areas in m², land
values in yuan, facility kinds and 街道 names in Chinese. The shapes, the street network, the
housing figures and the facilities' positions relative to each other stay real.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from citydesk.layers.demo import SHIPPED_DEMO
from citydesk.layers.project_store import read_project_layer

GK_CM105 = "EPSG:4544"
HALF_SIDE_M = 800.0
CNY_PER_USD = 7.1
SQFT = 0.09290304

LAND_USE = {  # planning class of the demo parcels -> 用地用海分类 (2023) code
    "residential": "0701",
    "mixed": "0701/0901",
    "commercial": "0901",
    "industrial": "1001",
    "institutional": "0801",
    "vacant": "2301",
    "parking": "120803",
}
KINDS = {
    "fire_station": "消防站",
    "public_school": "小学",
    "private_school": "民办学校",
    "health_clinic": "社区卫生服务中心",
    "hospital": "医院",
    "public_library": "图书馆",
    "police_station": "派出所",
    "day_care": "幼儿园",
    "elderly_facility": "养老服务中心",
    "municipal_building": "政务服务中心",
    "youth_center": "青少年活动中心",
    "emergency_shelter": "应急避难场所",
}
STREET_NAMES = [
    "春熙路街道", "书院街街道", "合江亭街道", "水井坊街道", "牛市口街道", "龙舟路街道",
    "双桂路街道", "莲新街道", "沙河街道", "东光街道", "狮子山街道", "成龙路街道", "柳江街道",
]  # fmt: skip


def build(folder: Path) -> Path:
    """Write the city's files into ``folder`` (created); returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    metric = "EPSG:26986"  # Massachusetts Mainland in metres: shapes kept as they are
    read = lambda layer: read_project_layer(SHIPPED_DEMO, layer).to_crs(metric)  # noqa: E731
    parcels = read("parcels")
    x_min, y_min, x_max, y_max = parcels.total_bounds
    centre = shapely.Point((x_min + x_max) / 2, (y_min + y_max) / 2)
    window = shapely.box(
        centre.x - HALF_SIDE_M,
        centre.y - HALF_SIDE_M,
        centre.x + HALF_SIDE_M,
        centre.y + HALF_SIDE_M,
    )
    x0, y0 = Transformer.from_crs("EPSG:4326", GK_CM105, always_xy=True).transform(104.08, 30.65)
    dx, dy = x0 - centre.x, y0 - centre.y

    def moved(frame: gpd.GeoDataFrame, columns: dict) -> gpd.GeoDataFrame:
        offset = np.array([dx, dy])
        shifted = shapely.transform(np.asarray(frame.geometry.array), lambda xy: xy + offset)
        return gpd.GeoDataFrame(columns, geometry=shifted, crs=GK_CM105)

    inside = parcels[parcels.geometry.representative_point().within(window)]
    classes = inside["land_use"].astype(str)
    files = {
        "地块": moved(
            inside,
            {
                "地块编号": inside["ML"].astype(str).to_numpy(),
                "用地代码": classes.map(LAND_USE).to_numpy(),
                "建筑面积": (inside["gross_bldg_area_sqft"] * SQFT).round(1).to_numpy(),
                "住宅套数": inside["res_units_est"].to_numpy(),
                "地价": (inside["land_value_usd"] * CNY_PER_USD).round(0).to_numpy(),
            },
        )
    }
    streets = read("street_centerlines")
    streets = streets[streets.intersects(window)]
    files["道路中心线"] = moved(
        streets,
        {
            "路名": streets["Street"].to_numpy(),
            "起点编号": streets["FromNode"].to_numpy(),
            "终点编号": streets["ToNode"].to_numpy(),
            "单行": streets["Direction"].to_numpy(),
            "道路等级": streets["MajorRoad"].fillna(0).astype(int).to_numpy(),
        },
    )
    facilities = read("all_facilities")
    facilities = facilities[facilities.within(window.buffer(1500))]
    files["公共服务设施"] = moved(
        facilities,
        {
            "名称": [
                f"{KINDS.get(k, '设施')}{i + 1}" for i, k in enumerate(facilities["category"])
            ],
            "类型": facilities["category"].map(KINDS).fillna("其他").to_numpy(),
        },
    )
    areas = read("neighborhoods")
    areas = areas[areas.intersects(window)].reset_index(drop=True)
    areas["geometry"] = areas.geometry.intersection(window)
    files["街道"] = moved(
        areas,
        {
            "名称": STREET_NAMES[: len(areas)],
            "代码": [f"{i + 1:03d}" for i in range(len(areas))],
        },
    )
    files["行政边界"] = moved(
        gpd.GeoDataFrame(geometry=[window], crs=metric), {"名称": ["锦江区（示例）"]}
    )
    for name, frame in files.items():
        frame.to_file(folder / f"{name}.gpkg", layer=name, driver="GPKG")
    return folder


def summary(folder: Path) -> pd.DataFrame:
    """Rows per file (for the docs)."""
    return pd.DataFrame(
        {
            "file": [p.name for p in sorted(folder.glob("*.gpkg"))],
            "rows": [len(gpd.read_file(p)) for p in sorted(folder.glob("*.gpkg"))],
        }
    )


if __name__ == "__main__":  # python tests/chinese_city.py OUT_FOLDER
    import sys

    out = build(Path(sys.argv[1]))
    print(summary(out).to_string(index=False))
