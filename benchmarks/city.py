"""A city from OpenStreetMap (issue 18): ``citydesk city from-osm`` on the Helsinki extract,
step by step, and the walk and drive networks built from its streets.

    .venv/bin/python benchmarks/city.py [--repeat 3]

Needs ../shared/data/helsinki_osm. No peer: the splitting of ways at shared nodes has no
same-result counterpart here (shapely's noding also splits at bridges; osmnx is not
installed), so the figures are CityDesk's own, with peak memory. ``city init`` is timed on
the project ``from-osm`` writes (propose roles and fields from its 7 layers) and on the
Cambridge demo (10 layers, 13k parcels): reading the layers dominates, matching the names
is milliseconds.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from common import SHARED, best_of, print_peak_rss, print_results

from citydesk.layers.city_init import project_samples, propose
from citydesk.layers.city_profile import parse_profile
from citydesk.layers.demo import SHIPPED_DEMO
from citydesk.layers.osm_city import city_from_osm, write_city_project
from citydesk.layers.readers.osm import read_osm
from citydesk.layers.road_network import build_network, network_spec

EXTRACT = SHARED / "helsinki_osm" / "Helsinki.osm.pbf"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if not EXTRACT.exists():
        print(f"needs {EXTRACT}", file=sys.stderr)
        return 2

    def build():
        return city_from_osm(EXTRACT, name="Helsinki", timezone="Europe/Helsinki", crs="EPSG:3067")

    city = build()
    profile = parse_profile(city.profile_text)
    streets = city.layers["streets"]
    rows = []
    for label, fn in (
        ("read the extract (3 layers)", lambda: read_osm(EXTRACT)),
        ("from-osm: read, split, layers, profile", build),
        ("drive network", lambda: build_network(streets, network_spec(profile, "drive"))),
        ("walk network", lambda: build_network(streets, network_spec(profile, "walk"))),
    ):
        median, best = best_of(fn, args.repeat)
        tracemalloc.start()
        fn()
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        rows.append([label, f"{median:.2f}", f"{best:.2f}", f"{peak:.0f}"])
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        project = write_city_project(city, Path(tmp) / "helsinki.gpkg", "Helsinki")
        rows.append(["write the project", f"{time.perf_counter() - t0:.2f}", "-", "-"])
        for label, path in (
            ("city init: propose (Helsinki project)", project),
            ("city init: propose (Cambridge demo, 13k parcels)", SHIPPED_DEMO),
        ):
            median, best = best_of(lambda p=path: propose(project_samples(p)), args.repeat)
            tracemalloc.start()
            propose(project_samples(path))
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            rows.append([label, f"{median:.2f}", f"{best:.2f}", f"{peak:.0f}"])
    print_results(
        f"Helsinki extract ({EXTRACT.stat().st_size / 1e6:.1f} MB): {len(streets)} street segments",
        ["step", "median s", "min s", "Python heap peak MiB"],
        rows,
    )
    print_peak_rss()
    return 0


if __name__ == "__main__":
    sys.exit(main())
