"""Rendering benchmark (issue 22): CityDesk's canvas renderer against QGIS 3.22, same
layers, same style, same views, same 1600x1000 picture, pictures compared.

    .venv/bin/python benchmarks/io.py        # once: the 500,000-polygon layer (needs ../shared)
    .venv/bin/python benchmarks/render.py [--runs 3] [--images DIR]

Layers: the Cambridge demo parcels (13,116) and the 500,000 polygons of benchmarks/io.py,
graduated by land value (quantiles, 5 classes, viridis). The style is written once as QML;
QGIS loads that QML (its default style from the GeoPackage is *not* loaded, and the peer
reports the renderer it applied, which must be graduated with 5 classes on the same field),
CityDesk draws the Style the QML was written from.

What is timed, each side in a fresh process per run (so peak memory is the process's):
- **read + first render**: from opening the file to the finished full-extent picture
  (CityDesk: read_layer, geometry cache, colours, render; QGIS: open the layer, load the QML,
  its first QgsMapRendererParallelJob, which reads as it draws);
- **render alone**: the same full view drawn again, median of 3;
- **zoomed**: a 2x zoom on the centre, drawn cold once and then median of 3.
The pan row of earlier versions is dropped: CityDesk drew a cached image shifted while QGIS
re-rendered, not the same work.

Pictures: both sides save every view (composed on white); the script prints the share of
painted pixels (not white in either) whose colour differs by more than 48 in a channel
(antialiasing shades agree, a wrong fill does not). A row counts only under 15 %. A second
figure leaves out the features without a value, which CityDesk fills in its no-data grey and
QGIS's graduated renderer does not draw (134 right-of-way parcels of Cambridge's 13,116): a
deliberate difference of rule, not of drawing, so the check reads that second figure.
QGIS runs with the system Python (Debian python3-qgis); without it the QGIS columns say n/a.
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

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import (
    DATA_DIR,
    MS,
    differing_share,
    fit,
    peak_rss_mib,
    print_results,
    run_qgis_peer,
    spread,
)

W, H = 1600, 1000
RUNS = 3
THRESHOLD = 0.15
NO_VALUE_GREY = (204, 204, 204)  # CityDesk's fill for a feature without a value (#cccccc)


def views(extent) -> list[tuple[float, float, float, float]]:
    full = fit(extent, W, H)
    x0, y0, x1, y1 = full
    w, h = (x1 - x0) / 4, (y1 - y0) / 4
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return [full, (cx - w, cy - h, cx + w, cy + h)]


def citydesk_child(path: str, layer_name: str, style_json: str, out_dir: str, boxes) -> dict:
    """One CityDesk run in this (fresh) process: the figures and the saved pictures."""
    from PyQt5.QtGui import QColor, QImage, QPainter
    from PyQt5.QtWidgets import QApplication

    from citydesk.layers.io import read_layer
    from citydesk.layers.style import Style
    from citydesk.workbench.gui.renderer import (
        CancelToken,
        View,
        prepare_vector,
        render_vector,
    )

    _app = QApplication([])
    style = Style.from_dict(json.loads(Path(style_json).read_text()))

    def draw(layer, cache, colors, box) -> QImage:
        return render_vector(layer, cache, colors, View(box, W, H), CancelToken())

    def save(image: QImage, name: str) -> None:
        composed = QImage(W, H, QImage.Format_ARGB32_Premultiplied)
        composed.fill(QColor("white"))
        painter = QPainter(composed)
        painter.drawImage(0, 0, image)
        painter.end()
        composed.save(os.path.join(out_dir, name))

    t0 = time.perf_counter()
    layer = read_layer(path, layer_name)
    layer.style = style
    cache, colors, _labels = prepare_vector(layer, layer.crs)  # what the map canvas does
    first = draw(layer, cache, colors, boxes[0])
    result: dict = {"read_and_first": time.perf_counter() - t0}
    for n, box in enumerate(boxes):
        t0 = time.perf_counter()
        image = draw(layer, cache, colors, box)
        cold = time.perf_counter() - t0
        warm = []
        for _ in range(3):
            t0 = time.perf_counter()
            draw(layer, cache, colors, box)
            warm.append(time.perf_counter() - t0)
        save(first if n == 0 else image, f"citydesk_{n}.png")
        result[f"view{n}"] = {"cold": cold, "median": statistics.median(warm), "best": min(warm)}
    result["peak_rss_mib"] = peak_rss_mib()
    return result


def run_citydesk(path, layer_name, style_json, out_dir, boxes) -> dict:
    texts = [",".join(f"{v:.6f}" for v in box) for box in boxes]
    out = subprocess.run(
        [sys.executable, __file__, "--child", path, layer_name, style_json, out_dir, *texts],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--big", default=str(DATA_DIR / "polygons_500000.gpkg"))
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--images", help="keep the pictures here (default: a temporary folder)")
    if sys.argv[1:2] == ["--child"]:  # one CityDesk run (coordinates may start with "-")
        path, layer_name, style_json, out_dir, *texts = sys.argv[2:]
        boxes = [tuple(float(v) for v in t.split(",")) for t in texts]
        print(json.dumps(citydesk_child(path, layer_name, style_json, out_dir, boxes)))
        return 0
    args = parser.parse_args()
    from PyQt5.QtWidgets import QApplication

    _app = QApplication([])  # the pictures are compared through QImage

    from citydesk.layers.demo import SHIPPED_DEMO
    from citydesk.layers.io import read_layer
    from citydesk.layers.qml import style_to_qml
    from citydesk.layers.style import graduated

    cases = [("Cambridge parcels (13,116)", str(SHIPPED_DEMO), "parcels")]
    if Path(args.big).exists():
        cases.append(("500,000 polygons", args.big, "polygons"))
    else:
        print(f"{args.big} missing: run benchmarks/io.py first", file=sys.stderr)
    keep = Path(args.images) if args.images else None
    rows, memory = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for title, path, layer_name in cases:
            layer = read_layer(path, layer_name)
            field = "land_value_usd" if "land_value_usd" in layer.data.columns else "land_value"
            style = graduated(layer.data[field], field, "quantile", 5, "viridis")
            boxes = views(layer.extent)
            del layer
            case_dir = Path(keep or tmp) / layer_name
            case_dir.mkdir(parents=True, exist_ok=True)
            qml = case_dir / "style.qml"
            qml.write_text(style_to_qml(style, "MultiPolygon"))
            style_json = case_dir / "style.json"
            style_json.write_text(json.dumps(style.to_dict()))
            ours, theirs = [], []
            diffs: list[list[float]] = [[] for _ in boxes]
            valued: list[list[float]] = [[] for _ in boxes]
            for run in range(args.runs):
                run_dir = case_dir / f"run{run}"
                run_dir.mkdir(exist_ok=True)
                ours.append(run_citydesk(path, layer_name, str(style_json), str(run_dir), boxes))
                peer = run_qgis_peer(
                    "qgis_render_peer.py",
                    [path, layer_name, str(qml), str(run_dir)]
                    + [",".join(f"{v:.6f}" for v in box) for box in boxes],
                    timeout=1800,
                )
                if peer is None:
                    continue
                if not (
                    peer["style_loaded"]
                    and peer["renderer"] == "graduatedSymbol"
                    and peer["classes"] == 5
                    and peer["attribute"] == field
                ):
                    raise SystemExit(f"QGIS did not apply the benchmark's style: {peer}")
                theirs.append(peer)
                for n in range(len(boxes)):
                    pair = (str(run_dir / f"citydesk_{n}.png"), str(run_dir / f"qgis_{n}.png"))
                    diffs[n].append(differing_share(*pair))
                    valued[n].append(differing_share(*pair, ignore=NO_VALUE_GREY))
            measures = [
                ("read + first render", lambda r: r["read_and_first"], 0),
                ("full view, render alone", lambda r: r["view0"]["median"], 0),
                ("2x zoom, cold", lambda r: r["view1"]["cold"], 1),
                ("2x zoom, render alone", lambda r: r["view1"]["median"], 1),
            ]
            for label, get, view in measures:
                a = [get(r) for r in ours]
                b = [get(r) for r in theirs]
                ratios = [x / y for x, y in zip(a, b, strict=False)]
                share = max(diffs[view]) if diffs[view] else None
                share_valued = max(valued[view]) if valued[view] else None
                rows.append([
                    title, label, spread(a, *MS), spread(b, *MS) if b else "n/a",
                    spread(ratios, 1.0, ".2f") if ratios else "n/a",
                    "n/a" if share is None else f"{share:.1%} / {share_valued:.1%}",
                    "n/a" if share is None else ("yes" if share_valued < THRESHOLD else "NO"),
                ])  # fmt: skip
            mine = [r["peak_rss_mib"] for r in ours]
            peers = [r["peak_rss_mib"] for r in theirs]
            ratio = [x / y for x, y in zip(mine, peers, strict=False)]
            memory.append([
                title, spread(mine, 1.0, ",.0f"), spread(peers, 1.0, ",.0f") if peers else "n/a",
                spread(ratio, 1.0, ".2f") if ratio else "n/a",
            ])  # fmt: skip
    print_results(
        f"{W}x{H}, {args.runs} runs, median (min-max); QGIS 3.22 QgsMapRendererParallelJob",
        ["layer", "measure", "CityDesk ms", "QGIS ms", "CityDesk / QGIS", "pixels differing, "
         "worst run (all / features with a value)", "picture check < 15 %"],
        rows,
    )  # fmt: skip
    print_results(
        "peak resident memory of each side's process (MiB)",
        ["layer", "CityDesk", "QGIS", "CityDesk / QGIS"],
        memory,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
