"""Case-store benchmark at city scale: 1,000,000 cases resampled from the real Cambridge
crash locations and times.

    .venv/bin/python benchmarks/cases.py [--n 1000000]

Measures, in one run:
- grid assignment: CityDesk's vectorised STRtree cell lookup against geopandas.sjoin;
- import of n CSV rows through the cambridge_crashes mapping (one transaction);
- KPIs by department and by grid over all cases;
- the store's size on disk per million cases.
Targets (incidents issue): grid assignment < 1 s per million, import < 60 s, KPIs < 2 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from common import DATA_DIR, ROOT, SHARED, machine, markdown_table

sys.path.insert(0, str(ROOT))

from incidents.grid import GridSpec, build_unit_grid
from incidents.grid_index import GridIndex
from incidents.import_csv import import_csv
from incidents.kpi import KpiSpec, kpis_from_store
from incidents.store import SqliteCaseStore


def make_csv(n: int) -> Path:
    path = DATA_DIR / f"crashes_{n}.csv"
    if path.exists():
        return path
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    raw = pd.read_csv(
        SHARED / "cambridge/crashes_2010_2014/Police_Department_Crash_Data_-_Historical_raw.csv",
        dtype=str,
    )
    rng = np.random.default_rng(7)
    sample = raw.iloc[rng.integers(0, len(raw), n)].reset_index(drop=True)
    sample["Crash Number"] = np.arange(1, n + 1).astype(str)  # unique source ids
    sample.to_csv(path, index=False)
    return path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    args = parser.parse_args()
    b = SHARED / "cambridge/boundaries/cambridge_boundaries.gpkg"
    grid = build_unit_grid(
        gpd.read_file(b, layer="city_boundary"),
        gpd.read_file(b, layer="neighborhoods"),
        GridSpec("250170", street_code_field="N_HOOD", community_id_field="GEOID20"),
        gpd.read_file(b, layer="census2020_tracts"),
    )
    crashes = gpd.read_file(SHARED / "cambridge/crashes_2010_2014/cambridge_crashes_2010_2014.gpkg")
    rng = np.random.default_rng(3)
    pick = rng.integers(0, len(crashes), args.n)
    lon, lat = crashes.geometry.x.values[pick], crashes.geometry.y.values[pick]
    rows = []

    index = GridIndex(grid)
    t0 = time.perf_counter()
    codes = index.codes_at(lon, lat)
    t_ours = time.perf_counter() - t0
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    t0 = time.perf_counter()
    joined = gpd.sjoin(
        points.to_crs(grid.crs), grid[["code", "geometry"]], predicate="intersects", how="left"
    )
    t_sjoin = time.perf_counter() - t0
    agree = (joined.groupby(level=0)["code"].first().to_numpy() == codes).mean()
    rows.append(["grid assignment (CityDesk GridIndex)", f"{t_ours:.2f}", "< 1 s"])
    rows.append(
        [
            "grid assignment (geopandas.sjoin, peer)",
            f"{t_sjoin:.2f}",
            f"ratio {t_sjoin / t_ours:.1f}x; same cell for {agree:.4%}",
        ]
    )

    csv = make_csv(args.n)
    with tempfile.TemporaryDirectory() as tmp:
        store_path = Path(tmp) / "cases.gpkg"
        (store_path).write_bytes((ROOT / "layers/demo_data/cambridge_demo.gpkg").read_bytes())
        base_size = store_path.stat().st_size
        with SqliteCaseStore(store_path, grid=index) as store:
            t0 = time.perf_counter()
            result = import_csv(store, csv, "cambridge_crashes")
            t_import = time.perf_counter() - t0
            rows.append(
                [
                    f"import {args.n:,} CSV rows",
                    f"{t_import:.1f}",
                    f"< 60 s; {result['added']:,} added",
                ]
            )
            for by in ("department", "grid"):
                t0 = time.perf_counter()
                kpis_from_store(store, KpiSpec(by=by))
                rows.append([f"KPIs by {by}", f"{time.perf_counter() - t0:.2f}", "< 2 s"])
        size = (store_path.stat().st_size - base_size) / 1e6
        rows.append(["store size per million cases", f"{size * 1e6 / args.n:.0f} MB", ""])
    print(f"\n{args.n:,} cases; {machine()}\n")
    print(markdown_table(["measure", "seconds", "target / note"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
