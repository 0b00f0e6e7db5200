"""The evaluation dashboard and the replayed dispatch desk, on the Cambridge demo."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from citydesk.incidents.dashboard import DashboardSpec, build_dashboard, weekly_trend, write_pdf
from citydesk.incidents.demo_desk import run_demo_desk
from citydesk.incidents.kpi import KpiSpec, kpis_from_store
from citydesk.incidents.replay import ReplaySpec
from citydesk.incidents.stores import open_project_store

# one worker runs the whole module, so the demo's history is replayed once (9 s): split across
# both workers it was replayed three times per run
pytestmark = pytest.mark.xdist_group("dashboard_replayed")


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    import shutil

    from citydesk.layers.demo import SHIPPED_DEMO

    path = tmp_path_factory.mktemp("desk") / "demo.gpkg"
    shutil.copyfile(SHIPPED_DEMO, path)
    desk, result, board = run_demo_desk(path, ReplaySpec(live_days=14, seed=3))
    return desk, result, board


@pytest.mark.slow  # over 10 s: started early, so it does not end the run
def test_replay_runs_every_live_case_round_the_loop(replayed):
    desk, result, _board = replayed
    assert result.live > 30 and result.migrated > 8000
    assert result.dispatched + result.manual == result.live
    with open_project_store(desk.project, desk.grid) as store:
        assert store.verify_all() == []
        live = store.query(since=result.start.to_pydatetime())
        assert len(live) == result.live
        sent = live[live["crew"].notna()]
        assert len(sent) == result.dispatched and set(sent["department"]) == {"fire"}
        closed = (live["status"] == "closed").sum()
        assert closed == result.dispatched  # the simulation closes whatever it dispatched
        reworked = int((live["rework_count"] > 0).sum())
        assert reworked == result.reworked
        one = store.history(sent["case_id"].iloc[0])
        actions = [e.action for e in one]
        assert actions[:5] == ["report", "accept", "register", "dispatch", "start"]
        assert actions[-1] == "close"
        assert store.crews()["available"].all()


def test_dashboard_agrees_with_the_kpi_table_and_the_raw_cases(replayed):
    desk, _result, board = replayed
    with open_project_store(desk.project, desk.grid) as store:
        spec = KpiSpec(by="department", start=board.start, end=board.end)
        pd.testing.assert_frame_equal(board.kpis, kpis_from_store(store, spec))
        cases = store.query()
    registered = pd.to_datetime(cases["registered_at"], utc=True, format="ISO8601")
    in_period = (registered >= board.start) & (registered < board.end) & cases["grid_code"].notna()
    assert int(board.cells["count"].sum()) == int(in_period.sum())
    per_cell = cases[in_period].groupby("grid_code").size()
    mine = board.cells.set_index("code")["count"]
    assert (mine.reindex(per_cell.index) == per_cell).all()
    assert set(board.cells["hotspot"]) <= {
        "hot 99%",
        "hot 95%",
        "not significant",
        "cold 95%",
        "cold 99%",
    }


def test_weekly_trend_against_a_pandas_resample():
    rng = np.random.default_rng(1)
    end = pd.Timestamp("2024-03-01", tz="UTC")
    reg = end - pd.to_timedelta(rng.uniform(0, 70 * 24, 400), unit="h")
    closed = reg + pd.to_timedelta(rng.uniform(1, 200, 400), unit="h")
    due = reg + pd.Timedelta(hours=48)
    status = np.where(rng.random(400) < 0.8, "closed", "in_process")
    facts = pd.DataFrame(
        {
            "registered_at": reg,
            "closed_at": pd.Series(closed).where(status == "closed"),
            "due_at": due,
            "status": status,
        }
    )
    trend = weekly_trend(facts, end, 8)
    assert len(trend) == 8 and trend["week"].iloc[-1] == end - pd.Timedelta(weeks=1)
    for row in trend.itertuples():
        lo, hi = row.week, row.week + pd.Timedelta(weeks=1)
        assert row.registered == ((facts.registered_at >= lo) & (facts.registered_at < hi)).sum()
        done = facts[(facts.closed_at >= lo) & (facts.closed_at < hi)]
        assert row.closed == len(done)
        assert row.closed_on_time == (done.closed_at <= done.due_at).sum()


def test_evaluation_pdf_reads_as_a_table_in_chinese(replayed, tmp_path):
    """The PDF's text, as a reader extracts it: the headers and each department's row with
    its own values, in Chinese, not overlapping cells run together."""
    from pypdf import PdfReader

    from citydesk.layers.i18n import set_language

    _desk, _result, board = replayed
    set_language("zh_CN")
    try:
        pdf = write_pdf(board, tmp_path / "week.pdf", lang="zh_CN")
    finally:
        set_language("en")
    reader = PdfReader(pdf)
    text = "\n".join(page.extract_text(extraction_mode="layout") for page in reader.pages)
    assert len(reader.pages) >= 3  # the table, then the charts
    for header in ("部门", "等级", "督办", "延期"):
        assert header in text
    everyone = board.kpis.iloc[-1]
    # the cells of the "all departments" row where the PDF draws them, left to right (the
    # layout text runs a right-aligned score into the grade beside it: "88.7B")
    cells: list[tuple[float, float, str]] = []
    reader.pages[0].extract_text(
        visitor_text=lambda t, cm, tm, _f, _s: cells.append((tm[5] + cm[5], tm[4] + cm[4], t))
    )
    row_y = next(y for y, _x, t in cells if t.strip() == "全部部门")
    on_row = sorted((c for c in cells if abs(c[0] - row_y) < 1), key=lambda c: c[1])
    row = [t.strip() for _y, _x, t in on_row if t.strip()]
    assert len(row) == 12  # one cell per column: name, registered ... urged, extended, score, grade
    assert row[1] == str(int(everyone["registered"]))
    assert row[4] == f"{everyone['on_time_close_rate']:.0%}"
    assert row[-1] == everyone["grade"]


def test_dashboard_without_a_grid_or_cases(tmp_path):
    from citydesk.incidents.store import SqliteCaseStore

    with SqliteCaseStore(tmp_path / "empty.gpkg") as store:
        board = build_dashboard(
            store, None, DashboardSpec(end=dt.datetime(2024, 1, 8, tzinfo=dt.UTC))
        )
    assert board.cells is None and board.warnings.empty
    assert int(board.kpis.iloc[-1]["registered"]) == 0
    assert (board.trend["registered"] == 0).all()
    write_pdf(board, tmp_path / "empty.pdf")


def test_a_replay_until_now_ends_then_with_work_in_every_state(tmp_path):
    """The demo desk showed 9,110 closed cases dated 2010-2014 (issue 20): replayed until a
    moment, the history is moved to end just before it, nothing happens after it, and the
    last days' cases wait at every step of the loop, the newest due within hours."""
    import shutil

    from citydesk.incidents.demo_desk import load_demo_history
    from citydesk.layers.demo import SHIPPED_DEMO

    path = tmp_path / "demo.gpkg"
    shutil.copyfile(SHIPPED_DEMO, path)
    until = dt.datetime(2026, 12, 2, 11, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    desk, result = load_demo_history(path, ReplaySpec(live_days=3, until=until))
    with open_project_store(desk.project, desk.grid) as store:
        cases = store.query(ordered=False)
        events = store.events_frame()
        assert store.verify_all() == []
    reported = pd.to_datetime(cases["reported_at"], utc=True, format="ISO8601")
    assert reported.max() <= until and reported.max() > until - dt.timedelta(hours=1)
    waiting = set(cases.loc[cases["status"] != "closed", "status"])
    assert {"reported", "accepted", "registered", "dispatched", "in_process", "handled"} <= waiting
    due = pd.to_datetime(cases["due_at"], utc=True, format="ISO8601")
    open_due = due[cases["status"] != "closed"]
    assert ((open_due > until) & (open_due <= until + dt.timedelta(hours=8))).any()
    assert result.migrated > 8000 and (cases["status"] == "closed").sum() > 8000
    assert pd.to_datetime(events["at"], utc=True, format="ISO8601").max() <= until


def test_the_crash_history_forecast_and_its_backtest(replayed, capsys):
    """Issue 23's acceptance on the real Cambridge crash history: fit on the past, test on
    2014, per community and week, against seasonal naive and a 4-week mean."""
    from citydesk.incidents.forecast import ForecastSpec
    from citydesk.incidents.forecast_run import run_backtest
    from citydesk.workbench.cli.main import main

    desk = replayed[0]
    with open_project_store(desk.project, desk.grid) as store:
        result = run_backtest(
            store,
            desk.grid,
            ForecastSpec(level="community"),
            dt.date(2014, 1, 1),
            dt.date(2015, 1, 1),
        )
    table = result.table.set_index("method")
    assert len(result.origins) == 52 and result.scale_lag == "52 weeks"
    assert table.loc["model", "mae"] < 0.9 * table.loc["seasonal_naive", "mae"]
    assert table.loc["model", "rmse"] < table.loc["moving_average", "rmse"]
    assert table.loc["model", "coverage80"] >= 0.8 and table.loc["model", "coverage95"] >= 0.95
    capsys.readouterr()
    args = ["cases", "forecast", "--project", str(desk.project), "--level", "community"]
    args += ["--at", "2015-01-01", "--backtest", "--test-from", "2014-01-01", "--top", "3"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Backtest: 52 weekly origins from 2014-01-01 to 2014-12-24" in out
    assert "The forecast beats seasonal naive: MAE" in out
    assert "Expected cases from 2015-01-01 (community × category), the 3 highest:" in out
    # from today, ten years after the history ends: said plainly, with the fix (exit 2)
    assert main(["cases", "forecast", "--project", str(desk.project)]) == 2
    err = capsys.readouterr().err
    assert "the last was registered on 2016-06-30" in err and "--at 2016-07-01" in err


def test_a_placeholder_point_is_left_out_and_a_burst_warns_with_its_reason(replayed, tmp_path):
    """Ten weeks of reports spread over the city, 80 of them at one fallback point, and a
    burst in one cell in the last week: the point is reported apart, the burst warns with
    its reason in the dashboard, in the PDF and from the command line."""
    from pypdf import PdfReader
    from pyproj import Transformer

    from citydesk.incidents.grid_index import GridIndex
    from citydesk.incidents.new_cases import NewCase
    from citydesk.incidents.store import SqliteCaseStore

    grid = replayed[0].grid
    inner = grid[grid.geometry.area > 0.95 * grid.geometry.area.median()]
    to_lonlat = Transformer.from_crs(grid.crs, 4326, always_xy=True).transform
    rng = np.random.default_rng(9)
    end = dt.datetime(2024, 6, 3, tzinfo=dt.UTC)
    cases = []

    def add(lon, lat, when):
        cases.append(
            NewCase(
                "event",
                "0102",
                lon=float(lon),
                lat=float(lat),
                source="import",
                source_id=f"s{len(cases)}",
                reported_at=when,
            )
        )

    bounds = inner.geometry.bounds.to_numpy()
    for _ in range(1500):  # anywhere in the city, at scattered points
        x0, y0, x1, y1 = bounds[rng.integers(len(bounds))]
        lon, lat = to_lonlat(rng.uniform(x0, x1), rng.uniform(y0, y1))
        add(lon, lat, end - dt.timedelta(days=float(rng.uniform(0, 70))))
    for _ in range(80):  # the fallback point, over the ten weeks
        add(-71.10561, 42.36558, end - dt.timedelta(days=float(rng.uniform(0, 70))))
    x0, y0, x1, y1 = bounds[len(bounds) // 2]
    for _ in range(15):  # the burst, in one cell, in the last week
        lon, lat = to_lonlat(rng.uniform(x0, x1), rng.uniform(y0, y1))
        add(lon, lat, end - dt.timedelta(days=float(rng.uniform(0.1, 6.5))))
    with SqliteCaseStore(tmp_path / "desk.gpkg", grid=GridIndex(grid)) as store:
        store.import_batch(cases)
        board = build_dashboard(store, grid, DashboardSpec(end=end))
    assert [p.cases for p in board.placeholders] == [80] and board.left_out > 0
    warnings = board.warnings
    assert len(warnings) == 1
    first = warnings.iloc[0]
    assert first["observed"] >= 14 and first["reason"].startswith(f"observed {first['observed']}")
    pdf = write_pdf(board, tmp_path / "week.pdf")
    text = " ".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert f"observed {first['observed']}, expected" in " ".join(text.split())
    assert "Left out: 80 cases at one point" in " ".join(text.split())
