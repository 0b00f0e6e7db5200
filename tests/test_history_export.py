"""The case-history export: every step of each exported case, the rework included, which a
case row (one time per step column) cannot carry; on both backends, from Python and the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from test_case_store import _loop_steps

from citydesk.incidents.export import HISTORY_COLUMNS, export_cases
from citydesk.incidents.lifecycle import Role
from citydesk.incidents.store import NewCase
from citydesk.layers.csv_safe import EXCEL_ROWS, write_xlsx
from citydesk.layers.errors import CityDeskError

EXE = str(Path(sys.executable).parent / "citydesk")
#: the whole loop with one failed check, its note typed as a formula
LOOP = _loop_steps(rework=True, fail_note="=still blocked")


def _two_cases(store) -> tuple[str, str]:
    """A case taken round the loop with one rework, and one only reported."""
    reworked = store.report(
        NewCase("event", "0490", lon=-71.1042, lat=42.3672, source_id="A-1"), "ann", Role.INTAKE
    )
    for action, actor, role, note in LOOP:
        reworked = store.transition(reworked.case_id, action, actor, role, reworked.version, note)
    waiting = store.report(
        NewCase("event", "0102", lon=-71.11, lat=42.37, source_id="A-2"), "ann", Role.INTAKE
    )
    return reworked.case_id, waiting.case_id


def test_the_history_export_has_every_step_in_order(store_target, tmp_path):
    with store_target.open() as store:
        reworked, waiting = _two_cases(store)
        path = export_cases(store, tmp_path / "history.csv", history=True)
        closed_only = export_cases(store, tmp_path / "closed.csv", history=True, status=["closed"])
        book = export_cases(store, tmp_path / "history.xlsx", history=True)
        tz = store.calendar.tz
    steps = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(steps.columns) == HISTORY_COLUMNS
    mine = steps[steps["case_id"] == reworked]
    assert mine["action"].tolist() == ["report", *[a for a, *_rest in LOOP]]
    assert mine["seq"].astype(int).tolist() == list(range(1, len(LOOP) + 2))
    assert mine["actor"].tolist()[1:] == [who for _a, who, *_rest in LOOP]
    assert set(mine["source_id"]) == {"A-1"}
    fail = mine[mine["action"] == "check_fail"].iloc[0]
    assert fail["role"] == Role.INSPECTOR.value and fail["to_state"] != fail["from_state"]
    assert fail["note"] == "'=still blocked"  # defused: a spreadsheet shows it as text
    assert steps[steps["case_id"] == waiting]["action"].tolist() == ["report"]
    assert set(pd.read_csv(closed_only, dtype=str)["case_id"]) == {reworked}
    sheet = load_workbook(book, read_only=True)["history"]
    rows = list(sheet.values)
    assert f"at ({tz})" in rows[0] and len(rows) == 1 + len(LOOP) + 2


def _export_history(project: Path, out: Path) -> subprocess.CompletedProcess:
    command = [EXE, "cases", "export", str(out), "--project", str(project), "--history"]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_the_history_is_refused_in_a_format_without_rows_per_step(demo_copy, tmp_path):
    for name in ("history.gpkg", "history.json"):
        out = _export_history(demo_copy, tmp_path / name)
        assert out.returncode == 2, out.stderr
        assert "cannot be exported as" in out.stderr and ".csv or .xlsx" in out.stderr
    out = _export_history(demo_copy, tmp_path / "h.csv")
    assert out.returncode == 0, out.stderr
    assert list(pd.read_csv(tmp_path / "h.csv").columns) == HISTORY_COLUMNS


def test_a_sheet_longer_than_excel_holds_is_refused_before_writing(tmp_path):
    frame = pd.DataFrame({"n": range(EXCEL_ROWS + 1)})
    with pytest.raises(CityDeskError, match="do not fit in an Excel sheet"):
        write_xlsx(frame, tmp_path / "big.xlsx")
    assert not (tmp_path / "big.xlsx").exists()


def test_a_workbook_that_fails_midway_leaves_nothing_behind(tmp_path):
    """XlsxWriter refuses a value it has no cell type for; the half-written ``.part`` file
    was left beside the target."""
    frame = pd.DataFrame({"n": [1, 2], "odd": [{"a": 1}, None]})
    with pytest.raises(TypeError):
        write_xlsx(frame, tmp_path / "odd.xlsx")
    assert list(tmp_path.iterdir()) == []
