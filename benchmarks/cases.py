"""Case-store benchmark at city scale: 1,000,000 cases resampled from the real Cambridge
crash locations and times.

    .venv/bin/python benchmarks/cases.py [--n 1000000]

Measures, in one run:
- grid assignment: CityDesk's vectorised STRtree cell lookup against geopandas.sjoin;
- import of n CSV rows through the cambridge_crashes mapping (one transaction);
- import of n migrated cases with whole histories (accepted, registered, dispatched, handled,
  reworked or returned, closed or still open), checked against the lifecycle;
- KPIs by department and by grid over those n registered cases;
- the store's size on disk per million cases.
Targets (incidents issue): grid assignment < 1 s per million, import < 60 s, KPIs < 2 s.

    .venv/bin/python benchmarks/cases.py reimport [--n 1000000] [--backend geopackage|postgis]

A city system's export (issue 19): n rows with the source's due time, department and status
mapped, imported into a fresh store; then the next export of the same n rows in which 10 %
have closed there, re-imported (an upsert: the changed cases get their events, nothing is
duplicated). Each step runs in its own process, so its peak memory is its own. Targets:
the import no slower than the plain 1M import (45-53 s), the re-import under 90 s, the
import's peak memory under 2 GB.
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
from common import DATA_DIR, ROOT, SHARED, bench_pg_url, print_results, spread

sys.path.insert(0, str(ROOT))

from citydesk.incidents.demo_desk import prepare_demo_desk
from citydesk.incidents.grid import GridSpec, build_unit_grid
from citydesk.incidents.grid_index import GridIndex
from citydesk.incidents.import_csv import import_csv
from citydesk.incidents.kpi import KpiSpec, kpis_from_store
from citydesk.incidents.lifecycle import Role
from citydesk.incidents.store import HistoryStep, SqliteCaseStore


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


def migrated_cases(lon: np.ndarray, lat: np.ndarray, n: int) -> pd.DataFrame:
    """n cases as a migration from another system would bring them: 80% closed after the
    whole loop (1 in 8 with a failed check, 1 in 10 first sent to the wrong department),
    the rest registered and dispatched but still open. Minutes between steps are drawn
    from exponential distributions; report times are the resampled crash times."""
    rng = np.random.default_rng(11)
    crashes = pd.read_csv(
        SHARED / "cambridge/crashes_2010_2014/Police_Department_Crash_Data_-_Historical_raw.csv",
        usecols=["Date Time"],
    )
    times = pd.to_datetime(crashes["Date Time"], format="%m/%d/%Y %I:%M:%S %p", errors="coerce")
    times = times.dropna().dt.tz_localize(
        "America/New_York", ambiguous=True, nonexistent="shift_forward"
    )
    reported = pd.DatetimeIndex(times)[rng.integers(0, len(times), n)]
    gaps = rng.exponential([10, 30, 40, 20, 240, 60, 120, 60], size=(n, 8))
    moments = reported.tz_convert("UTC").as_unit("ns").asi8[:, None] + np.cumsum(
        gaps * 60e9, axis=1
    ).astype(np.int64)
    as_dt = pd.to_datetime(moments.ravel(), utc=True).to_pydatetime().reshape(n, 8)
    fate = rng.random(n)
    histories = []
    for i in range(n):
        m = as_dt[i]
        steps = [
            HistoryStep("accept", "intake1", Role.INTAKE, m[0]),
            HistoryStep("register", "chief1", Role.SHIFT_CHIEF, m[1]),
            HistoryStep("dispatch", f"dispatcher{i % 4}", Role.DISPATCHER, m[2]),
        ]
        if fate[i] < 0.1:
            steps += [
                HistoryStep("return_to_dispatch", "crew", Role.DEPARTMENT, m[3], "not ours"),
                HistoryStep("dispatch", "dispatcher0", Role.DISPATCHER, m[3]),
            ]
        if fate[i] < 0.8:
            steps += [
                HistoryStep("start", "crew", Role.DEPARTMENT, m[3]),
                HistoryStep("handle", "crew", Role.DEPARTMENT, m[4]),
            ]
            if fate[i] > 0.7:
                steps += [
                    HistoryStep("check_fail", "insp", Role.INSPECTOR, m[5], "not done"),
                    HistoryStep("handle", "crew", Role.DEPARTMENT, m[6]),
                ]
            steps += [
                HistoryStep("check_pass", "insp", Role.INSPECTOR, m[6]),
                HistoryStep("close", "chief1", Role.SHIFT_CHIEF, m[7]),
            ]
        histories.append(steps)
    categories = np.array(["0101", "0102", "0505", "0490", "0590"])[rng.integers(0, 5, n)]
    return pd.DataFrame(
        {
            "kind": "event",
            "category_code": categories,
            "lon": lon,
            "lat": lat,
            "source": "legacy",
            "source_id": np.arange(n).astype(str),
            "reported_at": reported,
            "history": histories,
        }
    )


def grid_and_places(n: int) -> tuple[gpd.GeoDataFrame, np.ndarray, np.ndarray]:
    """The Cambridge unit grid and n case places resampled from the real crash points."""
    b = SHARED / "cambridge/boundaries/cambridge_boundaries.gpkg"
    grid = build_unit_grid(
        gpd.read_file(b, layer="city_boundary"),
        gpd.read_file(b, layer="neighborhoods"),
        GridSpec("250170", street_code_field="N_HOOD", community_id_field="GEOID20"),
        gpd.read_file(b, layer="census2020_tracts"),
    )
    crashes = gpd.read_file(SHARED / "cambridge/crashes_2010_2014/cambridge_crashes_2010_2014.gpkg")
    pick = np.random.default_rng(3).integers(0, len(crashes), n)
    return grid, crashes.geometry.x.values[pick], crashes.geometry.y.values[pick]


EXPORT_MAPPING = """
source = "city311"
[columns]
source_id = "id"
reported_at = "opened"
closed_at = "closed"
due_at = "due"
department = "agency"
status = "status"
lat = "lat"
lon = "lon"
category = "type"
[dates]
formats = ["%Y-%m-%d %H:%M:%S"]
timezone = "America/New_York"
[categories]
"crash" = "event:0490"
[statuses]
"Open" = "open"
"Closed" = "closed"
"""


def make_exports(n: int) -> tuple[Path, Path, Path]:
    """(first export, the next export with 10 % closed since, the mapping), written a
    million rows at a time (ten million rows at once took over 10 GB)."""
    first, later = DATA_DIR / f"export_{n}_a.csv", DATA_DIR / f"export_{n}_b.csv"
    mapping = DATA_DIR / "export_mapping.toml"
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    mapping.write_text(EXPORT_MAPPING, encoding="utf-8")
    if first.exists() and later.exists():
        return first, later, mapping
    raw = pd.read_csv(
        SHARED / "cambridge/crashes_2010_2014/Police_Department_Crash_Data_-_Historical_raw.csv",
        dtype=str,
        usecols=["Date Time", "Latitude", "Longitude"],
    )
    when_all = pd.to_datetime(raw["Date Time"], format="mixed", errors="coerce")
    when_all = when_all.fillna(pd.Timestamp("2014-06-01 12:00"))
    pick, agency = np.random.default_rng(7), np.random.default_rng(19)
    for lo in range(0, n, 1_000_000):
        size = min(1_000_000, n - lo)
        rows = pick.integers(0, len(raw), size)
        when = when_all.iloc[rows].reset_index(drop=True)
        frame = pd.DataFrame(
            {
                "id": np.arange(lo + 1, lo + size + 1).astype(str),
                "opened": when.dt.strftime("%Y-%m-%d %H:%M:%S"),
                "closed": "",
                "due": (when + pd.Timedelta(days=3)).dt.strftime("%Y-%m-%d %H:%M:%S"),
                "agency": agency.choice(["DOT", "DSNY", "NYPD", "DEP"], size),
                "status": "Open",
                "lat": raw["Latitude"].to_numpy()[rows],
                "lon": raw["Longitude"].to_numpy()[rows],
                "type": "crash",
            }
        )
        header, mode = lo == 0, "w" if lo == 0 else "a"
        frame.to_csv(first, index=False, header=header, mode=mode)
        closed = agency.random(size) < 0.10
        frame.loc[closed, "status"] = "Closed"
        frame.loc[closed, "closed"] = (when[closed] + pd.Timedelta(hours=30)).dt.strftime(
            "%Y-%m-%d %H:%M:%S"
        )
        frame.to_csv(later, index=False, header=header, mode=mode)
    return first, later, mapping


STEP = r"""
import json, sys, time
sys.path.insert(0, sys.argv[4])
from common import peak_rss_mib  # VmHWM: getrusage carries the parent's peak across exec
from citydesk.incidents.import_csv import import_csv
from citydesk.incidents.stores import open_store
place, path, mapping = sys.argv[1:4]
t0 = time.perf_counter()
with open_store(place) as store:
    result = import_csv(store, path, mapping)
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "peak_mib": peak_rss_mib(),
                  **{k: result[k] for k in ("added", "updated", "unchanged", "refused")}}))
