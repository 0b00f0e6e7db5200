"""Categories as data, the working calendar, and the case lifecycle (with property tests)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from citydesk.incidents.calendar import CalendarError, WorkingCalendar
from citydesk.incidents.categories import Catalogue, CatalogueError
from citydesk.incidents.lifecycle import (
    TRANSITIONS,
    CaseState,
    Role,
    RoleError,
    State,
    TransitionError,
    advance,
    allowed_actions,
    apply,
    replay,
)

NY = "America/New_York"


def at(*args) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime(*args, tzinfo=ZoneInfo(NY))


# --- categories -------------------------------------------------------------------------------
def test_standard_catalogue_has_both_kinds_with_chinese_names():
    cat = Catalogue.default()
    majors = {(m.kind, m.code): m.name_zh for m in cat.majors.values()}
    assert majors[("component", "01")] == "公用设施"
    assert majors[("event", "04")] == "突发事件"
    assert len({m.code for m in cat.majors.values() if m.kind == "component"}) == 6
    cover = cat.get("component", "0101")
    assert cover.name_zh == "上水井盖" and cover.unit == "working_hours" and cover.limit == 4
    assert cat.get("event", "0490").name_zh == "交通事故"  # CityDesk's common additions
    assert cat.get("event", "0490").standard == "CityDesk"


def test_a_stored_case_of_a_category_no_longer_known_is_still_shown():
    """A case filed under a standard since renamed, or a city category since dropped from
    the profile, still opens (its card, show, dispatch, export), named by its code."""
    cat = Catalogue.default()
    renamed = cat.stored("event", "0490", "CityDesk-Cambridge")  # the standard's old name
    assert renamed.name_en == "Motor vehicle crash"
    gone = cat.stored("event", "0199", "local")
    assert gone.code == "0199" and "not in this city's catalogue" in gone.name_en
    assert gone.label() == "E0199 category 0199 (not in this city's catalogue)"
    with pytest.raises(CatalogueError, match="no event category 0199"):
        cat.get("event", "0199")  # a new case is still refused an unknown category


def test_search_in_english_and_chinese():
    cat = Catalogue.default()
    assert [c.code for c in cat.search("井盖")][:3] == ["0101", "0102", "0103"]
    assert any(c.name_en == "Illegally parked motor vehicle" for c in cat.search("parked"))
    assert {c.kind for c in cat.search("01", kind="event")} == {"event"}


def test_city_extension_overrides_and_bad_files_are_explained(tmp_path):
    ext = tmp_path / "ext.toml"
    ext.write_text(
        'standard = "CJ/T 214-2007"\nversion = "local"\n[[categories]]\n'
        'kind = "event"\ncode = "0102"\nname_en = "Exposed garbage"\n'
        'name_zh = "暴露垃圾"\nlimit = 2\nunit = "working_hours"\n'
        'department = "dpw"\n',
        encoding="utf-8",
    )
    cat = Catalogue.default()
    cat.load(ext)
    assert cat.get("event", "0102").limit == 2 and cat.get("event", "0102").department == "dpw"
    bad = tmp_path / "bad.toml"
    bad.write_text('standard = "x"\n[[categories]]\nkind = "event"\ncode = "12"\n')
    with pytest.raises(CatalogueError, match="lacks"):
        cat.load(bad)
    with pytest.raises(CatalogueError, match="no event category 9999"):
        cat.get("event", "9999")


# --- calendar ---------------------------------------------------------------------------------
def test_friday_17h_plus_4_working_hours_is_monday_noon():
    cal = WorkingCalendar(tz=NY)
    assert cal.add_working_hours(at(2024, 3, 1, 17, 0), 4) == at(2024, 3, 4, 12, 0)


def test_holidays_weekends_and_days():
    cal = WorkingCalendar(tz=NY, holidays=frozenset({dt.date(2024, 3, 4)}))
    assert cal.add_working_hours(at(2024, 3, 1, 17, 0), 4) == at(2024, 3, 5, 12, 0)
    assert cal.add_working_hours(at(2024, 3, 2, 23, 0), 1) == at(2024, 3, 5, 10, 0)
    assert cal.add_working_days(at(2024, 3, 5, 9, 0), 2) == at(2024, 3, 6, 18, 0)
    assert cal.working_hours_between(at(2024, 3, 1, 17, 0), at(2024, 3, 5, 12, 0)) == 4
    assert cal.working_hours_between(at(2024, 3, 5, 12, 0), at(2024, 3, 1, 17, 0)) == -4


@given(
    st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1)),
    st.floats(min_value=0, max_value=200),
)
@settings(max_examples=200, deadline=None)
def test_due_time_is_exactly_that_many_working_hours_later(start, hours):
    cal = WorkingCalendar(tz=NY)
    due = cal.add_working_hours(start, hours)
    assert cal.working_hours_between(start, due) == pytest.approx(hours, abs=1e-6)
    assert due == _walk_working_hours(cal, cal.localize(start), hours)


@given(st.floats(min_value=0, allow_infinity=True) | st.just(float("nan")))
@settings(max_examples=60, deadline=None)
def test_any_number_of_hours_gives_a_time_or_a_plain_refusal(hours):
    """A limit or an extension typed as 1e7 (or inf, nan) is refused by name; it was an
    OverflowError deep in pandas ("internal error"), the axis running past the year 2262."""
    cal = WorkingCalendar(tz=NY)
    try:
        due = cal.add_working_hours(at(2026, 3, 2, 10, 0), hours)
    except CalendarError as exc:
        assert "working hours is more than 5 years" in exc.message
        assert not hours <= 9 * 5 * 52 * 5  # only past the horizon, or not a number
    else:
        assert due >= at(2026, 3, 2, 10, 0)


def _walk_working_hours(cal: WorkingCalendar, when: dt.datetime, hours: float) -> dt.datetime:
    """An independent oracle: walk day by day through the working periods."""
    remaining = dt.timedelta(microseconds=round(hours * 3.6e9))
    day = when.date()
    while True:
        if cal.is_workday(day):
            open_ = dt.datetime.combine(day, cal.start, tzinfo=cal.zone)
            close = dt.datetime.combine(day, cal.end, tzinfo=cal.zone)
            current = max(when, open_)
            if current < close or (current == close and not remaining):
                if remaining <= close - current:
                    return current + remaining
                remaining -= close - current
        day += dt.timedelta(days=1)
        when = dt.datetime.combine(day, dt.time(0), tzinfo=cal.zone)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.datetimes(min_value=dt.datetime(2015, 1, 1), max_value=dt.datetime(2030, 1, 1)),
        min_size=1,
        max_size=40,
    ),
    st.sampled_from([1.0, 4.0, 9.0, 45.0]),
)
def test_many_due_times_at_once_equal_one_at_a_time(starts, hours):
    cal = WorkingCalendar(tz=NY, holidays=frozenset({dt.date(2024, 12, 25)}))
    local = [cal.localize(s) for s in starts]
    many = cal.due_many(local, hours)
    assert [cal._one(v) for v in many] == [_walk_working_hours(cal, s, hours) for s in local]


# --- lifecycle --------------------------------------------------------------------------------
HAPPY = [
    ("report", Role.SUPERVISOR),
    ("verify", Role.SUPERVISOR),
    ("accept", Role.INTAKE),
    ("register", Role.SHIFT_CHIEF),
    ("dispatch", Role.DISPATCHER),
    ("start", Role.DEPARTMENT),
    ("handle", Role.DEPARTMENT),
    ("check_fail", Role.INSPECTOR),
    ("handle", Role.DEPARTMENT),
    ("check_pass", Role.INSPECTOR),
    ("close", Role.SHIFT_CHIEF),
]


def run(steps):
    state, events = CaseState(), []
    for n, (action, role) in enumerate(steps):
        note = "reason" if TRANSITIONS[action].needs_note else ""
        event = apply(state, action, f"user{n}", role, at(2024, 3, 1, 9, n), note)
        events.append(event)
        state = advance(state, event)
    return state, events


def test_the_whole_loop_with_one_rework():
    state, events = run(HAPPY)
    assert state.state == State.CLOSED and state.rework_count == 1
    assert replay(events) == state
    assert [e.to_state for e in events][-1] == State.CLOSED


def test_illegal_transitions_and_roles_are_refused_and_change_nothing():
    state, _ = run(HAPPY[:4])  # registered
    with pytest.raises(TransitionError, match="is not possible for a case that is registered"):
        apply(state, "close", "x", Role.SHIFT_CHIEF, at(2024, 3, 2, 9))
    with pytest.raises(RoleError, match="the inspector role may not do “Dispatch”") as caught:
        apply(state, "dispatch", "x", Role.INSPECTOR, at(2024, 3, 2, 9))
    assert "Allowed roles: admin, dispatcher." in caught.value.message  # the ids, to type
    with pytest.raises(TransitionError, match="needs a reason"):
        apply(state, "suspend", "x", Role.SHIFT_CHIEF, at(2024, 3, 2, 9))
    assert state.state == State.REGISTERED and state.events == 4


def test_a_desk_reads_the_lifecycle_in_its_own_words():
    """A desk shows names, in its language, where the command line shows the ids it types
    (the zh_CN desk's errors named 'intake_clerk' and 'report', issue 20)."""
    from citydesk.incidents.lifecycle import TRANSITIONS
    from citydesk.incidents.lifecycle_words import ACTION_NAMES, ACTION_VERBS, STATE_NAMES
    from citydesk.layers.errors import use_front_end
    from citydesk.layers.i18n import set_language

    assert set(STATE_NAMES) == set(State) and set(ACTION_NAMES) == set(TRANSITIONS)
    assert set(ACTION_VERBS) == set(TRANSITIONS)
    state, _ = run(HAPPY[:4])
    set_language("zh_CN")
    use_front_end("gui")
    try:
        with pytest.raises(RoleError) as caught:
            apply(state, "dispatch", "x", Role.INSPECTOR, at(2024, 3, 2, 9))
        message = caught.value.message  # made when shown, in the language then
    finally:
        set_language("en")
        use_front_end("cli")
    assert "inspector" not in message and "dispatcher" not in message, message
    assert "核查员" in message and "派遣员" in message, message


def test_buttons_per_role():
    assert allowed_actions(State.REGISTERED, Role.DISPATCHER) == ["dispatch"]
    assert allowed_actions(State.HANDLED, Role.INSPECTOR) == ["check_pass", "check_fail"]
    assert allowed_actions(State.HANDLED, Role.DISPATCHER) == []
    assert "close" in allowed_actions(State.CHECKED, Role.ADMIN)


@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(TRANSITIONS)), st.sampled_from(list(Role)), st.booleans()),
        max_size=60,
    )
)
@settings(max_examples=300, deadline=None)
def test_random_action_sequences_keep_the_invariants(steps):
    """Whatever users click, the history only grows, the state equals its replay, and every
    recorded step is in the transition table with an allowed role."""
    state, events = CaseState(), []
    for n, (action, role, with_note) in enumerate(steps):
        before = (state.state, state.events)
        try:
            event = apply(
                state,
                action,
                "u",
                role,
                at(2024, 1, 1, 9) + dt.timedelta(minutes=n),
                "why" if with_note else "",
            )
        except (TransitionError, RoleError):
            assert (state.state, state.events) == before
            continue
        events.append(event)
        state = advance(state, event)
        t = TRANSITIONS[event.action]
        # the transition's target, or the same state for a fact recorded (source_update)
        assert event.from_state in t.sources and event.to_state == t.to_state(event.from_state)
        assert event.role in t.roles
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert replay(events) == state


def test_a_tampered_history_is_detected():
    _state, events = run(HAPPY[:5])
    forged = [*events[:3], events[4]]  # skip a step
    with pytest.raises(TransitionError):
        replay(forged)
