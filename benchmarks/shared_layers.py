"""Shared layers: 500,000 parcels in PostGIS, drawn by CityDesk and by QGIS 3.22.

    .venv/bin/python benchmarks/shared_layers.py [--n 500000] [--url postgresql://...]

The parcels are the Cambridge parcels tiled side by side (in state plane feet) until there
are ``--n`` of them, with their land-use categories, published to PostGIS with CityDesk's
publish (without ``--url``, to a throwaway cluster started here) and written to a local
GeoPackage. Output 1600x1000, the demo's land-use style on both sides (QGIS reads the same
QML). Timed, each as the canvas does it for a shared layer:

- zoomed views ("about 1/10 of the extent": 1/10 of each side, and 1/10 of the area): fetch
  the features in view through the GiST index (only the style's column), convert them for
  Qt, draw; target < 0.3 s;
- full extent, from PostGIS the same way; target at most 2x the same layer in a local
  GeoPackage, which does the same work for every view: CityDesk's GeoPackage reader, the same
  column, the features whose R-tree box meets the view, then the same conversion and drawing;
- QGIS drawing the same PostGIS table, same extents, its parallel renderer (it queries the
  database on every render, as CityDesk does for a layer not read whole).

Each CityDesk figure is the median of 5 runs (spread given); QGIS's is its cold first render
and the median of 3 more. Both pictures are saved and compared: the share of painted pixels
(not white in either) that differ by more than a shade. Peak memory is the process's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))

import geopandas as gpd
import numpy as np
import pandas as pd
from common import (
    DATA_DIR,
    MS,
    differing_share,
    fit,
    print_peak_rss,
    print_results,
    run_qgis_peer,
    spread,
)
from PyQt5.QtGui import QColor, QImage, QPainter
from PyQt5.QtWidgets import QApplication

from citydesk.layers import gpkg as gpkg_io
from citydesk.layers.demo import SHIPPED_DEMO
from citydesk.layers.io import write_layer
from citydesk.layers.layer import VectorLayer
from citydesk.layers.project_store import load_project
from citydesk.layers.qml import style_to_qml
from citydesk.workbench.gui.geometry_cache import build_cache
from citydesk.workbench.gui.renderer import CancelToken, View, feature_colors, render_vector

W, H = 1600, 1000
RUNS = 5
KEEP = ["land_use", "LOC_ID", "address", "land_value_usd", "year_built"]


def make_parcels(n: int) -> VectorLayer:
    """``n`` parcels: the Cambridge parcels (EPSG:2249) tiled on a grid, as a city with
    ``n`` parcels would have them side by side."""
    demo = load_project(SHIPPED_DEMO).layers["parcels"]
    base = demo.data[[*KEEP, "geometry"]].to_crs(2249).reset_index(drop=True)
    x0, y0, x1, y1 = base.total_bounds
    width, height = (x1 - x0) * 1.02, (y1 - y0) * 1.02
    copies = -(-n // len(base))
    side = int(np.ceil(np.sqrt(copies)))
    frames = []
    for k in range(copies):
        frame = base.copy()
        frame["geometry"] = base.geometry.translate((k % side) * width, (k // side) * height)
        frames.append(frame)
    frame = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True).iloc[:n], crs=2249)
    return VectorLayer(name="Parcels", data=frame, style=demo.style, id="parcels")


def draw(layer, frame, extent) -> QImage:
    """The layer's picture over white, as the canvas composes it."""
    cache = build_cache(frame.geometry.values, "polygon")
    colors = feature_colors(layer, frame)
    image = render_vector(layer, cache, colors, View(extent, W, H), CancelToken())
    composed = QImage(W, H, QImage.Format_ARGB32_Premultiplied)
    composed.fill(QColor("white"))
    painter = QPainter(composed)
    painter.drawImage(0, 0, image)
    painter.end()
    return composed


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def runs(fn) -> tuple[list[float], object]:
    times, out = [], None
    for _ in range(RUNS):
        t, out = timed(fn)
        times.append(t)
    return times, out


