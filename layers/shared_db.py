"""The database where departments share their layers: connections, the schema, and errors.

One :class:`SharedDatabase` per URL and schema in a process (see :func:`shared_database`):
the layers of a project that live in the same database share its small connection pool, so
the canvas's render threads fetch their views in parallel without a connection each. The
URL and password rules are the case store's (:mod:`citydesk.layers.pg_url`): a project keeps
the URL without the password.

The schema (``citydesk_shared`` unless the URL says ``?schema=``) holds the catalogue, the
departments and the shared tables; its SQL, with the rules the database enforces, is in
``shared_migrations/``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import errors, sql
from psycopg_pool import ConnectionPool, PoolTimeout

from .errors import CityDeskError, LayerReadError
from .i18n import _
from .pg_migrate import migrate
from .pg_url import StoreUrl, connection_error, first_line

log = logging.getLogger(__name__)

DEFAULT_SCHEMA = "citydesk_shared"
MIGRATIONS = "citydesk.layers.shared_migrations"
CONNECT_TIMEOUT = 10  # seconds to reach the server
POOL_TIMEOUT = 30  # seconds to wait for a free pooled connection (or a server that went away)
#: every department's group role is a member of this one
LAYERS_ROLE = "citydesk_layers"


class SharedLayerError(LayerReadError):
    """A shared layer or its database cannot be used as asked (a layer that cannot be read:
    a project lists it as unavailable and still opens)."""


class AccessDenied(SharedLayerError):
    """The database refused the signed-in user (its grants, not CityDesk's, decide)."""


class SharedDatabase:
    """Connections to one shared-layer database and schema (thread-safe)."""

    def __init__(self, url: StoreUrl, pool_size: int = 4) -> None:
        self.url = url
        self.schema = url.schema or DEFAULT_SCHEMA
        self._pool_size = pool_size
        self._pool: ConnectionPool | None = None
        self._lock = threading.Lock()

    @property
    def location(self) -> str:
        """The URL to show and to store (no password)."""
        return StoreUrl(self.url.text, self.schema).redacted()

    def _configure(self, con: psycopg.Connection) -> None:
        con.execute(sql.SQL("SET search_path TO {}, public").format(sql.Identifier(self.schema)))

    def _open_pool(self) -> ConnectionPool:
        with self._lock:
            if self._pool is None or self._pool.closed:
                # one direct connection first: a server that is down or a wrong password
                # is told at once (a pool would retry until its timeout)
                probe: dict[str, Any] = {
                    **self.url.connect_kwargs(),
                    "connect_timeout": CONNECT_TIMEOUT,
                }
                with psycopg.connect(self.url.text, **probe):
                    pass
                self._pool = ConnectionPool(
                    self.url.text,
                    kwargs={**self.url.connect_kwargs(), "autocommit": True},
                    min_size=0,
                    max_size=self._pool_size,
                    configure=self._configure,
                    open=True,
                    timeout=POOL_TIMEOUT,
                    name=f"citydesk-shared-{self.schema}",
                )
            return self._pool

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection (autocommit; ``search_path`` = the schema, then public)."""
        with self._refusals():
            pool = self._open_pool()
            try:
                with pool.connection() as con:
                    yield con
            except PoolTimeout as exc:
                raise self._unreachable(exc) from exc

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection]:
        """A pooled connection inside one transaction: all of it lands, or none."""
        with self.connection() as con, con.transaction():
            yield con

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None

    def ensure_schema(self) -> None:
        """Create or upgrade the catalogue schema (the first time needs the rights of the
        database's administrator: it creates a group role; later opens need none)."""
        try:
            kwargs: dict[str, Any] = {**self.url.connect_kwargs(), "autocommit": True}
            with psycopg.connect(self.url.text, **kwargs) as con:
                migrate(con, self.schema, MIGRATIONS)
        except psycopg.OperationalError as exc:
            raise self._unreachable(exc) from exc
        except errors.InsufficientPrivilege as exc:
            raise AccessDenied(
                _(
                    "the shared-layer schema {schema} cannot be set up by this user ({error})"
                ).format(schema=self.schema, error=first_line(exc)),
                _(
                    "Ask the database administrator to run: citydesk layers department add "
                    "URL NAME (it sets the schema up)."
                ),
                gui_fix=_(
                    "Ask the database administrator to set up the shared layers in this database."
                ),
            ) from exc

    def _unreachable(self, exc: Exception) -> CityDeskError:
        return connection_error(
            self.url,
            exc,
            _("cannot connect to the shared-layer database at {url}: {error}"),
            _(
                "Check that the server runs and the URL is right. Give the password in "
                "PGPASSWORD, ~/.pgpass or the keyring (citydesk cases connect "
                "--save-password)."
            ),
            gui_fix=_(
                "Check that the server runs and the URL is right, and type the password in "
                "the Password field."
            ),
        )

    @contextmanager
    def _refusals(self) -> Iterator[None]:
        """The database's refusals as CityDesk errors: a lost server and a missing privilege
        each get their one-line message."""
        try:
            yield
        except errors.InsufficientPrivilege as exc:
            raise AccessDenied(
                _("the database refused this for user {user}: {error}").format(
                    user=self.url.user, error=first_line(exc)
                ),
                _("Ask the layer's owner department or the database administrator for access."),
            ) from exc
        except (errors.DataError, errors.IntegrityError) as exc:
            raise SharedLayerError(
                _("the database refused a value: {error}").format(error=first_line(exc)),
                _(
                    "Give each field a value of its type (a number for a number field, a "
                    "date as YYYY-MM-DD), and every required field a value."
                ),
            ) from exc
        except psycopg.OperationalError as exc:
            raise self._unreachable(exc) from exc


_databases: dict[str, SharedDatabase] = {}
_databases_lock = threading.Lock()


def shared_database(url: str | StoreUrl) -> SharedDatabase:
    """The process's :class:`SharedDatabase` for ``url`` (one pool per database and schema).
    A URL that carries a password is used, but the password never leaves this object."""
    parsed = url if isinstance(url, StoreUrl) else StoreUrl.parse(url)
    key = StoreUrl(parsed.text, parsed.schema or DEFAULT_SCHEMA).redacted()
    with _databases_lock:
        db = _databases.get(key)
        if db is None:
            db = _databases[key] = SharedDatabase(parsed)
        elif parsed.password and not db.url.password:
            db.url = parsed
        return db


def close_all() -> None:
    """Close every pool (at exit, and between tests)."""
    with _databases_lock:
        for db in _databases.values():
            db.close()
        _databases.clear()


def qualified(schema: str, table: str) -> sql.Composed:
    """``"schema"."table"``, quoted as identifiers (never pasted into SQL as text)."""
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))


def one(cur: Any) -> tuple[Any, ...]:
    """The single row a query must return."""
    row = cur.fetchone()
    if row is None:  # pragma: no cover - every caller's query returns one row
        raise RuntimeError("the database returned no row")
    return tuple(row)