"""


def run_reimport(n: int, backend: str) -> None:
    import json
    import subprocess
    from contextlib import ExitStack

    first, later, mapping = make_exports(n)
    rows = []
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        if backend == "postgis":
            place = bench_pg_url(stack)  # set it to a fresh schema, e.g. ?schema=bench
        else:
            place = str(Path(tmp) / "cases.gpkg")
            Path(place).write_bytes((ROOT / "layers/demo_data/cambridge_demo.gpkg").read_bytes())
        for label, path in ((f"import {n:,} rows", first), ("re-import, 10 % closed", later)):
            out = subprocess.run(
                [sys.executable, "-P", "-c", STEP, place, str(path), str(mapping),
                 str(ROOT / "benchmarks")],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            got = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(
                [
                    f"{label} ({backend})",
                    f"{got['seconds']:.1f}",
                    f"{got['peak_mib']:,.0f}",
                    f"added {got['added']:,}, updated {got['updated']:,}, "
                    f"unchanged {got['unchanged']:,}, refused {got['refused']:,}",
                ]
            )
    print_results(
        f"A city system's export, {n:,} rows, and its next export",
        ["step", "seconds", "peak MiB", "counts"],
        rows,
    )


SCALE_STEP = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from common import peak_rss_mib
from citydesk.incidents.calendar import project_calendar
from citydesk.incidents.grid_index import GridIndex
from citydesk.incidents.import_csv import import_csv
from citydesk.incidents.project_grid import read_project_grid
from citydesk.incidents.stores import open_store
project, place, what = sys.argv[2:5]
grid = read_project_grid(project)
store = open_store(place, grid=GridIndex(grid), calendar=project_calendar(project))
out = {}
if what == "import":
    t0 = time.perf_counter()
    result = import_csv(store, sys.argv[5], sys.argv[6])
    out = {"seconds": time.perf_counter() - t0, "added": result["added"]}
else:
    import pandas as pd
    from citydesk.incidents.dashboard import DashboardSpec, build_dashboard
    from citydesk.incidents.kpi import KpiSpec, kpis_from_store
    def timed(fn):
        t0 = time.perf_counter(); value = fn(); return time.perf_counter() - t0, value
    for by in ("department", "grid"):
        out[by], table = timed(lambda: kpis_from_store(store, KpiSpec(by=by)))
        out[by + "_again"], _t = timed(lambda: kpis_from_store(store, KpiSpec(by=by)))
        out[by + "_groups"] = len(table) - 1
        out["registered"] = int(table.iloc[-1]["registered"])
    last = store.last_registered()
    spec = DashboardSpec(start=pd.Timestamp(last) - pd.Timedelta(days=28), end=pd.Timestamp(last))
    out["dashboard"], board = timed(lambda: build_dashboard(store, grid, spec))
    out["dashboard_again"], _b = timed(lambda: build_dashboard(store, grid, spec))
    out["period_registered"] = int(board.kpis.iloc[-1]["registered"])
store.close()
out["peak_mib"] = peak_rss_mib()
print(json.dumps(out))
"""


