"""The embedded case store: cases and their history in the project's GeoPackage.

Everything about the rules is in :class:`citydesk.incidents.case_store.CaseStore`; this is the
SQLite
side: WAL mode, ``BEGIN IMMEDIATE`` transactions (the write lock is taken up front, so two
desks on one file never deadlock halfway), the GeoPackage registration that lets QGIS open
the cases as a point layer, and GDAL's Arrow reader for the KPI scan.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from citydesk.layers import gpkg
from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _

from .calendar import WorkingCalendar, file_calendar
from .case_store import (
    _LATER_COLUMNS,
    ASSIGNABLE,
    FACT_COLUMNS,
    FACT_MOMENTS,
    FACT_PART_ROWS,
    MARKED_STEPS_SQL,
    Case,
    CaseNotFound,
    CaseStore,
    DuplicateCase,
    FactReadFailed,
    HistoryStep,
    Move,
    NewCase,
    StoreSummary,
    VersionConflict,
    complete_crews,
    fact_select,
    pa_concat,
)
from .categories import Catalogue

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "ASSIGNABLE",
    "FACT_COLUMNS",
    "Case",
    "CaseNotFound",
    "CaseStore",
    "DuplicateCase",
    "HistoryStep",
    "Move",
    "NewCase",
    "SqliteCaseStore",
    "StoreSummary",
    "VersionConflict",
    "complete_crews",
]

#: 2: moments as GeoPackage DATETIME in UTC; first registration/dispatch kept on the case
log = logging.getLogger(__name__)

SCHEMA_VERSION = 2

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
        due_given BOOLEAN NOT NULL DEFAULT 0,
        source_status TEXT,
        channel TEXT,
        source_updated_at DATETIME,
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
    # the few steps looked up by their action (case_store.MARKED_ACTIONS): built once when a
    # store made before it is first opened (a scan of its history), then kept on each write
    "CREATE INDEX IF NOT EXISTS case_events_marked ON case_events(action, case_id) "
    f"WHERE {MARKED_STEPS_SQL}",
    """CREATE TABLE IF NOT EXISTS case_store_meta (key TEXT PRIMARY KEY, value TEXT)""",
]


#: from this many cases on, the KPI scan runs in a child process (see ``case_facts``): its
#: start-up (0.8 s) is repaid above a few hundred thousand rows
CHILD_SCAN_ROWS = 300_000
_CHILD_SCAN = """
import sys, warnings
import pyarrow as pa, pyogrio
path, where, columns, rows = sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4]
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # a store not named .gpkg: GDAL notes it, harmlessly
    with pyogrio.open_arrow(
        path, layer="cases", columns=columns, read_geometry=False, where=where,
        use_pyarrow=True, batch_size=int(rows),
    ) as (_meta, reader):
        with pa.ipc.new_stream(sys.stdout.buffer, reader.schema) as out:
            for batch in reader:
                out.write_batch(batch)
