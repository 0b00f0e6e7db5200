"""KPIs against a hand-computed fixture (six cases through the loop on Monday 4 March 2024).

The expected figures are worked out by hand in the comments, from the definitions in
docs/KPI.md, not by running the code.
"""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from citydesk.incidents.calendar import WorkingCalendar
from citydesk.incidents.kpi import KpiSpec, composite_score, compute_kpis, grade, kpis_from_store
from citydesk.incidents.lifecycle import Role
from citydesk.incidents.store import NewCase, SqliteCaseStore

NY = ZoneInfo("America/New_York")
R = Role


def t(h: int, m: int = 0, day: int = 4) -> dt.datetime:
    return dt.datetime(2024, 3, day, h, m, tzinfo=NY)


def run(store, code, reported, steps):
    case = store.report(
        NewCase(kind="event", category_code=code, reported_at=reported),
        "sup",
        R.SUPERVISOR,
        at=reported,
    )
    for action, actor, role, when, note in steps:
        case = store.transition(case.case_id, action, actor, role, case.version, note, at=when)
    return case


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("kpi") / "cases.sqlite"
    s = SqliteCaseStore(path, calendar=WorkingCalendar(tz="America/New_York"))
    a = ("accept", "ben", R.INTAKE)
    # A parking (0505, 4 working h): due 13:00, closed 11:00 on time; dispatched in 20 min
    run(
        s,
        "0505",
        t(9),
        [
            (*a, t(9, 5), ""),
            ("register", "chen", R.SHIFT_CHIEF, t(9, 10), ""),
            ("dispatch", "d1", R.DISPATCHER, t(9, 30), ""),
            ("start", "crew", R.DEPARTMENT, t(9, 40), ""),
            ("handle", "crew", R.DEPARTMENT, t(10), ""),
            ("check_pass", "ivy", R.INSPECTOR, t(10, 30), ""),
            ("close", "chen", R.SHIFT_CHIEF, t(11), ""),
        ],
    )
    # B parking: dispatched late (1 h 50), one rework, closed 15:00 after its 13:00 due time
    run(
        s,
        "0505",
        t(9),
        [
            (*a, t(9, 5), ""),
            ("register", "chen", R.SHIFT_CHIEF, t(9, 10), ""),
            ("dispatch", "d1", R.DISPATCHER, t(11), ""),
            ("start", "crew", R.DEPARTMENT, t(11, 10), ""),
            ("handle", "crew", R.DEPARTMENT, t(12), ""),
            ("check_fail", "ivy", R.INSPECTOR, t(12, 30), "still blocked"),
            ("handle", "crew", R.DEPARTMENT, t(14), ""),
            ("check_pass", "ivy", R.INSPECTOR, t(14, 30), ""),
            ("close", "chen", R.SHIFT_CHIEF, t(15), ""),
        ],
    )
    # C garbage (0102, 4 h): due 14:00; wrong department first (returned), closed 12:10
    run(
        s,
        "0102",
        t(10),
        [
            (*a, t(10, 5), ""),
            ("register", "chen", R.SHIFT_CHIEF, t(10, 10), ""),
            ("dispatch", "d2", R.DISPATCHER, t(10, 20), ""),
            ("return_to_dispatch", "crew", R.DEPARTMENT, t(10, 40), "not ours"),
            ("dispatch", "d2", R.DISPATCHER, t(10, 50), ""),
            ("start", "crew", R.DEPARTMENT, t(11), ""),
            ("handle", "crew", R.DEPARTMENT, t(11, 30), ""),
            ("check_pass", "ivy", R.INSPECTOR, t(12), ""),
            ("close", "chen", R.SHIFT_CHIEF, t(12, 10), ""),
        ],
    )
    # D garbage: dispatched in 20 min, still in process; due 14:00 (before the period ends)
    run(
        s,
        "0102",
        t(10),
        [
            (*a, t(10, 5), ""),
            ("register", "chen", R.SHIFT_CHIEF, t(10, 10), ""),
            ("dispatch", "d1", R.DISPATCHER, t(10, 30), ""),
            ("start", "crew", R.DEPARTMENT, t(10, 40), ""),
        ],
    )
    # E road collapse (0401, 2 h): reported 16:00, due 18:00, never dispatched
    run(s, "0401", t(16), [(*a, t(16, 5), ""), ("register", "chen", R.SHIFT_CHIEF, t(16, 10), "")])
    # F road collapse reported 17:30: due Tuesday 10:30, after the period; not due yet
    run(
        s,
        "0401",
        t(17, 30),
        [(*a, t(17, 35), ""), ("register", "chen", R.SHIFT_CHIEF, t(17, 40), "")],
    )
    # G reported but never registered: outside every KPI
    s.report(
        NewCase(kind="event", category_code="0102", reported_at=t(12)),
        "sup",
        R.SUPERVISOR,
        at=t(12),
    )
    yield s
    s.close()


