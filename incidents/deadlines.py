"""Time left on each case's limit, counted on the working calendar, and its warning level.

A case turns amber when 75% of its working-time limit is used and red when it is overdue.
Everything is computed for all open cases at once on the calendar's working-time axis, so
the due-soon panel of a desk with thousands of open cases refreshes instantly.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from .calendar import WorkingCalendar
from .lifecycle import State
from .timestamps import utc_ns

AMBER_AT = 0.75
#: states whose clock runs: everything but not-yet-reported, finished and suspended (挂账)
OPEN_STATES = tuple(
    s.value for s in State if s not in (State.NEW, State.CLOSED, State.CANCELLED, State.SUSPENDED)
)


def time_left(
    cases: pd.DataFrame, calendar: WorkingCalendar, now: dt.datetime | None = None
) -> pd.DataFrame:
    """``cases`` (rows of ``store.query``) with ``limit_hours``, ``hours_left`` (working
    hours; negative when overdue), ``used`` (share of the limit) and ``level``
    (ok / amber / red), sorted by time left. Closed, cancelled and suspended cases are
    left out: their clocks are not running."""
    open_ = cases[cases["status"].isin(OPEN_STATES)].copy()
    now = calendar.localize(now or dt.datetime.now(dt.UTC))
    if open_.empty:
        return open_.assign(limit_hours=[], hours_left=[], used=[], level=[])
    reported = utc_ns(pd.to_datetime(open_["reported_at"], utc=True))
    due = utc_ns(pd.to_datetime(open_["due_at"], utc=True))
    now_ns = np.full(len(open_), utc_ns([now])[0])
    limit = calendar.working_hours_many(reported, due)
    left = calendar.working_hours_many(now_ns, due)
    used = np.where(limit > 0, 1 - left / np.where(limit > 0, limit, 1), 1.0)
    open_["limit_hours"] = limit
    open_["hours_left"] = left
    open_["used"] = used
    overdue = due <= now_ns
    open_["level"] = np.where(overdue, "red", np.where(used >= AMBER_AT, "amber", "ok"))
    return open_.sort_values("hours_left", kind="stable")


def due_within(table: pd.DataFrame, hours: float) -> pd.DataFrame:
    """The overdue cases and those due within ``hours`` working hours."""
    return table[table["hours_left"] <= hours]
