"""The case store: cases and their append-only history, behind one narrow interface.

``SqliteCaseStore`` keeps them in the project's GeoPackage (WAL mode, one transaction per
change). A PostGIS implementation will follow the same interface, so the SQL here stays plain
and portable (no SQLite-only functions in queries).

Guarantees:

- every state change goes through :func:`incidents.lifecycle.apply`, and the case row and its
  new event are written in one transaction: both or neither;
- the history is append-only, enforced by database triggers, not only by the code;
- optimistic locking: a change names the case version it saw; if someone else changed the
  case meanwhile, the change is refused with :class:`VersionConflict` and nothing is written;
- a batch import is all-or-nothing and idempotent on (source, source id).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from layers.errors import CityDeskError
from layers.i18n import _

from .calendar import WorkingCalendar
from .categories import Catalogue
from .gpkg_geometry import point_blobs
from .lifecycle import CaseState, Event, Role, State, advance, apply, replay

SCHEMA_VERSION = 1


class VersionConflict(CityDeskError):
    """Someone else changed the case since it was read."""


class CaseNotFound(CityDeskError):
    pass


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
    closed_at: dt.datetime | None
    rework_count: int
    return_count: int
    version: int
    updated_at: dt.datetime

    @property
    def needs_location(self) -> bool:
        return self.lon is None or self.lat is None


_DDL = [
    """CREATE TABLE IF NOT EXISTS cases (
        fid INTEGER PRIMARY KEY AUTOINCREMENT,
        geom BLOB,
        case_id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        category_code TEXT NOT NULL,
        category_standard TEXT NOT NULL,
        status TEXT NOT NULL,
        lon REAL, lat REAL,
        grid_code TEXT,
        department TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL,
        source_id TEXT,
        reporter_name TEXT NOT NULL DEFAULT '',
        reporter_phone TEXT NOT NULL DEFAULT '',
        reporter_email TEXT NOT NULL DEFAULT '',
        photos TEXT NOT NULL DEFAULT '[]',
        priority INTEGER NOT NULL DEFAULT 3,
        reported_at TEXT NOT NULL,
        due_at TEXT NOT NULL,
        closed_at TEXT,
        rework_count INTEGER NOT NULL DEFAULT 0,
        return_count INTEGER NOT NULL DEFAULT 0,
        version INTEGER NOT NULL DEFAULT 1,
        updated_at TEXT NOT NULL,
        UNIQUE (source, source_id)
    )""",
    """CREATE TABLE IF NOT EXISTS case_events (
        case_id TEXT NOT NULL REFERENCES cases(case_id),
        seq INTEGER NOT NULL,
        action TEXT NOT NULL,
        from_state TEXT NOT NULL,
        to_state TEXT NOT NULL,
        actor TEXT NOT NULL,
        role TEXT NOT NULL,
        at TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (case_id, seq)
    )""",
    """CREATE TRIGGER IF NOT EXISTS case_events_append_only_u BEFORE UPDATE ON case_events
       BEGIN SELECT RAISE(ABORT, 'case history is append-only'); END""",
    """CREATE TRIGGER IF NOT EXISTS case_events_append_only_d BEFORE DELETE ON case_events
       BEGIN SELECT RAISE(ABORT, 'case history is append-only'); END""",
    "CREATE INDEX IF NOT EXISTS cases_status ON cases(status)",
    "CREATE INDEX IF NOT EXISTS cases_grid ON cases(grid_code)",
    "CREATE INDEX IF NOT EXISTS cases_reported ON cases(reported_at)",
    """CREATE TABLE IF NOT EXISTS case_store_meta (key TEXT PRIMARY KEY, value TEXT)""",
]

_CASE_COLUMNS = [f for f in Case.__dataclass_fields__]


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


class SqliteCaseStore:
    """Cases in a GeoPackage (or any SQLite file)."""

    def __init__(
        self,
        path: str | Path,
        catalogue: Catalogue | None = None,
        calendar: WorkingCalendar | None = None,
        grid=None,
    ) -> None:
        self.path = Path(path)
        self.catalogue = catalogue or Catalogue.default()
        self.calendar = calendar or WorkingCalendar()
        self.grid = grid  # incidents.grid_index.GridIndex or None
        self._con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._con.row_factory = sqlite3.Row
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA busy_timeout=30000")
        self._con.execute("PRAGMA foreign_keys=ON")
        with self.transaction():
            for ddl in _DDL:
                self._con.execute(ddl)
            self._register_in_geopackage()
            self._con.execute(
                "INSERT OR IGNORE INTO case_store_meta (key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> SqliteCaseStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE takes the write lock up front, so two desks never deadlock halfway;
        any exception rolls everything back."""
        self._con.execute("BEGIN IMMEDIATE")
        try:
            yield self._con
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        else:
            self._con.execute("COMMIT")

    def _register_in_geopackage(self) -> None:
        """Make ``cases`` a GeoPackage point layer (EPSG:4326) when the file is a GeoPackage."""
        has = self._con.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='gpkg_contents'"
        ).fetchone()
        if not has:
            return
        self._con.execute(
            "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, "
            "description, srs_id) VALUES ('cases', 'features', 'cases', "
            "'CityDesk city-management cases', 4326)"
        )
        self._con.execute(
            "INSERT OR IGNORE INTO gpkg_geometry_columns (table_name, column_name, "
            "geometry_type_name, srs_id, z, m) VALUES ('cases', 'geom', 'POINT', 4326, 0, 0)"
        )
        self._con.execute(
            "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, "
            "description) VALUES ('case_events', 'attributes', 'case_events', "
            "'CityDesk case history (append-only)')"
        )

    # --- reading ---------------------------------------------------------------------------
    def _row_to_case(self, row: sqlite3.Row) -> Case:
        data = {k: row[k] for k in _CASE_COLUMNS}
        data["status"] = State(data["status"])
        data["photos"] = json.loads(data["photos"] or "[]")
        for key in ("reported_at", "due_at", "closed_at", "updated_at"):
            data[key] = _parse(data[key])
        return Case(**data)

    def get(self, case_id: str) -> Case:
        row = self._con.execute("SELECT * FROM cases WHERE case_id = ?", (case_id,)).fetchone()
        if row is None:
            raise CaseNotFound(
                _("there is no case {id}").format(id=case_id), _("Check the case number.")
            )
        return self._row_to_case(row)

    def history(self, case_id: str) -> list[Event]:
        rows = self._con.execute(
            "SELECT * FROM case_events WHERE case_id = ? ORDER BY seq", (case_id,)
        ).fetchall()
        return [
            Event(
                r["seq"],
                r["action"],
                State(r["from_state"]),
                State(r["to_state"]),
                r["actor"],
                Role(r["role"]),
                _parse(r["at"]),
                r["note"],
            )
            for r in rows
        ]

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
    )

    def events_frame(self, columns: list[str] | None = None) -> pd.DataFrame:
        """The whole history as a DataFrame (for KPIs and audits)."""
        cols = list(columns or self._EVENT_COLUMNS)
        unknown = set(cols) - set(self._EVENT_COLUMNS)
        if unknown:
            raise ValueError(f"unknown event columns {sorted(unknown)}")
        return pd.read_sql_query(f"SELECT {', '.join(cols)} FROM case_events", self._con)

    def count(self) -> int:
        return self._con.execute("SELECT COUNT(*) FROM cases").fetchone()[0]

    def query(
        self,
        status: Iterable[str] | None = None,
        department: str | None = None,
        category_code: str | None = None,
        grid_prefix: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        columns: list[str] | None = None,
        ordered: bool = True,
    ) -> pd.DataFrame:
        """Cases as a DataFrame, filtered with bound parameters only (never string-built).
        ``columns`` limits what is read (KPIs over a million cases need six of them);
        ``ordered=False`` skips sorting by report time, which on a large store turns a
        sequential scan into random page reads through the index."""
        if columns is not None:
            unknown = set(columns) - set(_CASE_COLUMNS)
            if unknown:
                raise ValueError(f"unknown case columns {sorted(unknown)}")
        select = ", ".join(columns) if columns is not None else "*"
        where, args = [], []
        if status:
            status = list(status)
            where.append(f"status IN ({', '.join('?' for _ in status)})")
            args += status
        for column, value in (("department", department), ("category_code", category_code)):
            if value:
                where.append(f"{column} = ?")
                args.append(value)
        if grid_prefix:
            where.append("grid_code LIKE ? ESCAPE '\\'")
            args.append(
                grid_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            )
        if since:
            where.append("reported_at >= ?")
            args.append(_iso(since))
        if until:
            where.append("reported_at < ?")
            args.append(_iso(until))
        sql = f"SELECT {select} FROM cases" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY reported_at" if ordered else ""
        frame = pd.read_sql_query(sql, self._con, params=args)
        return frame.drop(columns=["geom"], errors="ignore")

    # --- writing ---------------------------------------------------------------------------
    def _locate(self, cases: list[NewCase]) -> tuple[list[str | None], list[bytes | None]]:
        """Grid codes and GeoPackage point blobs for many cases in one vectorised pass."""
        lon = np.array([c.lon if c.lon is not None else np.nan for c in cases], float)
        lat = np.array([c.lat if c.lat is not None else np.nan for c in cases], float)
        codes = (
            list(self.grid.codes_at(lon, lat))
            if self.grid is not None and cases
            else [None] * len(cases)
        )
        return codes, point_blobs(lon, lat)

    def _new_row(
        self, new: NewCase, at: dt.datetime, grid_code: str | None, blob: bytes | None
    ) -> dict[str, Any]:
        """The row for a new case (grid code and geometry come from ``_locate``)."""
        category = self.catalogue.get(new.kind, new.category_code, new.category_standard)
        reported = self.calendar.localize(new.reported_at or at)
        has_xy = new.lon is not None and new.lat is not None
        return {
            "geom": blob,
            "case_id": self._new_id(reported),
            "kind": new.kind,
            "category_code": category.code,
            "category_standard": category.standard,
            "status": State.NEW.value,
            "lon": new.lon if has_xy else None,
            "lat": new.lat if has_xy else None,
            "grid_code": grid_code,
            "department": category.department,
            "description": new.description,
            "source": new.source,
            "source_id": new.source_id,
            "reporter_name": new.reporter_name,
            "reporter_phone": new.reporter_phone,
            "reporter_email": new.reporter_email,
            "photos": json.dumps(new.photos, ensure_ascii=False),
            "priority": int(new.priority),
            "reported_at": _iso(reported),
            "due_at": _iso(self.calendar.due(reported, category.limit, category.unit)),
            "closed_at": None,
            "rework_count": 0,
            "return_count": 0,
            "version": 1,
            "updated_at": _iso(self.calendar.localize(at)),
        }

    @staticmethod
    def _new_id(reported: dt.datetime) -> str:
        return f"{reported:%Y%m%d}-{uuid.uuid4().hex[:10]}"

    def _initial_events(
        self, row: dict[str, Any], actor: str, role: Role, closed_at: dt.datetime | None
    ) -> tuple[list[Event], CaseState]:
        """The report event (at the reported time) and, for imports of cases already closed
        at the source, an explicit ``close_imported`` event; checked by the lifecycle."""
        state = CaseState()
        events = [apply(state, "report", actor, role, _parse(row["reported_at"]))]
        state = advance(state, events[-1])
        if closed_at is not None:
            events.append(
                apply(
                    state,
                    "close_imported",
                    actor,
                    Role.ADMIN,
                    self.calendar.localize(closed_at),
                    _("closed in the source system"),
                )
            )
            state = advance(state, events[-1])
        row["status"] = state.state.value
        row["closed_at"] = _iso(state.closed_at)
        return events, state

    def _write_new(
        self, con: sqlite3.Connection, rows: list[dict[str, Any]], events: list[tuple[str, Event]]
    ) -> None:
        """Insert case rows and their first events in bulk (inside the caller's transaction)."""
        if not rows:
            return
        cols = list(rows[0])
        con.executemany(
            f"INSERT INTO cases ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
            [[r[c] for c in cols] for r in rows],
        )
        con.executemany(
            "INSERT INTO case_events (case_id, seq, action, from_state, to_state, actor, role, "
            "at, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    cid,
                    e.seq,
                    e.action,
                    e.from_state.value,
                    e.to_state.value,
                    e.actor,
                    e.role.value,
                    _iso(e.at),
                    e.note,
                )
                for cid, e in events
            ],
        )

    @staticmethod
    def _append(con: sqlite3.Connection, case_id: str, event: Event) -> None:
        con.execute(
            "INSERT INTO case_events (case_id, seq, action, from_state, to_state, actor, role, "
            "at, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                case_id,
                event.seq,
                event.action,
                event.from_state.value,
                event.to_state.value,
                event.actor,
                event.role.value,
                _iso(event.at),
                event.note,
            ),
        )

    def report(
        self,
        new: NewCase,
        actor: str,
        role: Role | str = Role.SUPERVISOR,
        at: dt.datetime | None = None,
    ) -> Case:
        """Create a case in state ``reported`` (grid code, department and due time filled)."""
        at = at or dt.datetime.now(dt.UTC)
        codes, blobs = self._locate([new])
        row = self._new_row(new, at, codes[0], blobs[0])
        events, _state = self._initial_events(row, actor, Role(role), new.closed_at)
        with self.transaction() as con:
            self._write_new(con, [row], [(row["case_id"], e) for e in events])
        return self.get(row["case_id"])

    def transition(
        self,
        case_id: str,
        action: str,
        actor: str,
        role: Role | str,
        expected_version: int,
        note: str = "",
        at: dt.datetime | None = None,
    ) -> Case:
        """Move a case, atomically with its event, if nobody changed it since
        ``expected_version``."""
        at = self.calendar.localize(at or dt.datetime.now(dt.UTC))
        with self.transaction() as con:
            row = con.execute("SELECT version FROM cases WHERE case_id = ?", (case_id,)).fetchone()
            if row is None:
                raise CaseNotFound(
                    _("there is no case {id}").format(id=case_id), _("Check the case number.")
                )
            if row["version"] != expected_version:
                raise VersionConflict(
                    _(
                        "case {id} was changed by someone else (version {theirs}, you saw {yours})"
                    ).format(id=case_id, theirs=row["version"], yours=expected_version),
                    _("Reload the case and decide again."),
                )
            state = replay(self.history(case_id))
            event = apply(state, action, actor, role, at, note)
            new_state = advance(state, event)
            self._append(con, case_id, event)
            cur = con.execute(
                "UPDATE cases SET status = ?, rework_count = ?, return_count = ?, "
                "closed_at = ?, version = version + 1, updated_at = ? "
                "WHERE case_id = ? AND version = ?",
                (
                    new_state.state.value,
                    new_state.rework_count,
                    new_state.return_count,
                    _iso(new_state.closed_at),
                    _iso(at),
                    case_id,
                    expected_version,
                ),
            )
            if cur.rowcount != 1:  # cannot happen under BEGIN IMMEDIATE; kept as a guard
                raise VersionConflict(
                    _("case {id} changed during the update").format(id=case_id),
                    _("Reload the case and decide again."),
                )
        return self.get(case_id)

    def import_batch(
        self, cases: list[NewCase], actor: str = "import", at: dt.datetime | None = None
    ) -> tuple[int, int]:
        """Insert a batch in one transaction: all or nothing. Cases whose (source, source_id)
        is already stored, or repeated in the batch, are skipped, so re-importing a file adds
        nothing. Grid codes and geometries are computed for the whole batch at once and rows
        go in with ``executemany``. Returns (added, skipped)."""
        at = at or dt.datetime.now(dt.UTC)
        n = len(cases)
        codes, blobs = self._locate(cases)
        # validate and build everything before writing anything
        rows = [
            self._new_row(c, at, code, blob)
            for c, code, blob in zip(cases, codes, blobs, strict=True)
        ]
        added_rows, events = [], []
        with self.transaction() as con:
            stored = {
                source: {
                    r[0]
                    for r in con.execute(
                        "SELECT source_id FROM cases WHERE source = ? AND source_id IS NOT NULL",
                        (source,),
                    )
                }
                for source in {r["source"] for r in rows}
            }
            for row, case in zip(rows, cases, strict=True):
                key = row["source_id"]
                if key is not None:
                    if key in stored[row["source"]]:
                        continue
                    stored[row["source"]].add(key)
                new_events, _state = self._initial_events(row, actor, Role.INTAKE, case.closed_at)
                added_rows.append(row)
                events.extend((row["case_id"], e) for e in new_events)
            self._write_new(con, added_rows, events)
        return len(added_rows), n - len(added_rows)

    def verify_all(self) -> list[str]:
        """Case ids whose stored state disagrees with the replay of their history."""
        bad = []
        for row in self._con.execute("SELECT case_id, status, rework_count FROM cases"):
            try:
                state = replay(self.history(row["case_id"]))
            except CityDeskError:
                bad.append(row["case_id"])
                continue
            if state.state.value != row["status"] or state.rework_count != row["rework_count"]:
                bad.append(row["case_id"])
        return bad
