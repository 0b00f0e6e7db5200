"""The closed loop of a case, as a transition table with roles, and replay from events.

    reported -> (verified) -> accepted -> registered (立案) -> dispatched -> in process
             -> handled -> checked -> closed

Side paths: cancel (before registration, with a reason), return to dispatch (with a reason),
rework when the check fails, suspend (挂账, by the shift chief) and resume, reopen.

Everything here is pure: :func:`apply` checks an action against the table and the role and
returns the event to append, or raises and changes nothing; :func:`replay` rebuilds a case's
state and counters from its events. The store only appends what ``apply`` returns, so the
state always equals the replay of the history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _


class State(StrEnum):
    NEW = "new"  # before the first event
    REPORTED = "reported"
    VERIFIED = "verified"
    ACCEPTED = "accepted"
    REGISTERED = "registered"
    DISPATCHED = "dispatched"
    IN_PROCESS = "in_process"
    HANDLED = "handled"
    CHECKED = "checked"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    SUSPENDED = "suspended"


class Role(StrEnum):
    SUPERVISOR = "supervisor"  # field supervisor / reporter (监督员)
    INTAKE = "intake_clerk"  # 受理员
    SHIFT_CHIEF = "shift_chief"  # 值班长
    DISPATCHER = "dispatcher"  # 派遣员
    DEPARTMENT = "department"  # 专业部门 / crew
    INSPECTOR = "inspector"  # 核查员
    ADMIN = "admin"


S, R = State, Role


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[State]
    target: State | None  # None: the case stays in its state (a fact recorded, no move)
    roles: frozenset[Role]
    needs_note: bool = False

    def to_state(self, source: State) -> State:
        return source if self.target is None else self.target


#: a department has the case: the states in which its time limit can be extended
WORKING = (S.DISPATCHED, S.IN_PROCESS)


def _t(action, sources, target, roles, needs_note=False) -> Transition:
    return Transition(action, frozenset(sources), target, frozenset(roles) | {R.ADMIN}, needs_note)


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        _t("report", [S.NEW], S.REPORTED, [R.SUPERVISOR, R.INTAKE]),
        _t("verify", [S.REPORTED], S.VERIFIED, [R.SUPERVISOR]),
        _t("accept", [S.REPORTED, S.VERIFIED], S.ACCEPTED, [R.INTAKE]),
        _t(
            "cancel",
            [S.REPORTED, S.VERIFIED, S.ACCEPTED],
            S.CANCELLED,
            [R.INTAKE, R.SHIFT_CHIEF],
            needs_note=True,
        ),
        _t("register", [S.ACCEPTED], S.REGISTERED, [R.SHIFT_CHIEF]),
        _t("dispatch", [S.REGISTERED], S.DISPATCHED, [R.DISPATCHER]),
        _t(
            "return_to_dispatch",
            [S.DISPATCHED, S.IN_PROCESS],
            S.REGISTERED,
            [R.DEPARTMENT],
            needs_note=True,
        ),
        _t("start", [S.DISPATCHED], S.IN_PROCESS, [R.DEPARTMENT]),
        _t("handle", [S.IN_PROCESS], S.HANDLED, [R.DEPARTMENT]),
        _t("check_pass", [S.HANDLED], S.CHECKED, [R.INSPECTOR, R.SUPERVISOR]),
        _t("check_fail", [S.HANDLED], S.IN_PROCESS, [R.INSPECTOR, R.SUPERVISOR], needs_note=True),
        _t("close", [S.CHECKED], S.CLOSED, [R.SHIFT_CHIEF]),
        _t(
            "suspend",
            [S.REGISTERED, S.DISPATCHED, S.IN_PROCESS],
            S.SUSPENDED,
            [R.SHIFT_CHIEF],
            needs_note=True,
        ),
        _t("resume", [S.SUSPENDED], S.REGISTERED, [R.SHIFT_CHIEF]),
        # 延期: a department that cannot finish within the limit asks for more time, saying
        # why; the shift chief grants it (the due time moves, counted on the city's working
        # calendar: CaseStore.extend) or refuses it, again saying why. Granting needs no
        # request (the command centre may extend on its own); refusing answers one.
        _t("request_extension", WORKING, None, [R.DEPARTMENT], needs_note=True),
        _t("extend", WORKING, None, [R.SHIFT_CHIEF], needs_note=True),
        _t("refuse_extension", WORKING, None, [R.SHIFT_CHIEF], needs_note=True),
        # 督办: the command centre urges the department on a case it holds (overdue, or
        # pressing), saying what it expects; the case stays where it is, the department
        # sees how often it was urged, and the evaluation counts urged cases per department
        _t("urge", WORKING, None, [R.SHIFT_CHIEF], needs_note=True),
        _t("reopen", [S.CLOSED, S.CANCELLED], S.REGISTERED, [R.SHIFT_CHIEF], needs_note=True),
        # a case imported already closed in the source system: recorded as exactly that, rather
        # than as invented intermediate steps; after the steps the source did record, if any
        # (incidents.source_steps)
        _t(
            "close_imported",
            [S.REPORTED, S.REGISTERED, S.DISPATCHED, S.HANDLED],
            S.CLOSED,
            [],
            needs_note=True,
        ),
        # a later export of the source system says something new about a case (its status
        # or its due time there): appended to the history as what it is, the case's own
        # state unchanged (issue 19: re-imports append events, never rewrite)
        _t(
            "source_update",
            [s for s in S if s is not S.NEW],
            None,
            [],
            needs_note=True,
        ),
    )
}


#: steps only an import takes (the source system's word on a case), never a desk's button
IMPORT_ACTIONS = frozenset({"close_imported", "source_update"})


class TransitionError(CityDeskError):
    """The action is not possible from the case's state."""


