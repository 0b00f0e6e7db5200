"""The case store on PostgreSQL + PostGIS: many desks, one database server.

The rules are :class:`citydesk.incidents.case_store.CaseStore`'s; this module supplies psycopg 3
connections from a pool, row locks (``SELECT ... FOR UPDATE`` inside the optimistic version
check, so the check and the write cannot interleave with another desk's), ``COPY`` for bulk
imports, and the versioned server-side schema (``pg_migrations/``, applied by
:mod:`citydesk.layers.pg_migrate`).

Moments are ``timestamptz`` in the database and JSON is ``jsonb``, as a database
administrator expects; they are read back as the same UTC text the GeoPackage store keeps
(see :mod:`citydesk.incidents.timestamps`), so the rest of CityDesk sees one format.
"""

from __future__ import annotations

import copy
import io
import logging
import re
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pandas as pd
import psycopg
from psycopg import errors, sql
from psycopg.adapt import Loader
from psycopg.rows import dict_row, tuple_row
from psycopg.types.string import TextLoader
from psycopg_pool import ConnectionPool, PoolTimeout

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _
from citydesk.layers.pg_migrate import migrate
from citydesk.layers.pg_url import StoreUrl, connection_error, first_line

from .calendar import WorkingCalendar
from .case_store import (
    FACT_COLUMNS,
    FACT_MOMENTS,
    FACT_PART_ROWS,
    SOURCE_ASSIGNABLE,
    CaseStore,
    FactReadFailed,
    fact_select,
    pa_concat,
)
from .categories import Catalogue
from .lifecycle import Role

__all__ = ["AccessDenied", "PostgisCaseStore"]

#: from how many rows an import's writes go through COPY rather than a statement per row
_COPY_ROWS = 1000


if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger(__name__)


def _one(cursor: Any) -> dict[str, Any]:
    """The single row a query on a ``dict_row`` connection must return."""
    row = cursor.fetchone()
    if row is None:  # pragma: no cover - the queries here always return one row
        raise RuntimeError("the database returned no row")
    return dict(row)


DEFAULT_SCHEMA = "citydesk"
#: the case store's schema versions
MIGRATIONS = "citydesk.incidents.pg_migrations"
#: readable only by the intake roles (column privileges, migration 0002)
PERSONAL_COLUMNS = ("reporter_name", "reporter_phone", "reporter_email")
#: an import that makes at least this share of the cases table rebuilds the indexes after it
#: (a migration; a daily import leaves them as they are)
_REBUILD_SHARE = 0.5
_REINDEX = "REINDEX TABLE CONCURRENTLY {}"
#: what a failed REINDEX CONCURRENTLY leaves: invalid copies of the store's indexes
_HALF_BUILT = (
    "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
    "WHERE NOT i.indisvalid AND i.indrelid IN ('cases'::regclass, 'case_events'::regclass) "
    "AND c.relname LIKE '%\\_ccnew%'"
)


class AccessDenied(CityDeskError):
    """The database refused an action for the signed-in database user."""


class _UtcTextLoader(Loader):
    """timestamptz -> ``2024-03-04T14:00:00.000Z`` (the session's TimeZone is UTC, so the
    server sends ``2024-03-04 14:00:00.123+00``)."""

    def load(self, data) -> str:
        text = bytes(data).decode()
        body = text[: text.rindex("+")] if "+" in text[10:] else text
        main, _dot, frac = body.partition(".")
        return f"{main[:10]}T{main[11:]}.{(frac + '000')[:3]}Z"


class ConnectionLost(CityDeskError):
    """The database server stopped answering in the middle of an operation."""


