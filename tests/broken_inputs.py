"""Broken inputs derived from real data, made fresh in a temp folder for each test.

Each function damages a real file the way real files get damaged: a truncated download, a
shapefile without .prj, a GBK shapefile without .cpg, swapped CSV columns, projected numbers
in a lon/lat file, mixed geometry types, an empty export.

The sources are the layers of the shipped Cambridge demo project (real City of Cambridge
data, in the repository), so these tests run on a fresh clone without ../shared.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from citydesk.layers.demo import SHIPPED_DEMO

#: the crash export's own column names (the demo keeps them in snake_case)
CRASH_COLUMNS = {
    "crash_number": "Crash Number",
    "date_time": "Date Time",
    "day_of_week": "Day Of Week",
    "object_1": "Object 1",
    "object_2": "Object 2",
    "street_number": "Street Number",
    "street_name": "Street Name",
    "cross_street": "Cross Street",
    "location": "Location",
    "latitude": "Latitude",
    "longitude": "Longitude",
}


def demo_layer(name: str) -> gpd.GeoDataFrame:
    return gpd.read_file(SHIPPED_DEMO, layer=name)


def crashes_csv(folder: Path, rows: int | None = None) -> Path:
    """The demo's crash layer as the police department's CSV export (its own columns)."""
    crashes = pd.DataFrame(demo_layer("crashes").drop(columns="geometry"))
    crashes = crashes[list(CRASH_COLUMNS)].rename(columns=CRASH_COLUMNS)
    out = folder / "crashes.csv"
    (crashes if rows is None else crashes.head(rows)).to_csv(out, index=False)
    return out


#: the 13 Cambridge neighbourhoods with the Chinese names a Chinese planning office would use
HOOD_ZH = {
    "East Cambridge": "东剑桥",
    "Area 2/MIT": "二区/麻省理工",
    "Wellington-Harrington": "惠灵顿-哈灵顿",
    "The Port": "港区",
    "Cambridgeport": "剑桥港",
    "Mid-Cambridge": "中剑桥",
    "Riverside": "河畔",
    "Baldwin": "鲍德温",
    "Neighborhood Nine": "第九街区",
    "West Cambridge": "西剑桥",
    "North Cambridge": "北剑桥",
    "Cambridge Highlands": "剑桥高地",
    "Strawberry Hill": "草莓山",
}


def gbk_shapefile_without_cpg(folder: Path) -> Path:
    hoods = demo_layer("neighborhoods")
    hoods["name_zh"] = hoods["NAME"].map(HOOD_ZH).fillna("未命名")
    hoods["note"] = "城市管理网格"
    out = folder / "neighborhoods_gbk.shp"
    pyogrio.write_dataframe(hoods[["NAME", "name_zh", "note", "geometry"]], out, encoding="GBK")
    out.with_suffix(".cpg").unlink(missing_ok=True)
    return out


def shapefile_without_prj(folder: Path) -> Path:
    hoods = demo_layer("neighborhoods").to_crs(2249)
    out = folder / "neighborhoods_noprj.shp"
    pyogrio.write_dataframe(hoods[["NAME", "geometry"]], out)
    out.with_suffix(".prj").unlink()
    return out


def truncated_gpkg(folder: Path, keep: float = 0.4) -> Path:
    out = folder / "parcels_truncated.gpkg"
    data = SHIPPED_DEMO.read_bytes()
    out.write_bytes(data[: int(len(data) * keep)])
    return out


def truncated_shapefile(folder: Path) -> Path:
    hoods = demo_layer("neighborhoods")
    out = folder / "hoods_trunc.shp"
    pyogrio.write_dataframe(hoods, out)
    shp = out.read_bytes()
    out.write_bytes(shp[: len(shp) // 3])
    return out


def not_a_gis_file(folder: Path) -> Path:
    out = folder / "report.gpkg"
    out.write_text("this is a Word document renamed to .gpkg\n")
    return out


def swapped_latlon_csv(folder: Path, rows: int = 3000) -> Path:
    df = pd.read_csv(crashes_csv(folder, rows))
    df = df.rename(columns={"Latitude": "Longitude", "Longitude": "Latitude"})
    out = folder / "crashes_swapped.csv"
    df.to_csv(out, index=False)
    return out


def projected_coordinates_labelled_wgs84(folder: Path) -> Path:
    hoods = demo_layer("neighborhoods").to_crs(2249)
    hoods = hoods.set_crs(4326, allow_override=True)  # the classic wrong .prj
    out = folder / "hoods_wrong_crs.gpkg"
    pyogrio.write_dataframe(hoods, out)
    return out


def mixed_geometry_geojson(folder: Path) -> Path:
    hoods = demo_layer("neighborhoods")[["NAME", "geometry"]]
    facilities = demo_layer("all_facilities")
    schools = facilities[facilities["category"] == "public_school"][["name", "geometry"]]
    schools = schools.rename(columns={"name": "NAME"})
    mixed = gpd.GeoDataFrame(pd.concat([hoods, schools], ignore_index=True), crs=4326)
    out = folder / "mixed.geojson"
    pyogrio.write_dataframe(mixed, out, driver="GeoJSON")
    return out


def empty_layer(folder: Path) -> Path:
    hoods = demo_layer("neighborhoods")
    out = folder / "empty.gpkg"
    pyogrio.write_dataframe(hoods.iloc[0:0], out, layer="neighborhoods")
    return out


def malformed_csv(folder: Path) -> Path:
    """The crash CSV with two damaged lines (an unquoted comma, a cut-off row)."""
    lines = crashes_csv(folder, 400).read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5] + ",EXTRA FIELD"
    lines[9] = lines[9] + ",MORE,AND MORE"
    out = folder / "crashes_malformed.csv"
    out.write_text("\n".join(lines[:400]) + "\n", encoding="utf-8")
    return out


def copy_of(path: Path, folder: Path) -> Path:
    target = folder / path.name
    shutil.copyfile(path, target)
    return target