class RoleError(CityDeskError):
    """The user's role may not take this action."""


@dataclass(frozen=True)
class Event:
    """One step of a case's history; the store keeps them append-only."""

    seq: int
    action: str
    from_state: State
    to_state: State
    actor: str
    role: Role
    at: dt.datetime
    note: str = ""


@dataclass
class CaseState:
    state: State = State.NEW
    events: int = 0
    rework_count: int = 0
    return_count: int = 0
    registered_at: dt.datetime | None = None  # first registration (立案)
    dispatched_at: dt.datetime | None = None  # first dispatch, and who made it:
    dispatcher: str | None = None  # dispatch KPIs are about the first decision
    closed_at: dt.datetime | None = None
    history: list[str] = field(default_factory=list)
    #: a department's request for more time waits for the shift chief's answer
    extension_requested: bool = False
    #: how often the command centre urged the department on it (督办)
    urged: int = 0


def allowed_actions(state: State, role: Role) -> list[str]:
    """The actions ``role`` may take on a case in ``state`` (what the GUI shows as buttons)."""
    return [a for a, t in TRANSITIONS.items() if state in t.sources and role in t.roles]


def actions_now(case: CaseState, role: Role) -> list[str]:
    """:func:`allowed_actions` for a case's whole state: an extension is refused only when
    one was asked for, and asked for only when no request is waiting."""
    waiting = "request_extension" if case.extension_requested else "refuse_extension"
    return [a for a in allowed_actions(case.state, role) if a != waiting]


