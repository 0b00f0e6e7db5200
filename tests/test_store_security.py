"""Roles enforced by the database as well as by the application (PostGIS), and queries that
are parameters, never SQL (both backends).

On PostGIS, staff sign in as their own database users holding CityDesk's group roles; the
schema's grants, triggers and row-level security then refuse, whatever client is used: an
inspector cannot dispatch, a department sees only its own cases, and reporters' personal
data is readable only by the intake roles."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from conftest import pg_sql

from citydesk.incidents.case_store import CaseNotFound
from citydesk.incidents.lifecycle import TRANSITIONS, Role
from citydesk.incidents.new_cases import NewCase
from citydesk.incidents.postgis_store import AccessDenied, PostgisCaseStore

CITY_HALL = dict(lon=-71.1042, lat=42.3672)


@pytest.fixture()
def staff(pg_cluster, pg_url):
    """Database users for one intake clerk, dispatcher, inspector and police crew, and the
    owner's store; returns (owner store, {name: URL signing in as that user})."""
    owner = PostgisCaseStore(pg_url)
    tag = uuid.uuid4().hex[:6]
    users = {}
    for name, role, departments in (
        ("ben", Role.INTAKE, ()),
        ("dora", Role.DISPATCHER, ()),
        ("ivy", Role.INSPECTOR, ()),
        ("crew", Role.DEPARTMENT, ("police",)),
    ):
        login = f"{name}_{tag}"
        pg_cluster.psql(f"CREATE ROLE {login} LOGIN")
        owner.grant(login, role, departments)
        users[name] = pg_url.replace("citydesk_dba@", f"{login}@")
    yield owner, users
    owner.close()


def _registered(owner, ben_url, category="0490"):
    with PostgisCaseStore(ben_url) as ben:
        case = ben.report(
            NewCase("event", category, **CITY_HALL, reporter_name="Li Lei",
                    reporter_phone="13800000000"),
            "ben", Role.INTAKE,
        )  # fmt: skip
        case = ben.transition(case.case_id, "accept", "ben", Role.INTAKE, case.version)
    return owner.transition(case.case_id, "register", "chen", Role.SHIFT_CHIEF, case.version)


def test_an_inspector_cannot_dispatch_by_any_route(staff):
    owner, users = staff
    case = _registered(owner, users["ben"])
    with (
        PostgisCaseStore(users["ivy"]) as ivy,
        pytest.raises(AccessDenied, match="does not hold the role dispatcher"),
    ):
        ivy.transition(case.case_id, "dispatch", "ivy", Role.DISPATCHER, case.version)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="may not dispatch"):
        pg_sql(users["ivy"], "INSERT INTO case_events (case_id, seq, action, from_state, "
            "to_state, actor, role, at) VALUES (%s, 4, 'dispatch', 'registered', "
            "'dispatched', 'ivy', 'inspector', now())", (case.case_id,))  # fmt: skip
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="only with its history"):
        pg_sql(users["ivy"], "UPDATE cases SET status = 'dispatched', version = version + 1 "
            "WHERE case_id = %s", (case.case_id,))  # fmt: skip
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        pg_sql(users["ivy"], "DELETE FROM cases")
    assert owner.get(case.case_id).version == case.version  # nothing moved
    with PostgisCaseStore(users["dora"]) as dora:
        moved = dora.transition(case.case_id, "dispatch", "dora", Role.DISPATCHER, case.version)
    assert moved.status == "dispatched"
    db_users = pg_sql(users["ben"], "SELECT action, db_user FROM case_events WHERE case_id = %s "
                   "ORDER BY seq", (case.case_id,))  # fmt: skip
    assert [u.split("_")[0] for _a, u in db_users] == ["ben", "ben", "citydesk", "dora"]


def test_a_department_sees_only_its_own_cases(staff):
    owner, users = staff
    police = _registered(owner, users["ben"], "0490")  # motor vehicle crash: police
    water = _registered(owner, users["ben"], "0403")  # fire department's
    with PostgisCaseStore(users["dora"]) as dora:
        for c in (police, water):
            dora.transition(c.case_id, "dispatch", "dora", Role.DISPATCHER, c.version)
    with PostgisCaseStore(users["crew"]) as crew:
        assert crew.query()["case_id"].tolist() == [police.case_id]
        with pytest.raises(CaseNotFound):
            crew.get(water.case_id)
        with pytest.raises(CaseNotFound):  # cannot move what it cannot see
            crew.transition(water.case_id, "start", "crew", Role.DEPARTMENT, water.version + 1)
        started = crew.get(police.case_id)
        crew.transition(police.case_id, "start", "crew", Role.DEPARTMENT, started.version)
        assert [e.action for e in crew.history(water.case_id)] == []
    assert owner.get(police.case_id).status == "in_process"


def test_personal_data_is_for_the_intake_roles_only(staff):
    owner, users = staff
    case = _registered(owner, users["ben"])
    with PostgisCaseStore(users["ben"]) as ben:
        assert ben.get(case.case_id).reporter_name == "Li Lei"
    with PostgisCaseStore(users["dora"]) as dora:
        seen = dora.get(case.case_id)
        assert seen.reporter_name == "" and seen.reporter_phone == ""  # masked, not failing
        assert set(dora.query()["reporter_phone"]) == {""}
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        pg_sql(users["dora"], "SELECT reporter_phone FROM cases")


def test_grant_from_the_command_line(demo_copy, pg_url, pg_cluster, capsys):
    from citydesk.workbench.cli.main import main

    login = f"zoe_{uuid.uuid4().hex[:6]}"
    pg_cluster.psql(f"CREATE ROLE {login} LOGIN")
    assert main(["cases", "grant", str(demo_copy), login, "dispatcher"]) == 2
    assert "has no database users" in capsys.readouterr().err
    assert main(["cases", "connect", str(demo_copy), pg_url]) == 0
    assert main(["cases", "grant", str(demo_copy), login, "dispatch"]) == 2
    assert "not a role" in capsys.readouterr().err
    assert main(["cases", "grant", str(demo_copy), login, "department",
                 "--department", "fire"]) == 0  # fmt: skip
    assert pg_sql(pg_url, "SELECT department FROM staff_departments WHERE login = %s",
               (login,)) == [("fire",)]  # fmt: skip
    assert pg_sql(pg_url, "SELECT pg_has_role(%s, 'citydesk_department', 'MEMBER')",
               (login,)) == [(True,)]  # fmt: skip


def test_the_database_knows_the_lifecycle_s_roles(pg_url):
    PostgisCaseStore(pg_url).close()
    stored = set(pg_sql(pg_url, "SELECT role, action FROM role_actions"))
    assert stored == {(r.value, a) for a, t in TRANSITIONS.items() for r in t.roles}
