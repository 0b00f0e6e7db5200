"""Cancel on the long tasks (issue 20 target: acknowledged at once, effective within 2 s).

Each task runs with the feedback the workbench gives it (a thread-safe flag, as the Tasks
dock's Cancel sets it); the flag is set a few seconds in, and the time from then to the
task's end is measured. The analyses run twice: in this process, and through the analysis
process the workbench uses (``AnalysisProcesses.run``: a cancel message, and a kill if the
child has not stopped within ``KILL_AFTER_S``). The GUI shows "Cancelling..." at once
(tests/test_gui_workbench.py).

    .venv/bin/python benchmarks/cancel.py
"""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import ROOT, print_results

sys.path.insert(0, str(ROOT))


class Flag:
    def __init__(self) -> None:
        self.event, self.at = threading.Event(), None

    def set_progress(self, pct: float) -> None:
        pass

    def push_info(self, message: str) -> None:
        pass

    def is_canceled(self) -> bool:
        return self.event.is_set()

    def cancel(self) -> None:
        self.at = time.monotonic()
        self.event.set()


def measure(name: str, task, after: float) -> list[str]:
    from citydesk.layers.feedback import CanceledError

    flag = Flag()
    timer = threading.Timer(after, flag.cancel)
    timer.start()
    try:
        task(flag)
        outcome = "finished before the cancel"
    except CanceledError:
        outcome = "canceled"
    end = time.monotonic()
    timer.cancel()
    lag = f"{end - flag.at:.2f}" if flag.at else "-"
    return [name, f"{after:g}", outcome, lag, "yes" if flag.at and end - flag.at <= 2 else "-"]


def main() -> None:
    from citydesk.incidents.demo_desk import load_demo_history
    from citydesk.incidents.replay import ReplaySpec
    from citydesk.layers.demo import SHIPPED_DEMO
    from citydesk.planning.landuse_front import run_landuse_front
    from citydesk.planning.scenario_run import run_stored_scenarios
    from citydesk.planning.scenario_store import save_demo_scenarios

    folder = Path(tempfile.mkdtemp())
    project = folder / "demo.gpkg"
    shutil.copyfile(SHIPPED_DEMO, project)
    save_demo_scenarios(project)
    names = ["baseline", "housing_first", "balanced"]
    until = dt.datetime.now(dt.UTC)
    from citydesk.workbench.analysis_process import AnalysisProcesses

    pool = AnalysisProcesses()  # what the workbench's Tasks run analyses through
    pool.warm()
    time.sleep(5)  # the spare has imported the analyses' modules, as in a running window
    rows = [
        measure("land-use Pareto front", lambda f: run_landuse_front(project, feedback=f), 8),
        measure(
            "land-use Pareto front, in the analysis process (as the workbench runs it)",
            lambda f: pool.run(run_landuse_front, project, feedback=f),
            8,
        ),
        measure(
            "three scenario runs", lambda f: run_stored_scenarios(project, names, feedback=f), 6
        ),
        measure(
            "three scenario runs, in the analysis process",
            lambda f: pool.run(run_stored_scenarios, project, names, feedback=f),
            6,
        ),
        measure(
            "demo case history, 28 days live",
            lambda f: load_demo_history(project, ReplaySpec(live_days=28, until=until), feedback=f),
            2.5,
        ),
    ]
    pool.shutdown()
    print_results(
        "Cancel: from the click to the task's end",
        ["task", "cancel after s", "outcome", "took s", "within 2 s"],
        rows,
    )


if __name__ == "__main__":
    main()
