"""A case's time limit extended (延期): a department asks for more time, the shift chief grants
it (the due time moves in working hours on the city's calendar) or refuses it; on both
backends, from Python, the command line and the desk's case card."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from citydesk.incidents.case_store import Move
from citydesk.incidents.kpi import KpiSpec, kpis_from_store
from citydesk.incidents.lifecycle import Role, TransitionError, actions_now, replay
from citydesk.incidents.store import NewCase
from citydesk.layers.errors import CityDeskError
from citydesk.workbench.cli.main import main

STEPS = [
    ("accept", Role.INTAKE),
    ("register", Role.SHIFT_CHIEF),
    ("dispatch", Role.DISPATCHER),
    ("start", Role.DEPARTMENT),
]


def _working_case(store, reported: dt.datetime | None = None):
    """A case the department is working on, its steps a minute apart from ``reported``."""
    case = store.report(
        NewCase("event", "0490", lon=-71.1042, lat=42.3672, reported_at=reported),
        "ann",
        Role.INTAKE,
        at=reported,
    )
    for k, (action, role) in enumerate(STEPS, 1):
        at = reported + dt.timedelta(minutes=k) if reported else None
        case = store.transition(case.case_id, action, "u", role, case.version, at=at)
    return case


def test_asked_for_granted_on_the_calendar_and_counted_on_time(store_target):
    with store_target.open() as store:
        tz = store.calendar.tz
        monday = pd.Timestamp("2026-03-02 10:00", tz=tz).to_pydatetime()  # a working Monday
        case = _working_case(store, monday)

        def step(action: str, role: Role, note: str = "", at=None):
            return store.transition(case.case_id, action, "u", role, case.version, note, at)

        with pytest.raises(TransitionError, match="no request for more time is waiting"):
            step("refuse_extension", Role.SHIFT_CHIEF, "no")
        case = step("request_extension", Role.DEPARTMENT, "parts on order")
        with pytest.raises(TransitionError, match="already waiting"):
            step("request_extension", Role.DEPARTMENT, "again")
        waiting = replay(store.history(case.case_id))
        assert waiting.extension_requested
        assert store.extension_requests() == {case.case_id}  # the shift chief's queue
        assert "refuse_extension" in actions_now(waiting, Role.SHIFT_CHIEF)
        assert "request_extension" not in actions_now(waiting, Role.DEPARTMENT)
        with pytest.raises(CityDeskError, match="positive number of working hours"):
            store.extend(case.case_id, float("nan"), "li", Role.SHIFT_CHIEF, case.version, "ok")
        with pytest.raises(CityDeskError, match="may not"):  # the department cannot grant it
            store.extend(case.case_id, 8, "crew", Role.DEPARTMENT, case.version, "mine")
        before = case.due_at
        case = store.extend(case.case_id, 20, "li", Role.SHIFT_CHIEF, case.version, "parts Wed")
        assert case.due_at == store.calendar.add_working_hours(before, 20)
        assert store.calendar.working_hours_between(before, case.due_at) == pytest.approx(20)
        answered = replay(store.history(case.case_id))
        assert not answered.extension_requested and answered.state.value == "in_process"
        assert store.extension_requests() == set()
        steps = store.events_frame(case_ids=[case.case_id])
        granted = steps[steps["action"] == "extend"].iloc[0]
        assert '"due_at"' in granted["detail"] and granted["note"] == "parts Wed"
        # a due time is never moved earlier by an "extension", nor without its hours
        earlier = {"due_at": store.extended_due(before, 1)}
        back = Move(case.case_id, "extend", case.version, "x", earlier)
        with pytest.raises(CityDeskError, match="not after the current one"):
            store.transition_many([back], "li", Role.SHIFT_CHIEF)
        with pytest.raises(CityDeskError, match="needs the case's new due time"):
            step("extend", Role.SHIFT_CHIEF, "x")
        # closed after the first limit, before the extended one: on time, as agreed
        late = store.calendar.add_working_hours(before, 10)
        for action, role in [
            ("handle", Role.DEPARTMENT),
            ("check_pass", Role.INSPECTOR),
            ("close", Role.SHIFT_CHIEF),
        ]:
            case = step(action, role, at=late)
        kpis = kpis_from_store(store, KpiSpec(by="department"))
    row = kpis[kpis["department"] == "ALL"].iloc[0]
    assert row["closed_on_time"] == 1 and row["on_time_close_rate"] == 1.0


def test_a_suspended_case_comes_back_with_the_time_it_waited(store_target):
    """Suspended (挂账), a case's clock stands still, as the desk shows it: the KPIs do not
    count it due while it waits, and resumed, its due time moves by the working time it
    waited, so it does not come back overdue (it did: the due time stayed where it was)."""
    with store_target.open() as store:
        tz = store.calendar.tz
        monday = pd.Timestamp("2026-03-02 10:00", tz=tz).to_pydatetime()
        case = _working_case(store, monday)
        due, left = case.due_at, None
        suspended = monday + dt.timedelta(hours=1)
        left = store.calendar.working_hours_between(suspended, due)
        case = store.transition(
            case.case_id, "suspend", "li", Role.SHIFT_CHIEF, case.version, "budget", suspended
        )
        two_weeks = pd.Timestamp("2026-03-16 10:00", tz=tz).to_pydatetime()
        waiting = kpis_from_store(store, KpiSpec(by="department", end=two_weeks))
        case = store.transition(
            case.case_id, "resume", "li", Role.SHIFT_CHIEF, case.version, at=two_weeks
        )
        paused = store.calendar.working_hours_between(suspended, two_weeks)
        assert paused == pytest.approx(7 + 9 * 9 + 1)  # that Monday, nine days, an hour
        assert case.due_at == store.calendar.add_working_hours(due, paused)
        assert store.calendar.working_hours_between(two_weeks, case.due_at) == pytest.approx(left)
        steps = store.events_frame(case_ids=[case.case_id])
        assert '"due_at"' in steps[steps["action"] == "resume"].iloc[0]["detail"]
    assert waiting[waiting["department"] == "ALL"].iloc[0]["due_to_close"] == 0


def test_the_command_line_extends_one_case_or_every_case_a_filter_picks(demo_copy, capsys):
    from citydesk.incidents.stores import open_project_store

    with open_project_store(demo_copy) as store:
        first, second = (_working_case(store) for _ in range(2))
    chief = ["--project", str(demo_copy), "--as", "shift_chief", "--actor", "li"]
    assert main(["cases", "move", first.case_id, "extend", *chief, "--note", "rain"]) == 2
    assert "extend needs the working hours" in capsys.readouterr().err
    assert main(["cases", "move", first.case_id, "handle", *chief, "--hours", "2"]) == 2
    assert "--hours is for the extend action only" in capsys.readouterr().err
    huge = ["--hours", "1e7", "--note", "typo"]
    assert main(["cases", "move", first.case_id, "extend", *chief, *huge]) == 2
    assert "more than 5 years of the city's working time" in capsys.readouterr().err
    crew = ["--project", str(demo_copy), "--as", "department", "--actor", "c"]
    wet = ["--note", "wet"]
    assert main(["cases", "move", second.case_id, "request_extension", *crew, *wet]) == 0
    # handed back to dispatch, the case leaves its request behind
    assert main(["cases", "move", first.case_id, "request_extension", *crew, "--note", "x"]) == 0
    assert main(["cases", "move", first.case_id, "return_to_dispatch", *crew, "--note", "y"]) == 0
    capsys.readouterr()
    assert main(["cases", "list", "--project", str(demo_copy), "--asking-for-time"]) == 0
    asking = capsys.readouterr().out
    assert asking.startswith("1 case\n") and second.case_id in asking
    dispatcher = ["--project", str(demo_copy), "--as", "dispatcher", "--actor", "d"]
    assert main(["cases", "move", first.case_id, "dispatch", *dispatcher]) == 0
    assert main(["cases", "move", first.case_id, "start", *crew]) == 0
    four = ["--hours", "4", "--note", "rain"]
    assert main(["cases", "move", first.case_id, "extend", *chief, *four]) == 0
    capsys.readouterr()
    assert main(["cases", "show", first.case_id, "--project", str(demo_copy)]) == 0
    shown = capsys.readouterr().out.splitlines()
    granted = next(k for k, line in enumerate(shown) if " extend " in line)
    with open_project_store(demo_copy) as store:
        due = store.get(first.case_id).due_at
    assert shown[granted + 1].strip() == f"due from then: {due:%Y-%m-%d %H:%M}"
    # a storm: every case the department is working on gets a working day more, each from
    # its own due time, in one transaction
    where = "status = 'in_process'"
    storm = ["--where", where, "--hours", "9", "--note", "storm"]
    assert main(["cases", "move", "extend", *chief, *storm]) == 0
    assert "2 cases: extend (one transaction)" in capsys.readouterr().out
    with open_project_store(demo_copy) as store:
        calendar = store.calendar
        moved = {c.case_id: store.get(c.case_id).due_at for c in (first, second)}
    assert moved[first.case_id] == calendar.add_working_hours(first.due_at, 13)
    assert moved[second.case_id] == calendar.add_working_hours(second.due_at, 9)


def test_the_database_lets_staff_move_a_due_time_only_by_an_extension(pg_cluster, pg_url):
    """On PostGIS the rule holds in the server too: a shift chief's own login may extend and
    resume (both move the due time), and an update that moves it with any other step is
    refused."""
    import uuid

    import psycopg
    from conftest import pg_sql

    from citydesk.incidents.postgis_store import PostgisCaseStore

    with PostgisCaseStore(pg_url) as owner:
        case = _working_case(owner)
        login = f"li_{uuid.uuid4().hex[:6]}"
        pg_cluster.psql(f"CREATE ROLE {login} LOGIN")
        owner.grant(login, Role.SHIFT_CHIEF, ())
    chief = pg_url.replace("citydesk_dba@", f"{login}@")
    now = dt.datetime.now(dt.UTC)
    with PostgisCaseStore(chief) as store:
        extended = store.extend(case.case_id, 9, "li", Role.SHIFT_CHIEF, case.version, "rain")
        held = store.transition(
            case.case_id, "suspend", "li", Role.SHIFT_CHIEF, extended.version, "budget", now
        )
        later = now + dt.timedelta(days=7)  # some working days, whatever the date
        back = store.transition(
            case.case_id, "resume", "li", Role.SHIFT_CHIEF, held.version, at=later
        )
    assert case.due_at < extended.due_at < back.due_at
    seq = back.version + 1
    pg_sql(chief, "INSERT INTO case_events (case_id, seq, action, from_state, to_state, actor, "
        "role, at, note) VALUES (%s, %s, 'suspend', 'registered', 'suspended', 'li', "
        "'shift_chief', now(), 'waiting')", (case.case_id, seq))  # fmt: skip
    refused = "only later, by an extension or a resumption"
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match=refused):
        pg_sql(chief, "UPDATE cases SET status = 'suspended', version = version + 1, "
            "due_at = due_at + interval '1 day' WHERE case_id = %s", (case.case_id,))  # fmt: skip
