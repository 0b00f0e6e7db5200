"""Where CityDesk's data lives on a server: a PostgreSQL URL, and how a password is found.

The case store (:mod:`citydesk.incidents.postgis_store`) and the shared layers
(:mod:`citydesk.layers.shared_db`) connect the same way. A project keeps only the URL, never
a password (project files get mailed around and put on shared drives). The password comes
from, in this order: the ``PGPASSWORD`` variable, the system keyring (service ``citydesk``,
user name = the URL without password, as ``citydesk cases connect --save-password`` stores
it), and libpq's own ``~/.pgpass``. A URL may carry ``?schema=NAME`` to keep several cities
(or a training copy) in one database; it is CityDesk's parameter, not libpq's, and is taken
out before connecting.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _

KEYRING_SERVICE = "citydesk"
_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


_SECRET_KEYS = ("password", "sslpassword")


class StoreUrlError(CityDeskError):
    """A PostgreSQL URL that cannot be used (or a server it names that cannot be reached)."""


@dataclass(frozen=True)
class StoreUrl:
    """A parsed ``postgresql://`` URL (the password, if any, kept apart)."""

    text: str  # without password and without the schema parameter
    schema: str | None = None
    password: str | None = field(default=None, repr=False)
    ssl_password: str | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str) -> StoreUrl:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("postgresql", "postgres"):
            raise StoreUrlError(
                _("{url!r} is not a PostgreSQL URL").format(url=url),
                _("Write it as postgresql://USER@HOST:PORT/DATABASE"),
            )
        query = parse_qsl(parts.query, keep_blank_values=True)
        schema = next((v for k, v in query if k == "schema"), None)
        if schema is not None and not _SCHEMA.match(schema):
            raise StoreUrlError(
                _("{schema!r} is not a usable schema name").format(schema=schema),
                _("Use lower-case letters, digits and underscores."),
            )
        netloc = parts.netloc
        password = parts.password
        if password is not None:
            host = netloc.rsplit("@", 1)[1]
            netloc = f"{parts.username}@{host}" if parts.username else host
        # a password in the query string (?password=, ?sslpassword=) is kept apart too:
        # the URL is stored in the project file, and shown in messages (issue 21)
        secret = {k: v for k, v in query if k in _SECRET_KEYS}
        password = password if password is not None else secret.get("password")
        rest = urlencode([(k, v) for k, v in query if k != "schema" and k not in _SECRET_KEYS])
        text = urlunsplit((parts.scheme, netloc, parts.path, rest, ""))
        try:
            conninfo_to_dict(text)
        except psycopg.ProgrammingError as exc:
            raise StoreUrlError(
                _("the URL {url} cannot be read ({error})").format(url=text, error=exc),
                _("Write it as postgresql://USER@HOST:PORT/DATABASE"),
            ) from exc
        return cls(text, schema, password, secret.get("sslpassword"))

    @property
    def user(self) -> str:
        """The database user the URL signs in as (libpq's default: the system user)."""
        import getpass

        return str(conninfo_to_dict(self.text).get("user") or getpass.getuser())

    def redacted(self) -> str:
        """The URL to show and to store: no password, the schema parameter kept."""
        if not self.schema:
            return self.text
        return self.text + ("&" if "?" in self.text else "?") + urlencode({"schema": self.schema})

    def keyring_password(self) -> str | None:
        if os.environ.get("PGPASSWORD"):
            return None
        try:
            import keyring

            return keyring.get_password(KEYRING_SERVICE, self.text)
        except Exception:  # no keyring backend on this machine: libpq's sources remain
            return None

    def connect_kwargs(self) -> dict[str, str]:
        """Connection parameters besides the URL (``self.text``): the password, if found."""
        kwargs = {"application_name": "CityDesk"}
        password = self.password or self.keyring_password()
        if password:
            kwargs["password"] = password
        if self.ssl_password:
            kwargs["sslpassword"] = self.ssl_password
        return kwargs


def save_password(url: StoreUrl, password: str) -> None:
    """Keep the password in the system keyring, where :meth:`StoreUrl.connect_kwargs` looks."""
    try:
        import keyring

        keyring.set_password(KEYRING_SERVICE, url.text, password)
    except Exception as exc:
        raise StoreUrlError(
            _("the password cannot be saved in the system keyring ({error})").format(error=exc),
            _("Use PGPASSWORD or a ~/.pgpass file instead."),
        ) from exc


def connection_error(
    url: StoreUrl, exc: Exception, problem: str, fix: str, gui_fix: str = ""
) -> CityDeskError:
    """The one-line message for a server that cannot be reached: ``problem`` is the caller's
    translated template with ``{url}`` (shown without password) and ``{error}`` (the first
    line of libpq's own message)."""
    return StoreUrlError(
        problem.format(url=url.redacted(), error=first_line(exc)), fix, gui_fix=gui_fix
    )


def first_line(exc: Exception) -> str:
    """The first line of a driver's message (libpq's run over several), or the error's kind."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
