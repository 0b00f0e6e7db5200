"""Printed maps (reports, PDF/PNG export, the headless demo): CityDesk's polygon drawing
against geopandas' own ``GeoDataFrame.plot``, the same map, pictures compared.

    .venv/bin/python benchmarks/printed_maps.py [--runs 3]

CityDesk's ``layers.mapplot`` builds one matplotlib path per polygon from shapely's ragged
arrays and adds them as one collection; the peer is what CityDesk did before, and what a
GeoPandas user writes: ``frame.plot(ax=ax, facecolor=..., edgecolor=...)``, which makes a
Path per ring and a patch per polygon. Everything else on the page (legend, scale bar,
lines, points, title, credits) is the same code on both sides, so the difference is the
polygons. Maps: the demo's overview (every layer, the 13,116 parcels among them) and the
parcels alone, at 110 dpi as the headless demo writes them. Each side runs in a fresh
process per run (peak memory is that process's); the script checks that both sides' pictures
are byte-identical and prints the median (min-max) seconds, the ratio and the peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import peak_rss_mib, print_results, spread

MAPS = {"overview": None, "parcels": ["parcels"]}


def _geopandas_polygons(ax, geoms, **style):
    """The peer: geopandas' own polygon drawing, as mapplot called it before."""
    import geopandas as gpd

    gpd.GeoSeries(geoms).plot(ax=ax, **style)


def side(which: str, name: str, out: str) -> None:
    """One map drawn and saved by one side, in this process; prints seconds and peak RSS."""
    import matplotlib

    matplotlib.use("Agg")
    from citydesk.layers import mapplot
    from citydesk.layers.demo import SHIPPED_DEMO
    from citydesk.layers.project_store import load_project

    if which == "geopandas":
        mapplot.plot_polygons = _geopandas_polygons
    project = load_project(SHIPPED_DEMO)
    for layer in project.layers.values():  # read before the clock: both sides do the same
        getattr(layer, "data", None)
    t0 = time.perf_counter()
    fig = mapplot.render_map(project, MAPS[name], title=name)
    fig.axes[0].set_xlabel("")  # geopandas names the axes; CityDesk's maps do not
    fig.axes[0].set_ylabel("")
    fig.savefig(out, dpi=110)
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "rss": peak_rss_mib()}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--side", choices=["citydesk", "geopandas"])
    parser.add_argument("--map", choices=list(MAPS))
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.side:
        side(args.side, args.map, args.out)
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in MAPS:
            figures: dict[str, list[dict]] = {"citydesk": [], "geopandas": []}
            for run in range(args.runs):
                for which in figures:
                    out = os.path.join(tmp, f"{name}_{which}_{run}.png")
                    done = subprocess.run(
                        [sys.executable, __file__, "--side", which, "--map", name, "--out", out],
                        capture_output=True, text=True, check=True,
                    )  # fmt: skip
                    figures[which].append(json.loads(done.stdout.strip().splitlines()[-1]))
            same = all(
                Path(tmp, f"{name}_citydesk_{r}.png").read_bytes()
                == Path(tmp, f"{name}_geopandas_{r}.png").read_bytes()
                for r in range(args.runs)
            )
            ours = [f["seconds"] for f in figures["citydesk"]]
            theirs = [f["seconds"] for f in figures["geopandas"]]
            rows.append(
                [
                    name,
                    spread(ours),
                    spread(theirs),
                    f"{statistics.median(theirs) / statistics.median(ours):.1f}x",
                    f"{max(f['rss'] for f in figures['citydesk']):.0f}",
                    f"{max(f['rss'] for f in figures['geopandas']):.0f}",
                    "yes" if same else "NO",
                ]
            )
    print_results(
        "Printed maps of the Cambridge demo, drawn and saved as PNG at 110 dpi",
        ["map", "CityDesk s", "geopandas plot s", "ratio", "CityDesk peak MiB",
         "geopandas peak MiB", "same picture (bytes)"],
        rows,
    )  # fmt: skip


if __name__ == "__main__":
    main()
