"""New cases as columns: what intake, an import or a migration hands the store, turned into
case rows and their first events, a million at a time.

Building rows one case at a time cost 40 µs a case in Python (due times walked day by day,
one UUID, one ``apply`` per event), which made importing a city's year of 311 calls take
minutes. Here every step is an array operation, except the lifecycle check: that is run once
per distinct *pattern* of history (the sequence of actions and roles), because whether a
history is legal depends on nothing else. A CSV import without step times has two patterns
(reported; reported then closed in the source system); one with them
(:mod:`.source_steps`), or a migration from another 数字城管 system, a few dozen.

Everything here is pure: no database. The store decides what is a duplicate and writes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _

from .calendar import WorkingCalendar
from .categories import Catalogue
from .lifecycle import CaseState, Role, advance, apply
from .timestamps import to_text_many, utc_ns


@dataclass(frozen=True)
class HistoryStep:
    """A step a case already went through elsewhere (migrating from another system)."""

    action: str
    actor: str
    role: Role | str
    at: dt.datetime
    note: str = ""


@dataclass
class NewCase:
    """What intake knows about a problem before it becomes a case."""

    kind: str  # component / event
    category_code: str
    lon: float | None = None
    lat: float | None = None
    description: str = ""
    source: str = "patrol"  # patrol, hotline, app, import
    source_id: str | None = None
    reporter_name: str = ""
    reporter_phone: str = ""
    reporter_email: str = ""
    photos: list[str] = field(default_factory=list)
    priority: int = 3
    reported_at: dt.datetime | None = None
    category_standard: str | None = None
    closed_at: dt.datetime | None = None  # imports of cases already closed at the source
    #: the source's own target time: kept as the case's due time instead of one computed
    #: from the catalogue (an import must reproduce the source's on-time figures)
    due_at: dt.datetime | None = None
    #: the source's responsible department or agency, kept instead of the catalogue's
    department: str | None = None
    #: the source system's status word, the channel the case came in by, and when the source
    #: last updated it (kept as facts; the case's state follows its own history)
    source_status: str | None = None
    channel: str | None = None
    source_updated_at: dt.datetime | None = None
    history: list[HistoryStep] = field(default_factory=list)  # steps after the report


COLUMNS = list(NewCase.__dataclass_fields__)
_DEFAULTS = {
    name: (f.default_factory() if callable(f.default_factory) else f.default)
    for name, f in NewCase.__dataclass_fields__.items()
}


def new_cases_frame(cases: list[NewCase], calendar: WorkingCalendar) -> pd.DataFrame:
    """The column form of a list of ``NewCase`` (naive times are read in the calendar's
    zone, like everywhere else)."""
    frame = pd.DataFrame([c.__dict__ for c in cases], columns=COLUMNS)
    for col in ("reported_at", "closed_at", "due_at", "source_updated_at"):
        frame[col] = [None if v is None else calendar.localize(v) for v in frame[col]]
    return frame


def complete(frame: pd.DataFrame) -> pd.DataFrame:
    """Fill the columns an importer did not provide with ``NewCase``'s defaults."""
    out = frame.copy()
    for col in COLUMNS:
        if col not in out:
            default = _DEFAULTS[col]
            out[col] = (
                [list(default) for _ in range(len(out))] if isinstance(default, list) else default
            )
    return out[COLUMNS]


@dataclass
class NewRows:
    """Case rows and event rows as columns (lists or arrays of equal length)."""

    cases: dict[str, list]
    events: dict[str, list]


class HistoryError(CityDeskError):
    """A history handed to the store is not a legal path through the lifecycle."""


_MOMENTS = ("registered_at", "dispatched_at", "closed_at")


