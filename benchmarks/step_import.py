"""Importing a 数字城管 export with its step times (立案, 派遣, 处置, 核查, 结案) against the same
export without them, and its next export.

    .venv/bin/python benchmarks/step_import.py [--rows 100000]

A synthetic export (seeded; categories, departments and places inside the Cambridge demo)
of ``--rows`` cases, and an earlier export of the same cases with each case's steps cut at
a random point. Each import goes into a fresh copy of the demo project's GeoPackage store:

- the whole export with the step columns mapped, and without them (closed at the source
  only, what an import did before session 39);
- the earlier export, then the whole one again (the re-import appends the steps taken
  since), with and without the step columns.

The result is checked: the KPI table after the earlier export and the re-import equals the
table of the whole export imported at once, with steps and without. No peer: no other tool
imports a case history into a case store; this is CityDesk with and without the steps.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from common import print_peak_rss, print_results

from citydesk.incidents.case_files import import_case_file
from citydesk.incidents.kpi import KpiSpec, compute_kpis
from citydesk.incidents.stores import open_project_store
from citydesk.layers.demo import demo_project_path

STEPS = ["立案时间", "派遣时间", "处置完成时间", "核查时间", "结案时间"]
MAPPING = """
source = "szcg"
[columns]
source_id = "案件编号"
reported_at = "上报时间"
closed_at = "结案时间"
department = "处置部门"
status = "案件状态"
lon = "经度"
lat = "纬度"
category = "小类"
{steps}
[dates]
formats = ["%Y-%m-%d %H:%M:%S"]
timezone = "America/New_York"
[categories]
"井盖丢失" = "component:0102"
"路灯损坏" = "component:0111"
"暴露垃圾" = "event:0102"
"占道经营" = "event:0504"
"乱贴乱画" = "event:0202"
[statuses]
"已结案" = "closed"
"处置中" = "open"
"""
STEP_KEYS = """registered_at = "立案时间"
dispatched_at = "派遣时间"
handled_at = "处置完成时间"
checked_at = "核查时间"
"""


def exports(rows: int, folder: Path) -> tuple[Path, Path]:
    """The whole export and an earlier one of the same cases (steps cut at random)."""
    rng = np.random.default_rng(7)
    start = np.datetime64("2024-01-01T00:00:00")
    reported = start + rng.integers(0, 300 * 24 * 60, rows).astype("timedelta64[m]")
    hours = rng.exponential([0.5, 1.0, 20.0, 2.0, 1.0], size=(rows, 5))
    times = reported[:, None] + np.cumsum(hours * 3600, axis=1).astype("timedelta64[s]")
    done = rng.random(rows) < 0.8
    text = pd.DataFrame(np.datetime_as_string(times, unit="s"), columns=STEPS)
    text = text.apply(lambda c: c.str.replace("T", " "))
    text.loc[~done, STEPS[2:]] = None
    kinds = ["井盖丢失", "路灯损坏", "暴露垃圾", "占道经营", "乱贴乱画"]
    whole = pd.DataFrame(
        {
            "案件编号": [f"2024{i:07d}" for i in range(rows)],
            "小类": rng.choice(kinds, rows),
            "上报时间": np.char.replace(np.datetime_as_string(reported, unit="s"), "T", " "),
            **{c: text[c] for c in STEPS},
            "处置部门": rng.choice(["市政管理处", "城管执法局", "环卫处"], rows),
            "经度": rng.uniform(-71.16, -71.07, rows).round(6),
            "纬度": rng.uniform(42.355, 42.40, rows).round(6),
        }
    )
    whole["案件状态"] = np.where(whole["结案时间"].notna(), "已结案", "处置中")
    earlier = whole.copy()
    keep = rng.integers(0, 6, rows)
    for j, column in enumerate(STEPS):
        earlier.loc[keep <= j, column] = None
    earlier["案件状态"] = np.where(earlier["结案时间"].notna(), "已结案", "处置中")
    paths = folder / "whole.csv", folder / "earlier.csv"
    whole.to_csv(paths[0], index=False, encoding="utf-8-sig")
    earlier.to_csv(paths[1], index=False, encoding="utf-8-sig")
    return paths


def kpis(project: Path) -> pd.DataFrame:
    with open_project_store(project) as store:
        end = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
        return compute_kpis(store.case_facts(), KpiSpec(by="department", end=end))


def timed(project: Path, files: list[Path], mapping: Path) -> tuple[list[float], dict]:
    """Seconds of each import, and the last import's summary counts."""
    seconds, result = [], {}
    for path in files:
        started = time.perf_counter()
        result = import_case_file(project, path, mapping)
        seconds.append(time.perf_counter() - started)
    return seconds, result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        whole, earlier = exports(args.rows, folder)
        for label, steps in (("with the step times", STEP_KEYS), ("without them", "")):
            mapping = folder / f"mapping{len(steps)}.toml"
            mapping.write_text(MAPPING.format(steps=steps), encoding="utf-8")
            at_once, again = folder / "once.gpkg", folder / "again.gpkg"
            shutil.copy(demo_project_path(), at_once)
            shutil.copy(demo_project_path(), again)
            (direct,), _counts = timed(at_once, [whole], mapping)
            (first, second), counts = timed(again, [earlier, whole], mapping)
            same = kpis(at_once).equals(kpis(again))
            dispatched = int(kpis(at_once).iloc[-1]["dispatched"])
            rows.append(
                [
                    label,
                    f"{direct:.1f}",
                    f"{first:.1f}",
                    f"{second:.1f}",
                    f"{counts['updated']:,} / {counts['refused']:,}",
                    f"{dispatched:,}",
                    "yes" if same else "NO",
                ]
            )
    print_results(
        f"A 数字城管-style export of {args.rows:,} cases",
        [
            "import",
            "whole export s",
            "earlier export s",
            "then the whole again s",
            "updated / refused by it",
            "cases dispatched (KPI)",
            "same KPIs both ways",
        ],
        rows,
    )
    print_peak_rss()
    return 0


if __name__ == "__main__":
    sys.exit(main())