"""


def _inlined(condition: str, args: list) -> str:
    """``condition`` with its ``?`` replaced by ``args``, for GDAL, which takes no
    parameters; the args are moments written by ``to_text`` (digits and separators only)."""
    for arg in args:
        if not re.fullmatch(r"[0-9TZ:.+-]+", str(arg)):
            raise ValueError(f"not a stored moment: {arg!r}")
        condition = condition.replace("?", f"'{arg}'", 1)
    return condition


def _child_failure(child: Any, errors: Any) -> str:
    """The last line the child wrote to its error file, once it has ended (killed after a
    few seconds if it has not: its output no longer makes sense)."""
    import subprocess

    try:
        child.wait(timeout=5)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
    errors.seek(0)
    lines = errors.read().decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else ""


def _facts_streamed(path: Path, condition: str) -> Iterator[pa.Table]:
    """The facts read by GDAL in a child process and streamed back as Arrow, a part of
    ``FACT_PART_ROWS`` at a time (neither process ever holds them all as rows); raises
    :class:`FactReadFailed` if the child fails."""
    import subprocess
    import sys
    import tempfile

    import pyarrow as pa
    import pyarrow.compute as pc

    # the layer's own columns, read on GDAL's fast Arrow path (an SQL result layer computing
    # the derived facts was 1.5 s slower per million); the derived ones are made here
    raw = [c for c in FACT_COLUMNS if c != "imported"] + ["reported_at"]

    def derived(batches: list[pa.RecordBatch]) -> pa.Table:
        table = pa.Table.from_batches(batches)
        registered = table.column("registered_at")
        columns = {c: table.column(c) for c in FACT_COLUMNS if c != "imported"}
        columns["imported"] = pc.is_null(registered).cast(pa.int64())  # see FACT_SQL
        columns["registered_at"] = pc.coalesce(registered, table.column("reported_at"))
        return pa.table({c: columns[c] for c in FACT_COLUMNS})

    with tempfile.TemporaryFile() as errors:
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _CHILD_SCAN,
                str(path),
                condition,
                ",".join(raw),
                str(min(FACT_PART_ROWS, 65_536)),
            ],
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        try:
            assert child.stdout is not None
            batches: list[pa.RecordBatch] = []
            rows = 0
            try:
                for batch in pa.ipc.open_stream(child.stdout):
                    batches.append(batch)
                    rows += batch.num_rows
                    if rows >= FACT_PART_ROWS:
                        yield derived(batches)
                        batches, rows = [], 0
            except (pa.ArrowException, OSError) as exc:
                raise FactReadFailed(_child_failure(child, errors) or str(exc)) from exc
            if child.wait(timeout=600) != 0:
                raise FactReadFailed(_child_failure(child, errors) or f"exit {child.returncode}")
            if batches:
                yield derived(batches)
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()


#: SQL types of the columns added to the cases table after its first version
#: (``_LATER_COLUMNS``): a store made before them gets them, empty
_LATER_TYPES = {
    "due_given": "BOOLEAN NOT NULL DEFAULT 0",
    "source_status": "TEXT",
    "channel": "TEXT",
    "source_updated_at": "DATETIME",
}


class SqliteCaseStore(CaseStore):
    """Cases in a GeoPackage: the project file, or a file of its own."""

    BACKEND = "geopackage"
    _UPSERT_CREW = (
        "INSERT OR REPLACE INTO crews (crew_id, name, department, lon, lat, available) "
        "VALUES (?, ?, ?, ?, ?, ?)"
    )

    def __init__(
        self,
        path: str | Path,
        catalogue: Catalogue | None = None,
        calendar: WorkingCalendar | None = None,
        grid=None,
    ) -> None:
        self.path = Path(path)
        self.catalogue = catalogue or Catalogue.default()
        self.calendar = calendar or file_calendar(self.path)
        self.grid = grid  # incidents.grid_index.GridIndex or None
        self._con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._con.row_factory = sqlite3.Row
        self._con.execute("PRAGMA busy_timeout=30000")
        self._use_wal()
        self._con.execute("PRAGMA foreign_keys=ON")
        # 64 MB of page cache: a bulk import touches the case-id and source-id indexes all
        # over; with SQLite's default 2 MB it re-reads them from disk (import 90 s -> 40 s/M)
        self._con.execute("PRAGMA cache_size=-65536")
        try:
            with self.transaction():
                self._check_schema()
                new_header = gpkg.ensure_core(self._con)
                for ddl in _DDL:
                    self._con.execute(ddl)
                self._register_in_geopackage()
                self._add_db_user_column()
                self._add_later_columns()
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

    def _use_wal(self, wait_s: float = 30.0) -> None:
        """Put the file in WAL mode (desks read while another writes). Switching a file
        that is still in rollback mode needs it to itself for a moment, and SQLite answers
        "database is locked" at once, without its busy wait, while a save or an import holds
        it: so wait here, as the busy timeout would."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                self._con.execute("PRAGMA journal_mode=WAL").fetchone()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

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

    def reopen(self) -> SqliteCaseStore:
        return SqliteCaseStore(self.path, self.catalogue, self.calendar, self.grid)

    @property
    def location(self) -> str:
        return str(self.path)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE takes the write lock up front, so two desks never deadlock halfway;
        any exception rolls everything back. A write lock held elsewhere is waited for,
        then refused clearly (:func:`citydesk.layers.gpkg.begin_write`)."""
        with gpkg.write_transaction(self._con) as con:
            yield con

    def _add_db_user_column(self) -> None:
        """The database user who wrote an event: empty here (a file has no users), kept
        when cases come back from a PostGIS store, whose audit column it is."""
        names = {r[1] for r in self._con.execute("PRAGMA table_info(case_events)")}
        if "db_user" not in names:
            self._con.execute("ALTER TABLE case_events ADD COLUMN db_user TEXT")

    def _add_later_columns(self) -> None:
        """Give a store made by an earlier CityDesk the columns added since (additive, so
        that CityDesk can still read it)."""
        names = {r[1] for r in self._con.execute("PRAGMA table_info(cases)")}
        for name in _LATER_COLUMNS:
            if name not in names:
                sql_type = _LATER_TYPES[name]
                self._con.execute(f"ALTER TABLE cases ADD COLUMN {name} {sql_type}")

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

    def data_version(self) -> int:
        """Changes whenever another connection (another desk, another process) commits:
        what a desk polls to refresh live without re-reading the cases."""
        return self._con.execute("PRAGMA data_version").fetchone()[0]

    # --- the KPI facts (CaseStore.case_facts) -------------------------------------------------
    def _fact_rows(self, condition: str, args: list, many: bool) -> pd.DataFrame:
        """The facts, read by GDAL in a child process when ``many`` and the store is large.

        Python's sqlite3 builds a tuple per row (3 s for a million cases, measured), GDAL's
        Arrow reader hands columns over in C (0.5 s); but GDAL must never open this file in
        the process that holds it (docs/ARCHITECTURE.md, "One SQLite per project file"). So
        a large read goes to a child process that streams Arrow back."""
        if many and self._size_hint() >= CHILD_SCAN_ROWS:
            try:
                tables = list(_facts_streamed(self.path, _inlined(condition, args)))
                return pa_concat(tables, FACT_COLUMNS).to_pandas()
            except FactReadFailed as exc:  # the in-process read still answers
                log.warning("KPI scan in a child process failed (%s); reading here instead", exc)
        select = fact_select(
            lambda e: f"CAST(round((julianday({e}) - 2440587.5) * 86400000) AS INTEGER)"
        )
        with self._reading() as con:
            frame = self._frame(con, f"SELECT {select} FROM cases WHERE {condition}", args)
        for col in FACT_MOMENTS:  # epoch milliseconds, computed in C by SQLite
            frame[col] = pd.to_datetime(frame[col], unit="ms", utc=True)
        return frame

    def _fact_tables(self, condition: str, args: list) -> Iterator[pa.Table]:
        if self._size_hint() < CHILD_SCAN_ROWS:
            yield from super()._fact_tables(condition, args)
            return
        yield from _facts_streamed(self.path, _inlined(condition, args))

    def _size_hint(self) -> int:
        return self._con.execute("SELECT max(fid) FROM cases").fetchone()[0] or 0

    def _snapshot_place(self) -> str | None:
        return f"geopackage:{self.path.resolve()}"

    def _fact_mark(self) -> str:
        """The last event: its rowid, which only grows (the history is append-only, so no
        rowid is ever freed and SQLite's writers are one at a time), and its key."""
        row = self._con.execute(
            "SELECT rowid, case_id, seq FROM case_events ORDER BY rowid DESC LIMIT 1"
        ).fetchone()
        return "0" if row is None else f"{row[0]}:{row[2]}:{row[1]}"

    def _changed_since(self, mark: str) -> tuple[str, int] | None:
        rowid, _sep, key = mark.partition(":")
        if not rowid.isdigit():
            return None
        if key:  # the same event still there: the same history up to the mark
            seq, _sep, case_id = key.partition(":")
            row = self._con.execute(
                "SELECT case_id, seq FROM case_events WHERE rowid = ?", (int(rowid),)
            ).fetchone()
            if row is None or (row[0], str(row[1])) != (case_id, seq):
                return None
        last = self._con.execute("SELECT max(rowid) FROM case_events").fetchone()[0] or 0
        if last < int(rowid):
            return None
        condition = f"case_id IN (SELECT case_id FROM case_events WHERE rowid > {int(rowid)})"
        return condition, last - int(rowid)

    # --- what the base class needs -----------------------------------------------------------
    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        yield self._con

    def _stream(self, con: sqlite3.Connection, sql: str) -> Iterator[sqlite3.Row]:
        return con.execute(sql)

    def _frame(self, con: sqlite3.Connection, sql: str, args: list) -> pd.DataFrame:
        return pd.read_sql_query(sql, con, params=args)

    def _geometry(self, lon: np.ndarray, lat: np.ndarray) -> list[bytes | None]:
        return gpkg.point_blobs(lon, lat)

    def _after_bulk_insert(self, added: int = 0) -> None:
        # fold the write-ahead log back into the file now: after a million-case import
        # it holds 1.5 GB, and every reader would look pages up in it (the first KPI
        # query took 5 s instead of 1). Returns "busy" rather than waiting on readers.
        # The import is committed by now: a checkpoint that fails (a full disk) must not
        # report it as failed; the log stays valid and SQLite folds it back later.
        try:
            self._con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.OperationalError as exc:
            log.warning("the import is stored; folding the write-ahead log back failed: %s", exc)

    def _insert_rows(
        self, con: sqlite3.Connection, table: str, names: list[str], rows: list[tuple]
    ) -> None:
        con.executemany(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
            rows,
        )
