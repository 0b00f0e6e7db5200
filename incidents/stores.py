"""Which case store a project uses, and opening it.

A project keeps its cases in its own GeoPackage unless ``citydesk cases connect`` pointed
it at a PostgreSQL + PostGIS database: then the project's settings hold that URL (never a
password; see :mod:`citydesk.layers.pg_url`). Everything that opens a project's cases goes
through :func:`open_store`, so the CLI, the desk and the dashboard agree on where they are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .case_store import CaseStore

MISSING: Any = object()  # "read the project's own grid"

#: the key in the project's settings (``citydesk_project`` table) that holds the URL
SETTING = "case_store"


def is_url(place: str | Path) -> bool:
    return isinstance(place, str) and place.startswith(("postgresql://", "postgres://"))


def open_store(place: str | Path, grid=None, **kwargs) -> CaseStore:
    """The store at ``place``: a PostgreSQL URL or a GeoPackage path. ``grid`` is an
    :class:`citydesk.incidents.grid_index.GridIndex` (or None) that gives new cases their codes."""
    if is_url(place):
        from .postgis_store import PostgisCaseStore

        return PostgisCaseStore(str(place), grid=grid, **kwargs)
    from .store import SqliteCaseStore

    return SqliteCaseStore(place, grid=grid, **kwargs)


def open_project_store(project: str | Path, grid: Any = MISSING) -> CaseStore:
    """**The** way to open a project's cases (CLI, desk, dashboard, planning): wherever they
    live (the project's GeoPackage, or the PostGIS database it is connected to), with the
    project's unit grid giving new cases their grid codes.

    ``grid`` is the project's grid frame when the caller has already read it, None for no
    grid codes; by default it is read from the project, which also refuses a file that is not
    a CityDesk project with a clear message."""
    from citydesk.layers.city_profile import project_profile

    from .calendar import project_calendar
    from .categories import catalogue_for
    from .grid_index import GridIndex
    from .project_grid import read_project_grid

    if grid is MISSING:
        grid = read_project_grid(project)
    profile = project_profile(project)  # read once: the calendar and the categories
    return open_store(
        store_place(project),
        grid=GridIndex(grid) if grid is not None else None,
        calendar=project_calendar(project, profile),  # due times on the city's own calendar
        catalogue=catalogue_for(profile),  # the shipped categories and the city's own
    )


def store_place(project: str | Path) -> str | Path:
    """Where ``project`` keeps its cases: the connected URL, or the project file itself."""
    from citydesk.layers.project_store import read_project_meta

    setting = (read_project_meta(project).get("metadata") or {}).get(SETTING)
    return setting["url"] if isinstance(setting, dict) and setting.get("url") else Path(project)


def _set_place(project: str | Path, url: str | None) -> None:
    from citydesk.layers.project_store import put_layers

    put_layers(project, [], metadata={SETTING: {"url": url} if url else None})


def checked_url(text: str):
    """The URL to store in a project: refused if it carries a password (the project file
    would then hold it)."""
    from citydesk.layers.i18n import _
    from citydesk.layers.pg_url import StoreUrl, StoreUrlError

    url = StoreUrl.parse(text)
    if url.password is not None or url.ssl_password is not None:
        raise StoreUrlError(
            _("the URL contains a password, which would be saved in the project file"),
            _(
                "Remove it from the URL and give it in PGPASSWORD, in ~/.pgpass, or with "
                "--save-password (system keyring)."
            ),
            gui_fix=_("Remove it from the URL and type it in the Password box."),
        )
    return url


def connect_project(project: str | Path, url_text: str) -> tuple[int, str]:
    """Point ``project`` at the PostGIS store at ``url_text`` (creating or upgrading its
    schema); returns (cases there, where). Call with no store open on the project file."""
    from .postgis_store import PostgisCaseStore

    url = checked_url(url_text)
    with PostgisCaseStore(url) as store:
        n, where = store.count(), store.location
    _set_place(project, url.redacted())
    return n, where


def use_project_file(project: str | Path) -> None:
    """Keep the project's cases in its own GeoPackage again."""
    _set_place(project, None)


def migrate_project(project: str | Path, url_text: str, feedback=None):
    """Copy the project's GeoPackage cases into the empty PostGIS store at ``url_text``,
    verified (see :func:`citydesk.incidents.store_copy.copy_store`), then point the project at it.
    Returns (summary, where)."""
    from citydesk.layers.errors import CityDeskError
    from citydesk.layers.i18n import _

    from .postgis_store import PostgisCaseStore
    from .store import SqliteCaseStore
    from .store_copy import copy_store

    if is_url(store_place(project)):
        raise CityDeskError(
            _("the project's cases are already in a database"),
            _("Use citydesk cases backup/restore to move them between databases."),
            gui_fix=_(
                "Ask the store's administrator to move them (citydesk cases backup/restore)."
            ),
        )
    url = checked_url(url_text)
    with SqliteCaseStore(project) as source, PostgisCaseStore(url) as target:
        summary = copy_store(source, target, feedback)
        where = target.location
    _set_place(project, url.redacted())
    return summary, where
