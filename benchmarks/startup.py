"""Start-up: the command line (``citydesk --help`` and ``--version`` against ``python -c pass``
in the same run), and the workbench from launch to the main window on screen and to the first
finished map render, on the embedded Cambridge demo (offscreen).

    .venv/bin/python benchmarks/startup.py [--runs 5] [--cli-only]

Each run is a fresh process (cold Python imports included), like a user double-clicking.
Targets (issue 17): --help under 0.5 s and --version under 0.3 s on the 2-core machines.
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


def _cli_times(runs: int) -> list[list[str]]:
    """Median wall time of fresh processes: the interpreter alone, then the CLI."""
    exe = os.path.join(os.path.dirname(sys.executable), "citydesk")
    cases = [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("citydesk --version", [exe, "--version"]),
        ("citydesk --help", [exe, "--help"]),
    ]
    times: dict[str, list[float]] = {label: [] for label, _cmd in cases}
    for _ in range(runs):
        for label, cmd in cases:  # interleaved, so load on the machine hits all alike
            t0 = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True, timeout=60, cwd=ROOT.parent)
            times[label].append(time.perf_counter() - t0)
    base = statistics.median(times["python -c pass"])
    return [
        [
            label,
            f"{statistics.median(t):.3f}",
            f"{min(t):.3f}",
            f"{statistics.median(t) / base:.1f}",
        ]
        for label, t in times.items()
    ]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cli-only", action="store_true")
    args = parser.parse_args()
    print_results(
        f"command line, {args.runs * 2} fresh processes each",
        ["command", "median s", "min s", "x python -c pass"],
        _cli_times(args.runs * 2),
    )
    if args.cli_only:
        return 0
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
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
