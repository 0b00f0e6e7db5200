"""The workbench's GUI thread under heavy work (issue 20 targets: no stall over 200 ms).

A 10 ms ``QTimer`` runs on the GUI thread while each action runs; the longest gap between
its ticks is the longest time the window could not repaint or take a click (a stall). The
actions are the ones the issue timed, on the embedded Cambridge demo (13,116 parcels):

- the style dialog switched to Graduated (land value), then to Natural breaks (Jenks);
- selecting all rows of the parcels' attribute table;
- opening the planning dock;
- starting a scenario run (the baseline) from the planning dock, over its first 15 s (the
  row says whether its result arrived and joined the map within them);
- cancelling that run: from the click to the task's end.

Offscreen Qt, one fresh process. There is no peer: QGIS's own GUI is not scriptable this
way; the targets are the issue's.

    .venv/bin/python benchmarks/gui_responsiveness.py
"""

from __future__ import annotations

import os
import resource
import sys
import time

from common import ROOT, print_results

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    from PyQt5.QtCore import QElapsedTimer, QTimer
    from PyQt5.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    import shutil
    import tempfile

    from citydesk.layers.demo import SHIPPED_DEMO
    from citydesk.workbench.gui.app import create_window
    from citydesk.workbench.gui.style_dialog import StyleDialog

    folder = tempfile.mkdtemp()
    project = shutil.copyfile(SHIPPED_DEMO, os.path.join(folder, "demo.gpkg"))
    window = create_window(None, lang="en")
    window.resize(1280, 820)
    window.show()
    window.open_project(project)

    def spin(seconds: float, until=lambda: False) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not until():
            app.processEvents()
            time.sleep(0.002)

    spin(60, lambda: window.project is not None and not window.canvas.is_rendering())
    clock = QElapsedTimer()
    clock.start()
    gaps: list[int] = []
    last = [clock.elapsed()]

    def tick() -> None:
        now = clock.elapsed()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(10)
    rows = []

    def measure(name: str, action, seconds: float, until=lambda: False) -> None:
        spin(0.5)
        gaps.clear()
        last[0] = clock.elapsed()
        QTimer.singleShot(0, action)
        start = time.monotonic()
        spin(seconds, until)
        took = time.monotonic() - start
        worst = max(gaps) if gaps else 0
        rows.append([name, f"{worst:.0f}", "yes" if worst <= 200 else "NO", f"{took:.1f}"])

    dialog = StyleDialog(window.project.layers["parcels"], window)
    dialog.show()
    dialog.field.setCurrentText("land_value_usd")
    measure(
        "style dialog: Graduated",
        lambda: dialog.kind.setCurrentIndex(dialog.kind.findData("graduated")),
        20,
        lambda: dialog.style is not None and dialog.style.kind == "graduated",
    )
    measure(
        "style dialog: Natural breaks (Jenks)",
        lambda: dialog.method.setCurrentIndex(dialog.method.findData("jenks")),
        30,
        lambda: dialog.style is not None and dialog.style.method == "jenks",
    )
    dialog.close()
    table = window.open_attribute_table("parcels")
    spin(1)
    measure("select all 13,116 rows", table.view.selectAll, 5)
    panels: list = []
    measure("open the planning dock", lambda: panels.append(window.open_planning()), 3)
    panel = panels[0]
    panel.add_demo()
    spin(1)
    panel.check_only(["baseline"])
    panel.last_results = None
    task_box: list = []
    measure("start a scenario run (first 15 s)", lambda: task_box.append(panel.run_checked()), 15)
    # say whether the result arrived (and joined the map) within the time watched
    rows[-1][0] += "; result shown" if panel.last_results is not None else "; still running"
    task = task_box[0] if task_box else None
    if task is not None and window.tasks.active():
        started = time.monotonic()
        task.feedback.cancel()
        spin(60, lambda: window.tasks.active() == 0)
        rows.append(
            ["cancel the run: click to stopped", "-", "-", f"{time.monotonic() - started:.1f}"]
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print_results(
        f"GUI thread's longest stall (peak RSS {peak:.0f} MiB)",
        ["action", "longest stall ms", "under 200 ms", "seconds watched"],
        rows,
    )
    window.ask_unsaved = lambda: "discard"  # a throwaway copy: nothing to ask offscreen
    window.close()


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
