"""The case store: cases and their append-only history, behind one narrow interface.

Two implementations share everything in :class:`CaseStore`:

- :class:`citydesk.incidents.store.SqliteCaseStore` keeps the cases in the project's GeoPackage (WAL
  mode, one transaction per change): one desk, or a few on one shared folder;
- :class:`citydesk.incidents.postgis_store.PostgisCaseStore` keeps them in PostgreSQL + PostGIS, for
  a command centre with many desks.

The rules live here once, so both backends behave the same and one test suite runs on both;
a backend supplies only connections, transactions, bulk writes and its dialect. Queries are
plain SQL with ``?`` parameters (turned into ``%s`` for PostgreSQL): no string-built values.

Guarantees:

- every state change goes through :func:`citydesk.incidents.lifecycle.apply`, and the case row and
its
  new event are written in one transaction: both or neither;
- the history is append-only, enforced by database triggers, not only by the code;
- optimistic locking: a change names the case version it saw; if someone else changed the
  case meanwhile, the change is refused with :class:`VersionConflict` and nothing is written;
- a batch import is all-or-nothing and idempotent on (source, source id).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from itertools import groupby
from typing import TYPE_CHECKING, Any, Self, TypeVar

import numpy as np
import pandas as pd

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _

from . import fact_snapshot
from .calendar import WorkingCalendar
from .categories import Catalogue
from .lifecycle import WORKING, CaseState, Event, Role, State, advance, apply, replay
from .new_cases import (
    HistoryStep,
    NewCase,
    build_rows,
    complete,
    coordinates,
    new_cases_frame,
    new_id_start,
)
from .source_steps import steps_not_taken
from .timestamps import from_text, to_text, to_text_many, utc_ns

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger(__name__)

__all__ = [
    "Case",
    "CaseNotFound",
    "CaseStore",
    "DuplicateCase",
    "HistoryStep",
    "Move",
    "NewCase",
    "StoreSummary",
    "VersionConflict",
]

T = TypeVar("T")


class VersionConflict(CityDeskError):
    """Someone else changed the case since it was read."""


class CaseNotFound(CityDeskError):
    pass


class DuplicateCase(CityDeskError):
    """The (source, source id) of a new case is already stored."""


@dataclass
class Case:
    case_id: str
    kind: str
    category_code: str
    category_standard: str
    status: State
    lon: float | None
    lat: float | None
    grid_code: str | None
    department: str
    description: str
    source: str
    source_id: str | None
    reporter_name: str
    reporter_phone: str
    reporter_email: str
    photos: list[str]
    priority: int
    reported_at: dt.datetime
    due_at: dt.datetime
    registered_at: dt.datetime | None
    dispatched_at: dt.datetime | None
    dispatcher: str | None
    crew: str | None
    duplicate_of: str | None
    closed_at: dt.datetime | None
    rework_count: int
    return_count: int
    version: int
    updated_at: dt.datetime
    due_given: bool = False  # the due time is the source system's own target, kept as given
    # what the city's own system says (issue 19): its status word, the channel the case came
    # in by, and when it last updated the case there; None for cases CityDesk took itself
    source_status: str | None = None
    channel: str | None = None
    source_updated_at: dt.datetime | None = None

    @property
    def needs_location(self) -> bool:
        return self.lon is None or self.lat is None


_MOMENTS = (
    "reported_at",
    "due_at",
    "registered_at",
    "dispatched_at",
    "closed_at",
    "updated_at",
    "source_updated_at",
)
#: columns added after the first store version: in the checksum only where set, so a backup
#: made before they existed keeps the checksum its manifest recorded
_LATER_COLUMNS = ("due_given", "source_status", "channel", "source_updated_at")

_CASE_COLUMNS = [f for f in Case.__dataclass_fields__]
_BULK = 10_000  # a batch this large is an import, not a desk's report
_JOINED_LOOKUP = _BULK  # this many source ids are looked up through a temporary table
_NAT_NS = int(np.iinfo(np.int64).min)  # no moment, as UTC nanoseconds (pandas' NaT)
_PART = 100_000  # an import's rows are built and written this many at a time
#: what the KPIs read: one narrow scan, no history (the store keeps these on the case)
FACT_COLUMNS = [
    "case_id",
    "department",
    "grid_code",
    "kind",
    "category_code",
    "status",
    "due_at",
    "registered_at",
    "dispatched_at",
    "dispatcher",
    "closed_at",
    "rework_count",
    "return_count",
    "imported",
    "due_given",
    "lon",  # where: placeholder points (a source's fallback location) are found from these
    "lat",
]
#: how the facts are read (the same SQL on both backends). A case imported from another
#: city system (it has the source's id) and never registered here counts as registered at
#: its source report time; ``imported`` marks it, because the steps its source did not
#: record (dispatch, rework) must count as "not recorded", not as done or not done.
FACT_SQL = {
    "registered_at": "COALESCE(registered_at, reported_at)",
    "imported": "CASE WHEN registered_at IS NULL THEN 1 ELSE 0 END",
}
FACT_WHERE = "(registered_at IS NOT NULL OR source_id IS NOT NULL)"
FACT_MOMENTS = ("due_at", "registered_at", "dispatched_at", "closed_at")
#: what ``case_facts`` returns: the facts without the case id (a columnar copy of ten
#: million ids would double its size, and no KPI needs them)
FACT_OUTPUT = [c for c in FACT_COLUMNS if c != "case_id"]
FACT_TEXTS = tuple(
    c
    for c in FACT_OUTPUT
    if c not in FACT_MOMENTS
    and c not in ("rework_count", "return_count", "imported", "due_given", "lon", "lat")
)
FACT_REGISTERED = FACT_SQL["registered_at"]


#: a full read of the facts (the columnar copy's build) comes in parts of this many rows
FACT_PART_ROWS = 500_000


class FactReadFailed(RuntimeError):
    """A streamed read of the facts broke off (a child process died): read them again
    another way."""


def _chunks(ids: list[str], size: int = 500) -> list[list[str]]:
    """``ids`` in lists of ``size``: the bound parameters one ``IN (...)`` may carry (SQLite's
    limit is 999 in older builds; PostgreSQL's planner is happier with short lists too)."""
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def pa_concat(tables: list[pa.Table], columns: list[str]) -> pa.Table:
    """The tables of a streamed read as one (an empty one with ``columns`` for none)."""
    import pyarrow as pa

    if not tables:
        return pa.table({c: pa.array([], pa.null()) for c in columns})
    return pa.concat_tables(tables)


def fact_select(moment=None) -> str:
    """The SELECT list of the facts; ``moment(expr)`` wraps the time columns (SQLite turns
    them into epoch milliseconds)."""
    out = []
    for col in FACT_COLUMNS:
        expr = FACT_SQL.get(col, col)
        if moment is not None and col in FACT_MOMENTS:
            expr = moment(expr)
        out.append(f"{expr} AS {col}")
    return ", ".join(out)


#: what a move may set on the case besides its state
ASSIGNABLE = ("department", "crew", "duplicate_of")
#: what a ``source_update`` event sets: the source's own word on a case
SOURCE_ASSIGNABLE = ("due_at", "source_status", "source_updated_at")

#: the stored columns a re-import compares with the source's export
_COMPARED = (
    "case_id",
    "source_id",
    "status",
    "version",
    "registered_at",
    "dispatched_at",
    "due_at",
    "due_given",
    "source_status",
)

#: what an import calls with the rows already stored and their ``_COMPARED`` columns
OnStored = Callable[[Any, pd.DataFrame, dict[tuple[str, str], Any]], None]


@dataclass
class ImportCounts:
    """What an upsert did with the rows of a later export."""

    added: int = 0
    updated: int = 0  # an event appended: closed or reopened at the source
    unchanged: int = 0
    refused: int = 0  # the source's change cannot apply here (the case moved on)


@dataclass
class Move:
    """One transition of one case, as a desk asks for it."""

    case_id: str
    action: str
    expected_version: int
    note: str = ""
    assign: dict[str, str | None] = field(default_factory=dict)


def complete_crews(crews: pd.DataFrame) -> list[tuple]:
    """Crew rows, refusing what a dispatcher could not use."""
    missing = {"crew_id", "department"} - set(crews.columns)
    if missing:
        raise CityDeskError(
            _("the crews have no column(s) {cols}").format(cols=", ".join(sorted(missing))),
            _("Give at least crew_id and department, and lon/lat for routing."),
        )
    out = []
    for r in crews.to_dict("records"):
        lon, lat = r.get("lon"), r.get("lat")
        out.append(
            (
                str(r["crew_id"]),
                str(r.get("name") or r["crew_id"]),
                str(r["department"]),
                None if lon is None or pd.isna(lon) else float(lon),
                None if lat is None or pd.isna(lat) else float(lat),
                bool(r.get("available", True)),
            )
        )
    return out


def _state_facts(state: CaseState) -> dict[str, object]:
    """The columns of a case that summarise its history; always written together with the
    event that changed them, and checked against the replay by ``verify_all``."""
    return {
        "status": state.state.value,
        "registered_at": to_text(state.registered_at),
        "dispatched_at": to_text(state.dispatched_at),
        "dispatcher": state.dispatcher,
        "closed_at": to_text(state.closed_at),
        "rework_count": state.rework_count,
        "return_count": state.return_count,
    }


@dataclass(frozen=True)
class StoreSummary:
    """What a backup, a restore or a migration checks: the counts and a SHA-256 over every
    column of every case and event, in a canonical form both backends produce alike."""

    cases: int
    events: int
    checksum: str


_EVENT_COLUMNS = (
    "case_id",
    "seq",
    "action",
    "from_state",
    "to_state",
    "actor",
    "role",
    "at",
    "note",
    "detail",
)
_JSON_COLUMNS = ("photos", "detail")  # jsonb reorders keys: compare them parsed
#: the steps looked up by their action (the urged and the extended an evaluation counts, the
#: requests for more time a shift chief answers): rare among a history's steps, so the
#: GeoPackage store keeps a partial index of them alone (small, and cheap to keep on an
#: import of millions of steps), which SQLite uses for a query that repeats this term
MARKED_ACTIONS = ("extend", "refuse_extension", "request_extension", "urge")
MARKED_STEPS_SQL = "action IN ({})".format(", ".join(f"'{a}'" for a in MARKED_ACTIONS))


_EVENT_INSERT = (
    f"INSERT INTO case_events ({', '.join(_EVENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_EVENT_COLUMNS))})"
)


def _summaries_sql(names: list[str], version: str, expected: str) -> str:
    """The UPDATE an import runs over many cases: their summary columns ``names``, the
    ``SOURCE_ASSIGNABLE`` columns where given (None keeps the stored value), the new
    ``version`` and the update time, guarded by the ``expected`` version."""
    keep = ", ".join(f"{c} = COALESCE(?, {c})" for c in SOURCE_ASSIGNABLE)
    return (
        f"UPDATE cases SET {', '.join(f'{k} = ?' for k in names)}, {keep}, "
        f"version = {version}, updated_at = ? WHERE case_id = ? AND version = {expected}"
    )


def _event_row(case_id: str, event: Event, detail: dict) -> tuple:
    """The ``case_events`` row of one event (``detail``: what the move assigned)."""
    return (
        case_id,
        event.seq,
        event.action,
        event.from_state.value,
        event.to_state.value,
        event.actor,
        event.role.value,
        to_text(event.at),
        event.note,
        json.dumps(detail, ensure_ascii=False, sort_keys=True),
    )


def _canonical(value: Any, json_text: bool) -> Any:
    if json_text:
        return _canonical_json(value)
    if isinstance(value, bool):  # PostgreSQL's booleans, SQLite's 0/1: one checksum
        return int(value)
    return value


@functools.lru_cache(maxsize=65_536)
def _canonical_json(text: str | None) -> str:
    """JSON text with its keys sorted, once per distinct text: most events carry one of a
    few details ("{}", a department), and parsing and writing each again was over a third
    of a PostGIS store's checksum under the profiler."""
    return json.dumps(json.loads(text or "null"), ensure_ascii=False, sort_keys=True)


#: one encoder for every row: json.dumps with ensure_ascii=False built a new one per call
_ENCODER = json.JSONEncoder(ensure_ascii=False)
_DIGEST_BATCH = 10_000  # rows hashed at a time (the digest of the bytes is the same)


def summarize_rows(case_rows: Iterable, event_rows: Iterable) -> StoreSummary:
    """Counts and checksum of mapping rows: cases by case id, events by (case id, seq).

    The checksum is what backups and migrations are verified by, stored in each backup's
    manifest: its bytes must never change. Each row is hashed as the JSON text of its values
    (booleans as 0/1, JSON columns with sorted keys; a case's later columns appended as
    [name, value] where set), one line per row."""
    digest = hashlib.sha256()
    counts = []
    case_names = [c for c in _CASE_COLUMNS if c not in _LATER_COLUMNS]
    encode = _ENCODER.encode
    for rows, names in ((case_rows, case_names), (event_rows, _EVENT_COLUMNS)):
        n = 0
        json_at = [i for i, k in enumerate(names) if k in _JSON_COLUMNS]
        later: list[str] | None = None  # the later columns the rows have (from the first)
        lines: list[str] = []
        for row in rows:
            canon = [
                int(v) if v is True or v is False else v  # PostgreSQL's booleans, SQLite's 0/1
                for v in [row[k] for k in names]
            ]
            for i in json_at:
                canon[i] = _canonical_json(row[names[i]])
            if names is case_names:
                if later is None:  # sqlite3.Row: "in" would look at the values
                    later = [c for c in _LATER_COLUMNS if c in set(row.keys())]
                for name in later:
                    if row[name]:
                        value = 1 if name == "due_given" else _canonical(row[name], False)
                        canon.append([name, value])
            lines.append(encode(canon))
            n += 1
            if len(lines) == _DIGEST_BATCH:
                digest.update(("\n".join(lines) + "\n").encode())
                lines = []
        if lines:
            digest.update(("\n".join(lines) + "\n").encode())
        counts.append(n)
    return StoreSummary(counts[0], counts[1], digest.hexdigest())


SUMMARY_QUERIES = (
    f"SELECT {', '.join(_CASE_COLUMNS)} FROM cases ORDER BY case_id",
    f"SELECT {', '.join(_EVENT_COLUMNS)} FROM case_events ORDER BY case_id, seq",
)


class CaseStore:
    """The case-store interface and every rule of it; subclasses supply the database.

    A subclass provides ``transaction`` (a connection inside one transaction, rolled back on
    any exception), ``_reading`` (a connection for reads), ``_insert_rows`` (bulk insert),
    ``_stream`` (rows of a large query without holding them all), ``_frame``,
    ``data_version``, ``case_facts``, ``close``, ``reopen`` and ``location``, and sets the
    dialect attributes below."""

    #: "geopackage" or "postgis": what the desk shows as where the cases live
    BACKEND = ""
    #: appended to the version read of a move: PostgreSQL locks the row until commit
    _LOCK_FOR_UPDATE = ""
    #: errors after which a whole transaction is simply run again (deadlock, serialization)
    _RETRYABLE: tuple[type[BaseException], ...] = ()
    _UPSERT_CREW = ""

    catalogue: Catalogue
    calendar: WorkingCalendar
    grid: Any  # incidents.grid_index.GridIndex or None

    #: case columns this connection may not read (a reporter's personal data, for roles
    #: that are not intake): read as empty text rather than failing the whole query
    _hidden: frozenset[str] = frozenset()

    def _select(self, columns: Iterable[str]) -> str:
        return ", ".join(f"'' AS {c}" if c in self._hidden else c for c in columns)

    # --- what a backend provides ------------------------------------------------------------
    def _q(self, sql: str) -> str:
        """The backend's spelling of a query written with ``?`` parameters."""
        return sql

    def transaction(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _reading(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def _insert_rows(self, con: Any, table: str, names: list[str], rows: list[tuple]) -> None:
        raise NotImplementedError

    def _write(self, con: Any, columns: dict, table: str) -> None:
        """Insert column lists (or arrays) of equal length as rows of ``table``."""
        if not columns or not len(next(iter(columns.values()))):
            return
        values = [v.tolist() if isinstance(v, np.ndarray) else v for v in columns.values()]
        self._insert_rows(con, table, list(columns), list(zip(*values, strict=True)))

    def _stream(self, con: Any, sql: str) -> Iterator[Any]:
        raise NotImplementedError

    def _frame(self, con: Any, sql: str, args: list) -> pd.DataFrame:
        raise NotImplementedError

    def _after_bulk_insert(self, added: int = 0) -> None:
        """Housekeeping after a large import of ``added`` cases, once it is committed
        (SQLite folds its write-ahead log back; PostgreSQL refreshes its statistics and,
        after a load that made most of the table, rebuilds its indexes)."""

    def data_version(self) -> int:
        """Changes whenever a desk commits a change: what a desk polls to refresh live
        without re-reading the cases."""
        raise NotImplementedError

    def _fact_rows(self, condition: str, args: list, many: bool) -> pd.DataFrame:
        """The ``FACT_COLUMNS`` of the cases meeting ``condition`` (SQL over the cases
        table), moments as anything ``pandas.to_datetime`` reads as UTC; ``many`` when the
        read may cover most of the store."""
        raise NotImplementedError

    def _fact_tables(self, condition: str, args: list) -> Iterator[pa.Table]:
        """The facts of the cases meeting ``condition`` as Arrow tables, a part at a time
        (what ``FactSnapshot.from_tables`` reads); backends stream them, this default reads
        them whole."""
        yield fact_snapshot.table_of(self._fact_rows(condition, args, many=True))

    def _size_hint(self) -> int:
        """About how many cases the store holds (cheap: no count of a 10M-row table)."""
        raise NotImplementedError

    def _snapshot_place(self) -> str | None:
        """What names this store and this login for the columnar copy of its facts; None
        when the copy may not be used (a login that sees only some of the cases)."""
        raise NotImplementedError

    def _fact_mark(self) -> str:
        """Where the history stands now, taken before the facts are read."""
        raise NotImplementedError

    def _changed_since(self, mark: str) -> tuple[str, int] | None:
        """(SQL condition on the cases changed since ``mark``, about how many events were
        written since); None when this store cannot vouch for ``mark`` (another store at
        the same place, a restored backup): the copy is then rebuilt."""
        raise NotImplementedError

    #: from this many cases on, the facts come from a columnar copy kept current from the
    #: history (incidents/fact_snapshot.py): a direct read costs about 8 us a case here
    #: (0.4 s at 50,000), the copy a fraction of that, and a 10M-case scan 15-40 s
    SNAPSHOT_ROWS = 50_000
    _snapshot: fact_snapshot.FactSnapshot | None = None

    def case_facts(
        self,
        registered_since: dt.datetime | None = None,
        registered_until: dt.datetime | None = None,
        with_action: str | None = None,
        action_before: dt.datetime | None = None,
    ) -> pd.DataFrame:
        """The facts of the registered cases (``FACT_COLUMNS`` but the id): moments as UTC
        datetimes, texts as categoricals. A case imported from another system counts as
        registered at its source's report time (``FACT_SQL``). ``with_action``: only the
        cases whose history has that action (before ``action_before``), the few an
        evaluation counts as urged or extended, read straight from the tables."""
        since, until = (
            None if m is None else pd.Timestamp(self.calendar.localize(m))
            for m in (registered_since, registered_until)
        )
        snap = (
            self._fact_snapshot()
            if with_action is None and self._size_hint() >= self.SNAPSHOT_ROWS
            else None
        )
        if snap is not None:
            return snap.frame(since, until, FACT_OUTPUT)
        where, args = [FACT_WHERE], []
        for op, moment in ((">=", since), ("<", until)):
            if moment is not None:
                where.append(f"{FACT_REGISTERED} {op} ?")
                args.append(to_text(moment.to_pydatetime()))
        if with_action is not None:
            events, marked_args = self._marked_steps(with_action, action_before)
            where.append(f"case_id IN ({events})")
            args += marked_args
        frame = self._fact_rows(" AND ".join(where), args, many=with_action is None)
        out = pd.DataFrame({c: frame[c] for c in FACT_OUTPUT})
        for col in FACT_MOMENTS:  # one unit whichever way it was read
            out[col] = pd.to_datetime(out[col], utc=True, format="ISO8601").dt.as_unit("us")
        for col in FACT_TEXTS:  # one dtype whichever way it was read (missing is NaN)
            out[col] = out[col].astype("str").astype("category")
        for col, dtype in fact_snapshot.NUMBERS.items():  # the copy's dtypes
            values = pd.to_numeric(out[col], errors="coerce")
            out[col] = (values.fillna(0) if np.issubdtype(dtype, np.integer) else values).astype(
                dtype
            )
        return out

    def _fact_snapshot(self) -> fact_snapshot.FactSnapshot | None:
        """The columnar copy of the facts, brought up to date: from memory or the user's
        cache, then the cases changed since its mark re-read (or all of them, when it is
        missing, doubtful, or most of the store changed). None if no copy may be used."""
        place = self._snapshot_place()
        if place is None:
            return None
        path = fact_snapshot.cache_path(place)
        snap = self._snapshot if self._snapshot and self._snapshot.place == place else None
        snap = snap or fact_snapshot.FactSnapshot.load(path, place)
        mark = self._fact_mark()  # before the reads: what changes meanwhile is read again
        changed = self._changed_since(snap.mark) if snap is not None else None
        if snap is not None and changed is not None:
            condition, events = changed
            if events > fact_snapshot.REBUILD_SHARE * max(len(snap), 1):
                snap = None
            elif events:
                rows = self._fact_rows(f"{FACT_WHERE} AND {condition}", [], many=False)
                snap = snap.merged(mark, rows)
            else:
                snap.mark = mark
        else:
            snap = None
        save = snap is None or snap.changed_since_save > fact_snapshot.SAVE_SHARE * len(snap)
        if snap is None:
            try:
                snap = fact_snapshot.FactSnapshot.from_tables(
                    place, mark, self._fact_tables(FACT_WHERE, [])
                )
            except FactReadFailed as exc:  # read them here, whole, instead
                log.warning("the KPI facts could not be streamed (%s); reading them here", exc)
                snap = fact_snapshot.FactSnapshot.from_frame(
                    place, mark, self._fact_rows(FACT_WHERE, [], many=False)
                )
            if snap is None:
                return None
        if save:
            try:
                snap.save(path)
            except OSError as exc:  # a read-only or full cache: the copy still serves here
                log.warning("cannot save the KPI facts to %s: %s", path, exc)
        self._snapshot = snap
        return snap

    def close(self) -> None:
        raise NotImplementedError

    def reopen(self) -> CaseStore:
        """A new store on the same database, for another thread (a connection is not
        shared between threads)."""
        raise NotImplementedError

    @property
    def location(self) -> str:
        """Where the cases are, for messages (a file path, or a URL without password)."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _atomic(self, work: Callable[[Any], T]) -> T:
        """Run ``work(con)`` in one transaction; when the database gives up on it because of
        a concurrent transaction (a deadlock, a serialization failure), run it again from
        the start: nothing of the failed attempt was written."""
        for attempt in range(8):
            try:
                with self.transaction() as con:
                    return work(con)
            except self._RETRYABLE:
                if attempt == 7:
                    raise
                time.sleep(0.005 * 2**attempt)
        raise AssertionError("unreachable")

    # --- reading ---------------------------------------------------------------------------
    def _moment(self, text: str) -> dt.datetime:
        """A stored time that is never empty (an event's), in the city's zone."""
        moment = self._local(text)
        if moment is None:
            raise CityDeskError(
                _("a stored event has no time"),
                _("Run citydesk cases verify on the store."),
                gui_fix=_("Ask the store's administrator to verify it (citydesk cases verify)."),
            )
        return moment

    def _local(self, text: str | None) -> dt.datetime | None:
        moment = from_text(text)
        return moment.astimezone(self.calendar.zone) if moment is not None else None

    def _row_to_case(self, row) -> Case:
        data = {k: row[k] for k in _CASE_COLUMNS}
        data["status"] = State(data["status"])
        data["photos"] = json.loads(data["photos"] or "[]")
        for key in _MOMENTS:
            data[key] = self._local(data[key])
        return Case(**data)

    def get(self, case_id: str) -> Case:
        with self._reading() as con:
            row = con.execute(
                self._q(f"SELECT {self._select(_CASE_COLUMNS)} FROM cases WHERE case_id = ?"),
                (case_id,),
            ).fetchone()
        if row is None:
            raise CaseNotFound(
                _("there is no case {id}").format(id=case_id), _("Check the case number.")
            )
        return self._row_to_case(row)

    def _event(self, r) -> Event:
        return Event(
            r["seq"],
            r["action"],
            State(r["from_state"]),
            State(r["to_state"]),
            r["actor"],
            Role(r["role"]),
            self._moment(r["at"]),
            r["note"],
        )

    def _history(self, con: Any, case_id: str) -> list[Event]:
        rows = con.execute(
            self._q("SELECT * FROM case_events WHERE case_id = ? ORDER BY seq"), (case_id,)
        ).fetchall()
        return [self._event(r) for r in rows]

    def history(self, case_id: str) -> list[Event]:
        with self._reading() as con:
            return self._history(con, case_id)

    def events_frame(
        self, columns: list[str] | None = None, case_ids: Iterable[str] | None = None
    ) -> pd.DataFrame:
        """The whole history as a DataFrame (for audits); ``case_ids``: only these cases'
        steps, read by the case index (a month's export of a store of years reads its month,
        not every step ever taken)."""
        cols = list(columns or _EVENT_COLUMNS)
        unknown = set(cols) - set(_EVENT_COLUMNS)
        if unknown:
            raise ValueError(f"unknown event columns {sorted(unknown)}")
        sql = f"SELECT {', '.join(cols)} FROM case_events"
        with self._reading() as con:
            if case_ids is None:
                return self._frame(con, sql, [])
            ids = list(dict.fromkeys(case_ids))
            parts = [
                self._frame(
                    con,
                    self._q(f"{sql} WHERE case_id IN ({', '.join('?' * len(chunk))})"),
                    chunk,
                )
                for chunk in _chunks(ids)
            ]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=cols)

    def count(self, **filters: Any) -> int:
        """How many cases match ``filters`` (the keywords of :meth:`query`; none: all), counted
        by the database rather than read."""
        where, args = self._where(**filters)
        with self._reading() as con:
            row = con.execute(self._q(f"SELECT COUNT(*) AS n FROM cases{where}"), args).fetchone()
        return row["n"]

    def query(
        self,
        columns: list[str] | None = None,
        ordered: bool = True,
        **filters: Any,
    ) -> pd.DataFrame:
        """Cases as a DataFrame, filtered with bound parameters only (never string-built; the
        filters are :meth:`_where`'s). ``columns`` limits what is read; ``ordered=False``
        skips sorting by report time, which on a large store turns a sequential scan into
        random page reads."""
        if columns is not None:
            unknown = set(columns) - set(_CASE_COLUMNS)
            if unknown:
                raise ValueError(f"unknown case columns {sorted(unknown)}")
        select = self._select(columns if columns is not None else _CASE_COLUMNS)
        where, args = self._where(**filters)
        sql = f"SELECT {select} FROM cases{where}"
        sql += " ORDER BY reported_at" if ordered else ""
        with self._reading() as con:
            return self._frame(con, self._q(sql), args)

    def _where(
        self,
        status: Iterable[str] | None = None,
        department: str | None = None,
        category_code: str | None = None,
        grid_prefix: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        kind: str | None = None,
    ) -> tuple[str, list]:
        """The WHERE clause (with its leading space, or empty) and bound arguments of the case
        filters :meth:`query` and :meth:`count` share: states, department, category code and
        kind, a grid-code prefix, and reported on or after ``since`` / before ``until``."""
        where, args = [], []
        if status:
            status = list(status)
            where.append(f"status IN ({', '.join('?' for _ in status)})")
            args += status
        for column, value in (
            ("department", department),
            ("category_code", category_code),
            ("kind", kind),
        ):
            if value:
                where.append(f"{column} = ?")
                args.append(value)
        if grid_prefix:
            where.append("grid_code LIKE ? ESCAPE '\\'")
            args.append(
                grid_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
        for op, moment in ((">=", since), ("<", until)):
            if moment:
                where.append(f"reported_at {op} ?")
                args.append(str(to_text(self.calendar.localize(moment))))
        return (" WHERE " + " AND ".join(where) if where else ""), args

    def last_registered(self) -> dt.datetime | None:
        """When the last case counted in the facts was registered (None: no case)."""
        with self._reading() as con:
            frame = self._frame(
                con, f"SELECT MAX({FACT_REGISTERED}) AS last FROM cases WHERE {FACT_WHERE}", []
            )
        value = frame.iloc[0, 0] if len(frame) else None
        if value is None or pd.isna(value):
            return None
        moment = pd.Timestamp(value)
        return (moment if moment.tzinfo else moment.tz_localize("UTC")).to_pydatetime()

    def outside_grid(self, sources: Iterable[str]) -> int:
        """Cases of ``sources`` with coordinates but no grid cell: outside the city's unit
        grid, which with a whole file of them means coordinates read wrongly (a CRS or
        web-map offset the mapping does not declare, lat and lon swapped, another city's
        export). 0 when the store has no unit grid. Only the rows without a cell are read."""
        names = list(dict.fromkeys(sources))
        if self.grid is None or not names:
            return 0
        sql = (
            "SELECT lon FROM cases WHERE grid_code IS NULL "
            f"AND source IN ({', '.join('?' * len(names))})"
        )
        with self._reading() as con:
            lon = self._frame(con, self._q(sql), names)["lon"]
        return int(np.isfinite(pd.to_numeric(lon, errors="coerce")).sum())

    def step_times(self) -> pd.DataFrame:
        """``case_id``, ``handled_at`` and ``checked_at``: each case's last handling and
        passed check, from its history (the cases table keeps no column for them). What an
        export adds beside the registration, dispatch and close times, so that the file,
        imported elsewhere, gives each case its whole loop (``incidents.source_steps``)."""
        sql = (
            "SELECT case_id, MAX(CASE WHEN action = 'handle' THEN at END) AS handled_at, "
            "MAX(CASE WHEN action = 'check_pass' THEN at END) AS checked_at "
            "FROM case_events WHERE action IN ('handle', 'check_pass') GROUP BY case_id"
        )
        with self._reading() as con:
            frame = self._frame(con, self._q(sql), [])
        for column in ("handled_at", "checked_at"):
            moments = pd.to_datetime(frame[column], utc=True, format="ISO8601")
            frame[column] = to_text_many(utc_ns(moments))
        return frame

    def query_ids(self, case_ids: Iterable[str]) -> pd.DataFrame:
        """The rows of these cases (the ones that exist), in report order."""
        ids = list(dict.fromkeys(case_ids))
        chunks = _chunks(ids) or [[]]
        select = self._select(_CASE_COLUMNS)
        with self._reading() as con:
            parts = [
                self._frame(
                    con,
                    self._q(
                        f"SELECT {select} FROM cases WHERE case_id IN "
                        f"({', '.join('?' * len(chunk)) or 'NULL'})"
                    ),
                    chunk,
                )
                for chunk in chunks
            ]
        frame = pd.concat(parts, ignore_index=True)
        return frame.sort_values("reported_at", kind="stable").reset_index(drop=True)

    def summary(self) -> StoreSummary:
        """Counts and checksum of every case and event (see :class:`StoreSummary`)."""
        with self._reading() as con:
            return self._summary(con)

    def _summary(self, con: Any) -> StoreSummary:
        cases, events = (self._stream(con, sql) for sql in SUMMARY_QUERIES)
        return summarize_rows(cases, events)

    # --- writing ---------------------------------------------------------------------------
    def _locate(self, lon: np.ndarray, lat: np.ndarray) -> list[str | None]:
        """Grid codes for many cases in one vectorised pass."""
        if self.grid is None or not len(lon):
            return [None] * len(lon)
        return list(self.grid.codes_at(lon, lat))

    def _geometry(self, lon: np.ndarray, lat: np.ndarray) -> list | None:
        """The backend's geometry column values for new cases (None: the database derives
        the point from lon/lat itself)."""
        return None

    def _already_stored(
        self, con: Any, frame: pd.DataFrame, columns: Sequence[str] = ("source_id",)
    ) -> tuple[np.ndarray, dict[tuple[str, str], Any]]:
        """Rows whose (source, source id) is stored, or repeated earlier in the batch; and
        the ``columns`` of the stored cases, by (source, source id).

        Why the columns: a re-import needs the stored rows it compares with the export,
        and looking them up here, in the same statement that finds which rows are stored,
        saves a second lookup of the same ids (8.7 s of a 200k PostGIS re-import went to
        the two)."""
        keyed = frame["source_id"].notna().to_numpy()
        repeated = keyed & frame.duplicated(["source", "source_id"]).to_numpy()
        stored = np.zeros(len(frame), dtype=bool)
        found: dict[tuple[str, str], Any] = {}
        for source in frame.loc[keyed, "source"].unique():
            mine = keyed & (frame["source"] == source).to_numpy()
            wanted = frame.loc[mine, "source_id"].astype(str).unique().tolist()
            rows = {
                r["source_id"]: r
                for r in self._by_source_id(con, str(source), wanted, list(columns))
            }
            found.update(((str(source), sid), row) for sid, row in rows.items())
            if rows:
                # a dict lookup per id: pandas' isin on Arrow strings turned every id of the
                # set into a pyarrow scalar first (2.2 s of a 200k re-import's 27 s)
                have = frame["source_id"].astype(str).to_numpy(dtype=object)
                stored |= mine & np.fromiter((v in rows for v in have), bool, len(have))
        return repeated | stored, found

    #: the dialect's temporary table of the source ids an import looks up (dropped at
    #: commit on PostgreSQL; SQLite's lives as long as the connection)
    _WANTED_TABLE = "CREATE TEMP TABLE IF NOT EXISTS citydesk_wanted (source_id TEXT PRIMARY KEY)"

    def _by_source_id(
        self, con: Any, source: str, wanted: list[str], columns: list[str]
    ) -> Iterator[Any]:
        """The ``columns`` of the stored cases of ``source`` whose source ids are in
        ``wanted`` (distinct).

        A desk's report looks its ids up in the (source, source_id) index, 500 at a time;
        an import or a re-import puts its ids in a temporary table and joins it to that
        index, so the work grows with the import, not with the store (reading every id of
        the source, as this did before, took each part of a ten-million-row import longer
        than the last). A re-import reads the stored rows the same way: one statement per
        part instead of one per 500 ids (on a 1M PostGIS re-import this did not change the
        time measurably, docs/BENCHMARKS.md)."""
        if len(wanted) < _JOINED_LOOKUP:
            for i in range(0, len(wanted), 500):
                chunk = wanted[i : i + 500]
                yield from con.execute(
                    self._q(
                        f"SELECT {', '.join(columns)} FROM cases WHERE source = ? AND "
                        f"source_id IN ({', '.join('?' * len(chunk))})"
                    ),
                    (source, *chunk),
                )
            return
        con.execute(self._WANTED_TABLE)
        con.execute("DELETE FROM citydesk_wanted")
        self._insert_rows(con, "citydesk_wanted", ["source_id"], [(w,) for w in wanted])
        selected = ", ".join(f"c.{c}" for c in columns)
        yield from con.execute(
            self._q(
                f"SELECT {selected} FROM citydesk_wanted w JOIN cases c "
                "ON c.source = ? AND c.source_id = w.source_id"
            ),
            (source,),
        )

    def _insert(
        self,
        frame: pd.DataFrame,
        actor: str,
        role: Role,
        at: dt.datetime,
        skip_stored: bool,
        on_stored: OnStored | None = None,
    ) -> tuple[list[str], int]:
        """Insert new cases and their first events in one transaction: all or nothing.
        Rows are built (and checked) before anything is written; ``on_stored(con, rows,
        found)`` sees the rows already stored and the stored cases' ``_COMPARED`` columns
        found for them, in the same transaction (an upsert's updates)."""
        frame = complete(frame)

        def work(con) -> tuple[list[str], int]:
            return self._insert_in(con, frame, actor, role, at, skip_stored, on_stored)

        ids, skipped = self._atomic(work)
        if len(ids) >= _BULK:
            self._after_bulk_insert(len(ids))
        return ids, skipped

    def _insert_in(
        self,
        con: Any,
        frame: pd.DataFrame,
        actor: str,
        role: Role,
        at: dt.datetime,
        skip_stored: bool,
        on_stored: OnStored | None,
    ) -> tuple[list[str], int]:
        """The work of :meth:`_insert` inside a transaction that is already open (an import
        in parts runs it once per part, all in one transaction)."""
        # in report order: case ids start with the report date, so the id indexes then grow
        # at their end instead of splitting pages all over (sorting rows afterwards cost 7 s
        # per million)
        order = np.argsort(utc_ns(frame["reported_at"]), kind="stable")
        frame = frame.iloc[order].reset_index(drop=True)
        dup, found = self._already_stored(con, frame, _COMPARED if on_stored else ("source_id",))
        if dup.any() and not skip_stored:
            raise DuplicateCase(
                _("a case from {source} with id {id} is already stored").format(
                    source=frame["source"][dup].iloc[0], id=frame["source_id"][dup].iloc[0]
                ),
                _("Open the stored case instead of reporting it again."),
            )
        fresh = frame[~dup].reset_index(drop=True)
        ids: list[str] = []
        start = new_id_start()  # one counter for the whole batch: distinct ids
        # built and written in parts, inside the one transaction: the rows of a million
        # cases at once took 2.5 GB (issue 19: under 2 GB for a 1M import)
        for lo in range(0, len(fresh), _PART):
            part = fresh.iloc[lo : lo + _PART].reset_index(drop=True)
            lon, lat = coordinates(part)
            rows = build_rows(
                part,
                self.catalogue,
                self.calendar,
                actor,
                role,
                at,
                self._geometry(lon, lat),
                self._locate(lon, lat),
                id_start=start + lo,
            )
            self._write(con, rows.cases, "cases")
            self._write(con, rows.events, "case_events")
            ids.extend(rows.cases["case_id"])
            del rows
        if on_stored is not None and dup.any():
            on_stored(con, frame[dup].reset_index(drop=True), found)
        return ids, int(dup.sum())

    def _append(self, con: Any, case_id: str, event: Event, detail: dict) -> None:
        con.execute(self._q(_EVENT_INSERT), _event_row(case_id, event, detail))

    def report(
        self,
        new: NewCase,
        actor: str,
        role: Role | str = Role.SUPERVISOR,
        at: dt.datetime | None = None,
    ) -> Case:
        """Create a case in state ``reported`` (grid code, department and due time filled).
        A case whose (source, source id) is already stored is refused."""
        at = at or dt.datetime.now(dt.UTC)
        ids, _skipped = self._insert(
            new_cases_frame([new], self.calendar), actor, Role(role), at, skip_stored=False
        )
        return self.get(ids[0])

    def transition(
        self,
        case_id: str,
        action: str,
        actor: str,
        role: Role | str,
        expected_version: int,
        note: str = "",
        at: dt.datetime | None = None,
        **assign: str | None,
    ) -> Case:
        """Move a case, atomically with its event, if nobody changed it since
        ``expected_version``. ``assign`` sets the case's ``department``, ``crew`` or
        ``duplicate_of`` in the same write (a dispatch names its crew); the values are
        recorded in the event's ``detail``, so the history says who was sent."""
        self.transition_many(
            [Move(case_id, action, expected_version, note, assign)], actor, role, at
        )
        return self.get(case_id)

    def transition_many(
        self,
        moves: list[Move],
        actor: str,
        role: Role | str,
        at: dt.datetime | None = None,
    ) -> None:
        """Several moves (a bulk dispatch) in one transaction: all happen or none does.
        Cases are locked in case-id order, so two bulk dispatches overlapping in their
        cases wait for each other instead of deadlocking."""
        at = self.calendar.localize(at or dt.datetime.now(dt.UTC))
        ordered = sorted(moves, key=lambda m: m.case_id)  # stable: a case's moves keep order

        def work(con) -> None:
            for move in ordered:
                self._move(con, move, actor, role, at)

        self._atomic(work)

    def _move(self, con: Any, move: Move, actor: str, role, at) -> None:
        # what the source says (its status, its due time) comes in with the import's own steps
        by_source = move.action in ("source_update", "close_imported", "reopen")
        allowed = ASSIGNABLE + (SOURCE_ASSIGNABLE if by_source else ())
        allowed += ("due_at",) if move.action == "extend" else ()
        unknown = set(move.assign) - set(allowed)
        if unknown:
            raise ValueError(f"cannot assign {sorted(unknown)}")
        row = con.execute(
            self._q("SELECT version, due_at FROM cases WHERE case_id = ?" + self._LOCK_FOR_UPDATE),
            (move.case_id,),
        ).fetchone()
        if row is None:
            raise CaseNotFound(
                _("there is no case {id}").format(id=move.case_id), _("Check the case number.")
            )
        if row["version"] != move.expected_version:
            raise VersionConflict(
                _(
                    "case {id} was changed by someone else (version {theirs}, you saw {yours})"
                ).format(id=move.case_id, theirs=row["version"], yours=move.expected_version),
                _("Reload the case and decide again."),
            )
        if move.action == "extend":
            self._check_extension(move, row["due_at"])
        history = self._history(con, move.case_id)
        state = replay(history)
        event = apply(state, move.action, actor, role, at, move.note)
        new_state = advance(state, event)
        assign = dict(move.assign)
        if move.action == "resume":
            assign.update(self._resumed_due(history, row["due_at"], at))
        self._append(con, move.case_id, event, assign)
        facts = {**_state_facts(new_state), **assign}
        cur = con.execute(
            self._q(
                f"UPDATE cases SET {', '.join(f'{k} = ?' for k in facts)}, "
                "version = version + 1, updated_at = ? WHERE case_id = ? AND version = ?"
            ),
            (*facts.values(), to_text(at), move.case_id, move.expected_version),
        )
        if cur.rowcount != 1:  # the row is locked (or the file is): kept as a guard
            raise VersionConflict(
                _("case {id} changed during the update").format(id=move.case_id),
                _("Reload the case and decide again."),
            )

    def _resumed_due(self, history: list[Event], due_now: Any, at: dt.datetime) -> dict:
        """A resumed case's due time, later by the working time it was suspended (挂账): its
        clock stood still, as the desk shows it, so it does not come back overdue for the
        weeks it waited. Recorded in the resume step's detail like an extension's."""
        since = next((e.at for e in reversed(history) if e.action == "suspend"), None)
        due = self._local(due_now)
        if since is None or due is None:
            return {}
        paused = self.calendar.working_hours_between(since, at)
        if paused <= 0:
            return {}
        return {"due_at": to_text(self.calendar.add_working_hours(due, paused))}

    def _check_extension(self, move: Move, due_now: Any) -> None:
        """An extension moves the due time later: what it sets is checked against the
        locked row, not against what the caller read."""
        new = move.assign.get("due_at")
        if not new:
            raise CityDeskError(
                _("an extension needs the case's new due time"),
                _("Give the working hours: citydesk cases move CASE extend --hours 8 --note WHY."),
                gui_fix=_("Use “Extend the time limit” on the case card: it asks for the hours."),
            )
        old, moved = self._local(due_now), self._local(new)
        if old is not None and moved is not None and moved <= old:
            raise CityDeskError(
                _("case {id}: the new due time {new} is not after the current one {old}").format(
                    id=move.case_id, new=new, old=to_text(old)
                ),
                _("An extension gives more time: give a positive number of working hours."),
            )

    def extension_requests(self) -> set[str]:
        """The cases whose department asked for more time and has no answer yet: a request
        with no grant or refusal after it, and the case still with the department (a case
        handed back or handled leaves its request behind, as ``lifecycle.advance`` does).
        What the shift chief's desk lists to answer."""
        working = ", ".join(f"'{s.value}'" for s in WORKING)
        sql = (
            f"SELECT r.case_id FROM case_events r WHERE r.{MARKED_STEPS_SQL} "
            "AND r.action = 'request_extension' "
            "AND NOT EXISTS (SELECT 1 FROM case_events l WHERE l.case_id = r.case_id "
            "AND l.seq > r.seq AND (l.action IN ('extend', 'refuse_extension') "
            f"OR l.to_state NOT IN ({working})))"
        )
        with self._reading() as con:
            return {row["case_id"] for row in con.execute(sql).fetchall()}

    def cases_with_action(self, action: str) -> set[str]:
        """The cases whose history has ``action`` (``urge``: the cases urged, 督办; one of
        ``MARKED_ACTIONS``), by their index (the GeoPackage's partial one, PostGIS schema 7)."""
        sql, args = self._marked_steps(action)
        with self._reading() as con:
            return {row["case_id"] for row in con.execute(self._q(sql), args).fetchall()}

    def _marked_steps(self, action: str, before: dt.datetime | None = None) -> tuple[str, list]:
        """The query of the case ids with ``action`` in their history (before ``before``),
        written so the index of ``MARKED_ACTIONS`` serves it, and its arguments."""
        if action not in MARKED_ACTIONS:  # looked up by the index of these alone
            raise ValueError(f"{action!r} is not one of {MARKED_ACTIONS}")
        sql = f"SELECT case_id FROM case_events WHERE {MARKED_STEPS_SQL} AND action = ?"
        args: list = [action]
        if before is not None:
            sql += " AND at < ?"
            args.append(to_text(self.calendar.localize(before)))
        return sql, args

    def extend(
        self,
        case_id: str,
        hours: float,
        actor: str,
        role: Role | str,
        expected_version: int,
        note: str,
        at: dt.datetime | None = None,
    ) -> Case:
        """Grant a case more time (延期): its due time moves ``hours`` working hours later
        on the city's calendar (a day's work added on a Friday evening lands on Monday
        evening), recorded as an ``extend`` step whose detail holds the new due time. What
        the on-time figures then measure against: the time the city agreed to."""
        due = self.extended_due(self.get(case_id).due_at, hours)
        return self.transition(
            case_id, "extend", actor, role, expected_version, note, at, due_at=due
        )

    def extended_due(self, due_at: dt.datetime | str, hours: float) -> str:
        """The stored text of ``due_at`` (a moment, or its stored text) ``hours`` working
        hours later on the city's calendar; what an ``extend`` step assigns."""
        if not (isinstance(hours, int | float) and math.isfinite(hours) and hours > 0):
            raise CityDeskError(
                _("an extension must be a positive number of working hours, not {hours}").format(
                    hours=hours
                ),
                _("Give the hours, e.g. 8 for one working day of eight hours."),
            )
        moment = self._local(due_at) if isinstance(due_at, str) else due_at
        if moment is None:  # every case has a due time; a blank one is a damaged row
            raise CityDeskError(_("the case has no due time to extend"), _("Check the case."))
        return str(to_text(self.calendar.add_working_hours(moment, float(hours))))

    # --- crews -----------------------------------------------------------------------------
    def save_crews(self, crews: pd.DataFrame) -> None:
        """Add or replace crews (columns crew_id, name, department, lon, lat, available)."""
        rows = complete_crews(crews)

        def work(con) -> None:
            for row in rows:
                con.execute(self._q(self._UPSERT_CREW), row)

        self._atomic(work)

    def crews(self, department: str | None = None, available_only: bool = False) -> pd.DataFrame:
        sql = (
            "SELECT crew_id, name, department, lon, lat, "
            "CASE WHEN available THEN 1 ELSE 0 END AS available FROM crews WHERE 1 = 1"
        )
        args: list = []
        if department:
            sql += " AND department = ?"
            args.append(department)
        if available_only:
            sql += " AND available"
        with self._reading() as con:
            return self._frame(con, self._q(sql + " ORDER BY crew_id"), args)

    def set_crew_available(self, crew_id: str, available: bool) -> None:
        def work(con) -> None:
            cur = con.execute(
                self._q("UPDATE crews SET available = ? WHERE crew_id = ?"),
                (available, crew_id),
            )
            if cur.rowcount != 1:
                raise CityDeskError(
                    _("there is no crew {id}").format(id=crew_id), _("Check the crew id.")
                )

        self._atomic(work)

    def import_batch(
        self,
        cases: list[NewCase] | pd.DataFrame,
        actor: str = "import",
        at: dt.datetime | None = None,
    ) -> tuple[int, int]:
        """Insert a batch in one transaction: all or nothing. Cases whose (source, source_id)
        is already stored, or repeated in the batch, are skipped, so re-importing a file adds
        nothing. ``cases`` is a list of ``NewCase`` or the same as columns (what the CSV
        reader produces; a million rows never become a million objects). Cases with a
        ``history`` (a migration from another system) are checked step by step against the
        lifecycle. Returns (added, skipped)."""
        at = at or dt.datetime.now(dt.UTC)
        frame = cases if isinstance(cases, pd.DataFrame) else new_cases_frame(cases, self.calendar)
        ids, skipped = self._insert(frame, actor, Role.INTAKE, at, skip_stored=True)
        return len(ids), skipped

    def upsert_batch(
        self, cases: pd.DataFrame, actor: str = "import", at: dt.datetime | None = None
    ) -> ImportCounts:
        """A later export of a source, in one transaction: new cases are added, and a stored
        case whose source now says something else gets the event for it, appended to its
        history (nothing is rewritten): closed at the source -> ``close_imported`` at the
        source's close time; open again at the source while closed here by an import ->
        ``reopen``. A stored case that has moved on in CityDesk (accepted, dispatched ...)
        is not closed behind the desk's back: it is counted as refused, with the reason in
        the log."""
        return self.upsert_parts(lambda: iter([cases]), actor, at)

    def upsert_parts(
        self,
        parts: Callable[[], Iterator[pd.DataFrame]],
        actor: str = "import",
        at: dt.datetime | None = None,
    ) -> ImportCounts:
        """:meth:`upsert_batch` over a file read a part at a time, still in one
        transaction (all or nothing), so an import's memory stays flat however long the
        file is. ``parts()`` yields the parts afresh each time it is called (a transaction
        the database gave up on is run again from the start). A source id met again in a
        later part is then stored, and its row is what the source says now, exactly as a
        repeat within one batch."""
        at = at or dt.datetime.now(dt.UTC)

        def work(con) -> tuple[ImportCounts, int]:
            counts, added = ImportCounts(), 0

            def update(con, stored_rows: pd.DataFrame, found: dict) -> None:
                self._update_from_source(con, stored_rows, found, actor, at, counts)

            for part in parts():
                ids, skipped = self._insert_in(
                    con, complete(part), actor, Role.INTAKE, at, True, update
                )
                added += len(ids)
                counts.unchanged += skipped
            return counts, added

        counts, added = self._atomic(work)
        counts.added = added
        counts.unchanged -= counts.updated + counts.refused
        if added >= _BULK:
            self._after_bulk_insert(added)
        return counts

    def _update_from_source(
        self,
        con: Any,
        rows: pd.DataFrame,
        found: dict[tuple[str, str], Any],
        actor: str,
        at: dt.datetime,
        counts: ImportCounts,
    ) -> None:
        """Compare the rows an export gives for stored cases with ``found`` (their stored
        ``_COMPARED`` columns, read before the part's new cases were written) and append
        what the source now says."""
        keyed = rows[rows["source_id"].notna()]
        stored = dict(found)
        # a source id repeated within the part whose first row was new: that case was
        # written after ``found`` was read, so it is looked up now (rare: one export row
        # per case is the rule)
        for source in keyed["source"].unique():
            ids = keyed.loc[keyed["source"] == source, "source_id"].astype(str)
            later = [i for i in dict.fromkeys(ids) if (source, i) not in stored]
            for r in self._by_source_id(con, source, later, list(_COMPARED)) if later else ():
                stored[(source, r["source_id"])] = r
        nat = _NAT_NS
        n = len(keyed)
        keys = list(zip(keyed["source"], keyed["source_id"].astype(str), strict=True))
        matched = [stored.get(k) for k in keys]
        # every moment compared as UTC nanoseconds, converted once per column (one
        # conversion per case cost 40 s per 100,000 rows)
        closed_ns = utc_ns(keyed["closed_at"]).tolist()
        due_ns = utc_ns(keyed["due_at"]).tolist() if "due_at" in keyed else [nat] * n
        updated = keyed.get("source_updated_at")
        updated_text = to_text_many(utc_ns(updated)) if updated is not None else [None] * n
        # the stored due time matters only where it is the source's own
        stored_texts = [r["due_at"] if r and r["due_given"] else None for r in matched]
        stored_due = utc_ns(pd.to_datetime(stored_texts, format="ISO8601", utc=True)).tolist()
        statuses = keyed["source_status"].tolist() if "source_status" in keyed else [None] * n
        histories: list[list[HistoryStep] | None] = (
            keyed["history"].tolist() if "history" in keyed else [None] * n
        )
        simple_closes: list[tuple[Any, dt.datetime, str, dict]] = []
        stepped: list[tuple[Any, list[HistoryStep], str | None, dict]] = []

        def refuse(key: tuple[str, str], row: Any, why: str) -> None:
            """A case that has moved on here: left as it is, counted, named in the log."""
            counts.refused += 1
            log.warning(
                "%s %s: %s, but case %s is %s here; left as it is",
                *key,
                why,
                row["case_id"],
                row["status"],
            )

        for i, row in enumerate(matched):
            if row is None:  # repeated within the batch: its first row decided
                continue
            close = closed_ns[i]
            said = self._source_said(row, statuses[i], due_ns[i], stored_due[i])
            assign = dict(said[1]) if said else {}
            if assign and updated_text[i] is not None:
                assign["source_updated_at"] = updated_text[i]
            status = row["status"]
            recorded = histories[i]
            if recorded:  # the source's steps: those the case has not taken yet
                new_steps = steps_not_taken(
                    status, row["registered_at"], row["dispatched_at"], recorded
                )
                if new_steps is None:
                    refuse(keys[i], row, "the source's steps no longer match")
                    continue
                if new_steps:
                    stepped.append((row, new_steps, said[0] if said else None, assign))
                    counts.updated += 1
                    continue
            if close != nat and status == State.REPORTED:
                when = pd.Timestamp(close, tz="UTC").to_pydatetime()
                note = "; ".join([_("closed in the source system"), *([said[0]] if said else [])])
                if row["version"] == 1:  # its whole history is its report: closed in bulk
                    simple_closes.append((row, self.calendar.localize(when), note, assign))
                    counts.updated += 1
                    continue
                move = Move(row["case_id"], "close_imported", row["version"], note, assign)
                self._move(con, move, actor, Role.ADMIN, self.calendar.localize(when))
            elif close != nat and status not in (State.CLOSED, State.CANCELLED):
                refuse(keys[i], row, "closed at the source")
                continue
            elif close == nat and status == State.CLOSED and row["registered_at"] is None:
                note = "; ".join([_("reopened in the source system"), *([said[0]] if said else [])])
                move = Move(row["case_id"], "reopen", row["version"], note, assign)
                self._move(con, move, actor, Role.ADMIN, self.calendar.localize(at))
            elif said is not None:
                move = Move(row["case_id"], "source_update", row["version"], said[0], assign)
                self._move(con, move, actor, Role.ADMIN, self.calendar.localize(at))
            else:
                continue
            counts.updated += 1
        self._close_imported_many(con, simple_closes, actor)
        self._source_steps_many(con, stepped, actor, self.calendar.localize(at))

    def _source_steps_many(
        self,
        con: Any,
        cases: list[tuple[Any, list[HistoryStep], str | None, dict]],
        actor: str,
        at: dt.datetime,
    ) -> None:
        """The steps a later export recorded for cases imported with their steps, appended
        for all of them at once: their histories read in a few queries and each case
        written by one statement run over all (one move at a time, the steps of 73,000
        cases took 100 s of a 110 s re-import). The events and the summary columns come
        from the lifecycle itself, as in :meth:`_move`; a case changed meanwhile fails
        the whole import. ``cases``: (stored row, steps, the source's new word, what it
        assigns)."""
        if not cases:
            return
        ids = [row["case_id"] for row, *_rest in cases]
        stored: dict[str, list[Event]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = con.execute(
                self._q(f"SELECT * FROM case_events WHERE case_id IN ({marks}) ORDER BY seq"),
                tuple(chunk),
            ).fetchall()
            for r in rows:
                stored.setdefault(r["case_id"], []).append(self._event(r))
        events, updates = [], []
        for row, steps, said, assign in cases:
            state = replay(stored.get(row["case_id"], []))
            moved = 0
            for step in steps:
                when = self.calendar.localize(step.at)
                event = apply(
                    state, step.action, step.actor or actor, Role(step.role), when, step.note
                )
                state = advance(state, event)
                events.append(_event_row(row["case_id"], event, {}))
                moved += 1
            last = when
            if said is not None:
                event = apply(state, "source_update", actor, Role.ADMIN, at, said)
                state = advance(state, event)
                events.append(_event_row(row["case_id"], event, assign))
                moved += 1
                last = at
            facts = _state_facts(state)
            updates.append(
                (
                    *facts.values(),
                    *(assign.get(c) for c in SOURCE_ASSIGNABLE),
                    moved,
                    to_text(last),
                    row["case_id"],
                    row["version"],
                )
            )
        self._insert_rows(con, "case_events", list(_EVENT_COLUMNS), events)
        names = list(_state_facts(CaseState()))
        cursor = con.cursor()
        cursor.executemany(self._q(_summaries_sql(names, "version + ?", "?")), updates)
        if int(cursor.rowcount) != len(updates):
            raise VersionConflict(
                _("cases changed while the import added their steps"),
                _("Run the import again; nothing of it was stored."),
            )

    def _close_imported_many(
        self, con: Any, closes: list[tuple[Any, dt.datetime, str, dict]], actor: str
    ) -> None:
        """``close_imported`` for many cases whose history is only their report, as two
        statements run over all of them (one move at a time, 100,000 closes took 11 minutes
        on PostGIS). The event and the summary columns come from the lifecycle itself, as
        in :meth:`_move`; a case changed meanwhile fails the whole import."""
        if not closes:
            return
        reported = CaseState(state=State.REPORTED, events=1, history=["report"])
        events, updates = [], []
        for row, when, note, assign in closes:
            event = apply(reported, "close_imported", actor, Role.ADMIN, when, note)
            facts = _state_facts(advance(reported, event))
            events.append(_event_row(row["case_id"], event, assign))
            updates.append(
                (
                    *facts.values(),
                    *(assign.get(c) for c in SOURCE_ASSIGNABLE),
                    to_text(when),
                    row["case_id"],
                )
            )
        self._insert_rows(con, "case_events", list(_EVENT_COLUMNS), events)
        changed = self._close_reported(con, list(_state_facts(reported)), updates)
        if changed != len(updates):
            raise VersionConflict(
                _("cases changed while the import closed them"),
                _("Run the import again; nothing of it was stored."),
            )

    def _close_reported(self, con: Any, names: list[str], rows: list[tuple]) -> int:
        """Write each row's ``names`` (the summary columns), the ``SOURCE_ASSIGNABLE``
        columns it gives (None keeps the stored value), version 2 and its update time into
        the case it names, if that case is still at version 1; the number of cases
        changed. One statement per row here; a server backend may do it in one."""
        cursor = con.cursor()
        cursor.executemany(self._q(_summaries_sql(names, "2", "1")), rows)
        return int(cursor.rowcount)

    @staticmethod
    def _source_said(row, status_there, due: int, stored_due: int):
        """(note, new values) when a later export changes the source's status or its own
        due time for a case; None when it says nothing new. Moments are UTC nanoseconds."""
        nat = _NAT_NS
        notes: list[str] = []
        assign: dict[str, str | None] = {}
        if isinstance(status_there, str) and status_there and status_there != row["source_status"]:
            notes.append(
                _("status in the source system: {old} -> {new}").format(
                    old=row["source_status"] or "-", new=status_there
                )
            )
            assign["source_status"] = status_there
        if due != nat and bool(row["due_given"]) and due != stored_due:
            new_due = to_text_many(np.array([due], dtype=np.int64))[0]
            notes.append(
                _("due time in the source system: {old} -> {new}").format(
                    old=row["due_at"], new=new_due
                )
            )
            assign["due_at"] = new_due
        return ("; ".join(notes), assign) if notes else None

    def verify_all(self) -> list[str]:
        """Case ids whose stored state or summary columns disagree with the replay of their
        history (one pass over the history, in case-id order)."""
        names = ["case_id", *_state_facts(CaseState()).keys()]
        with self._reading() as con:
            stored = {
                r["case_id"]: {k: r[k] for k in names}
                for r in self._stream(con, f"SELECT {', '.join(names)} FROM cases")
            }
            events = self._stream(con, "SELECT * FROM case_events ORDER BY case_id, seq")
            bad = []
            for case_id, rows in groupby(events, key=lambda r: r["case_id"]):
                facts = stored.pop(case_id, None)
                try:
                    state = replay(self._event(r) for r in rows)
                except CityDeskError:
                    bad.append(case_id)
                    continue
                expected = {"case_id": case_id, **_state_facts(state)}
                if facts is None or facts != expected:
                    bad.append(case_id)
        return sorted(bad + list(stored))  # cases without any history are broken too