SPEC = dict(start=t(0), end=t(0, day=5))


def row(table, key, value):
    return table[table[key] == value].iloc[0]


def test_whole_period(store):
    table = kpis_from_store(store, KpiSpec(by="department", **SPEC))
    r = row(table, "department", "ALL")
    # registered A-F = 6; closed A, B, C; due: closed + D (14:00) + E (18:00) = 5
    assert (r.registered, r.closed, r.due_to_close, r.closed_on_time) == (6, 3, 5, 2)
    assert r.close_rate == pytest.approx(3 / 5)
    assert r.on_time_close_rate == pytest.approx(2 / 5)
    assert r.rework_rate == pytest.approx(1 / 5)  # B
    assert r.dispatched == 4  # A, B, C, D
    assert r.on_time_dispatch_rate == pytest.approx(3 / 4)  # B took 1 h 50
    assert r.accurate_dispatch_rate == pytest.approx(3 / 4)  # C was returned
    # registration to close: A 1 h 50, B 5 h 50, C 2 h 00
    assert r.mean_hours_to_close == pytest.approx((110 + 350 + 120) / 3 / 60)
    assert r.median_hours_to_close == pytest.approx(2.0)
    # 100 * (.4*.4 + .2*.6 + .15*(1-.2) + .1*.75 + .15*.75) = 58.75
    assert r.score == pytest.approx(58.75)
    assert r.grade == "D"


def test_by_department(store):
    table = kpis_from_store(store, KpiSpec(by="department", **SPEC))
    parking = row(table, "department", "traffic_and_parking")
    # 100 * (.4*.5 + .2*1 + .15*.5 + .1*.5 + .15*1) = 67.5
    assert parking.score == pytest.approx(67.5) and parking.grade == "C"
    sanitation = row(table, "department", "sanitation")
    # due C, D; closed C on time; dispatch on time 2/2; accurate 1/2:
    # 100 * (.4*.5 + .2*.5 + .15*1 + .1*1 + .15*.5) = 62.5
    assert sanitation.score == pytest.approx(62.5) and sanitation.grade == "C"
    works = row(table, "department", "public_works")
    # due E only, nothing closed, nothing dispatched: dispatch rates undefined and left out,
    # 100 * (.4*0 + .2*0 + .15*1) / .75 = 20
    assert works.registered == 2 and works.due_to_close == 1
    assert math.isnan(works.on_time_dispatch_rate)
    assert works.score == pytest.approx(20.0) and works.grade == "E"


def test_by_dispatcher_and_category(store):
    table = kpis_from_store(store, KpiSpec(by="role", **SPEC))
    d1 = row(table, "role", "d1")  # A, B, D
    assert d1.dispatched == 3 and d1.on_time_dispatch_rate == pytest.approx(2 / 3)
    assert row(table, "role", "d2").accurate_dispatch_rate == pytest.approx(0.0)
    cats = kpis_from_store(store, KpiSpec(by="category", **SPEC))
    # categories are keyed kind:code, so component:0104 and event:0104 stay apart
    assert row(cats, "category", "event:0505").registered == 2


def test_period_filter(store):
    later = kpis_from_store(store, KpiSpec(by="department", start=t(16), end=t(0, day=5)))
    assert row(later, "department", "ALL").registered == 2  # E and F


def test_grades_and_score_edges():
    assert [grade(s) for s in (95, 90, 89.9, 75, 60, 40, 39.9)] == list("AABBCDE")
    assert math.isnan(
        composite_score(
            {
                k: float("nan")
                for k in (
                    "on_time_close_rate",
                    "close_rate",
                    "rework_rate",
                    "on_time_dispatch_rate",
                    "accurate_dispatch_rate",
                )
            },
            {"close_rate": 1.0},
        )
    )


