"""Backup and restore of a project's case store (the embedded GeoPackage backend).

A backup is a consistent copy of the whole project file taken with SQLite's online backup
API: desks may keep working while it runs, and the copy is a single point in time (WAL
included), not a file copy that could catch a half-written page. Next to it goes a small
JSON manifest with the case and event counts and a checksum of every case's
(id, status, version) and event sequence, so a restore can prove it brought back exactly
what was saved.

Restore checks the backup (``PRAGMA integrity_check``, the manifest) before touching the
project, then copies it in through the same backup API into a temporary file and moves
that over the project in one rename: the project is either the old one or the restored one.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from contextlib import closing
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from layers.errors import CityDeskError
from layers.i18n import _


class BackupError(CityDeskError):
    """A backup cannot be made or trusted."""


@dataclass(frozen=True)
class StoreSummary:
    cases: int
    events: int
    checksum: str  # sha256 over (case_id, status, version) and (case_id, seq, action) rows

    def matches(self, other: StoreSummary) -> bool:
        return self == other


def summarize(path: str | Path) -> StoreSummary:
    """Counts and a checksum of the case store in a project file (read-only)."""
    with closing(sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)) as con:
        digest = hashlib.sha256()
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "cases" not in tables:
            return StoreSummary(0, 0, digest.hexdigest())
        cases = 0
        for row in con.execute("SELECT case_id, status, version FROM cases ORDER BY case_id"):
            digest.update(repr(tuple(row)).encode())
            cases += 1
        events = 0
        for row in con.execute(
            "SELECT case_id, seq, action FROM case_events ORDER BY case_id, seq"
        ):
            digest.update(repr(tuple(row)).encode())
            events += 1
        return StoreSummary(cases, events, digest.hexdigest())


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
    manifest = {
        "made_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "project": str(project),
        **asdict(summary),
    }
    _manifest_path(target).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return summary


def restore_project(backup: str | Path, project: str | Path) -> StoreSummary:
    """Replace ``project`` with ``backup`` after checking the backup is whole and matches
    its manifest. No desk should have the project open (the rename would leave it on the
    old file)."""
    backup, project = Path(backup), Path(project)
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
    if manifest_file.exists():
        saved = json.loads(manifest_file.read_text(encoding="utf-8"))
        expected = StoreSummary(saved["cases"], saved["events"], saved["checksum"])
        if not summary.matches(expected):
            raise BackupError(
                _("the backup does not match its manifest ({cases} cases, {events} events "
                  "found; {want_cases} and {want_events} recorded)").format(
                    cases=summary.cases, events=summary.events,
                    want_cases=expected.cases, want_events=expected.events,
                ),
                _("The file was changed after the backup; use another backup."),
                path=str(backup),
            )  # fmt: skip
    part = project.with_name(project.name + ".restore")
    with closing(sqlite3.connect(backup)) as src, closing(sqlite3.connect(part)) as dst:
        src.backup(dst)
    if project.exists():  # fold the old file's write-ahead log in first: nothing dangles
        with closing(sqlite3.connect(project, timeout=30)) as con:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    os.replace(part, project)
    for suffix in ("-wal", "-shm"):  # empty now, and they belonged to the old file
        Path(f"{project}{suffix}").unlink(missing_ok=True)
    return summary
