"""A 数字城管 export's step times (立案, 派遣, 处置, 核查, 结案) become each case's history: the
dispatch and rework KPIs of the imported years, and a later export adds the steps taken
since, never behind a desk's back."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from citydesk.incidents.categories import Catalogue
from citydesk.incidents.import_csv import import_csv
from citydesk.incidents.kpi import KpiSpec, compute_kpis
from citydesk.incidents.lifecycle import Role, State
from citydesk.incidents.mapping_draft import draft_mapping, write_draft
from citydesk.incidents.new_cases import HistoryError
from citydesk.incidents.source_steps import source_histories, steps_not_taken

HEADER = ["案件编号", "小类", "上报时间", "立案时间", "派遣时间", "处置完成时间", "核查时间",
          "结案时间", "处置部门", "经度", "纬度", "案件状态"]  # fmt: skip
MAPPING = """
source = "szcg"
[columns]
source_id = "案件编号"
reported_at = "上报时间"
registered_at = "立案时间"
dispatched_at = "派遣时间"
handled_at = "处置完成时间"
checked_at = "核查时间"
closed_at = "结案时间"
department = "处置部门"
status = "案件状态"
lon = "经度"
lat = "纬度"
category = "小类"
[dates]
formats = ["%Y-%m-%d %H:%M:%S"]
timezone = "America/New_York"
[categories]
"暴露垃圾" = "event:0102"
[statuses]
"已结案" = "closed"
"处置中" = "open"
"""
DAY = "2024-05-02"
FULL = [  # reported, registered, dispatched, handled, checked, closed
    ["A1", "08:00", "08:10", "08:30", "12:00", "13:00", "14:00"],  # the whole loop
    ["A2", "09:00", "09:05", "09:20", "", "", ""],  # dispatched, open
    ["A3", "10:00", "", "", "", "", "16:00"],  # closed, no steps recorded
    ["A4", "11:00", "11:10", "", "15:00", "", "17:00"],  # handled after a gap
]


def _rows(table):
    rows = []
    for source_id, *times in table:
        stamps = [f"{DAY} {t}:00" if t else "" for t in times]
        status = "已结案" if stamps[-1] else "处置中"
        rows.append([source_id, "暴露垃圾", *stamps, "环卫处", -71.1, 42.37, status])
    return pd.DataFrame(rows, columns=HEADER)


def _files(tmp_path, table, name="export.csv"):
    csv = tmp_path / name
    _rows(table).to_csv(csv, index=False, encoding="utf-8-sig")
    mapping = tmp_path / "szcg.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return csv, mapping


def _utc(text):
    return pd.Series(pd.to_datetime([text], utc=True))


def test_step_times_become_the_loops_actions_in_order():
    steps = {name: _utc(f"{DAY} {h}:00") for name, h in
             [("registered_at", "08"), ("dispatched_at", "09"), ("handled_at", "10"),
              ("checked_at", "11")]}  # fmt: skip
    found = source_histories(steps, _utc(f"{DAY} 12:00"))
    (history,) = found.histories
    assert [s.action for s in history] == [
        "accept", "register", "dispatch", "start", "handle", "check_pass", "close",
    ]  # fmt: skip
    assert history[2].role is Role.DISPATCHER and history[-1].role is Role.SHIFT_CHIEF
    assert history[0].at == history[1].at and found.gaps == 0


def test_a_gap_ends_the_recorded_steps_and_the_close_says_what_it_is():
    steps = {
        "registered_at": _utc(f"{DAY} 08:00"),
        "dispatched_at": pd.Series([pd.NaT], dtype="datetime64[ns, UTC]"),
        "handled_at": _utc(f"{DAY} 10:00"),
    }
    found = source_histories(steps, _utc(f"{DAY} 12:00"))
    (history,) = found.histories
    assert [s.action for s in history] == ["accept", "register", "close_imported"]
    assert history[-1].note and found.gaps == 1
    closed_only = source_histories({"registered_at": steps["dispatched_at"]}, _utc(DAY))
    assert closed_only.histories == [[]]  # closed as an import always closed such a case


def test_import_keeps_each_cases_steps_and_the_kpis_count_them(store_target, tmp_path):
    csv, mapping = _files(tmp_path, FULL)
    with store_target.open() as store:
        result = import_csv(store, csv, mapping)
        assert result["added"] == 4 and result["step_gaps"] == 1
        cases = store.query().set_index("source_id")
        assert cases.loc["A1", "status"] == State.CLOSED.value
        assert cases.loc["A2", "status"] == State.DISPATCHED.value
        assert cases.loc["A4", "status"] == State.CLOSED.value
        one = store.history(cases.loc["A1", "case_id"])
        assert [e.action for e in one][-3:] == ["handle", "check_pass", "close"]
        assert [e.at.astimezone(dt.UTC).strftime("%H:%M") for e in one] == [
            "12:00",
            "12:10",
            "12:10",
            "12:30",
            "16:00",
            "16:00",
            "17:00",
            "18:00",
        ]  # fmt: skip  (New York is UTC-4 in May)
        gap = store.history(cases.loc["A4", "case_id"])
        assert [e.action for e in gap] == ["report", "accept", "register", "close_imported"]
        table = compute_kpis(store.case_facts(), KpiSpec(by="department"))
        every = table.set_index("department").loc["ALL"]
        assert every["dispatched"] == 2  # A1 and A2; A3 recorded no steps, A4 no dispatch
        assert every["not_recorded"] == 1  # A3 only


def test_a_later_export_adds_the_steps_taken_since(store_target, tmp_path):
    earlier = [[*row[:4], "", "", ""] for row in FULL[:2]]  # both dispatched, then exported
    later = FULL[:2]
    with store_target.open() as store:
        import_csv(store, *_files(tmp_path, earlier, "earlier.csv"))
        result = import_csv(store, *_files(tmp_path, later, "later.csv"))
        assert (result["added"], result["updated"], result["refused"]) == (0, 1, 0)
        cases = store.query().set_index("source_id")
        assert cases.loc["A1", "status"] == State.CLOSED.value
        # the steps, then the source's status word changing (处置中 -> 已结案)
        assert [e.action for e in store.history(cases.loc["A1", "case_id"])][-5:] == [
            "start", "handle", "check_pass", "close", "source_update",
        ]  # fmt: skip
        again = import_csv(store, *_files(tmp_path, later, "later.csv"))
        assert (again["updated"], again["refused"]) == (0, 0)  # nothing new: unchanged


def test_a_case_a_desk_moved_is_not_moved_again_by_the_source(store_target, tmp_path):
    registered = [["B1", "08:00", "08:10", "", "", "", ""]]
    with store_target.open() as store:
        import_csv(store, *_files(tmp_path, registered, "earlier.csv"))
        case = store.query().iloc[0]
        at = dt.datetime(2024, 5, 2, 13, 0, tzinfo=dt.UTC)
        store.transition(case["case_id"], "dispatch", "li", Role.DISPATCHER,
                         int(case["version"]), at=at)  # fmt: skip
        later = [["B1", "08:00", "08:10", "08:40", "12:00", "13:00", "14:00"]]
        result = import_csv(store, *_files(tmp_path, later, "later.csv"))
        assert result["refused"] == 1
        history = store.history(case["case_id"])
        assert [e.action for e in history][-1] == "dispatch" and history[-1].actor == "li"


def test_steps_not_taken_finds_where_the_case_is():
    steps = {
        "registered_at": _utc(f"{DAY} 08:00"),
        "dispatched_at": _utc(f"{DAY} 09:00"),
    }
    (history,) = source_histories(steps, _utc(f"{DAY} 10:00")).histories
    registered = f"{DAY}T08:00:00Z"
    rest = steps_not_taken("registered", registered, None, history)
    assert [s.action for s in rest] == ["dispatch", "close_imported"]
    assert steps_not_taken("closed", registered, f"{DAY}T09:00:00Z", history) == []
    assert steps_not_taken("dispatched", registered, f"{DAY}T09:30:00Z", history) is None


def test_steps_going_back_in_time_are_refused_with_the_case(tmp_path, store_target):
    backwards = [["C1", "08:00", "09:00", "08:30", "", "", ""]]
    with store_target.open() as store:
        with pytest.raises(HistoryError, match="C1"):
            import_csv(store, *_files(tmp_path, backwards))
        assert store.query().empty


def test_the_draft_maps_a_digital_city_exports_step_times(tmp_path):
    csv, _mapping = _files(tmp_path, FULL)
    draft = draft_mapping(csv, Catalogue.default(), "America/New_York")
    assert {
        role: draft.columns[role]
        for role in ("reported_at", "registered_at", "dispatched_at", "handled_at",
                     "checked_at", "closed_at")
    } == {
        "reported_at": "上报时间", "registered_at": "立案时间", "dispatched_at": "派遣时间",
        "handled_at": "处置完成时间", "checked_at": "核查时间", "closed_at": "结案时间",
    }  # fmt: skip


def test_cases_imported_without_steps_take_them_from_a_later_export(store_target, tmp_path):
    """An earlier import without the step columns, then the same export with them: the
    open case gets its steps, the closed one stays as it is (unchanged, not refused)."""
    csv, mapping = _files(tmp_path, FULL[:2])
    plain = tmp_path / "plain.toml"
    plain.write_text(
        "\n".join(
            line
            for line in MAPPING.splitlines()
            if not line.startswith(("registered_at", "dispatched_at", "handled_at", "checked_at"))
        ),
        encoding="utf-8",
    )
    with store_target.open() as store:
        import_csv(store, csv, plain)
        result = import_csv(store, csv, mapping)
        assert (result["updated"], result["refused"]) == (1, 0)
        cases = store.query().set_index("source_id")
        assert cases.loc["A2", "status"] == State.DISPATCHED.value
        closed = store.history(cases.loc["A1", "case_id"])
        assert [e.action for e in closed] == ["report", "close_imported"]


def test_an_export_imported_elsewhere_gives_each_case_its_loop(store_target, tmp_path):
    """A desk's CSV export carries the handling and check times beside the registration,
    dispatch and close times, so another project importing it gets the same steps (its
    priorities, all numbers, need no [priorities] table). The mapping is the one the draft
    makes of the export, unedited: it reads the kind and category_code columns together
    (0102 is a component and an event) and maps every code to its category."""
    from citydesk.incidents.export import export_cases
    from citydesk.incidents.store import SqliteCaseStore
    from citydesk.layers.project import Project
    from citydesk.layers.project_store import save_project

    with store_target.open() as store:
        import_csv(store, *_files(tmp_path, FULL))
        exported = export_cases(store, tmp_path / "cases.csv")
        ours = store.query().set_index("source_id")
        steps = {
            key: [(e.action, e.at) for e in store.history(ours.loc[key, "case_id"])]
            for key in ("A1", "A2")
        }
    other = save_project(Project("other", crs="EPSG:2249"), tmp_path / "other.gpkg")
    mapping, draft, _lines = write_draft(exported, tmp_path / "exported.toml", other)
    assert draft.columns["category"] == ["kind", "category_code"]
    assert [(v.text, v.proposal) for v in draft.categories] == [("event / 0102", "event:0102")]
    with SqliteCaseStore(other) as elsewhere:
        assert import_csv(elsewhere, exported, mapping)["added"] == 4
        theirs = elsewhere.query().set_index("source_id")
        assert set(theirs["category_code"]) == {"0102"} and set(theirs["kind"]) == {"event"}
        for key in ("A1", "A2"):
            case_id = ours.loc[key, "case_id"]
            history = elsewhere.history(theirs.loc[case_id, "case_id"])
            assert [(e.action, e.at) for e in history] == steps[key]
