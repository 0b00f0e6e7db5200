"""Start-up: time from launching the workbench process to the main window on screen, and to
the first finished map render, on the embedded Cambridge demo (offscreen).

    .venv/bin/python benchmarks/startup.py [--runs 5]

Each run is a fresh process (cold Python imports included), like a user double-clicking.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from common import ROOT, print_results

CHILD = r"""
import json, sys, time
t0 = float(sys.argv[1])
from PyQt5.QtCore import QTimer
from PyQt5.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from citydesk.workbench.gui.app import create_window
win = create_window(None, lang="en")
win.show()
marks = {}
def shown():
    marks["window"] = time.time() - t0
QTimer.singleShot(0, shown)
def check():
    if win.project is not None and "loaded" not in marks:
        marks["loaded"] = time.time() - t0
    if "loaded" in marks and not win.canvas.is_rendering() and win.canvas._composed is not None:
        marks["rendered"] = time.time() - t0
        print(json.dumps(marks), flush=True)
        app.quit()
timer = QTimer(); timer.timeout.connect(check); timer.start(5)
app.exec_()
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    results = []
    for _ in range(args.runs):
        t0 = time.time()
        out = subprocess.run(
            [sys.executable, "-c", CHILD, repr(t0)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        line = next(ln for ln in out.stdout.splitlines() if ln.startswith("{"))
        results.append(json.loads(line))
    rows = [
        [
            label,
            f"{statistics.median(r[key] for r in results):.2f}",
            f"{min(r[key] for r in results):.2f}",
            f"{max(r[key] for r in results):.2f}",
        ]
        for key, label in (
            ("window", "main window shown"),
            ("loaded", "demo project loaded (background)"),
            ("rendered", "first map render finished"),
        )
    ]
    print_results(
        f"{args.runs} fresh processes", ["moment after launch", "median s", "min s", "max s"], rows
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
