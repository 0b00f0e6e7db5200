"""The case store under many desks, on the GeoPackage and on PostgreSQL + PostGIS.

    .venv/bin/python benchmarks/store.py [--seconds 30] [--n 1000000]

One run, same machine, same workload for both backends (tools/store_workload.py): 50
simulated staff spread over 1, 4 and 8 writer processes report cases, move them round the
loop and query their lists for a bounded time. Printed per backend and writer count:
transitions (reports + successful moves) per second, the p95 latency of a write and of a
list query, and the conflicts (a move that lost the race to another desk). Then a bulk
import of n CSV rows (the resampled Cambridge crashes of benchmarks/cases.py) into each.

PostgreSQL runs in a throwaway cluster (tools/pg_cluster.py) with fsync on, as a server
would, on this same 2-core machine: the clients and the server share the CPUs.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from cases import grid_and_places, make_csv
from common import ROOT, print_results

sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from pg_cluster import Cluster
from store_workload import run_load

from citydesk.incidents.grid_index import GridIndex
from citydesk.incidents.import_csv import import_csv
from citydesk.incidents.stores import open_store

DEMO = ROOT / "layers/demo_data/cambridge_demo.gpkg"


def places(cluster: Cluster, tmp: Path, tag: str) -> dict[str, str]:
    """A fresh, empty store on each backend."""
    gpkg = tmp / f"{tag}.gpkg"
    shutil.copyfile(DEMO, gpkg)
    return {"GeoPackage": str(gpkg), "PostGIS": f"{cluster.url}?schema=bench_{tag}"}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--writers", default="1,4,8")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, Cluster(fsync=True) as cluster:
        tmp = Path(tmp)
        for writers in [int(w) for w in args.writers.split(",")]:
            for backend, place in places(cluster, tmp, f"w{writers}").items():
                open_store(place).close()  # schema created before the clock starts
                r = run_load(place, writers, args.seconds, 50, tmp / f"{backend}{writers}")
                assert not r.errors, r.errors[:3]
                with open_store(place) as store:
                    assert store.verify_all() == []
                rows.append([
                    backend, str(writers), f"{r.transitions_per_second:.0f}",
                    f"{r.write_p95_ms:.1f}", f"{r.query_p95_ms:.1f}",
                    f"{r.reports:,} reports, {r.moves:,} moves, {r.conflicts:,} conflicts",
                ])  # fmt: skip
                print(rows[-1], flush=True)

        grid, _lon, _lat = grid_and_places(1)
        index = GridIndex(grid)
        csv = make_csv(args.n)
        for backend, place in places(cluster, tmp, "bulk").items():
            with open_store(place, index) as store:
                t0 = time.perf_counter()
                result = import_csv(store, csv, "cambridge_crashes")
                elapsed = time.perf_counter() - t0
            rows.append([
                backend, "import", f"{result['added'] / elapsed:,.0f} cases/s", "", "",
                f"{result['added']:,} CSV rows in {elapsed:.1f} s (one transaction)",
            ])  # fmt: skip
            print(rows[-1], flush=True)
    print_results(
        f"case store, {args.seconds:.0f} s per run, 50 staff",
        ["backend", "writers", "transitions/s", "write p95 ms", "query p95 ms", "note"],
        rows,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
