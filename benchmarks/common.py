"""Helpers shared by the benchmark scripts: timing, tables, the real data location."""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
DATA_DIR = ROOT / "benchmarks" / "_data"  # generated inputs, git-ignored


def bench_pg_url(stack) -> str:
    """The PostGIS URL the case benchmarks write to: ``CITYDESK_BENCH_PG_URL`` if set, else a
    throwaway local cluster with fsync on (tools/pg_cluster.py), stopped when ``stack``
    (an ``ExitStack``) closes."""
    import os
    import sys

    if not os.environ.get("CITYDESK_BENCH_PG_URL"):
        sys.path.insert(0, str(ROOT / "tools"))
        from pg_cluster import Cluster

        cluster = stack.enter_context(Cluster(fsync=True))
        os.environ["CITYDESK_BENCH_PG_URL"] = cluster.url
    return os.environ["CITYDESK_BENCH_PG_URL"]


def best_of(fn: Callable[[], object], repeat: int = 3) -> tuple[float, float]:
    """(median, min) wall-clock seconds of ``repeat`` runs."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


#: ``spread(seconds, *MS)``: seconds shown as whole milliseconds
MS = (1000.0, ",.0f")


def spread(values: list[float], scale: float = 1.0, fmt: str = ".2f") -> str:
    """``median (min-max)`` of repeated measurements times ``scale`` (1000: seconds shown as
    ms), as docs/BENCHMARKS.md gives them; one value alone is shown alone."""
    import statistics

    low, mid, high = (v * scale for v in (min(values), statistics.median(values), max(values)))
    if len(values) == 1:
        return f"{mid:{fmt}}"
    return f"{mid:{fmt}} ({low:{fmt}}-{high:{fmt}})"


def machine() -> str:
    import os

    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def print_results(title: str, headers: list[str], rows: list[list[str]]) -> None:
    """The run's conditions (title and this machine), then the figures as a Markdown table
    ready for docs/BENCHMARKS.md."""
    print(f"\n{title}; {machine()}\n")
    print(markdown_table(headers, rows))


def print_peak_rss() -> None:
    """The process's peak resident memory, after a table whose heap column is tracemalloc's
    (which does not see GDAL, GEOS or Arrow memory)."""
    import resource

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess peak RSS: {rss:.0f} MiB (the heap column is tracemalloc's: GDAL, GEOS")
    print("and Arrow memory is not in it)")


def run_qgis_peer(script: str, args: list[str], timeout: float = 1800) -> dict | None:
    """Run a QGIS peer script (``benchmarks/qgis_*_peer.py``) with the system Python and
    Debian's python3-qgis, offscreen, outside the venv; its JSON line, or None when QGIS is
    not installed or the peer failed (its error is printed)."""
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    try:
        out = subprocess.run(
            ["/usr/bin/python3", str(ROOT / "benchmarks" / script), *args],
            capture_output=True, text=True, timeout=timeout, env=env,
        )  # fmt: skip
    except FileNotFoundError:
        return None
    return peer_json(out)


def peer_json(out) -> dict | None:
    """The JSON line a peer script printed (a ``subprocess.run`` result), or None when it
    printed none: then its stderr's end is printed."""
    import json
    import sys

    for line in out.stdout.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    print(out.stderr[-2000:], file=sys.stderr)
    return None


def differing_share(ours: str, theirs: str, ignore: tuple[int, int, int] | None = None) -> float:
    """Share of the painted pixels (not white in either picture) whose colour differs by
    more than 48 in any channel: antialiasing shades agree, a wrong fill does not.
    ``ignore``: a colour of ours that is left out where the other picture is white (CityDesk
    draws features without a value in its no-data grey; QGIS's graduated renderer leaves
    them out), so that the rest of the picture can be compared on its own."""

    import numpy as np
    from PyQt5.QtGui import QImage

    def pixels(path: str) -> np.ndarray:
        image = QImage(path).convertToFormat(QImage.Format_RGB32)
        ptr = image.constBits()
        ptr.setsize(image.byteCount())
        array = np.frombuffer(ptr, np.uint8).reshape(image.height(), image.width(), 4)
        return array[..., :3].copy()  # the buffer is the image's, which is freed on return

    a, b = pixels(ours).astype(int), pixels(theirs).astype(int)
    painted = (a < 250).any(axis=2) | (b < 250).any(axis=2)
    if ignore is not None:
        painted &= ~((np.abs(a - np.array(ignore)) <= 8).all(axis=2) & (b >= 250).all(axis=2))
    differ = (np.abs(a - b) > 48).any(axis=2) & painted
    return float(differ.sum() / max(1, painted.sum()))


def peak_rss_mib() -> float:
    """This process's peak resident set (VmHWM). Not getrusage's ru_maxrss: Linux carries
    that across exec, so a child started by a big parent reports the parent's peak."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def fit(extent, w: int, h: int) -> tuple[float, float, float, float]:
    """``extent`` widened to the picture's aspect ratio, centred: the view both sides of a
    render comparison draw."""
    x0, y0, x1, y1 = extent
    upp = max((x1 - x0) / w, (y1 - y0) / h)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (cx - upp * w / 2, cy - upp * h / 2, cx + upp * w / 2, cy + upp * h / 2)
