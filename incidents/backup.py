"""Backup and restore of a project's case store, on either backend.

The embedded GeoPackage store:

A backup is a consistent copy of the whole project file taken with SQLite's online backup
API: desks may keep working while it runs, and the copy is a single point in time (WAL
included), not a file copy that could catch a half-written page. Next to it goes a small
JSON manifest with the case and event counts and a checksum of every column of every case
and event, so a restore can prove it brought back exactly what was saved.

Restore checks the backup (``PRAGMA integrity_check``, the manifest) before touching the
project, then copies it in through the same backup API into a temporary file and moves
that over the project in one rename: the project is either the old one or the restored one.
"""

from __future__ import annotations

import json
import os
import sqlite3
from contextlib import closing
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _, ngettext

from .case_store import (
    _LATER_COLUMNS,
    SUMMARY_QUERIES,
    CaseStore,
    StoreSummary,
    summarize_rows,
)

if TYPE_CHECKING:
    from .postgis_store import PostgisCaseStore


class BackupError(CityDeskError):
    """A backup cannot be made or trusted."""


def counted(summary: StoreSummary) -> dict[str, str]:
    """A store's cases and events as a message says them, each in its own plural form
    ("1 case", "3 events"): for the backup and restore lines and the manifest check."""
    return {
        "cases": ngettext("{n} case", "{n} cases", summary.cases).format(n=summary.cases),
        "events": ngettext("{n} event", "{n} events", summary.events).format(n=summary.events),
    }


def summarize(path: str | Path) -> StoreSummary:
    """Counts and checksum of the case store in a GeoPackage (read-only), in the same form
    as :meth:`citydesk.incidents.case_store.CaseStore.summary` gives for any backend."""
    with closing(sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)) as con:
        con.row_factory = sqlite3.Row
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "cases" not in tables:
            return summarize_rows([], [])
        have = {r[1] for r in con.execute("PRAGMA table_info(cases)")}
        case_sql, event_sql = SUMMARY_QUERIES
        for later in _LATER_COLUMNS:
            if later not in have:  # a store made before the column existed
                case_sql = case_sql.replace(f", {later}", "")
        return summarize_rows(con.execute(case_sql), con.execute(event_sql))


def _manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + ".json")


def _integrity(path: Path) -> str:
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as con:
        return con.execute("PRAGMA integrity_check").fetchone()[0]


def backup_project(project: str | Path, target: str | Path) -> StoreSummary:
    """Write a consistent copy of ``project`` to ``target`` (and ``target.json``)."""
    project, target = Path(project), Path(target)
    if not project.exists():
        raise BackupError(
            _("the project file does not exist"), _("Check the path."), path=str(project)
        )
    if target.resolve() == project.resolve():
        raise BackupError(_("the backup would overwrite the project"), _("Choose another file."))
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    with (
        closing(sqlite3.connect(project, timeout=30)) as src,
        closing(sqlite3.connect(part)) as dst,
    ):
        src.backup(dst)  # online and consistent: desks may keep writing meanwhile
    check = _integrity(part)
    if check != "ok":
        part.unlink(missing_ok=True)
        raise BackupError(
            _("the backup copy failed its integrity check ({check})").format(check=check),
            _("Check the disk and try again."),
            path=str(target),
        )
    summary = summarize(part)
    os.replace(part, target)
    _write_manifest(target, summary, str(project))
    return summary


def _write_manifest(target: Path, summary: StoreSummary, source: str) -> None:
    manifest = {
        "made_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": source,
        **asdict(summary),
    }
    _manifest_path(target).write_text(json.dumps(manifest, indent=1), encoding="utf-8")


def check_backup(backup: Path) -> StoreSummary:
    """The summary of a whole, unaltered backup file; refuses a damaged or changed one."""
    if not backup.exists():
        raise BackupError(
            _("the backup file does not exist"), _("Check the path."), path=str(backup)
        )
    try:
        check = _integrity(backup)
    except sqlite3.DatabaseError as exc:
        raise BackupError(
            _("the backup file is damaged or not a GeoPackage ({err})").format(err=exc),
            _("Use another backup."),
            path=str(backup),
        ) from exc
    if check != "ok":
        raise BackupError(
            _("the backup failed its integrity check ({check})").format(check=check),
            _("Use another backup."),
            path=str(backup),
        )
    summary = summarize(backup)
    manifest_file = _manifest_path(backup)
    if not manifest_file.exists():
        raise BackupError(
            _("the backup has no manifest ({name}), so it cannot be checked").format(
                name=manifest_file.name
            ),
            _("Use a backup made by citydesk cases backup, with its manifest beside it."),
            gui_fix=_("Use a backup made by CityDesk, with its manifest file beside it."),
            path=str(backup),
        )
    if manifest_file.exists():
        saved = json.loads(manifest_file.read_text(encoding="utf-8"))
        expected = StoreSummary(saved["cases"], saved["events"], saved["checksum"])
        if summary != expected:
            raise BackupError(
                _("the backup does not match its manifest ({cases}, {events} found; "
                  "{want_cases} and {want_events} recorded)").format(
                    **counted(summary), want_cases=expected.cases, want_events=expected.events,
                ),
                _("The file was changed after the backup; use another backup."),
                path=str(backup),
            )  # fmt: skip
    return summary