def test_vectorised_counts_and_medians_equal_a_plain_groupby():
    """The bincount/sort arithmetic against pandas on 5,000 random cases in 37 groups,
    with missing moments, negative durations and cases outside the period."""
    rng = np.random.default_rng(5)
    n = 5000
    base = pd.Timestamp("2024-01-01", tz="UTC")
    hours = lambda: pd.to_timedelta(rng.exponential(30, n), unit="h")  # noqa: E731
    reg = base + pd.to_timedelta(rng.uniform(0, 24 * 60, n), unit="h")
    facts = pd.DataFrame(
        {
            "department": rng.choice([f"d{i}" for i in range(37)], n),
            "grid_code": None,
            "status": rng.choice(["closed", "dispatched", "registered"], n, p=[0.6, 0.3, 0.1]),
            "registered_at": pd.Series(reg).where(rng.random(n) > 0.05),
            "due_at": reg + hours(),
            "dispatched_at": pd.Series(reg + hours()).where(rng.random(n) > 0.2),
            "closed_at": pd.Series(reg + hours() - pd.Timedelta(hours=5)),
            "rework_count": rng.integers(0, 2, n),
            "return_count": rng.integers(0, 2, n),
        }
    )
    facts.loc[facts["status"] != "closed", "closed_at"] = pd.NaT
    spec = KpiSpec(
        by="department", start=base + pd.Timedelta(days=3), end=base + pd.Timedelta(days=50)
    )
    table = compute_kpis(facts, spec).set_index("department")
    f = facts[(facts["registered_at"] >= spec.start) & (facts["registered_at"] < spec.end)]
    closed = f["closed_at"] < spec.end
    h = ((f["closed_at"] - f["registered_at"]).dt.total_seconds() / 3600).where(closed)
    due = closed | (f["due_at"] < spec.end)
    expected = pd.DataFrame(
        {
            "registered": f.groupby("department").size(),
            "closed": closed.groupby(f["department"]).sum(),
            "due_to_close": due.groupby(f["department"]).sum(),
            "median_hours_to_close": h.groupby(f["department"]).median(),
            "mean_hours_to_close": h.groupby(f["department"]).mean(),
        }
    )
    got = table.drop(index="ALL")[expected.columns]
    pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_names=False)
    assert table.loc["ALL", "median_hours_to_close"] == pytest.approx(h.median())


def test_a_count_on_time_is_missing_where_no_case_had_a_target():
    """An imported 311 export without due dates: the 311 measure has no case to count, so
    the count of cases closed on time is missing, like its rate (it printed 0 beside a
    rate of "-"); a department whose cases had targets keeps its counts."""
    from citydesk.workbench.cli.cases_cmd import kpi_text

    reg = pd.Series(pd.to_datetime(["2024-03-04 09:00", "2024-03-04 10:00"], utc=True))
    facts = pd.DataFrame(
        {
            "department": ["parks", "roads"],
            "grid_code": None,
            "status": ["closed", "closed"],
            "registered_at": reg,
            "due_at": [pd.NaT, reg[1] + pd.Timedelta(hours=4)],
            "dispatched_at": pd.NaT,
            "closed_at": reg + pd.Timedelta(hours=2),
            "rework_count": 0,
            "return_count": 0,
            "imported": True,
            "due_given": [False, True],
        }
    )
    spec = KpiSpec(by="department", measure="311", end=pd.Timestamp("2024-04-01", tz="UTC"))
    table = compute_kpis(facts, spec).set_index("department")
    assert table["closed"].tolist() == [1, 1, 2]
    assert pd.isna(table.loc["parks", "closed_on_time"])
    assert math.isnan(table.loc["parks", "on_time_close_rate"])
    assert table.loc["roads", "closed_on_time"] == 1 and table.loc["ALL", "closed_on_time"] == 1
    shown = kpi_text(table.reset_index()).splitlines()
    parks = next(line for line in shown if "parks" in line)
    assert "<NA>" not in "\n".join(shown)
    assert parks.split()[4] == "-"  # registered, due_to_close, closed, closed_on_time


def test_a_replay_with_nothing_due_says_so_not_nan(demo_copy, monkeypatch, capsys):
    """``dispatch replay`` where no case was due in the live days: the on-time rate is "-"
    (it printed "nan%")."""
    from types import SimpleNamespace

    from citydesk.incidents import demo_desk
    from citydesk.workbench.cli.main import main

    board = SimpleNamespace(
        kpis=pd.DataFrame([{"department": "ALL", "on_time_close_rate": np.nan, "grade": "-"}])
    )
    result = SimpleNamespace(migrated=5, live=0, dispatched=0)
    monkeypatch.setattr(demo_desk, "run_demo_desk", lambda *a, **k: (None, result, board))
    assert main(["dispatch", "replay", "--project", str(demo_copy), "--days", "0"]) == 0
    out = capsys.readouterr().out
    assert "on-time close rate -, grade -" in out and "nan" not in out
