"""Rendering benchmark: CityDesk's canvas renderer against QGIS 3.22, same layers, same size.

    .venv/bin/python benchmarks/render.py [--big benchmarks/_data/polygons_500000.gpkg]

Layers: the Cambridge parcels styled graduated by land value (quantiles, 5 classes), and the
500k-polygon layer made by benchmarks/io.py. Output 1600x1000. For each, CityDesk and QGIS:

- first full render (CityDesk: geometry conversion to Qt + render; QGIS: its first job);
- re-render after a 2x zoom (best of 3);
- time to show a pan: CityDesk draws the cached image shifted (what the canvas shows at once);
  QGIS re-renders (its canvas also shows a cached image, but exposes no API to time it).
QGIS runs in its own process with the system Python (Debian python3-qgis); install it with
`apt-get install python3-qgis`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import DATA_DIR, print_results, run_qgis_peer
from PyQt5.QtCore import QPoint, Qt
from PyQt5.QtGui import QImage, QPainter
from PyQt5.QtWidgets import QApplication

from citydesk.layers.demo import SHIPPED_DEMO
from citydesk.layers.io import read_layer
from citydesk.layers.qml import style_to_qml
from citydesk.layers.style import graduated
from citydesk.workbench.gui.geometry_cache import build_cache
from citydesk.workbench.gui.renderer import CancelToken, View, feature_colors, render_vector

W, H = 1600, 1000
SAVE_DIR = (
    Path(os.environ["CITYDESK_BENCH_IMAGES"]) if os.environ.get("CITYDESK_BENCH_IMAGES") else None
)


def fit(extent, w=W, h=H):
    x0, y0, x1, y1 = extent
    upp = max((x1 - x0) / w, (y1 - y0) / h)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (cx - upp * w / 2, cy - upp * h / 2, cx + upp * w / 2, cy + upp * h / 2)


def citydesk(layer) -> dict:
    t0 = time.perf_counter()
    frame = layer.data
    cache = build_cache(frame.geometry.values, "polygon")
    colors = feature_colors(layer, frame)
    t_prep = time.perf_counter() - t0
    full = fit(layer.extent)
    t0 = time.perf_counter()
    image = render_vector(layer, cache, colors, View(full, W, H), CancelToken())
    t_first = time.perf_counter() - t0
    x0, y0, x1, y1 = full
    w, h = (x1 - x0) / 4, (y1 - y0) / 4
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    zoomed = View((cx - w, cy - h, cx + w, cy + h), W, H)
    zooms = [
        _timed(lambda: render_vector(layer, cache, colors, zoomed, CancelToken())) for _ in range(3)
    ]
    # showing a pan = drawing the composed image shifted, as MapCanvas.paintEvent does
    target = QImage(W, H, QImage.Format_ARGB32_Premultiplied)

    def show_pan():
        target.fill(Qt.white)
        p = QPainter(target)
        p.drawImage(QPoint(120, -40), image)
        p.end()

    pan = min(_timed(show_pan) for _ in range(5))
    if SAVE_DIR:
        image.save(str(SAVE_DIR / f"citydesk_{len(frame)}_full.png"))
        render_vector(layer, cache, colors, zoomed, CancelToken()).save(
            str(SAVE_DIR / f"citydesk_{len(frame)}_zoom.png")
        )
    return {
        "prepare": t_prep,
        "first": t_prep + t_first,
        "render_only": t_first,
        "zoom_cold": zooms[0],
        "zoom": min(zooms),
        "pan": pan,
    }


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def qgis(path: str, layer_name: str, qml: str) -> dict | None:
    return run_qgis_peer("qgis_render_peer.py", [path, layer_name, qml], timeout=900)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--big", default=str(DATA_DIR / "polygons_500000.gpkg"))
    args = parser.parse_args()
    QApplication([])
    cases = [("Cambridge parcels (13,116), graduated", str(SHIPPED_DEMO), "parcels")]
    if Path(args.big).exists():
        cases.append(("500k polygons, graduated", args.big, "polygons"))
    else:
        print(f"{args.big} missing: run benchmarks/io.py first", file=sys.stderr)
    rows = []
    for title, path, layer_name in cases:
        layer = read_layer(path, layer_name)
        field = "land_value_usd" if "land_value_usd" in layer.data.columns else "land_value"
        layer.style = graduated(layer.data[field], field, "quantile", 5, "viridis")
        ours = citydesk(layer)
        with tempfile.NamedTemporaryFile("w", suffix=".qml", delete=False) as fh:
            fh.write(style_to_qml(layer.style, layer.geometry_type))
        peer = qgis(path, layer_name, fh.name) or {}
        for key, label in (
            ("first", "first full render"),
            ("zoom_cold", "first re-render after a 2x zoom"),
            ("zoom", "re-render after zoom (best of 3)"),
            ("pan", "show a pan"),
        ):
            theirs = peer.get(key)
            rows.append(
                [
                    title,
                    label,
                    f"{ours[key] * 1000:,.0f}",
                    f"{theirs * 1000:,.0f}" if theirs else "n/a",
                    f"{ours[key] / theirs:.2f}" if theirs else "n/a",
                ]
            )
        print(
            f"{title}: CityDesk geometry conversion {ours['prepare']:.2f} s, render only "
            f"{ours['render_only']:.2f} s",
            file=sys.stderr,
        )
    print_results(
        f"{W}x{H}; QGIS 3.22 QgsMapRendererParallelJob",
        ["layer", "measure", "CityDesk ms", "QGIS ms", "CityDesk / QGIS"],
        rows,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
