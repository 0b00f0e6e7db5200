"""The layer catalogue and the departments: where a department finds the others' data.

Each shared layer has a catalogue entry (owner department, description, licence, update time,
feature count, extent, CRS), kept current by the database's triggers. The database decides
what a user sees: a restricted layer's entry is shown only to the departments that may read
it. Departments are PostgreSQL group roles; adding one and putting staff in it is the
database administrator's job (:func:`add_department`, :func:`grant_department`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from psycopg import sql

from .i18n import _
from .shared_db import LAYERS_ROLE, SharedDatabase, SharedLayerError, one

_DEPARTMENT = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
#: a department's group role: this prefix and its name
ROLE_PREFIX = "citydesk_dept_"


@dataclass(frozen=True)
class CatalogueEntry:
    """One shared layer as the catalogue describes it to the signed-in user."""

    table: str
    title: str
    department: str
    description: str
    licence: str
    restricted: bool
    geometry_type: str
    srid: int
    feature_count: int
    extent: tuple[float, float, float, float] | None
    published_by: str
    published_at: dt.datetime
    updated_at: dt.datetime
    readers: tuple[str, ...]
    can_read: bool
    can_write: bool

    @property
    def crs(self) -> str:
        return f"EPSG:{self.srid}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "title": self.title,
            "department": self.department,
            "description": self.description,
            "licence": self.licence,
            "restricted": self.restricted,
            "readers": list(self.readers),
            "geometry_type": self.geometry_type,
            "crs": self.crs,
            "features": self.feature_count,
            "extent": list(self.extent) if self.extent else None,
            "published_by": self.published_by,
            "published_at": self.published_at.isoformat(timespec="seconds"),
            "updated_at": self.updated_at.isoformat(timespec="seconds"),
            "can_read": self.can_read,
            "can_write": self.can_write,
        }


_SELECT = """
SELECT c.layer_table, c.title, c.department, c.description, c.licence, c.restricted,
       c.geometry_type, c.srid, c.feature_count, c.min_x, c.min_y, c.max_x, c.max_y,
       c.published_by, c.published_at, c.updated_at,
       coalesce((SELECT array_agg(r.department ORDER BY r.department) FROM layer_readers r
                 WHERE r.layer_table = c.layer_table), '{}') AS readers,
       citydesk_may_read(current_schema(), c.layer_table) AS can_read,
       CASE WHEN to_regclass(format('%%I.%%I', current_schema(), c.layer_table)) IS NULL
            THEN false
            ELSE has_table_privilege(format('%%I.%%I', current_schema(), c.layer_table),
                                     'UPDATE') END AS can_write
