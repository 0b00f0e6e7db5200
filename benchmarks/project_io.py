"""Opening and saving a project through Python's sqlite3 (issue 20: one SQLite per project
file) against GDAL doing the same work on the same file.

    .venv/bin/python benchmarks/project_io.py [--repeat 5]

Same work, same result: every vector layer of the Cambridge demo project (16 layers, 13,116
parcels among them) read into GeoDataFrames (CityDesk ``load_project`` then each layer's
``data``; peer: one
``pyogrio.read_dataframe(use_arrow=True)`` per layer, the fastest GDAL path), checked equal
column by column and geometry by geometry; then every layer written to a new GeoPackage
(CityDesk ``save_project``, which also writes styles and settings; peer: one
``pyogrio.write_dataframe`` per layer). A last row times ``load_project`` alone, which holds
the layers as arrays with their attributes read when asked (what the workbench opens):
not the same result as the peer's, so only for reference. CityDesk does not use GDAL here
because a desk holds the project open through sqlite3 (docs/ARCHITECTURE.md); this measures
what that costs.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import pyogrio
from common import print_peak_rss, print_results

from citydesk.layers.demo import demo_project_path
from citydesk.layers.layer import VectorLayer
from citydesk.layers.project_store import load_project, save_project


def _seconds(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _spread(values: list[float]) -> str:
    """median (min-max), seconds."""
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "demo.gpkg"
        shutil.copy(demo_project_path(), source)
        project = load_project(source)
        ids = [i for i, lay in project.layers.items() if isinstance(lay, VectorLayer)]

        def gdal_read():
            return {i: pyogrio.read_dataframe(source, layer=i, use_arrow=True) for i in ids}

        peer = gdal_read()
        for i in ids:  # the same result: values and geometries
            ours, theirs = project.layers[i].data.reset_index(drop=True), peer[i]
            for col in theirs.columns:
                if col == "geometry":
                    assert ours.geometry.geom_equals_exact(theirs.geometry, 0).all(), i
                else:
                    assert ours[col].equals(theirs[col]), (i, col)
        features = sum(len(project.layers[i].data) for i in ids)

        def gdal_write():
            out = Path(tmp) / "peer.gpkg"
            out.unlink(missing_ok=True)
            for i in ids:
                pyogrio.write_dataframe(project.layers[i].data, out, layer=i, driver="GPKG")

        def ours_write():
            out = Path(tmp) / "ours.gpkg"
            out.unlink(missing_ok=True)
            save_project(project, out)

        def ours_read():
            """The same result as the peer's: every layer's GeoDataFrame. A project opens
            with its layers held as arrays and their attributes read when asked (what the
            workbench does, the last row), so the frames are built here."""
            opened = load_project(source)
            return {i: opened.layers[i].data for i in ids}

        rows = []
        for label, ours, theirs in (
            ("open: every layer as a GeoDataFrame", ours_read, gdal_read),
            ("save: every layer", ours_write, gdal_write),
            (
                "open as the workbench does (arrays; attributes when asked)",
                lambda: load_project(source),
                gdal_read,
            ),
        ):
            mine = [_seconds(ours) for _ in range(args.repeat)]
            peers = [_seconds(theirs) for _ in range(args.repeat)]
            tracemalloc.start()
            ours()
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            ratios = sorted(p / m for p, m in zip(peers, mine, strict=True))
            rows.append(
                [
                    label,
                    _spread(mine),
                    _spread(peers),
                    f"{statistics.median(ratios):.2f} ({ratios[0]:.2f}-{ratios[-1]:.2f})",
                    f"{peak:.0f}",
                ]
            )
    print_results(
        f"Cambridge demo project: {len(ids)} vector layers, {features} features",
        [
            "step",
            "CityDesk (sqlite3) s",
            "GDAL (pyogrio) s",
            "GDAL time / CityDesk, per run: median (range)",
            "Python heap peak MiB",
        ],
        rows,
    )
    _save_over(args.repeat)
    print_peak_rss()
    return 0


def _save_over(repeat: int) -> None:
    """Saving over the project file after a restyle, which leaves the layers' tables as
    they are (session 39), against the same save with every layer marked as edited, which
    writes every table again (what every save did before). No peer: QGIS keeps layers in
    their sources and saves only its project file; this is CityDesk against itself."""
    from citydesk.layers.style import Symbol

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "demo.gpkg"
        shutil.copy(demo_project_path(), source)
        project = load_project(source)
        vectors = [lay for lay in project.layers.values() if isinstance(lay, VectorLayer)]

        def restyled():
            vectors[0].style.symbol = Symbol(fill="#3366cc")
            save_project(project, source)

        def edited():
            for layer in vectors:
                layer.set_data(layer.data)  # what any edit does to the layer's state
            save_project(project, source)

        times = {}
        for label, fn in (("after a restyle", restyled), ("every layer edited", edited)):
            times[label] = [_seconds(fn) for _ in range(repeat)]
            project = load_project(source)  # arrays again, as after opening
            vectors = [lay for lay in project.layers.values() if isinstance(lay, VectorLayer)]
    print_results(
        "Saving the demo over itself",
        ["save", "seconds: median (range)"],
        [[label, _spread(values)] for label, values in times.items()],
    )


if __name__ == "__main__":
    sys.exit(main())
