"""Cases exported as an Excel workbook, from the command line and from Dispatch > Export
cases (the desk had no export at all): the clerk's spreadsheet, with the city's local times,
text that stays text, and reporters' personal data masked."""

from __future__ import annotations

import json

import openpyxl
import pandas as pd
import pytest

from citydesk.incidents.case_files import import_case_file
from citydesk.layers.city_profile import store_profile
from citydesk.layers.project import Project
from citydesk.layers.project_store import save_project
from citydesk.workbench.cli.main import main

PROFILE = """
name = "Testville"
timezone = "Europe/Helsinki"
crs = "EPSG:3067"
"""

REQUESTS = [
    {
        "service_request_id": "1",
        "status": "open",
        "service_code": "E0401",
        "description": '=HYPERLINK("http://evil.example","click")\x07',
        "requested_datetime": "2026-11-27T10:00:00+02:00",
        "lat": 60.17,
        "long": 24.94,
    },
    {
        "service_request_id": "2",
        "status": "closed",
        "service_code": "E0401",
        "description": "地面塌陷",
        "requested_datetime": "2026-07-01T08:30:00Z",  # summer time: UTC+3 there
        "updated_datetime": "2026-07-02T08:30:00Z",
        "lat": 60.171,
        "long": 24.941,
    },
]


@pytest.fixture()
def project(tmp_path):
    path = tmp_path / "city.gpkg"
    save_project(Project("city", crs="EPSG:3067"), path)
    store_profile(path, PROFILE)
    data = tmp_path / "requests.json"
    data.write_text(json.dumps(REQUESTS), encoding="utf-8")
    assert import_case_file(path, data)["added"] == 2
    return path


def _rows(path):
    sheet = openpyxl.load_workbook(path)["cases"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(2)]
    return sheet, header, rows


def test_the_workbook_has_local_times_and_text_stays_text(project, tmp_path):
    out = tmp_path / "cases.xlsx"
    assert main(["cases", "export", str(out), "--project", str(project)]) == 0
    sheet, header, rows = _rows(out)
    assert "reported_at (Europe/Helsinki)" in header and "reported_at" not in header
    by_id = {r["source_id"]: r for r in rows}
    assert by_id["1"]["reported_at (Europe/Helsinki)"].isoformat() == "2026-11-27T10:00:00"
    assert by_id["2"]["reported_at (Europe/Helsinki)"].isoformat() == "2026-07-01T11:30:00"
    assert by_id["2"]["description"].endswith("地面塌陷")
    # a formula typed by the public is stored as text (no formula cell), its bell dropped
    cell = next(c for c in sheet["J"] if str(c.value).startswith("=HYPERLINK"))
    assert cell.data_type == "s" and "\x07" not in cell.value
    assert isinstance(by_id["1"]["lon"], float)  # numbers stay numbers


@pytest.mark.gui
def test_dispatch_menu_exports_the_cases(qtbot, tmp_path, project, monkeypatch):
    pytest.importorskip("PyQt5")
    from test_gui_workbench import open_window

    window = open_window(qtbot, tmp_path / "settings.ini", project)
    target = tmp_path / "from_gui.xlsx"
    monkeypatch.setattr(
        "citydesk.workbench.gui.main_window.QFileDialog.getSaveFileName",
        lambda *a, **k: (str(target), ""),
    )
    window.action_export_cases.trigger()
    qtbot.waitUntil(target.exists, timeout=30_000)
    qtbot.waitUntil(lambda: "Cases exported" in window.message_bar.label.text(), timeout=30_000)
    _sheet, _header, rows = _rows(target)
    assert sorted(r["source_id"] for r in rows) == ["1", "2"]
    # Dispatch > Export case histories: the steps of the same cases, a sheet of their own
    history = tmp_path / "history_from_gui.xlsx"
    target = history
    window.action_export_history.trigger()
    qtbot.waitUntil(history.exists, timeout=30_000)
    qtbot.waitUntil(
        lambda: "Case histories exported" in window.message_bar.label.text(), timeout=30_000
    )
    steps = list(openpyxl.load_workbook(history, read_only=True)["history"].values)
    assert steps[0][:3] == ("case_id", "source_id", "seq") and steps[0][3].startswith("at (")
    assert sorted({r[1] for r in steps[1:]}) == ["1", "2"]
    window.close()


@pytest.mark.gui
def test_an_export_asks_whether_to_take_the_cases_the_desk_shows(
    qtbot, tmp_path, project, monkeypatch
):
    """With the desk filtered to the open cases (its default), an export asks whether the
    file takes the cases shown or every case: the real question box, answered by a click."""
    pytest.importorskip("PyQt5")
    from PyQt5.QtCore import QTimer
    from PyQt5.QtWidgets import QApplication, QMessageBox
    from test_gui_workbench import _shot, open_window

    window = open_window(qtbot, tmp_path / "settings.ini", project)
    window.open_desk(actor="ann", role="supervisor")
    qtbot.waitUntil(lambda: window.desk_panel is not None, timeout=60_000)
    assert len(window.desk_panel.frame) == 1  # the open case of two
    target = tmp_path / "shown.csv"
    monkeypatch.setattr(
        "citydesk.workbench.gui.main_window.QFileDialog.getSaveFileName",
        lambda *a, **k: (str(target), ""),
    )
    asked: list[str] = []

    def answer(tries: int = 50) -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            if tries:
                QTimer.singleShot(100, lambda: answer(tries - 1))
            return
        _shot(box, "export_scope_question.png")
        asked.append(box.text())
        [shown] = [b for b in box.buttons() if b.text() == "Cases shown: 1"]
        shown.click()

    QTimer.singleShot(100, answer)
    window.action_export_cases.trigger()
    assert asked == ["The dispatch desk shows 1 of the project's 2 cases."]
    qtbot.waitUntil(lambda: window.tasks.active() == 0 and target.exists(), timeout=30_000)
    assert set(pd.read_csv(target, sep=None, engine="python", dtype=str)["source_id"]) == {"1"}
    # every case, then a cancelled question: nothing asked for or written
    everything = target = tmp_path / "all_steps.csv"
    monkeypatch.setattr(window, "ask_export_scope", lambda *a: "all")
    window.action_export_history.trigger()
    qtbot.waitUntil(lambda: window.tasks.active() == 0 and everything.exists(), timeout=30_000)
    steps = pd.read_csv(everything, sep=None, engine="python", dtype=str)
    assert set(steps["source_id"]) == {"1", "2"}
    target = tmp_path / "cancelled.csv"
    monkeypatch.setattr(window, "ask_export_scope", lambda *a: "cancel")
    window.action_export_history.trigger()
    assert window.tasks.active() == 0 and not target.exists()
    window.close()


def test_tables_go_to_excel_by_their_extension(project, tmp_path):
    """KPI tables (and forecasts, fronts, plan indicators) go where the clerk works."""
    out = tmp_path / "kpi.xlsx"
    assert main(["cases", "kpi", "--project", str(project), "--csv", str(out)]) == 0
    rows = list(openpyxl.load_workbook(out).active.values)
    assert rows[0][0] == "department" and rows[-1][0] == "ALL"
