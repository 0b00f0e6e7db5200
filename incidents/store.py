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
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio

from layers.errors import CityDeskError
from layers.i18n import _

from .calendar import WorkingCalendar
from .categories import Catalogue
from .gpkg import ensure_geopackage, point_blobs
from .lifecycle import CaseState, Event, Role, State, advance, apply, replay
from .new_cases import HistoryStep, NewCase, build_rows, complete, new_cases_frame
from .timestamps import from_text, to_text, utc_ns

__all__ = ["Case", "HistoryStep", "Move", "NewCase", "SqliteCaseStore", "VersionConflict"]

#: 2: moments as GeoPackage DATETIME in UTC; first registration/dispatch kept on the case
SCHEMA_VERSION = 2


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

    @property
    def needs_location(self) -> bool:
        return self.lon is None or self.lat is None


_MOMENTS = ("reported_at", "due_at", "registered_at", "dispatched_at", "closed_at", "updated_at")

_DDL = [
    """CREATE TABLE IF NOT EXISTS cases (
        fid INTEGER PRIMARY KEY AUTOINCREMENT,
        geom POINT,
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
        reported_at DATETIME NOT NULL,
        due_at DATETIME NOT NULL,
        registered_at DATETIME,
        dispatched_at DATETIME,
        dispatcher TEXT,
        crew TEXT,
        duplicate_of TEXT,
        closed_at DATETIME,
        rework_count INTEGER NOT NULL DEFAULT 0,
        return_count INTEGER NOT NULL DEFAULT 0,
        version INTEGER NOT NULL DEFAULT 1,
        updated_at DATETIME NOT NULL,
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
        at DATETIME NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (case_id, seq)
    )""",
    """CREATE TABLE IF NOT EXISTS crews (
        crew_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        department TEXT NOT NULL,
        lon REAL, lat REAL,
        available INTEGER NOT NULL DEFAULT 1
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
_BULK = 10_000  # a batch this large is an import, not a desk's report
#: what the KPIs read: one narrow scan, no history (the store keeps these on the case)
FACT_COLUMNS = [
    "case_id",
    "department",
    "grid_code",
    "category_code",
    "status",
    "due_at",
    "registered_at",
    "dispatched_at",
    "dispatcher",
    "closed_at",
    "rework_count",
    "return_count",
]


#: what a move may set on the case besides its state
ASSIGNABLE = ("department", "crew", "duplicate_of")


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
                int(bool(r.get("available", True))),
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


class SqliteCaseStore:
    """Cases in a GeoPackage: the project file, or a file of its own."""

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
        # 64 MB of page cache: a bulk import touches the case-id and source-id indexes all
        # over; with SQLite's default 2 MB it re-reads them from disk (import 90 s -> 40 s/M)
        self._con.execute("PRAGMA cache_size=-65536")
        try:
            with self.transaction():
                self._check_schema()
                new_header = ensure_geopackage(self._con)
                for ddl in _DDL:
                    self._con.execute(ddl)
                self._register_in_geopackage()
                self._con.execute(
                    "INSERT OR IGNORE INTO case_store_meta (key, value) "
                    "VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
            if new_header:
                self._con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except BaseException:
            self._con.close()
            raise

    def _check_schema(self) -> None:
        has_meta = self._con.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='case_store_meta'"
        ).fetchone()
        if not has_meta:
            return
        row = self._con.execute(
            "SELECT value FROM case_store_meta WHERE key='schema_version'"
        ).fetchone()
        found = int(row[0]) if row else 0
        if found != SCHEMA_VERSION:
            raise CityDeskError(
                _(
                    "the case store in this file has schema version {found}; this CityDesk "
                    "reads version {ours}"
                ).format(found=found, ours=SCHEMA_VERSION),
                _(
                    "Open it with the CityDesk that wrote it, export the cases (Open311 or "
                    "CSV) and import them here."
                ),
                path=str(self.path),
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
        """Make ``cases`` a GeoPackage point layer (EPSG:4326) and the history an
        attributes table, so QGIS and GDAL list both."""
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
    def _local(self, text: str | None) -> dt.datetime | None:
        moment = from_text(text)
        return moment.astimezone(self.calendar.zone) if moment is not None else None

    def _row_to_case(self, row: sqlite3.Row) -> Case:
        data = {k: row[k] for k in _CASE_COLUMNS}
        data["status"] = State(data["status"])
        data["photos"] = json.loads(data["photos"] or "[]")
        for key in _MOMENTS:
            data[key] = self._local(data[key])
        return Case(**data)

    def get(self, case_id: str) -> Case:
        row = self._con.execute("SELECT * FROM cases WHERE case_id = ?", (case_id,)).fetchone()
        if row is None:
            raise CaseNotFound(
                _("there is no case {id}").format(id=case_id), _("Check the case number.")
            )
        return self._row_to_case(row)

    def _event(self, r: sqlite3.Row) -> Event:
        return Event(
            r["seq"],
            r["action"],
            State(r["from_state"]),
            State(r["to_state"]),
            r["actor"],
            Role(r["role"]),
            self._local(r["at"]),
            r["note"],
        )

    def history(self, case_id: str) -> list[Event]:
        rows = self._con.execute(
            "SELECT * FROM case_events WHERE case_id = ? ORDER BY seq", (case_id,)
        ).fetchall()
        return [self._event(r) for r in rows]

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

    def events_frame(self, columns: list[str] | None = None) -> pd.DataFrame:
        """The whole history as a DataFrame (for audits)."""
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
        ``columns`` limits what is read; ``ordered=False`` skips sorting by report time,
        which on a large store turns a sequential scan into random page reads."""
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
        for op, moment in ((">=", since), ("<", until)):
            if moment:
                where.append(f"reported_at {op} ?")
                args.append(to_text(self.calendar.localize(moment)))
        sql = f"SELECT {select} FROM cases" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY reported_at" if ordered else ""
        frame = pd.read_sql_query(sql, self._con, params=args)
        return frame.drop(columns=["geom"], errors="ignore")

    def query_ids(self, case_ids: Iterable[str]) -> pd.DataFrame:
        """The rows of these cases (the ones that exist), in report order."""
        ids = list(dict.fromkeys(case_ids))
        chunks = [ids[i : i + 500] for i in range(0, len(ids), 500)] or [[]]
        parts = [
            pd.read_sql_query(
                f"SELECT * FROM cases WHERE case_id IN ({', '.join('?' * len(chunk))})",
                self._con,
                params=chunk,
            )
            for chunk in chunks
        ]
        frame = pd.concat(parts, ignore_index=True).drop(columns=["geom"], errors="ignore")
        return frame.sort_values("reported_at", kind="stable").reset_index(drop=True)

    def data_version(self) -> int:
        """Changes whenever another connection (another desk, another process) commits:
        what a desk polls to refresh live without re-reading the cases."""
        return self._con.execute("PRAGMA data_version").fetchone()[0]

    def case_facts(
        self,
        registered_since: dt.datetime | None = None,
        registered_until: dt.datetime | None = None,
    ) -> pd.DataFrame:
        """The ``FACT_COLUMNS`` of the registered cases, moments as UTC datetimes.

        Read through GDAL's Arrow stream rather than row by row through Python: GDAL parses
        the GeoPackage DATETIME columns in C, which makes a million cases 0.4 s instead of
        4 s. The WHERE clause is built from validated moments only."""
        where = ["registered_at IS NOT NULL"]
        for op, moment in ((">=", registered_since), ("<", registered_until)):
            if moment is not None:
                where.append(f"registered_at {op} '{to_text(self.calendar.localize(moment))}'")
        with warnings.catch_warnings():  # GDAL notes a GeoPackage not named .gpkg; harmless
            warnings.filterwarnings("ignore", message=".*non conformant file extension")
            _meta, table = pyogrio.read_arrow(
                self.path,
                layer="cases",
                columns=FACT_COLUMNS,
                read_geometry=False,
                where=" AND ".join(where),
            )
        frame = table.to_pandas()
        for col in ("due_at", "registered_at", "dispatched_at", "closed_at"):
            frame[col] = pd.to_datetime(frame[col], utc=True)
        return frame

    # --- writing ---------------------------------------------------------------------------
    def _locate(self, frame: pd.DataFrame) -> tuple[list[str | None], list[bytes | None]]:
        """Grid codes and GeoPackage point blobs for many cases in one vectorised pass."""
        lon = pd.to_numeric(frame["lon"], errors="coerce").to_numpy(float)
        lat = pd.to_numeric(frame["lat"], errors="coerce").to_numpy(float)
        codes = (
            list(self.grid.codes_at(lon, lat))
            if self.grid is not None and len(frame)
            else [None] * len(frame)
        )
        return codes, point_blobs(lon, lat)

    def _already_stored(self, con: sqlite3.Connection, frame: pd.DataFrame) -> np.ndarray:
        """Rows whose (source, source id) is stored, or repeated earlier in the batch."""
        keyed = frame["source_id"].notna().to_numpy()
        repeated = keyed & frame.duplicated(["source", "source_id"]).to_numpy()
        stored = np.zeros(len(frame), dtype=bool)
        for source in frame.loc[keyed, "source"].unique():
            mine = keyed & (frame["source"] == source).to_numpy()
            wanted = frame.loc[mine, "source_id"].astype(str).unique().tolist()
            if len(wanted) < _BULK:
                # a desk's report: look its ids up in the (source, source_id) index rather
                # than reading every id of the source (7 ms a report at 10k stored cases)
                ids = set()
                for i in range(0, len(wanted), 500):
                    chunk = wanted[i : i + 500]
                    ids.update(
                        r[0]
                        for r in con.execute(
                            "SELECT source_id FROM cases WHERE source = ? AND source_id IN "
                            f"({', '.join('?' * len(chunk))})",
                            (source, *chunk),
                        )
                    )
            else:
                ids = {
                    r[0]
                    for r in con.execute(
                        "SELECT source_id FROM cases WHERE source = ? AND source_id IS NOT NULL",
                        (source,),
                    )
                }
            if ids:
                stored |= mine & frame["source_id"].astype(str).isin(ids).to_numpy()
        return repeated | stored

    def _insert(
        self,
        frame: pd.DataFrame,
        actor: str,
        role: Role,
        at: dt.datetime,
        skip_stored: bool,
    ) -> tuple[list[str], int]:
        """Insert new cases and their first events in one transaction: all or nothing.
        Rows are built (and checked) before anything is written."""
        # in report order: case ids start with the report date, so the id indexes then grow
        # at their end instead of splitting pages all over (sorting rows afterwards cost 7 s
        # per million)
        frame = complete(frame)
        order = np.argsort(utc_ns(frame["reported_at"]), kind="stable")
        frame = frame.iloc[order].reset_index(drop=True)
        with self.transaction() as con:
            dup = self._already_stored(con, frame)
            if dup.any() and not skip_stored:
                raise DuplicateCase(
                    _("a case from {source} with id {id} is already stored").format(
                        source=frame["source"][dup].iloc[0], id=frame["source_id"][dup].iloc[0]
                    ),
                    _("Open the stored case instead of reporting it again."),
                )
            fresh = frame[~dup].reset_index(drop=True)
            codes, blobs = self._locate(fresh)
            rows = build_rows(fresh, self.catalogue, self.calendar, actor, role, at, blobs, codes)
            self._write(con, rows.cases, "cases")
            self._write(con, rows.events, "case_events")
        if len(rows.cases["case_id"]) >= _BULK:
            # fold the write-ahead log back into the file now: after a million-case import
            # it holds 1.5 GB, and every reader would look pages up in it (the first KPI
            # query took 5 s instead of 1). Returns "busy" rather than waiting on readers.
            self._con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        return rows.cases["case_id"], int(dup.sum())

    @staticmethod
    def _write(con: sqlite3.Connection, columns: dict, table: str) -> None:
        if not columns or not len(next(iter(columns.values()))):
            return
        names = list(columns)
        values = [v.tolist() if isinstance(v, np.ndarray) else v for v in columns.values()]
        con.executemany(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
            zip(*values, strict=True),
        )

    @staticmethod
    def _append(con: sqlite3.Connection, case_id: str, event: Event, detail: dict) -> None:
        con.execute(
            "INSERT INTO case_events (case_id, seq, action, from_state, to_state, actor, role, "
            "at, note, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
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
            ),
        )

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
        """Several moves (a bulk dispatch) in one transaction: all happen or none does."""
        at = self.calendar.localize(at or dt.datetime.now(dt.UTC))
        with self.transaction() as con:
            for move in moves:
                self._move(con, move, actor, role, at)

    def _move(self, con: sqlite3.Connection, move: Move, actor: str, role, at) -> None:
        unknown = set(move.assign) - set(ASSIGNABLE)
        if unknown:
            raise ValueError(f"cannot assign {sorted(unknown)}")
        row = con.execute("SELECT version FROM cases WHERE case_id = ?", (move.case_id,)).fetchone()
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
        state = replay(self.history(move.case_id))
        event = apply(state, move.action, actor, role, at, move.note)
        new_state = advance(state, event)
        self._append(con, move.case_id, event, move.assign)
        facts = {**_state_facts(new_state), **move.assign}
        cur = con.execute(
            f"UPDATE cases SET {', '.join(f'{k} = ?' for k in facts)}, "
            "version = version + 1, updated_at = ? WHERE case_id = ? AND version = ?",
            (*facts.values(), to_text(at), move.case_id, move.expected_version),
        )
        if cur.rowcount != 1:  # cannot happen under BEGIN IMMEDIATE; kept as a guard
            raise VersionConflict(
                _("case {id} changed during the update").format(id=move.case_id),
                _("Reload the case and decide again."),
            )

    # --- crews -----------------------------------------------------------------------------
    def save_crews(self, crews: pd.DataFrame) -> None:
        """Add or replace crews (columns crew_id, name, department, lon, lat, available)."""
        rows = complete_crews(crews)
        with self.transaction() as con:
            con.executemany(
                "INSERT OR REPLACE INTO crews (crew_id, name, department, lon, lat, available) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    def crews(self, department: str | None = None, available_only: bool = False) -> pd.DataFrame:
        sql, args = "SELECT * FROM crews WHERE 1 = 1", []
        if department:
            sql += " AND department = ?"
            args.append(department)
        if available_only:
            sql += " AND available = 1"
        return pd.read_sql_query(sql + " ORDER BY crew_id", self._con, params=args)

    def set_crew_available(self, crew_id: str, available: bool) -> None:
        with self.transaction() as con:
            cur = con.execute(
                "UPDATE crews SET available = ? WHERE crew_id = ?", (int(available), crew_id)
            )
            if cur.rowcount != 1:
                raise CityDeskError(
                    _("there is no crew {id}").format(id=crew_id), _("Check the crew id.")
                )

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

    def verify_all(self) -> list[str]:
        """Case ids whose stored state or summary columns disagree with the replay of their
        history (one pass over the history, in case-id order)."""
        stored = {
            r["case_id"]: dict(zip(r.keys(), r, strict=True))
            for r in self._con.execute(
                "SELECT case_id, status, registered_at, dispatched_at, dispatcher, closed_at, "
                "rework_count, return_count FROM cases"
            )
        }
        events = self._con.execute("SELECT * FROM case_events ORDER BY case_id, seq")
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
