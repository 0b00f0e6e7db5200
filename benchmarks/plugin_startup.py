"""Plugin host start-up cost (plugins issue): the workbench with 50 installed plugins
against none. Target: under 100 ms of difference, because no plugin code is imported at
start-up, only manifests are read.

Each dummy plugin has a manifest with two algorithms (three typed parameters each), an
indicator and a command, and a module that sleeps 0.2 s when imported: if start-up imported
plugin code, 50 of them would add 10 s.

    .venv/bin/python benchmarks/plugin_startup.py [--runs 7] [--plugins 50]

Each run is a fresh process (cold imports), timed from launch to the main window shown,
with its Processing and Plugins menus built; and, separately, the plugin host alone
(discovery and manifest checks) in-process.
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

from common import ROOT, print_results

CHILD = r"""
import json, sys, time
t0 = float(sys.argv[1])
from PyQt5.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from citydesk.workbench.gui.main_window import MainWindow
win = MainWindow()
win.show()
app.processEvents()
shown = time.time() - t0
plugins = len(win.plugin_actions.host.plugins())
imported = sorted(m for m in sys.modules if m.startswith("dummy_plugin_"))
print(json.dumps({"shown": shown, "plugins": plugins, "imported": imported}))
"""

MANIFEST = """
[plugin]
name = "dummy-{i}"
version = "1.0.{i}"
author = "benchmark"
description = "a dummy plugin"
license = "MIT"
requires-citydesk = ">=0.1"
dependencies = ["numpy>=1.20"]
{algorithms}
[[indicators]]
id = "dummy{i}:indicator"
label = "Dummy indicator {i}"
unit = "units"
compute = "dummy_plugin_{i}.code:indicator"

[[commands]]
id = "dummy{i}:command"
title = "Dummy command {i}"
run = "dummy_plugin_{i}.code:command"
"""
ALGORITHM = """
[[algorithms]]
id = "dummy{i}:alg{k}"
name = "Dummy algorithm {i}.{k}"
group = "Dummy"
run = "dummy_plugin_{i}.code:run"
[algorithms.parameters.layer]
type = "layer"
[algorithms.parameters.distance]
type = "number"
minimum = 0
default = 10
[algorithms.parameters.output]
type = "output_layer"
"""


def make_plugins(folder: Path, count: int) -> None:
    for i in range(count):
        plugin = folder / "citydesk" / "plugins" / f"dummy_{i}"
        package = plugin / f"dummy_plugin_{i}"
        package.mkdir(parents=True)
        algorithms = "".join(ALGORITHM.format(i=i, k=k) for k in range(2))
        (plugin / "citydesk_plugin.toml").write_text(MANIFEST.format(i=i, algorithms=algorithms))
        (package / "__init__.py").write_text("")
        (package / "code.py").write_text("import time\ntime.sleep(0.2)\n")


def measure(data_home: Path, runs: int) -> list[dict]:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": str(ROOT),
        "XDG_DATA_HOME": str(data_home),
        "XDG_CONFIG_HOME": str(data_home / "config"),
    }
    out = []
    for _ in range(runs):
        t0 = time.time()
        done = subprocess.run(
            [sys.executable, "-c", CHILD, repr(t0)], capture_output=True, text=True, env=env,
            timeout=120, check=True,
        )  # fmt: skip
        out.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return out


def host_alone(data_home: Path, repeat: int = 20) -> float:
    code = (
        "import time; t=time.perf_counter(); from plugins.host import PluginHost;"
        f" [PluginHost() for _ in range({repeat})];"
        f" print((time.perf_counter()-t)/{repeat})"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_DATA_HOME": str(data_home),
           "XDG_CONFIG_HOME": str(data_home / "config")}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    return float(done.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--plugins", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as none, tempfile.TemporaryDirectory() as many:
        make_plugins(Path(many), args.plugins)
        # alternate the two cases so machine noise hits both alike
        empty, full = [], []
        for _ in range(args.runs):
            empty += measure(Path(none), 1)
            full += measure(Path(many), 1)
        assert all(not r["imported"] for r in full), "plugin code was imported at start-up"
        host_none, host_many = host_alone(Path(none)), host_alone(Path(many))
    med_none = statistics.median(r["shown"] for r in empty)
    med_full = statistics.median(r["shown"] for r in full)
    print_results(
        f"Workbench start-up with {args.plugins} plugins against none (median of {args.runs})",
        ["case", "plugins found", "window shown s", "plugin host alone ms"],
        [
            ["no plugins", str(empty[0]["plugins"]), f"{med_none:.3f}", f"{host_none * 1000:.1f}"],
            [f"{args.plugins} plugins", str(full[0]["plugins"]), f"{med_full:.3f}",
             f"{host_many * 1000:.1f}"],
            ["difference", "", f"{(med_full - med_none) * 1000:+.0f} ms",
             f"{(host_many - host_none) * 1000:+.1f} ms"],
        ],
    )  # fmt: skip
    pairs = sorted((b["shown"] - a["shown"]) * 1000 for a, b in zip(empty, full, strict=True))
    print(
        f"\ndifference per alternated pair: median {statistics.median(pairs):+.0f} ms, "
        f"range {pairs[0]:+.0f} to {pairs[-1]:+.0f} ms over {len(pairs)} pairs"
    )
    print("plugin modules imported at start-up: none (checked in every run)")


if __name__ == "__main__":
    main()