def qgis(conninfo: str, schema: str, qml: str, out_dir: str, extents) -> dict | None:
    boxes = [",".join(f"{v:.3f}" for v in e) for e in extents]
    args = [conninfo, schema, "parcels", qml, out_dir, *boxes]
    return run_qgis_peer("qgis_shared_peer.py", args)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=500_000)
    parser.add_argument("--url", help="a PostGIS URL (default: a throwaway cluster)")
    parser.add_argument("--images", default=str(DATA_DIR / "shared_layers"))
    args = parser.parse_args()
    QApplication([])
    from citydesk.layers.shared_catalogue import add_department, grant_department
    from citydesk.layers.shared_db import close_all, shared_database
    from citydesk.layers.shared_layer import open_shared_layer
    from citydesk.layers.shared_publish import PublishOptions, publish

    cluster = None
    if args.url is None:
        from pg_cluster import Cluster

        cluster = Cluster().start()
        url = cluster.url + "?schema=bench"
    else:
        url = args.url
    images = Path(args.images)
    images.mkdir(parents=True, exist_ok=True)
    try:
        layer = make_parcels(args.n)
        gpkg = DATA_DIR / f"parcels_{args.n}.gpkg"
        if not gpkg.exists():
            write_layer(layer, gpkg)
        db = shared_database(url)
        add_department(db, "planning", "Planning")
        grant_department(db, db.url.user, "planning")
        t_publish, _entry = timed(
            lambda: publish(layer, url, PublishOptions("planning", replace=True))
        )
        print(f"published {args.n:,} parcels in {t_publish:.1f} s", file=sys.stderr)
        t_open, shared = timed(lambda: open_shared_layer(url, "parcels"))
        shared.style = layer.style
        full = fit(shared.extent, W, H)
        x0, y0, x1, y1 = full
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2

        def centred(k: float) -> tuple[float, float, float, float]:
            """A view at the centre whose sides are ``k`` times the extent's."""
            return fit((cx - (x1 - x0) * k / 2, cy - (y1 - y0) * k / 2,
                        cx + (x1 - x0) * k / 2, cy + (y1 - y0) * k / 2), W, H)  # fmt: skip

        views = {
            "zoomed, 1/10 of each side": centred(0.1),
            "zoomed, 1/10 of the area": centred(0.1**0.5),
            "full extent": full,
        }
        columns = [layer.style.field]

        def from_postgis(extent):
            frame = shared.fetch(extent, columns=columns)
            return draw(shared, frame, extent), len(frame)

        def from_gpkg(extent):
            """The same work from the local file: CityDesk's GeoPackage reader, the same
            column, the features whose R-tree box meets the view; the same drawing."""
            with gpkg_io.open_file(gpkg) as con:
                frame = gpkg_io.read_features(con, "parcels", columns=columns, bbox=extent)
            return draw(layer, frame, extent), len(frame)

        rows, ours, local = [], {}, {}
        for n, (name, extent) in enumerate(views.items()):
            times, (image, count) = runs(lambda e=extent: from_postgis(e))
            path = images / f"citydesk_{n}.png"
            image.save(str(path))
            ours[name] = (times, path, count)
            local[name] = runs(lambda e=extent: from_gpkg(e))

        with tempfile.NamedTemporaryFile("w", suffix=".qml", delete=False) as fh:
            fh.write(style_to_qml(layer.style, "Polygon"))
        conninfo = " ".join(
            f"{k}={v}"
            for k, v in psycopg_conninfo(url).items()
            if k in ("host", "port", "dbname", "user")
        )
        peer = qgis(conninfo, db.schema, fh.name, str(images), list(views.values())) or {}
        for n, name in enumerate(ours):
            times, path, count = ours[name]
            theirs = peer.get(f"view{n}")
            q = f"{theirs['cold'] * 1000:,.0f} / {theirs['median'] * 1000:,.0f}" if theirs else ""
            diff = differing_share(str(path), str(images / f"qgis_{n}.png")) if theirs else None
            rows.append([
                f"PostGIS, {name}", f"{count:,}", spread(times, *MS),
                q or "n/a",
                f"{statistics.median(times) / theirs['median']:.2f}" if theirs else "n/a",
                f"{diff:.1%}" if diff is not None else "n/a",
            ])  # fmt: skip
        for name, (g_times, (_image, g_count)) in local.items():
            rows.append([f"GeoPackage, {name}", f"{g_count:,}", spread(g_times, *MS), "", "", ""])
        ratios = {
            name: statistics.median(ours[name][0]) / statistics.median(local[name][0])
            for name in views
        }
        print_results(
            f"{args.n:,} parcels, {W}x{H}; QGIS 3.22 QgsMapRendererParallelJob on the same "
            f"PostGIS table (style loaded: {peer.get('style_loaded')})",
            ["view", "features", "CityDesk ms, median (range) of 5", "QGIS ms, cold / median",
             "CityDesk / QGIS (median)", "painted pixels differing"],
            rows,
        )  # fmt: skip
        print(
            "\nPostGIS / local GeoPackage, same work: "
            + ", ".join(f"{name} {r:.2f}" for name, r in ratios.items())
            + " (target at full extent <= 2); "
            f"zoomed medians {statistics.median(ours['zoomed, 1/10 of each side'][0]) * 1000:.0f}"
            f" / {statistics.median(ours['zoomed, 1/10 of the area'][0]) * 1000:.0f} ms (target "
            f"< 300); opening the shared layer {t_open * 1000:.0f} ms; publishing "
            f"{t_publish:.1f} s"
        )
        print_peak_rss()
    finally:
        close_all()
        if cluster is not None:
            cluster.stop()
    return 0


def psycopg_conninfo(url: str) -> dict:
    from psycopg.conninfo import conninfo_to_dict

    from citydesk.layers.pg_url import StoreUrl

    return conninfo_to_dict(StoreUrl.parse(url).text)


if __name__ == "__main__":
    raise SystemExit(main())