def apply(
    state: CaseState, action: str, actor: str, role: Role | str, at: dt.datetime, note: str = ""
) -> Event:
    """Check ``action`` and return the event to append. Raises and changes nothing if the
    action is unknown, illegal from the current state, not allowed for the role, or needs a
    reason that is missing."""
    if action not in TRANSITIONS:
        raise TransitionError(
            _("there is no action {action!r}").format(action=action),
            _("Actions are: {names}.").format(names=", ".join(TRANSITIONS)),
        )
    try:
        role = Role(role)
    except ValueError as exc:
        raise RoleError(
            _("there is no role {role!r}").format(role=role),
            _("Roles are: {names}.").format(names=", ".join(r.value for r in Role)),
        ) from exc
    from .lifecycle_words import action_verb, role_name, state_name

    t = TRANSITIONS[action]
    if state.state not in t.sources:
        possible = [
            a
            for a, tr in TRANSITIONS.items()
            if state.state in tr.sources and a not in IMPORT_ACTIONS  # a desk's steps only
        ]
        raise TransitionError(
            _("“{action}” is not possible for a case that is {state}").format(
                action=action_verb(action), state=state_name(state.state)
            ),
            _("Possible now: {actions}.").format(actions=", ".join(possible) or "-"),
            gui_fix=_("Possible now: {actions}.").format(
                actions=", ".join(f"“{action_verb(a)}”" for a in possible) or "-"
            ),
        )
    if role not in t.roles:
        allowed = sorted(t.roles)
        raise RoleError(
            _("the {role} role may not do “{action}”").format(
                role=role_name(role), action=action_verb(action)
            ),
            _("Allowed roles: {roles}.").format(roles=", ".join(r.value for r in allowed)),
            gui_fix=_("Allowed roles: {roles}.").format(
                roles=", ".join(role_name(r) for r in allowed)
            ),
        )
    if action == "refuse_extension" and not state.extension_requested:
        raise TransitionError(
            _("no request for more time is waiting on this case"),
            _("Extend the time limit instead, or wait for the department's request."),
        )
    if action == "request_extension" and state.extension_requested:
        raise TransitionError(
            _("a request for more time is already waiting on this case"),
            _("Wait for the shift chief's answer."),
        )
    if t.needs_note and not note.strip():
        raise TransitionError(
            _("“{action}” needs a reason").format(action=action_verb(action)),
            _("Give the reason in the note."),
        )
    return Event(
        state.events + 1, action, state.state, t.to_state(state.state), actor, role, at, note
    )


def advance(state: CaseState, event: Event) -> CaseState:
    """The case state after ``event`` (pure; the input is not modified)."""
    if event.seq != state.events + 1 or event.from_state != state.state:
        raise TransitionError(
            _("event {seq} ({action}) does not follow the case's history").format(
                seq=event.seq, action=event.action
            ),
            _("The case changed meanwhile; reload it."),
        )
    new = CaseState(**{**state.__dict__, "history": [*state.history, event.action]})
    new.state = event.to_state
    new.events = event.seq
    if event.action == "check_fail":
        new.rework_count += 1
    elif event.action == "return_to_dispatch":
        new.return_count += 1
    elif event.action == "dispatch":
        if new.dispatched_at is None:
            new.dispatched_at, new.dispatcher = event.at, event.actor
    elif event.action == "register":
        new.registered_at = new.registered_at or event.at
    elif event.action in ("close", "close_imported"):
        new.closed_at = event.at
    elif event.action == "reopen":
        new.closed_at = None
    elif event.action == "request_extension":
        new.extension_requested = True
    elif event.action in ("extend", "refuse_extension"):
        new.extension_requested = False  # answered (an extension unasked answers none)
    elif event.action == "urge":
        new.urged += 1
    if new.state not in WORKING:
        new.extension_requested = False  # the case left the department: nothing to answer
    return new


def replay(events: Iterable[Event]) -> CaseState:
    """Rebuild a case from its history, checking every step against the table."""
    state = CaseState()
    for event in events:
        t = TRANSITIONS.get(event.action)
        if (
            t is None
            or event.from_state not in t.sources
            or event.to_state != t.to_state(event.from_state)
        ):
            raise TransitionError(
                _("event {seq} ({action}) is not a legal step").format(
                    seq=event.seq, action=event.action
                ),
                _("The history is corrupt; restore it from a backup."),
            )
        state = advance(state, event)
    return state
