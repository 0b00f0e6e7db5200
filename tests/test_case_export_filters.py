"""Exports of part of the cases: a month in the city's time, one category or department, or
the cases a desk shows. An auditor asks for November's cases; before, `cases export` took
only --status, so the month was every case ever reported, cut in a spreadsheet by hand (in
UTC, where a case reported at 23:00 on the last evening belongs to the next month)."""

from __future__ import annotations

import pandas as pd

from citydesk.incidents.export import export_cases
from citydesk.incidents.lifecycle import Role
from citydesk.incidents.store import NewCase
from citydesk.workbench.cli.main import main

WHERE = {"lon": -71.1042, "lat": 42.3672}


def _three_cases(store) -> dict[str, str]:
    """Source id -> case id: "M" late on 31 March in the city's time (already April in UTC),
    "A" a component just after midnight on 1 April, "B" an event in mid-April."""
    tz = store.calendar.tz

    def at(text: str):
        return pd.Timestamp(text, tz=tz).to_pydatetime()

    cases = {
        "M": ("event", "0490", "2026-03-31 23:00"),
        "A": ("component", "0101", "2026-04-01 00:30"),
        "B": ("event", "0490", "2026-04-15 10:00"),
    }
    return {
        key: store.report(
            NewCase(kind, code, **WHERE, source_id=key, reported_at=at(when)), "ann", Role.INTAKE
        ).case_id
        for key, (kind, code, when) in cases.items()
    }


def _sources(path) -> set[str]:
    return set(pd.read_csv(path, dtype=str, keep_default_na=False)["source_id"])


def test_a_month_a_category_and_chosen_cases_on_both_backends(store_target, tmp_path):
    with store_target.open() as store:
        ids = _three_cases(store)
        april = {
            "since": store.calendar.localize(pd.Timestamp("2026-04-01").to_pydatetime()),
            "until": store.calendar.localize(pd.Timestamp("2026-05-01").to_pydatetime()),
        }
        month = export_cases(store, tmp_path / "april.csv", **april)
        events = export_cases(store, tmp_path / "events.csv", kind="event", category_code="0490")
        chosen = export_cases(store, tmp_path / "chosen.csv", case_ids=[ids["B"]])
        read: list = []
        every_step = store.events_frame

        def spy(columns=None, case_ids=None):
            read.append(None if case_ids is None else set(case_ids))
            return every_step(columns, case_ids)

        store.events_frame = spy  # type: ignore[method-assign]
        steps = export_cases(store, tmp_path / "steps.csv", history=True, case_ids=[ids["B"]])
        april_steps = export_cases(store, tmp_path / "april_steps.csv", history=True, **april)
        all_steps = export_cases(store, tmp_path / "all_steps.csv", history=True)
    assert _sources(month) == {"A", "B"}  # "M" is March where the city is
    assert _sources(events) == {"M", "B"}
    assert _sources(chosen) == {"B"}
    assert _sources(steps) == {"B"} and _sources(april_steps) == {"A", "B"}
    assert _sources(all_steps) >= {"M", "A", "B"}
    # a chosen or filtered history reads those cases' steps only; an unfiltered one scans
    assert read == [{ids["B"]}, {ids["A"], ids["B"]}, None]


def test_cases_export_and_list_take_a_period_and_a_category(demo_copy, tmp_path, capsys):
    from citydesk.incidents.stores import open_project_store

    with open_project_store(demo_copy) as store:
        _three_cases(store)
    project = ["--project", str(demo_copy)]
    april = tmp_path / "april.csv"
    period = ["--from", "2026-04-01", "--to", "2026-05-01"]
    assert main(["cases", "export", str(april), *project, *period]) == 0
    assert _sources(april) == {"A", "B"}
    assert "(2 cases)" in capsys.readouterr().out
    history = tmp_path / "history.csv"
    component = ["--history", "--category", "component:0101"]
    assert main(["cases", "export", str(history), *project, *component]) == 0
    assert _sources(history) == {"A"}
    assert "(1 case)" in capsys.readouterr().out
    assert main(["cases", "list", *project, "--category", "0490", "--to", "2026-04-01"]) == 0
    listed = capsys.readouterr().out
    assert listed.startswith("1 case\n") and "0490" in listed
    empty = tmp_path / "empty.xlsx"
    assert main(["cases", "export", str(empty), *project, "--from", "2030-01-01"]) == 0
    assert "no case matches the filters" in capsys.readouterr().out and empty.exists()
