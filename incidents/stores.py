"""Which case store a project uses, and opening it.

A project keeps its cases in its own GeoPackage unless ``citydesk cases connect`` pointed
it at a PostgreSQL + PostGIS database: then the project's settings hold that URL (never a
password; see :mod:`incidents.store_url`). Everything that opens a project's cases goes
through :func:`open_store`, so the CLI, the desk and the dashboard agree on where they are.
"""

from __future__ import annotations

from pathlib import Path

from .case_store import CaseStore

#: the key in the project's settings (``citydesk_project`` table) that holds the URL
SETTING = "case_store"


def is_url(place: str | Path) -> bool:
    return isinstance(place, str) and place.startswith(("postgresql://", "postgres://"))


def open_store(place: str | Path, grid=None, **kwargs) -> CaseStore:
    """The store at ``place``: a PostgreSQL URL or a GeoPackage path. ``grid`` is an
    :class:`incidents.grid_index.GridIndex` (or None) that gives new cases their codes."""
    if is_url(place):
        from .postgis_store import PostgisCaseStore

        return PostgisCaseStore(str(place), grid=grid, **kwargs)
    from .store import SqliteCaseStore

    return SqliteCaseStore(place, grid=grid, **kwargs)


def store_place(project: str | Path) -> str | Path:
    """Where ``project`` keeps its cases: the connected URL, or the project file itself."""
    from layers.project_store import read_project_meta

    setting = (read_project_meta(project).get("metadata") or {}).get(SETTING)
    return setting["url"] if isinstance(setting, dict) and setting.get("url") else Path(project)
