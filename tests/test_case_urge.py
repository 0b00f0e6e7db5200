"""督办: the command centre urges a department on a case it holds. The case stays where it
is; the card says how often it was urged, the desk and ``cases list --urged`` find the
urged cases, and the evaluation counts urged (and extended) cases per department. On both
backends, from Python and the command line, and by a shift chief's own PostGIS login."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from test_case_extension import _working_case

from citydesk.incidents.desk import CaseFilter, DispatchDesk
from citydesk.incidents.kpi import KpiSpec, kpis_from_store
from citydesk.incidents.lifecycle import Role, RoleError, TransitionError, actions_now, replay
from citydesk.workbench.cli.main import main


def test_urged_twice_the_case_stays_and_is_counted(store_target):
    with store_target.open() as store:
        tz = store.calendar.tz
        monday = pd.Timestamp("2026-03-02 10:00", tz=tz).to_pydatetime()
        case = _working_case(store, monday)
        other = _working_case(store, monday)

        def urge(role: Role, note: str = "overdue since Friday", c=None):
            c = c or store.get(case.case_id)
            return store.transition(c.case_id, "urge", "li", role, c.version, note)

        with pytest.raises(TransitionError, match="needs a reason"):
            urge(Role.SHIFT_CHIEF, "")
        with pytest.raises(RoleError, match="may not"):
            urge(Role.DISPATCHER)
        first = urge(Role.SHIFT_CHIEF)
        assert first.status == case.status and first.version == case.version + 1
        urge(Role.SHIFT_CHIEF, "the street is still closed")
        state = replay(store.history(case.case_id))
        assert state.urged == 2 and state.state.value == "in_process"
        assert "urge" in actions_now(state, Role.SHIFT_CHIEF)
        assert "urge" not in actions_now(state, Role.DEPARTMENT)
        assert store.cases_with_action("urge") == {case.case_id}
        # the department's card says so; the desk's filter finds it and not the other
        desk = DispatchDesk(store, actor="crew", role=Role.DEPARTMENT)
        assert desk.card(case.case_id).urged == 2
        assert desk.card(other.case_id).urged == 0
        urged = desk.cases(CaseFilter(status=("dispatched", "in_process"), urged=True))
        assert urged["case_id"].tolist() == [case.case_id]
        # a case not yet with a department is not urged: it is dispatched first
        waiting = store.report(*_new(store), Role.INTAKE)
        with pytest.raises(TransitionError, match="not possible"):
            store.transition(waiting.case_id, "urge", "li", Role.SHIFT_CHIEF, 1, "hurry")
        # the other case gets more time; the evaluation counts both kinds per department
        store.extend(other.case_id, 9, "li", Role.SHIFT_CHIEF, other.version, "rain")
        table = kpis_from_store(store, KpiSpec(by="department"))
        row = table[table["department"] == case.department].iloc[0]
        everyone = table[table["department"] == "ALL"].iloc[0]
        assert (row["urged"], row["extended"]) == (1, 1)
        assert (everyone["urged"], everyone["extended"]) == (1, 1)
        # counted up to the period's end only: before the first urge there was none
        before = kpis_from_store(
            store, KpiSpec(by="department", end=first.updated_at - dt.timedelta(seconds=1))
        )
        assert before["urged"].sum() == 0


def _new(store):
    from citydesk.incidents.store import NewCase

    return NewCase("event", "0490", lon=-71.1042, lat=42.3672), "ann"


def test_the_command_line_urges_and_lists_the_urged(demo_copy, capsys):
    from citydesk.incidents.stores import open_project_store

    with open_project_store(demo_copy) as store:
        first, second = (_working_case(store) for _ in range(2))
    project = ["--project", str(demo_copy)]
    chief = [*project, "--as", "shift_chief", "--actor", "li"]
    assert main(["cases", "move", first.case_id, "urge", *chief]) == 2
    assert "needs a reason" in capsys.readouterr().err
    note = ["--note", "two days overdue: report by noon"]
    assert main(["cases", "move", first.case_id, "urge", *chief, *note]) == 0
    capsys.readouterr()
    assert main(["cases", "list", *project, "--urged"]) == 0
    listed = capsys.readouterr().out
    assert listed.startswith("1 case\n") and first.case_id in listed
    assert second.case_id not in listed
    assert main(["cases", "show", first.case_id, *project]) == 0
    shown = capsys.readouterr().out
    assert " urge " in shown and "report by noon" in shown
    assert main(["cases", "kpi", *project, "--by", "department"]) == 0
    assert "urged" in capsys.readouterr().out


def test_a_shift_chiefs_own_login_urges_and_a_crews_may_not(pg_cluster, pg_url):
    """On PostGIS the roles hold in the server: schema 7 lets the shift chief's login
    write an urge event; a department's login is refused by the database."""
    import uuid

    import psycopg
    from conftest import pg_sql

    from citydesk.incidents.postgis_store import PostgisCaseStore

    with PostgisCaseStore(pg_url) as owner:
        case = _working_case(owner)
        chief_login, crew_login = (f"{p}_{uuid.uuid4().hex[:6]}" for p in ("li", "crew"))
        for login, role in ((chief_login, Role.SHIFT_CHIEF), (crew_login, Role.DEPARTMENT)):
            pg_cluster.psql(f"CREATE ROLE {login} LOGIN")
            owner.grant(login, role, ())
    chief = pg_url.replace("citydesk_dba@", f"{chief_login}@")
    with PostgisCaseStore(chief) as store:
        urged = store.transition(case.case_id, "urge", "li", Role.SHIFT_CHIEF, case.version, "x")
        assert store.cases_with_action("urge") == {case.case_id}
    crew = pg_url.replace("citydesk_dba@", f"{crew_login}@")
    with pytest.raises(psycopg.Error):
        pg_sql(crew, "INSERT INTO case_events (case_id, seq, action, from_state, to_state, "
            "actor, role, at, note) VALUES (%s, %s, 'urge', 'in_process', 'in_process', 'c', "
            "'shift_chief', now(), 'me')", (case.case_id, urged.version + 1))  # fmt: skip