FROM catalogue c
"""

_SEARCHED = (
    "concat_ws(' ', c.layer_table, c.title, c.department, c.description, c.licence) ILIKE %s"
)


def _require_catalogue(db: SharedDatabase, con: Any) -> None:
    if one(con.execute("SELECT to_regclass('catalogue')"))[0] is None:
        raise SharedLayerError(
            _("there is no layer catalogue in schema {schema} of {url}").format(
                schema=db.schema, url=db.location
            ),
            _(
                "Ask the database administrator to set it up: citydesk layers department add "
                "URL NAME; or give the right schema in the URL (?schema=NAME)."
            ),
            gui_fix=_(
                "Ask the database administrator to set up the shared layers in this database, "
                "or give the right schema in the URL (?schema=NAME)."
            ),
        )


def catalogue(db: SharedDatabase, search: str | None = None) -> list[CatalogueEntry]:
    """The entries the signed-in user may see, by department then title. ``search`` keeps
    those whose table name, title, department, description or licence contain every word
    of it (any case)."""
    words = (search or "").split()
    query = _SELECT
    if words:
        query += " WHERE " + " AND ".join([_SEARCHED] * len(words))
    query += " ORDER BY c.department, c.title, c.layer_table"
    with db.connection() as con:
        _require_catalogue(db, con)
        rows = con.execute(query, [f"%{_escape_like(w)}%" for w in words]).fetchall()
    return [_entry(row) for row in rows]


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def catalogue_entry(db: SharedDatabase, table: str) -> CatalogueEntry | None:
    """The entry of ``table``, or None (not catalogued, or not visible to this user)."""
    with db.connection() as con:
        if one(con.execute("SELECT to_regclass('catalogue')"))[0] is None:
            return None
        row = con.execute(_SELECT + " WHERE c.layer_table = %s", (table,)).fetchone()
    return _entry(row) if row else None


def _entry(row: Sequence[Any]) -> CatalogueEntry:
    box = row[9:13]
    return CatalogueEntry(
        table=row[0],
        title=row[1],
        department=row[2],
        description=row[3],
        licence=row[4],
        restricted=bool(row[5]),
        geometry_type=row[6],
        srid=int(row[7]),
        feature_count=int(row[8]),
        extent=None if any(v is None for v in box) else tuple(float(v) for v in box),  # type: ignore[arg-type]
        published_by=row[13],
        published_at=row[14],
        updated_at=row[15],
        readers=tuple(row[16] or ()),
        can_read=bool(row[17]),
        can_write=bool(row[18]),
    )


# --- departments ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Department:
    name: str
    title: str
    role: str
    member: bool  # is the signed-in user in it?


def check_department_name(name: str) -> str:
    if not _DEPARTMENT.match(name):
        raise SharedLayerError(
            _("{name!r} is not a usable department name").format(name=name),
            _("Use lower-case letters, digits and underscores, starting with a letter."),
        )
    return name


def add_department(db: SharedDatabase, name: str, title: str = "") -> Department:
    """Create department ``name`` (its group role and its row); sets the schema up the
    first time. Needs a database user allowed to create roles."""
    check_department_name(name)
    db.ensure_schema()
    role = ROLE_PREFIX + name
    with db.transaction() as con:
        exists = con.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
        if not exists:
            con.execute(
                sql.SQL("CREATE ROLE {} NOLOGIN IN ROLE {}").format(
                    sql.Identifier(role), sql.Identifier(LAYERS_ROLE)
                )
            )
        con.execute(
            "INSERT INTO departments (name, title, db_role) VALUES (%s, %s, %s) "
            "ON CONFLICT (name) DO UPDATE SET title = EXCLUDED.title",
            (name, title, role),
        )
    return Department(name, title, role, member=False)


def grant_department(db: SharedDatabase, user: str, name: str) -> None:
    """Put database user ``user`` in department ``name``."""
    department = _department(db, name)
    with db.connection() as con:
        if con.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)).fetchone() is None:
            raise SharedLayerError(
                _("there is no database user {user}").format(user=user),
                _("Create it first: CREATE ROLE {user} LOGIN PASSWORD '...';").format(user=user),
            )
        con.execute(
            sql.SQL("GRANT {} TO {}").format(sql.Identifier(department.role), sql.Identifier(user))
        )


def departments(db: SharedDatabase) -> list[Department]:
    with db.connection() as con:
        _require_catalogue(db, con)
        rows = con.execute(
            "SELECT name, title, db_role, pg_has_role(current_user, db_role, 'MEMBER') "
            "FROM departments ORDER BY name"
        ).fetchall()
    return [Department(r[0], r[1], r[2], bool(r[3])) for r in rows]


def _department(db: SharedDatabase, name: str) -> Department:
    found = {d.name: d for d in departments(db)}
    if name not in found:
        raise SharedLayerError(
            _("there is no department {name} in the shared-layer database").format(name=name),
            _("The departments are: {names}. An administrator adds one with: citydesk layers "
              "department add URL NAME").format(names=", ".join(found) or "-"),
            gui_fix=_("The departments are: {names}.").format(names=", ".join(found) or "-"),
        )  # fmt: skip
    return found[name]


def member_department(db: SharedDatabase, name: str) -> Department:
    """Department ``name``, which the signed-in user must belong to (to publish or edit as
    it); the database checks the same again."""
    department = _department(db, name)
    if not department.member:
        from .shared_db import AccessDenied

        raise AccessDenied(
            _("database user {user} is not in department {name}").format(
                user=db.url.user, name=name
            ),
            _("Ask the database administrator: citydesk layers department grant URL USER NAME"),
            gui_fix=_("Ask the database administrator to put you in that department."),
        )
    return department