def _scale_step(project: Path, place: str, *args: str) -> dict:
    import json
    import subprocess

    out = subprocess.run(
        [sys.executable, "-P", "-c", SCALE_STEP, str(ROOT / "benchmarks"), str(project), place,
         *args],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def _store_bytes(place: str, base: int) -> int:
    """What the cases take on disk: the GeoPackage's growth, or PostgreSQL's tables with
    their indexes and TOAST."""
    if not place.startswith("postgresql"):
        return Path(place).stat().st_size - base
    import psycopg

    from citydesk.layers.pg_url import StoreUrl

    url = StoreUrl.parse(place)
    with psycopg.connect(url.text, **url.connect_kwargs()) as con:
        row = con.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
            (url.schema,),
        ).fetchone()
    return int(row[0] or 0)


def _both(runs: list[dict], a: str, b: str) -> str:
    """Two timed steps of repeated runs, each as median (min-max) seconds."""
    return " / ".join(spread([r[k] for r in runs]) for k in (a, b)) + " s"


def run_scale(sizes: list[int], backend: str, repeats: int = 3) -> None:
    """Issue 22: a city's history imported at growing sizes, then the KPIs and the
    dashboard over all of it, each step in a fresh process (its own peak memory). KPIs:
    the first call builds the columnar copy of the facts (incidents/fact_snapshot.py); the
    'next process' figures are a new process that loads the saved copy, re-reads what
    changed and computes; 'again' is the same process a second time (a desk's refresh)."""
    import os
    import shutil
    from contextlib import ExitStack

    rows = []
    stack = ExitStack()
    if backend == "postgis":
        bench_pg_url(stack)
    for n in sizes:
        first, _later, mapping = make_exports(n)
        with tempfile.TemporaryDirectory(dir=os.environ.get("CITYDESK_BENCH_TMP")) as tmp:
            project = Path(tmp) / "demo.gpkg"
            shutil.copy(ROOT / "layers/demo_data/cambridge_demo.gpkg", project)
            prepare_demo_desk(project)  # the unit grid, as the demo desk makes it
            cache = Path(tmp) / "cache"
            os.environ["XDG_CACHE_HOME"] = str(cache)
            if backend == "postgis":
                place = f"{os.environ['CITYDESK_BENCH_PG_URL']}?schema=scale_{n}"
            else:
                place = str(project)
            base = _store_bytes(place, 0) if backend != "postgis" else 0
            got = _scale_step(project, place, "import", str(first), str(mapping))
            size = _store_bytes(place, base)
            cold = _scale_step(project, place, "kpis")
            # the targets are timed in ``repeats`` fresh processes: their spread, not one draw
            warms = [_scale_step(project, place, "kpis") for _ in range(repeats)]
            warm = warms[0]

            rows.append(
                [
                    f"{n:,}",
                    f"{got['seconds']:.0f} s, {got['peak_mib']:,.0f} MiB",
                    f"{size / 1e9:.2f} GB",
                    f"{cold['department']:.1f} / {cold['grid']:.1f} s",
                    _both(warms, "department", "grid"),
                    _both(warms, "department_again", "grid_again"),
                    _both(warms, "dashboard", "dashboard_again"),
                    f"{cold['peak_mib']:,.0f} / {max(w['peak_mib'] for w in warms):,.0f} MiB",
                ]
            )
            print(f"{n:,}: import {got}, first {cold}, next {warm}", flush=True)
            if backend == "postgis":
                import psycopg

                from citydesk.layers.pg_url import StoreUrl

                url = StoreUrl.parse(place)
                with psycopg.connect(url.text, autocommit=True, **url.connect_kwargs()) as con:
                    con.execute(f'DROP SCHEMA "{url.schema}" CASCADE')
    stack.close()
    print_results(
        f"Cases at city scale ({backend})",
        [
            "cases",
            "import (time, peak)",
            "store on disk",
            "KPIs, first (builds the copy): dept / grid",
            "KPIs, next process: dept / grid",
            "KPIs, same process again",
            "dashboard, next process / again",
            "peak memory of the KPI process: first / next",
        ],
        rows,
    )


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "scale":
        parser = argparse.ArgumentParser()
        parser.add_argument("which")
        parser.add_argument("--sizes", default="100000,1000000,3000000,10000000")
        parser.add_argument("--backend", default="geopackage")
        parser.add_argument("--repeats", type=int, default=3, help="next-process KPI runs")
        args = parser.parse_args()
        run_scale([int(v) for v in args.sizes.split(",")], args.backend, args.repeats)
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "reimport":
        parser = argparse.ArgumentParser()
        parser.add_argument("which")
        parser.add_argument("--n", type=int, default=1_000_000)
        parser.add_argument("--backend", default="geopackage")
        args = parser.parse_args()
        run_reimport(args.n, args.backend)
        return 0
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    args = parser.parse_args()
    grid, lon, lat = grid_and_places(args.n)
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
    theirs = joined.groupby(level=0)["code"].first().to_numpy()
    agree = ((theirs == codes) | (pd.isna(theirs) & pd.isna(codes))).mean()
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
        store_path.write_bytes((ROOT / "layers/demo_data/cambridge_demo.gpkg").read_bytes())
        base_size = store_path.stat().st_size
        with SqliteCaseStore(store_path, grid=index) as store:
            t0 = time.perf_counter()
            result = import_csv(store, csv, "cambridge_crashes")
            t_import = time.perf_counter() - t0
        rows.append(
            [f"import {args.n:,} CSV rows", f"{t_import:.1f}", f"< 60 s; {result['added']:,} added"]
        )
        size = (store_path.stat().st_size - base_size) / 1e6
        rows.append(["store size per million cases", f"{size * 1e6 / args.n:.0f} MB", ""])

        migrated_path = Path(tmp) / "migrated.gpkg"
        frame = migrated_cases(lon, lat, args.n)
        n_events = args.n + sum(len(h) for h in frame["history"])
        with SqliteCaseStore(migrated_path, grid=index) as store:
            t0 = time.perf_counter()
            added, _skipped = store.import_batch(frame)
            t_migrate = time.perf_counter() - t0
            del frame
            rows.append(
                [
                    f"import {added:,} migrated cases with {n_events:,} events",
                    f"{t_migrate:.1f}",
                    "every history checked against the lifecycle",
                ]
            )
            for by in ("department", "grid"):
                t0 = time.perf_counter()
                table = kpis_from_store(store, KpiSpec(by=by))
                elapsed = time.perf_counter() - t0
                whole = table[table[by] == "ALL"].iloc[0]
                rows.append(
                    [
                        f"KPIs by {by} ({len(table) - 1:,} groups)",
                        f"{elapsed:.2f}",
                        ("< 2 s" if elapsed < 2.0 else "< 2 s MISSED")
                        + f"; {int(whole['registered']):,} registered, "
                        f"score {whole['score']:.1f}",
                    ]
                )
    print_results(f"{args.n:,} cases", ["measure", "seconds", "target / note"], rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