def build_rows(
    frame: pd.DataFrame,
    catalogue: Catalogue,
    calendar: WorkingCalendar,
    actor: str,
    role: Role,
    at: dt.datetime,
    blobs: list[bytes | None] | None,
    grid_codes: list[str | None],
    id_start: int | None = None,
) -> NewRows:
    """Rows for the cases of ``frame`` (see ``COLUMNS``), reported by ``actor``/``role``.
    ``id_start`` continues the case-id counter of an earlier part of the same batch."""
    n = len(frame)
    at_ns = utc_ns([calendar.localize(at)])[0]
    category = _categories(frame, catalogue)
    reported = utc_ns(frame["reported_at"])
    reported = np.where(reported == np.iinfo(np.int64).min, at_ns, reported)
    hours = np.array([calendar.limit_hours(c.limit, c.unit) for c in category], dtype=float)
    due = calendar.due_many(reported, hours)
    given = utc_ns(frame["due_at"])
    due = np.where(given == np.iinfo(np.int64).min, due, given)  # the source's own target
    departments = [
        d if isinstance(d, str) and d.strip() else c.department
        for d, c in zip(frame["department"], category, strict=True)
    ]
    case_ids = _case_ids(reported, calendar, id_start)
    steps = _history_steps(frame, reported, actor, role, calendar)
    facts, events = _walk_patterns(steps, case_ids, frame)
    lon, lat = coordinates(frame)
    located = np.isfinite(lon) & np.isfinite(lat)
    cases = {
        **({"geom": blobs} if blobs is not None else {}),
        "case_id": case_ids,
        "kind": frame["kind"].tolist(),
        "category_code": [c.code for c in category],
        "category_standard": [c.standard for c in category],
        "lon": np.where(located, lon, np.nan).tolist(),
        "lat": np.where(located, lat, np.nan).tolist(),
        "grid_code": grid_codes,
        "department": departments,
        "description": frame["description"].fillna("").astype(str).tolist(),
        "source": frame["source"].astype(str).tolist(),
        "source_id": _texts(frame["source_id"]),
        "reporter_name": frame["reporter_name"].fillna("").tolist(),
        "reporter_phone": frame["reporter_phone"].fillna("").tolist(),
        "reporter_email": frame["reporter_email"].fillna("").tolist(),
        "photos": [json.dumps(p, ensure_ascii=False) if p else "[]" for p in frame["photos"]],
        "priority": frame["priority"].fillna(3).astype(int).tolist(),
        "reported_at": to_text_many(reported),
        "due_at": to_text_many(due),
        **facts,
        "version": [1] * n,
        "updated_at": to_text_many(np.full(n, at_ns)),
        "due_given": (given != np.iinfo(np.int64).min).tolist(),
        "source_status": _texts(frame["source_status"]),
        "channel": _texts(frame["channel"]),
        "source_updated_at": _moments(frame["source_updated_at"]),
    }
    cases["lon"] = [None if v != v else v for v in cases["lon"]]  # NaN -> NULL
    cases["lat"] = [None if v != v else v for v in cases["lat"]]
    return NewRows(cases, events)


