"""A weighted land-use plan on a city of equal plots: CBC alone against the turns of
``optimization.landuse._full_mip`` (CBC, then HiGHS from CBC's plan, then CBC again).

    .venv/bin/python benchmarks/equal_plots.py [--cbc-limit 120]

The city is made here: 30 x 30 plots of the same size (about 40 m) on a street grid near
Nairobi, with no field but the geometry, set up by ``citydesk city init`` as a user would. The
scenario asks for 300 new homes at the least cost. With no land values, no facilities
and equal plots every plan trades area against cost alike, and the optimum sits 0.02 %
above the LP bound, which CBC cannot close (it ran the whole 600 s in a one-off run). The
same scenario with the turns; the plans' objectives are compared. No other peer: the peer
is the solver CityDesk used alone before.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import shapely
from common import print_peak_rss, print_results

from citydesk.optimization.solve import SolveOptions
from citydesk.planning.scenario_run import run_stored_scenarios
from citydesk.workbench.cli.main import main as cli

SCENARIO = """
name = "growth"
kind = "allocate"
schema = 2
[targets]
housing_units = 300.0
[objectives.weights]
cost = 1.0
"""


def make_city(folder: Path) -> Path:
    side = 0.00036  # degrees, about 40 m
    plots = [
        shapely.box(36.80 + i * side * 1.2, -1.29 + j * side * 1.2, 36.80 + i * side * 1.2 + side,
                    -1.29 + j * side * 1.2 + side)
        for i in range(30) for j in range(30)
    ]  # fmt: skip
    lines = []
    for k in range(31):
        at = k * side * 1.2 - side * 0.1
        lines.append(shapely.LineString([(36.80 + at, -1.2902), (36.80 + at, -1.29 + 36 * side)]))
        lines.append(shapely.LineString([(36.7998, -1.29 + at), (36.80 + 36 * side, -1.29 + at)]))
    gpd.GeoDataFrame(geometry=plots, crs=4326).to_file(folder / "plots.geojson")
    names = {"name": [f"Road {k}" for k in range(len(lines))]}
    gpd.GeoDataFrame(names, geometry=lines, crs=4326).to_file(folder / "roads.geojson")
    project = folder / "city.gpkg"
    args = ["city", "init", str(folder), "--project", str(project), "--name", "Equal plots"]
    assert cli([*args, "--timezone", "Africa/Nairobi", "--store"]) == 0
    (folder / "growth.toml").write_text(SCENARIO, encoding="utf-8")
    assert cli(["plan", "save", str(project), str(folder / "growth.toml")]) == 0
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cbc-limit", type=float, default=120.0)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        project = make_city(Path(tmp))
        for name, options in (
            ("CBC alone", SolveOptions(time_limit=args.cbc_limit, highs_after_cbc=False)),
            ("CBC, HiGHS, CBC (the default)", SolveOptions(time_limit=600)),
        ):
            started = time.perf_counter()
            results, _inputs = run_stored_scenarios(project, ["growth"], options)
            seconds = time.perf_counter() - started
            outcome = results[0].outcome
            rows.append([name, f"{seconds:.1f}", outcome.describe(), f"{outcome.objective:.6f}"])
    print_results(
        "A plan of 300 homes at least cost on 900 equal plots",
        ["solving", "seconds (whole run)", "outcome", "objective"],
        rows,
    )
    print_peak_rss()


if __name__ == "__main__":
    main()
