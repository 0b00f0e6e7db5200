"""A weighted plan at nine times the demo's size: CBC on the full model against the
marginal-parcel start (:data:`citydesk.optimization.landuse.GROUP_FIX_PARCELS`).

The demo's layers are laid out 3 x 3 side by side (118,044 parcels; the balanced scenario
has 16,110 candidates) and the balanced scenario is run twice, each in its own process
under the default 600 s limit: once with the start turned off (CBC on the full model, what
every plan did before) and once as shipped. Same model, same objective, same limit: it
prints each plan's objective, bound, gap, seconds and peak memory, and the ratio of the
gaps. About 25 minutes.

    python benchmarks/plan_large_city.py [--tiles 3] [--time-limit 600]
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT

log = logging.getLogger("plan_large_city")
DEMO = ROOT / "layers" / "demo_data" / "cambridge_demo.gpkg"
LAYERS = (
    "parcels",
    "street_centerlines",
    "all_facilities",
    "fema_floodplain_100yr",
    "open_space",
    "water_bodies",
    "neighborhoods",
    "zoning_districts",
    "city_boundary",
)

RUN = """
import json, resource, sys, time
import citydesk.optimization.landuse as landuse
from citydesk.optimization.solve import SolveOptions
from citydesk.planning.scenario_run import run_stored_scenarios
if sys.argv[2] == "cbc-alone":
    landuse.GROUP_FIX_PARCELS = 10**12
t = time.perf_counter()
options = SolveOptions(time_limit=float(sys.argv[3]))
o = run_stored_scenarios(sys.argv[1], ["balanced"], options=options, save=False)[0][0].outcome
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"objective": o.objective, "bound": o.bound, "gap": o.gap,
    "seconds": time.perf_counter() - t, "status": o.status.name, "peak_mib": peak}))
"""


def tiled_project(folder: Path, tiles: int) -> Path:
    """The demo project with every layer repeated ``tiles`` x ``tiles`` times, ids kept apart."""
    import geopandas as gpd
    import pandas as pd
    import pyogrio

    out = folder / "tiled.gpkg"
    shutil.copy(DEMO, out)
    x0, y0, x1, y1 = gpd.read_file(DEMO, layer="city_boundary").total_bounds
    width, height = (x1 - x0) * 1.05, (y1 - y0) * 1.05
    for layer in LAYERS:
        frame = gpd.read_file(DEMO, layer=layer)
        parts = []
        for i in range(tiles):
            for j in range(tiles):
                part = frame.copy()
                part["geometry"] = part.geometry.translate(i * width, j * height)
                k = i * tiles + j
                if layer == "parcels":
                    part["ML"] = part["ML"].astype(str) + f"-{k}"
                if layer == "street_centerlines":
                    for column in ("FromNode", "ToNode"):
                        part[column] = part[column] + k * 10_000_000
                if layer == "neighborhoods":
                    part["N_HOOD"] = part["N_HOOD"].astype(str) + f"-{k}"
                parts.append(part)
        whole = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=frame.crs)
        if layer == "city_boundary":
            whole = gpd.GeoDataFrame(geometry=[whole.union_all()], crs=frame.crs)
        pyogrio.write_dataframe(whole, out, layer=layer, layer_options={"OVERWRITE": "YES"})
    from citydesk.planning.scenario_store import save_scenario

    text = (ROOT / "planning" / "data" / "scenarios" / "balanced.toml").read_text(encoding="utf-8")
    save_scenario(out, text)
    return out


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=600.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = tiled_project(Path(tmp), args.tiles)
        results = {}
        for mode in ("cbc-alone", "shipped"):
            done = subprocess.run(
                [sys.executable, "-c", RUN, str(project), mode, str(args.time_limit)],
                capture_output=True, text=True,
            )  # fmt: skip
            if done.returncode:
                raise SystemExit(f"{mode} failed:\n{done.stderr[-3000:]}")
            results[mode] = json.loads(done.stdout.strip().splitlines()[-1])
            log.info("%s: %s", mode, results[mode])
    alone, shipped = results["cbc-alone"], results["shipped"]
    log.info(
        "objective %.6g -> %.6g; gap %.3f %% -> %.3f %% (%.0fx smaller); peak %.0f / %.0f MiB",
        alone["objective"], shipped["objective"], 100 * alone["gap"], 100 * shipped["gap"],
        alone["gap"] / max(shipped["gap"], 1e-12), alone["peak_mib"], shipped["peak_mib"],
    )  # fmt: skip


if __name__ == "__main__":
    main()