def coordinates(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """lon and lat as floats, NaN where missing or not a number."""
    lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(float)
    lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(float)
    return lon, lat


def _categories(frame: pd.DataFrame, catalogue: Catalogue) -> list:
    """The catalogue entry of every row, looking each distinct category up once (unknown
    codes raise the catalogue's own message)."""
    columns = (_texts(frame[c]) for c in ("kind", "category_code", "category_standard"))
    keys = list(zip(*columns, strict=True))
    found = {key: catalogue.get(*key) for key in dict.fromkeys(keys)}
    return [found[key] for key in keys]


def _moments(column: pd.Series) -> list[str | None]:
    """Stored text of optional moments (None where the source gave none)."""
    return to_text_many(utc_ns(column))


def _texts(column: pd.Series) -> list[str | None]:
    """A column as Python strings with None for missing (iterating an Arrow-backed string
    column value by value costs 1 s per million)."""
    values = column.astype(object).to_numpy(dtype=object, na_value=None)
    return [v if v is None or isinstance(v, str) else str(v) for v in values.tolist()]


def new_id_start() -> int:
    """A random start for one batch's case-id counter (40 bits)."""
    return int.from_bytes(os.urandom(5), "big")


def _case_ids(
    reported: np.ndarray, calendar: WorkingCalendar, start: int | None = None
) -> list[str]:
    """``YYYYMMDD-`` (the local report date, so a clerk can read it) and 40 bits: a random
    start for the batch, then one more per case, so desks never need to coordinate a
    counter and the ids of one batch are distinct by construction (40 random bits per case
    collided in 37 % of one-day imports of a million cases). Two batches meet only if their
    ranges overlap in 2^40: about 2e-6 for two million-case batches on one day."""
    local = pd.to_datetime(reported, utc=True).tz_convert(calendar.zone).tz_localize(None)
    days = np.datetime_as_string(local.values.astype("datetime64[D]")).tolist()
    start = new_id_start() if start is None else start
    return [f"{d[:4]}{d[5:7]}{d[8:10]}-{(start + i) % (1 << 40):010x}" for i, d in enumerate(days)]


@dataclass
class _Steps:
    """Per case: the pattern key and the actors, times (UTC ns) and notes of its steps."""

    keys: list[tuple]
    actors: list[list[str]]
    times: list[list[int]]
    notes: list[list[str]]


def _history_steps(
    frame: pd.DataFrame,
    reported: np.ndarray,
    actor: str,
    role: Role,
    calendar: WorkingCalendar,
) -> _Steps:
    """Every case starts with its report. A case closed at the source gets one
    ``close_imported`` step; a migrated case brings its own steps (their times are converted
    in one call at the end: one conversion per step cost 100 µs)."""
    closed = utc_ns(frame["closed_at"])
    nat = np.iinfo(np.int64).min
    closed_note = _("closed in the source system")
    keys, actors, times, notes = [], [], [], []
    pending: list[tuple[int, int]] = []
    moments: list[dt.datetime] = []
    for i, (history, closed_ns) in enumerate(zip(frame["history"], closed, strict=True)):
        key = [("report", role, False)]
        row_actors, row_times, row_notes = [actor], [int(reported[i])], [""]
        if history:
            for k, step in enumerate(history, start=1):
                key.append((step.action, Role(step.role), bool(step.note.strip())))
                row_actors.append(step.actor or actor)  # a file's steps: the importer
                row_times.append(nat)
                row_notes.append(step.note)
                pending.append((i, k))
                moments.append(step.at if step.at.tzinfo else calendar.localize(step.at))
        elif closed_ns != nat:
            key.append(("close_imported", Role.ADMIN, True))
            row_actors.append(actor)
            row_times.append(int(closed_ns))
            row_notes.append(closed_note)
        keys.append(tuple(key))
        actors.append(row_actors)
        times.append(row_times)
        notes.append(row_notes)
    if moments:
        for (i, k), ns in zip(pending, utc_ns(moments).tolist(), strict=True):
            times[i][k] = ns
        _check_in_order(frame, {i for i, _k in pending}, times)
    return _Steps(keys, actors, times, notes)


def _check_in_order(frame: pd.DataFrame, rows: set[int], times: list[list[int]]) -> None:
    """A migrated history must not go back in time: a step before the report or before the
    step it follows is a broken export (a time zone or a unit lost on the way), and the
    KPIs computed from it would be nonsense."""
    for i in sorted(rows):
        row = times[i]
        for k in range(1, len(row)):
            if row[k] < row[k - 1]:
                where = frame["source_id"].iloc[i]
                raise HistoryError(
                    _(
                        "the history of case {where} goes back in time at step {k} "
                        "({at} is before {before})"
                    ).format(
                        where=where if where is not None else i + 1,
                        k=k + 1,
                        at=pd.Timestamp(row[k], tz="UTC").isoformat(),
                        before=pd.Timestamp(row[k - 1], tz="UTC").isoformat(),
                    ),
                    _("Check the time zone and the units of the exported step times."),
                )


_MARK = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


def _walk(key: tuple, where: str) -> tuple[CaseState, list]:
    """Run a pattern through the lifecycle once. Step *k* happens at a marker time of *k*
    seconds, so the final state says which step registered, dispatched or closed the case
    without repeating the lifecycle's rules here."""
    state, events = CaseState(), []
    for k, (action, role, has_note) in enumerate(key):
        try:
            event = apply(
                state, action, str(k), role, _MARK + dt.timedelta(seconds=k), "-" * has_note
            )
        except CityDeskError as exc:
            raise HistoryError(
                _("the history of case {where} is not legal at step {k}: {problem}").format(
                    where=where, k=k + 1, problem=exc.problem
                ),
                exc.fix,
                gui_fix=exc.gui_fix,
            ) from exc
        state = advance(state, event)
        events.append(event)
    return state, events


def _step_of(moment: dt.datetime | None) -> int | None:
    return None if moment is None else int((moment - _MARK).total_seconds())


def _walk_patterns(steps: _Steps, case_ids: list[str], frame: pd.DataFrame):
    """Facts columns for every case and the event columns, pattern by pattern."""
    n = len(case_ids)
    nat = np.iinfo(np.int64).min
    status = np.empty(n, dtype=object)
    moments = {name: np.full(n, nat, dtype=np.int64) for name in _MOMENTS}
    dispatcher = np.full(n, None, dtype=object)
    rework, returned = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    ids = np.asarray(case_ids, dtype=object)
    parts: list[dict[str, np.ndarray]] = []
    groups: dict[tuple, list[int]] = {}
    for i, key in enumerate(steps.keys):
        groups.setdefault(key, []).append(i)
    sources = frame["source_id"].tolist()
    for key, members in groups.items():
        rows = np.array(members)
        final, walked = _walk(key, str(sources[members[0]] or case_ids[members[0]]))
        times = np.array([steps.times[i] for i in members], dtype=np.int64)
        actors = np.array([steps.actors[i] for i in members], dtype=object)
        notes = np.array([steps.notes[i] for i in members], dtype=object)
        status[rows] = final.state.value
        for name in _MOMENTS:
            k = _step_of(getattr(final, name))
            if k is not None:
                moments[name][rows] = times[:, k]
                if name == "dispatched_at":
                    dispatcher[rows] = actors[:, k]
        rework[rows], returned[rows] = final.rework_count, final.return_count
        for k, event in enumerate(walked):
            g = len(rows)
            parts.append(
                {
                    "case_id": ids[rows],
                    "seq": np.full(g, event.seq),
                    "action": np.full(g, event.action, dtype=object),
                    "from_state": np.full(g, event.from_state.value, dtype=object),
                    "to_state": np.full(g, event.to_state.value, dtype=object),
                    "actor": actors[:, k],
                    "role": np.full(g, event.role.value, dtype=object),
                    "at": times[:, k],
                    "note": notes[:, k],
                }
            )
    facts = {
        "status": status.tolist(),
        **{name: to_text_many(moments[name]) for name in _MOMENTS},
        "dispatcher": dispatcher.tolist(),
        "rework_count": rework.tolist(),
        "return_count": returned.tolist(),
    }
    events = {c: np.concatenate([p[c] for p in parts]) for c in parts[0]} if parts else {}
    if events:
        events["at"] = np.array(to_text_many(events["at"]), dtype=object)
    return facts, events
