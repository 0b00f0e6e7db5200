"""A toy format: one WKT geometry per line, in WGS 84."""

from pathlib import Path

import geopandas as gpd
import shapely


def read_wkt_lines(path):
    lines = [ln for ln in Path(path).read_text(encoding="utf-8").splitlines() if ln.strip()]
    return gpd.GeoDataFrame(geometry=[shapely.from_wkt(ln) for ln in lines], crs=4326)


def write_wkt_lines(frame, path):
    text = "\n".join(g.wkt for g in frame.to_crs(4326).geometry)
    Path(path).write_text(text + "\n", encoding="utf-8")