class PostgisCaseStore(CaseStore):
    """Cases in a PostgreSQL + PostGIS schema (``citydesk`` unless told otherwise)."""

    BACKEND = "postgis"
    _LOCK_FOR_UPDATE = " FOR UPDATE"
    _RETRYABLE = (errors.DeadlockDetected, errors.SerializationFailure, errors.UniqueViolation)
    _UPSERT_CREW = (
        "INSERT INTO crews (crew_id, name, department, lon, lat, available) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (crew_id) DO UPDATE SET name = EXCLUDED.name, "
        "department = EXCLUDED.department, lon = EXCLUDED.lon, lat = EXCLUDED.lat, "
        "available = EXCLUDED.available"
    )

    _WANTED_TABLE = (
        "CREATE TEMP TABLE IF NOT EXISTS citydesk_wanted (source_id text PRIMARY KEY) "
        "ON COMMIT DROP"
    )

    def __init__(
        self,
        url: str | StoreUrl,
        catalogue: Catalogue | None = None,
        calendar: WorkingCalendar | None = None,
        grid=None,
        schema: str | None = None,
        pool_size: int = 4,
    ) -> None:
        self.url = url if isinstance(url, StoreUrl) else StoreUrl.parse(url)
        self.schema = schema or self.url.schema or DEFAULT_SCHEMA
        self.catalogue = catalogue or Catalogue.default()
        self.calendar = calendar or WorkingCalendar()
        self.grid = grid
        self._pool_size = pool_size
        try:
            kwargs: dict[str, Any] = {**self.url.connect_kwargs(), "autocommit": True}
            with psycopg.connect(self.url.text, **kwargs) as con:
                migrate(con, self.schema, MIGRATIONS)
        except psycopg.OperationalError as exc:
            raise connection_error(
                self.url,
                exc,
                _("cannot connect to the case store at {url}: {error}"),
                _(
                    "Check that the server runs and the URL is right. Give the password in "
                    "PGPASSWORD, ~/.pgpass or the keyring (citydesk cases connect "
                    "--save-password)."
                ),
                gui_fix=_(
                    "Check that the server runs and the URL is right, and type the password in "
                    "the case store dialog (Dispatch > Case store)."
                ),
            ) from exc
        self._pool = self._new_pool()
        self._owns_pool = True
        readable = ", ".join(
            f"has_column_privilege('cases', '{c}', 'SELECT') AS {c}" for c in PERSONAL_COLUMNS
        )
        with self._reading() as con:
            row = _one(
                con.execute(
                    f"SELECT pg_has_role(current_user, relowner, 'MEMBER') AS owner, {readable} "
                    "FROM pg_class WHERE oid = 'cases'::regclass"
                )
            )
        #: row security applies to everyone but the owner, and COPY refuses it
        self._owner = row["owner"]
        self._hidden = frozenset(c for c in PERSONAL_COLUMNS if not row[c])

    def _new_pool(self) -> ConnectionPool:
        return ConnectionPool(
            self.url.text,
            kwargs={**self.url.connect_kwargs(), "autocommit": True, "row_factory": dict_row},
            min_size=1,
            max_size=self._pool_size,
            configure=self._configure,
            open=True,
            name=f"citydesk-{self.schema}",
        )

    def _configure(self, con: psycopg.Connection) -> None:
        con.execute(sql.SQL("SET search_path TO {}, public").format(sql.Identifier(self.schema)))
        con.execute("SET TIME ZONE 'UTC'")
        con.execute("SET DateStyle TO ISO")
        con.adapters.register_loader("timestamptz", _UtcTextLoader)
        con.adapters.register_loader("jsonb", TextLoader)

    def close(self) -> None:
        if self._owns_pool:
            self._pool.close()

    def reopen(self) -> PostgisCaseStore:
        """The pool is thread-safe: another thread's store shares it (a dashboard refresh
        then costs no new connection and no schema check); closing it leaves the pool. Once
        this store is closed (the desk's worker closes its own), a new store is opened."""
        if self._pool.closed:
            return PostgisCaseStore(
                self.url, self.catalogue, self.calendar, self.grid, self.schema, self._pool_size
            )
        other = copy.copy(self)
        other._owns_pool = False
        return other

    @property
    def location(self) -> str:
        return StoreUrl(self.url.text, self.schema).redacted()

    def swap_schema(self, fresh: str, keep_as: str) -> None:
        """Put schema ``fresh`` in this store's place, keeping the current one as
        ``keep_as``: one transaction, so readers see the old contents or the new."""
        rename = sql.SQL("ALTER SCHEMA {} RENAME TO {}")
        with self.transaction() as con:
            con.execute(rename.format(sql.Identifier(self.schema), sql.Identifier(keep_as)))
            con.execute(rename.format(sql.Identifier(fresh), sql.Identifier(self.schema)))
        self._pool.close()  # pooled sessions planned against the old schema's tables
        self._pool = self._new_pool()

    # --- what the base class needs -----------------------------------------------------------
    def _q(self, text: str) -> str:
        return text.replace("?", "%s")

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        with self._refusals(), self._pool.connection() as con, con.transaction():
            yield con

    def _after_bulk_insert(self, added: int = 0) -> None:
        # refresh the planner's statistics now rather than when autovacuum gets round to
        # it: right after a million-row import they still describe an empty table, and the
        # next re-import's lookups by (source, source id) then scanned every row of the
        # source, 30 ms per 500 ids at 100k cases and ~0.3 s at 1M (a 538 s re-import).
        # A login that does not own the tables gets a warning from the server, not an error.
        try:
            with self._pool.connection() as con:
                con.execute("ANALYZE cases")
                con.execute("ANALYZE case_events")
                row = _one(
                    con.execute("SELECT reltuples AS n FROM pg_class WHERE oid = 'cases'::regclass")
                )
        except psycopg.Error as exc:
            log.warning("the import is stored; refreshing the statistics failed: %s", exc)
            return
        if added >= _REBUILD_SHARE * max(float(row["n"]), 1.0):
            self._rebuild_indexes()

    def _rebuild_indexes(self) -> None:
        """Rebuild the tables' indexes after a load that made most of them.

        Why: an export in no particular order (a Socrata download is) inserts case ids all
        over the id indexes, and B-tree pages split at random end about 55 % full: at 1M
        migrated cases the two id indexes took 61 MB each, and the whole store 6.2 GB at
        10M, over the 6 GB a city may give it (issue 22). Rebuilt, they are packed to the
        index's fill factor. ``CONCURRENTLY``, so desks keep reading and writing while it
        runs; the import is already committed, so a failure here loses nothing: the
        half-built copies PostgreSQL leaves behind are dropped and the old indexes stay.
        """
        try:
            with self._pool.connection() as con:
                con.autocommit = True  # REINDEX CONCURRENTLY refuses a transaction block
                try:
                    for table in ("cases", "case_events"):
                        con.execute(sql.SQL(_REINDEX).format(sql.Identifier(table)))
                except psycopg.Error as exc:
                    log.warning("the import is stored; rebuilding its indexes failed: %s", exc)
                    left: list[Any] = con.execute(_HALF_BUILT).fetchall()
                    for row in left:
                        drop = sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}")
                        con.execute(drop.format(sql.Identifier(row["relname"])))
                finally:
                    con.autocommit = False
        except psycopg.Error as exc:
            log.warning("the import is stored; cleaning up a failed index rebuild failed: %s", exc)

    @contextmanager
    def _reading(self) -> Iterator[psycopg.Connection]:
        with self._refusals(), self._pool.connection() as con:
            yield con

    @contextmanager
    def _refusals(self) -> Iterator[None]:
        """The database's own role checks (grants, row security, the history triggers)
        reach the user as a message, not a driver traceback."""
        try:
            yield
        except errors.InsufficientPrivilege as exc:
            reason = (exc.diag.message_primary or str(exc)).strip()
            raise AccessDenied(
                _("the database refused this for user {user}: {reason}").format(
                    user=self.url.user, reason=reason
                ),
                _(
                    "Ask the administrator for the role (citydesk cases grant), or sign in "
                    "as a user who has it."
                ),
            ) from exc
        except (psycopg.OperationalError, PoolTimeout) as exc:
            # the server went away (a restart, a crash, the network) during the work: the
            # transaction is rolled back by the server, so nothing half-done stays behind
            raise ConnectionLost(
                _("the connection to the case store at {url} was lost ({error})").format(
                    url=self.url.redacted(), error=first_line(exc)
                ),
                _(
                    "Check that the database server runs, then run it again; a change is "
                    "stored whole or not at all (citydesk cases list shows which)."
                ),
            ) from exc

    def grant(self, login: str, role: Role | str, departments: Iterable[str] = ()) -> None:
        """Let database user ``login`` act as ``role`` (and, for a department user, see the
        cases of ``departments``). Needs the schema owner or an administrator."""
        role = Role(role)
        with self.transaction() as con:
            con.execute(
                sql.SQL("GRANT {} TO {}").format(
                    sql.Identifier(f"citydesk_{role.value}"), sql.Identifier(login)
                )
            )
            for department in departments:
                con.execute(
                    "INSERT INTO staff_departments (login, department) VALUES (%s, %s) "
                    "ON CONFLICT DO NOTHING",
                    (login, department),
                )

    def _stream(self, con: psycopg.Connection, query: str) -> Iterator[dict]:
        """A server-side cursor: a million events never sit in memory at once."""
        with con.transaction(), con.cursor(name=f"s{uuid.uuid4().hex}") as cur:
            cur.itersize = 5000
            cur.execute(self._q(query))
            yield from cur

    def _frame(self, con: psycopg.Connection, query: str, args: list) -> pd.DataFrame:
        cur = con.cursor(row_factory=tuple_row)
        cur.execute(query, args)
        names = [d.name for d in cur.description or ()]
        return pd.DataFrame.from_records(cur.fetchall(), columns=names, coerce_float=True)

    def _insert_rows(
        self, con: psycopg.Connection, table: str, names: list[str], rows: list[tuple]
    ) -> None:
        """COPY for an import: a million cases in one stream instead of a million INSERTs
        (staff other than the owner write through INSERT: row security refuses COPY)."""
        columns = sql.SQL(", ").join(map(sql.Identifier, names))
        if not self._owner or len(rows) < _COPY_ROWS:  # a desk's report: plain INSERTs
            insert = sql.SQL("INSERT INTO {} ({}) VALUES ({})").format(
                sql.Identifier(table), columns, sql.SQL(", ").join(sql.Placeholder() * len(names))
            )
            with con.cursor() as cur:
                cur.executemany(insert, rows)
            return
        copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), columns)
        with con.cursor() as cur, cur.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(row)

    def _close_reported(self, con: psycopg.Connection, names: list[str], rows: list[tuple]) -> int:
        """Many closes as one ``UPDATE ... FROM`` a temporary table filled by COPY.

        Why: one UPDATE per case is a round trip per case (7.3 s of a 200k re-import's
        27 s went to them). The temporary table takes its column types from ``cases``;
        it has no row security, so any login may COPY into it, and the UPDATE itself is
        still checked by the row policies of the login that runs it."""
        if len(rows) < _COPY_ROWS:
            return super()._close_reported(con, names, rows)
        columns = [*names, *SOURCE_ASSIGNABLE, "updated_at", "case_id"]
        listed = sql.SQL(", ").join(map(sql.Identifier, columns))
        table = sql.Identifier("citydesk_closes")
        con.execute(
            sql.SQL(
                "CREATE TEMP TABLE IF NOT EXISTS {} ON COMMIT DROP AS "
                "SELECT {} FROM cases WITH NO DATA"
            ).format(table, listed)
        )
        con.execute(sql.SQL("TRUNCATE {}").format(table))
        with con.cursor() as cur, cur.copy(sql.SQL("COPY {} FROM STDIN").format(table)) as copy:
            for row in rows:
                copy.write_row(row)
        assigned = [sql.SQL("{0} = t.{0}").format(sql.Identifier(n)) for n in names] + [
            sql.SQL("{0} = COALESCE(t.{0}, c.{0})").format(sql.Identifier(n))
            for n in SOURCE_ASSIGNABLE
        ]
        cur = con.execute(
            sql.SQL(
                "UPDATE cases c SET {}, version = 2, updated_at = t.updated_at FROM {} t "
                "WHERE c.case_id = t.case_id AND c.version = 1"
            ).format(sql.SQL(", ").join(assigned), table)
        )
        return int(cur.rowcount)

    # --- live refresh and the KPI scan -------------------------------------------------------
    def data_version(self) -> int:
        with self._reading() as con:
            return int(_one(con.execute("SELECT last_value FROM case_changes"))["last_value"])

    # --- the KPI facts (CaseStore.case_facts) -------------------------------------------------
    def _fact_rows(self, condition: str, args: list, many: bool) -> pd.DataFrame:
        """A few rows through psycopg; many through ``COPY ... TO STDOUT`` as CSV, parsed by
        Arrow in C, moments as epoch microseconds: psycopg would build a Python object per
        field (170 million at ten million cases, several gigabytes)."""
        if not many:
            query = f"SELECT {fact_select()} FROM cases WHERE {condition}"
            with self._reading() as con:
                return self._frame(con, self._q(query), args)
        return self._fact_rows_copied(condition, args)

    def _fact_rows_copied(self, condition: str, args: list) -> pd.DataFrame:
        frame = pa_concat(list(self._fact_tables(condition, args)), FACT_COLUMNS).to_pandas()
        for col in FACT_MOMENTS:
            frame[col] = pd.to_datetime(frame[col], unit="us", utc=True)
        return frame

    def _fact_tables(self, condition: str, args: list) -> Iterator[pa.Table]:
        """The facts through ``COPY ... TO STDOUT`` as CSV, parsed by Arrow in C as the
        server sends them, ``FACT_PART_ROWS`` at a time; moments as epoch microseconds."""
        import pyarrow as pa
        from pyarrow import csv

        micros = lambda e: f"(extract(epoch FROM {e}) * 1000000)::bigint"  # noqa: E731
        select = fact_select(micros).replace(
            "due_given AS due_given", "due_given::int AS due_given"
        )
        query = sql.SQL("COPY (SELECT {} FROM cases WHERE {}) TO STDOUT (FORMAT csv, HEADER)")
        statement = query.format(sql.SQL(select), sql.SQL(self._q(condition)))
        types = {c: pa.string() for c in FACT_COLUMNS}
        types.update({c: pa.int64() for c in FACT_MOMENTS})
        types.update({c: pa.int64() for c in ("rework_count", "return_count", "imported")})
        types.update({"due_given": pa.int64(), "lon": pa.float64(), "lat": pa.float64()})
        options = csv.ConvertOptions(
            column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False
        )
        with (
            self._reading() as con,
            con.cursor() as cur,
            cur.copy(statement, args or None) as copy,
        ):
            try:
                reader = csv.open_csv(
                    _CopyStream(copy),
                    # blocks of about a part's size up to 4 MB: parsed a block at a time
                    read_options=csv.ReadOptions(
                        block_size=min(1 << 22, max(1 << 10, 64 * FACT_PART_ROWS))
                    ),
                    convert_options=options,
                )
            except pa.ArrowInvalid as exc:  # nothing came: not even the header
                raise FactReadFailed(str(exc)) from exc
            batches: list[pa.RecordBatch] = []
            rows = 0
            for batch in reader:
                batches.append(batch)
                rows += batch.num_rows
                if rows >= FACT_PART_ROWS:
                    yield pa.Table.from_batches(batches)
                    batches, rows = [], 0
            if batches:
                yield pa.Table.from_batches(batches)

    def _size_hint(self) -> int:
        """The planner's row estimate (imports run ANALYZE; -1 before any)."""
        with self._reading() as con:
            row = _one(
                con.execute(
                    "SELECT reltuples::bigint AS n FROM pg_class WHERE oid = 'cases'::regclass"
                )
            )
        return max(int(row["n"]), 0)

    def _snapshot_place(self) -> str | None:
        """The store (database, schema and their object ids, so a schema dropped and made
        again is another store) and the login. None under row security: a department's
        login sees only its cases, and a case sent elsewhere would vanish from its reads
        without a trace in what it may see of the history."""
        with self._reading() as con:
            row = _one(
                con.execute(
                    "SELECT row_security_active('cases') AS rls, current_user AS who, "
                    "(SELECT oid FROM pg_database WHERE datname = current_database()) AS db, "
                    "(SELECT oid FROM pg_namespace WHERE nspname = current_schema()) AS ns"
                )
            )
        if row["rls"]:
            return None
        return f"postgis:{self.location}:{row['who']}:{row['db']}:{row['ns']}"

    def _fact_mark(self) -> str:
        with self._reading() as con:
            return str(_one(con.execute("SELECT pg_current_snapshot()::text AS s"))["s"])

    def _changed_since(self, mark: str) -> tuple[str, int] | None:
        if not re.fullmatch(r"\d+:\d+:[\d,]*", mark):
            return None
        snap = f"'{mark}'::pg_snapshot"
        with self._reading() as con:
            newer = _one(
                con.execute(
                    f"SELECT pg_snapshot_xmax(pg_current_snapshot()) >= pg_snapshot_xmax({snap})"
                    " AS ok"
                )
            )["ok"]
            if not newer:  # transaction ids went back: another cluster at the same place
                return None
            since = (
                f"SELECT case_id FROM case_events WHERE written >= pg_snapshot_xmin({snap}) "
                f"AND NOT pg_visible_in_snapshot(written, {snap})"
            )
            events = _one(con.execute(f"SELECT count(*) AS n FROM ({since}) AS e"))["n"]
        return f"case_id IN ({since})", int(events)


class _CopyStream(io.RawIOBase):
    """The bytes of a ``COPY ... TO STDOUT`` as a file Arrow's CSV reader pulls from, so the
    facts are parsed as the server sends them, never spooled whole.

    psycopg hands over one row per read; each call here gathers rows until the caller's
    block is full. (``RawIOBase.read`` would allocate the whole block for every row: with
    Arrow asking for 4 MB at a time, ten million rows never finished.)"""

    def __init__(self, copy: Any) -> None:
        self._copy = copy
        self._left = b""
        self._ended = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        parts = [self._left] if self._left else []
        have = len(self._left)
        while (size < 0 or have < size) and not self._ended:
            chunk = self._copy.read()
            if not chunk:
                self._ended = True
                break
            parts.append(bytes(chunk))
            have += len(chunk)
        data = b"".join(parts)
        if 0 <= size < len(data):
            data, self._left = data[:size], data[size:]
        else:
            self._left = b""
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