def restore_project(backup: str | Path, project: str | Path) -> StoreSummary:
    """Put the cases, their history and the crews of a checked backup back into
    ``project``, in one transaction, and nothing else: the project's layers, styles,
    scenarios and settings stay as they are now (issue 21: restoring replaced the whole
    file, so layers added since the backup vanished). The restored store is checked against
    the backup's manifest before the transaction commits. No desk should have the project
    open meanwhile (it would keep showing the cases it had read)."""
    from citydesk.layers import gpkg

    from .store import _DDL, SqliteCaseStore

    backup, project = Path(backup), Path(project)
    summary = check_backup(backup)
    SqliteCaseStore(project).close()  # the project has a case store of today's schema
    with closing(gpkg.connect(project, timeout=30)) as con:
        con.row_factory = sqlite3.Row
        con.execute("ATTACH DATABASE ? AS b", (f"file:{backup}?mode=ro",))
        try:
            gpkg.begin_write(con)
            try:
                # the history is append-only for everyone but a restore, which replaces it
                for name in ("case_events_append_only_u", "case_events_append_only_d"):
                    con.execute(f"DROP TRIGGER IF EXISTS {name}")
                for table in ("case_events", "cases", "crews"):
                    con.execute(f"DELETE FROM main.{table}")
                    ours = [r[1] for r in con.execute(f"PRAGMA main.table_info({table})")]
                    theirs = {r[1] for r in con.execute(f"PRAGMA b.table_info({table})")}
                    cols = ", ".join(c for c in ours if c in theirs)
                    con.execute(f"INSERT INTO main.{table} ({cols}) SELECT {cols} FROM b.{table}")
                for ddl in _DDL:
                    con.execute(ddl)
                case_sql, event_sql = SUMMARY_QUERIES
                got = summarize_rows(con.execute(case_sql), con.execute(event_sql))
                if got != summary:
                    raise BackupError(
                        _("the restored cases do not match the backup; nothing was changed"),
                        _("Report this as a bug, with the backup."),
                        path=str(backup),
                    )
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")
        finally:
            con.execute("DETACH DATABASE b")
    return summary


# --- the PostGIS store: a logical backup into a GeoPackage ---------------------------------
def backup_database(store: CaseStore, target: str | Path) -> StoreSummary:
    """Copy every case, event and crew of ``store`` (a PostGIS store) into a new GeoPackage
    at ``target``, verified by checksum before it is kept, with the same manifest as a
    project backup. The file opens in QGIS; ``restore_database`` brings it back. (A
    database administrator's ``pg_dump`` or point-in-time recovery work as well; this one
    needs no server tools and checks itself.)"""
    from .store import SqliteCaseStore
    from .store_copy import copy_store

    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    for leftover in (part, Path(f"{part}-wal"), Path(f"{part}-shm")):
        leftover.unlink(missing_ok=True)
    with SqliteCaseStore(part) as copy:
        summary = copy_store(store, copy)
        copy._con.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    os.replace(part, target)
    _write_manifest(target, summary, store.location)
    return summary


def restore_database(backup: str | Path, store: PostgisCaseStore) -> tuple[StoreSummary, str]:
    """Replace the cases in ``store``'s schema with a checked backup. The backup is loaded
    into a new schema beside the live one and verified; then one transaction swaps the
    names. The replaced contents stay in a schema named ``<schema>_replaced_<time>``
    (returned) until an administrator drops it. Desks should be closed meanwhile."""
    from .postgis_store import PostgisCaseStore
    from .store import SqliteCaseStore
    from .store_copy import copy_store

    backup = Path(backup)
    expected = check_backup(backup)
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    fresh_schema, old_schema = f"{store.schema}_restore_{stamp}", f"{store.schema}_replaced_{stamp}"
    with (
        SqliteCaseStore(backup) as source,
        PostgisCaseStore(store.url, schema=fresh_schema) as fresh,
    ):
        summary = copy_store(source, fresh)
    if summary != expected:  # the file was replaced after it was checked
        raise BackupError(_("the restored cases do not match the backup"), _("Use another backup."))
    store.swap_schema(fresh_schema, old_schema)
    return summary, old_schema


# --- a project's cases, wherever they live ---------------------------------------------------
def backup_cases(project: str | Path, target: str | Path) -> StoreSummary:
    """Back up the cases of ``project``: a copy of the project file, or a logical copy of
    the PostGIS store it is connected to (what ``citydesk cases backup`` runs)."""
    from .stores import is_url, open_store, store_place

    place = store_place(project)
    if not is_url(place):
        return backup_project(project, target)
    with open_store(place) as store:
        return backup_database(store, target)


def restore_cases(backup: str | Path, project: str | Path) -> tuple[StoreSummary, str, str | None]:
    """Restore the cases of ``project`` from ``backup``, into the project file or into the
    PostGIS store it is connected to. Returns the summary, where the cases now are, and the
    schema that keeps the replaced PostGIS contents (None for a project file)."""
    from .postgis_store import PostgisCaseStore
    from .stores import is_url, store_place

    place = store_place(project)
    if not is_url(place):
        return restore_project(backup, project), str(project), None
    with PostgisCaseStore(str(place)) as store:
        summary, kept = restore_database(backup, store)
        return summary, store.location, kept
