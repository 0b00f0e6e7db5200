"""Versioned schema migrations on a PostgreSQL server: the case store's and the shared
layers'.

Each file ``NNNN_name.sql`` of a migrations package is one version. Opening a store applies
the versions the database lacks, all in one transaction together with their rows in the
schema's ``schema_migrations`` (version, name, SHA-256 of the file, when), under an advisory
lock so two desks starting at once do not both migrate. A database that is newer than this
CityDesk, or whose applied migration differs from the file of the same version, is refused
rather than guessed at.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from psycopg import Connection, sql
from psycopg.rows import tuple_row

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class SchemaError(CityDeskError):
    """A database schema of CityDesk's that this CityDesk cannot use."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    text: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


@cache
def shipped(package: str) -> tuple[Migration, ...]:
    """The migrations in ``package``, in version order (read once: every open checks them)."""
    found = []
    for entry in resources.files(package).iterdir():
        match = _FILE.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    if [m.version for m in found] != list(range(1, len(found) + 1)):
        raise AssertionError("migration versions must be 1, 2, 3, ... without gaps")
    return tuple(found)


def _lock_key(schema: str) -> int:
    return int.from_bytes(
        hashlib.sha256(f"citydesk:{schema}".encode()).digest()[:8], "big", signed=True
    )


def _ensure_postgis(con: Connection) -> None:
    if con.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone():
        return
    try:
        with con.transaction():
            con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except Exception as exc:
        raise SchemaError(
            _("PostGIS is not installed in this database ({error})").format(error=exc),
            _(
                "Ask the database administrator to run CREATE EXTENSION postgis; in the "
                "database (Debian: apt-get install postgresql-15-postgis-3)."
            ),
        ) from exc


def applied(con: Connection, schema: str) -> dict[int, tuple[str, str]]:
    """version -> (name, checksum) of what the database has (empty for a new schema)."""
    exists = con.execute(
        "SELECT 1 FROM pg_tables WHERE schemaname = %s AND tablename = 'schema_migrations'",
        (schema,),
    ).fetchone()
    if not exists:
        return {}
    cur = con.cursor(row_factory=tuple_row)
    cur.execute(
        sql.SQL("SELECT version, name, checksum FROM {}.schema_migrations").format(
            sql.Identifier(schema)
        )
    )
    return {version: (name, checksum) for version, name, checksum in cur.fetchall()}


def _up_to_date(con: Connection, schema: str, package: str) -> bool:
    ours = {m.version: m.checksum for m in shipped(package)}
    have = applied(con, schema)
    return {v: c for v, (_name, c) in have.items()} == ours


def migrate(con: Connection, schema: str, package: str) -> list[int]:
    """Bring ``schema`` up to the latest version of the migrations in ``package``; returns
    the versions applied now. All pending versions go in one transaction: a failure leaves
    the schema as it was."""
    if _up_to_date(con, schema, package):
        return []  # what every desk's start finds: no lock, no DDL, no privilege needed
    _ensure_postgis(con)
    ident = sql.Identifier(schema)
    done: list[int] = []
    with con.transaction():
        con.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key(schema),))
        con.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(ident))
        con.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {}.schema_migrations (version integer PRIMARY KEY, "
                "name text NOT NULL, checksum text NOT NULL, "
                "applied_at timestamptz NOT NULL DEFAULT now())"
            ).format(ident)
        )
        have = applied(con, schema)
        ours = {m.version: m for m in shipped(package)}
        newer = sorted(set(have) - set(ours))
        if newer:
            raise SchemaError(
                _(
                    "the CityDesk tables in schema {schema} have version {found}; this "
                    "CityDesk knows up to version {ours}"
                ).format(schema=schema, found=max(newer), ours=max(ours)),
                _("Upgrade CityDesk on this desk; the other desks already use a newer one."),
            )
        for version, (name, checksum) in sorted(have.items()):
            if ours[version].checksum != checksum:
                raise SchemaError(
                    _(
                        "migration {version} ({name}) in schema {schema} differs from the one "
                        "this CityDesk ships"
                    ).format(version=version, name=name, schema=schema),
                    _("Someone changed the schema by hand; restore it from a backup."),
                )
        for version in sorted(set(ours) - set(have)):
            m = ours[version]
            con.execute(sql.SQL("SET LOCAL search_path TO {}, public").format(ident))
            con.execute(m.text)
            con.execute(
                sql.SQL(
                    "INSERT INTO {}.schema_migrations (version, name, checksum) VALUES (%s, %s, %s)"
                ).format(ident),
                (m.version, m.name, m.checksum),
            )
            done.append(version)
    return done
