"""The steps a source system recorded for each case, read from its step-time columns.

A 数字城管 export carries the time of every step of the closed loop beside the report:
立案 (registered), 派遣 (dispatched), 处置 (handled), 核查 (checked) and 结案 (closed). Kept as
the case's history, those times give the dispatch and rework KPIs of the imported years and
the handling time of each case; imported as "closed in the source system" alone, they were
lost, and the KPIs called every such case "not recorded".

Each step time stands for the lifecycle's actions at that moment (registering a case is
accepting and registering it; a department's handling is its start and its finish), taken
by the role that takes them at a desk. A row's steps are taken in the loop's order up to the
first one it has no time for; a step after such a gap is left out (counted, so the import
can say so) rather than joined to the history by steps the source never recorded. A case
closed at the source is closed after its last step: by ``close`` once checked, else by
``close_imported``, which says the source closed it without recording the rest.

Pure: no store, no file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from citydesk.layers.i18n import _

from .lifecycle import TRANSITIONS, Role, State
from .new_cases import HistoryStep
from .timestamps import from_text

#: a step-time column -> the lifecycle actions it stands for, with the role taking each,
#: in the loop's order
STEPS: dict[str, tuple[tuple[str, Role], ...]] = {
    "registered_at": (("accept", Role.INTAKE), ("register", Role.SHIFT_CHIEF)),
    "dispatched_at": (("dispatch", Role.DISPATCHER),),
    "handled_at": (("start", Role.DEPARTMENT), ("handle", Role.DEPARTMENT)),
    "checked_at": (("check_pass", Role.INSPECTOR),),
}


@dataclass(frozen=True)
class SourceHistories:
    """Per row its steps after the report (empty: none recorded, not even a close), and
    how many rows had a step time after a step they lacked (those times were left out)."""

    histories: list[list[HistoryStep]]
    gaps: int


def source_histories(
    steps: Mapping[str, pd.Series], closed: pd.Series, actor: str = ""
) -> SourceHistories:
    """The history of each row from its step times (``steps``: the mapped step columns,
    UTC, NaT where empty) and its close time. ``actor`` is left empty for the importer to
    fill with its own name, as it does for the report."""
    names = [name for name in STEPS if name in steps]
    n = len(closed)
    at = {name: _moments(steps[name]) for name in names}
    close = _moments(closed)
    histories: list[list[HistoryStep]] = []
    gaps = 0
    closed_note = _("closed in the source system")
    for i in range(n):
        history: list[HistoryStep] = []
        stopped = False
        for name in names:
            moment = at[name][i]
            if moment is None:
                stopped = True
                continue
            if stopped:  # a step after one the row lacks: left out, not bridged
                gaps += 1
                break
            history += [HistoryStep(a, actor, role, moment) for a, role in STEPS[name]]
        closed_at = close[i]
        if closed_at is not None and history:  # without steps the importer closes it
            if history[-1].action == "check_pass":  # checked: closed as a desk closes
                history.append(HistoryStep("close", actor, Role.SHIFT_CHIEF, closed_at))
            else:
                history.append(
                    HistoryStep("close_imported", actor, Role.ADMIN, closed_at, closed_note)
                )
        histories.append(history)
    return SourceHistories(histories, gaps)


def _moments(column: pd.Series) -> list[dt.datetime | None]:
    """Aware datetimes, None where empty (the history steps hold Python datetimes)."""
    values = pd.Series(pd.to_datetime(column, utc=True))
    moments = np.array(values.dt.to_pydatetime(), dtype=object)
    moments[~values.notna().to_numpy()] = None
    return moments.tolist()


def steps_not_taken(
    status: str, registered_at: object, dispatched_at: object, history: list[HistoryStep]
) -> list[HistoryStep] | None:
    """What a later export adds to a case imported with its steps: the steps of
    ``history`` (the source's whole history of the case now) after the point the stored
    case is at, [] when it has them all. None when the stored case is not at any point of
    that history, with the same registration and dispatch times: it has moved on here (a
    desk took it), and the source's later steps must not be put behind the desk's back."""
    stored = State(status)
    state = State.REPORTED
    registered: dt.datetime | None = None
    dispatched: dt.datetime | None = None
    points = [(0, state, registered, dispatched)]
    for k, step in enumerate(history, start=1):
        state = TRANSITIONS[step.action].to_state(state)
        registered = step.at if step.action == "register" else registered
        dispatched = step.at if step.action == "dispatch" else dispatched
        points.append((k, state, registered, dispatched))
    if stored is State.CLOSED and state is State.CLOSED:
        return []  # closed here and there (an earlier import without the step times too)
    told = (_moment(registered_at), _moment(dispatched_at))
    for k, state, *seen in reversed(points):
        if state is stored and tuple(seen) == told:
            return history[k:]
    return None


def _moment(value: object) -> dt.datetime | None:
    """A stored moment as an aware datetime: the store's UTC text (``timestamps.from_text``)
    or a datetime as a server returns it; None when empty. Compared per stored case, so
    plain Python: a pandas conversion per case cost 1.5 ms (3 s on 2,000 cases)."""
    if isinstance(value, str):
        return from_text(value)
    if isinstance(value, dt.datetime):  # pandas' Timestamp too
        return value
    return None
