"""I/O benchmark: the CityDesk reader against plain geopandas, GeoParquet against GeoPackage.

Input: 500,000 real-shaped polygons in EPSG:3857 with 5 attributes, made by tiling the 13,116
Cambridge parcels (so vertex counts are those of a real cadastre, not squares).

    .venv/bin/python benchmarks/io.py [--n 500000] [--repeat 3]

Peers, same file, same run: geopandas.read_file with the fiona engine, with pyogrio without
Arrow, with pyogrio with Arrow; geopandas.read_parquet. Prints a Markdown table with ratios
(peer time / CityDesk time: above 1 means CityDesk is faster).
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from common import DATA_DIR, SHARED, best_of, print_results

sys.path.insert(0, str(DATA_DIR.parents[1]))
from citydesk.layers.io import read_layer
from citydesk.layers.validation import validate_frame, validate_layer


def make_input(n: int) -> tuple[str, str]:
    gpkg = DATA_DIR / f"polygons_{n}.gpkg"
    parquet = DATA_DIR / f"polygons_{n}.parquet"
    if gpkg.exists() and parquet.exists():
        return str(gpkg), str(parquet)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    parcels = gpd.read_file(SHARED / "cambridge/parcels_fy2014/cambridge_parcels_fy2014.gpkg")
    parcels = parcels[~parcels.geometry.is_empty].to_crs(3857)
    parcels["geometry"] = shapely.make_valid(parcels.geometry.values)
    parcels = parcels[parcels.geom_type.isin(["Polygon", "MultiPolygon"])]
    base = parcels.geometry.values
    w = parcels.total_bounds[2] - parcels.total_bounds[0]
    h = parcels.total_bounds[3] - parcels.total_bounds[1]
    reps = int(np.ceil(n / len(base)))
    side = int(np.ceil(np.sqrt(reps)))
    geoms = []
    for i in range(reps):
        offset = np.array([(i % side) * w * 1.05, (i // side) * h * 1.05])
        geoms.append(shapely.transform(base, lambda c, off=offset: c + off))
    geom = np.concatenate(geoms)[:n]
    rng = np.random.default_rng(42)
    src = parcels.reset_index(drop=True)
    idx = np.arange(n) % len(src)
    frame = gpd.GeoDataFrame(
        {
            "land_value": src["land_value_usd"].to_numpy()[idx],
            "res_units": src["res_units_est"].to_numpy()[idx],
            "year_built": rng.integers(1800, 2014, n),
            "use_code": src["use_code"].astype(str).to_numpy()[idx],
            "address": src["address"].astype(str).to_numpy()[idx],
        },
        geometry=geom,
        crs=3857,
    )
    pyogrio.write_dataframe(frame, gpkg, layer="polygons", promote_to_multi=True)
    frame.to_parquet(parquet, write_covering_bbox=True, compression="zstd")
    return str(gpkg), str(parquet)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    t0 = time.perf_counter()
    gpkg, parquet = make_input(args.n)
    print(f"input ready in {time.perf_counter() - t0:.1f} s: {gpkg}", file=sys.stderr)
    warnings.filterwarnings("ignore")

    runs: list[tuple[str, callable]] = [
        # the same result as the peers: a GeoDataFrame of every feature
        (
            "CityDesk read_layer(compact=False) (GeoPackage -> GeoDataFrame)",
            lambda: read_layer(gpkg, compact=False).data,
        ),
        ("geopandas.read_file engine=fiona", lambda: gpd.read_file(gpkg, engine="fiona")),
        (
            "geopandas.read_file engine=pyogrio, no Arrow",
            lambda: gpd.read_file(gpkg, engine="pyogrio", use_arrow=False),
        ),
        (
            "geopandas.read_file engine=pyogrio, Arrow",
            lambda: gpd.read_file(gpkg, engine="pyogrio", use_arrow=True),
        ),
        ("CityDesk read_layer (GeoParquet)", lambda: read_layer(parquet)),
        ("geopandas.read_parquet", lambda: gpd.read_parquet(parquet)),
        # what the workbench holds of a file: coordinate arrays, no shapely objects
        ("CityDesk read_layer, held as arrays (not the same result)", lambda: read_layer(gpkg)),
        # ... and an analysis then asking that layer for its GeoDataFrame
        ("CityDesk read_layer, then .data (arrays -> GeoDataFrame)", lambda: read_layer(gpkg).data),
    ]
    results = {}
    for name, fn in runs:
        results[name] = best_of(fn, args.repeat)
        print(f"{name}: {results[name][0]:.2f} s", file=sys.stderr)
    ours = results[runs[0][0]][0]
    rows = [
        [name, f"{med:.2f}", f"{mn:.2f}", f"{med / ours:.2f}"]
        for name, (med, mn) in results.items()
    ]
    print_results(
        f"{args.n:,} polygons, EPSG:3857, 5 attributes; median of {args.repeat}",
        ["reader", "median s", "min s", "time / CityDesk GPKG"],
        rows,
    )
    gp_ratio = results[runs[5][0]][0] / results[runs[0][0]][0]
    print(
        f"\nGeoParquet vs GeoPackage (CityDesk): {results[runs[4][0]][0] / ours:.2f}x the time "
        f"(geopandas.read_parquet / CityDesk GPKG = {gp_ratio:.2f})"
    )

    layer = read_layer(gpkg)
    t0 = time.perf_counter()
    validate_layer(layer)
    t_val_arrays = time.perf_counter() - t0
    t0 = time.perf_counter()
    layer.drawing_geometry("EPSG:4326")
    t_proj_arrays = time.perf_counter() - t0
    t0 = time.perf_counter()
    validate_frame(layer.data)
    t_val = time.perf_counter() - t0
    t0 = time.perf_counter()
    layer.in_crs("EPSG:4326")
    t_proj = time.perf_counter() - t0
    print(
        f"on top of reading: validation {t_val:.2f} s of the GeoDataFrame, {t_val_arrays:.2f} s "
        f"of the arrays (in chunks); reprojection to EPSG:4326 {t_proj:.2f} s of the "
        f"GeoDataFrame, {t_proj_arrays:.2f} s of the arrays"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
