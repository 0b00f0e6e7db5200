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

import moved_city

GK_CM105 = "EPSG:4544"
CNY_PER_USD = 7.1

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


SPEC = moved_city.CitySpec(
    crs=GK_CM105,
    centre_lonlat=(104.08, 30.65),
    money_per_usd=CNY_PER_USD,
    land_use=LAND_USE,
    kinds=KINDS,
    other_kind="其他",
    district_names=STREET_NAMES,
    boundary_name="锦江区（示例）",
    files={
        "parcels": "地块",
        "streets": "道路中心线",
        "facilities": "公共服务设施",
        "districts": "街道",
        "boundary": "行政边界",
    },
    parcel_fields={
        "id": "地块编号",
        "land_use": "用地代码",
        "floor_area": "建筑面积",
        "housing_units": "住宅套数",
        "land_value": "地价",
    },
    street_fields={
        "name": "路名",
        "from_node": "起点编号",
        "to_node": "终点编号",
        "direction": "单行",
        "road_class": "道路等级",
    },
    facility_fields={"name": "名称", "kind": "类型"},
    area_fields={"name": "名称", "code": "代码"},
    facility_name=lambda kind, i: f"{kind}{i}",
)


def build(folder: Path) -> Path:
    """Write the city's files into ``folder`` (created); returns the folder."""
    return moved_city.build(folder, SPEC)


if __name__ == "__main__":  # python tests/chinese_city.py OUT_FOLDER
    import sys

    out = build(Path(sys.argv[1]))
    print(moved_city.summary(out).to_string(index=False))
