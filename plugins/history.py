"""Every algorithm run, kept in the project as JSON so it can be repeated.

``citydesk_history`` (a GeoPackage attribute table) holds, per run: when, which algorithm of
which plugin version, the raw parameter values exactly as given, the status (ok, failed,
canceled), the message and the outputs. Rows are only appended. ``citydesk history rerun N``
and the workbench's history dock run row N again with the same parameters.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _
from citydesk.layers.project_store import connect_tables

TABLES = {
    "citydesk_history": (
        """CREATE TABLE IF NOT EXISTS citydesk_history (
        fid INTEGER PRIMARY KEY AUTOINCREMENT, run_at TEXT NOT NULL, algorithm TEXT NOT NULL,
        plugin TEXT NOT NULL, plugin_version TEXT NOT NULL, parameters TEXT NOT NULL,
        status TEXT NOT NULL, message TEXT, seconds REAL, outputs TEXT)""",
        "CityDesk algorithm runs",
    )
}


@dataclass(frozen=True)
class HistoryEntry:
    fid: int
    run_at: str
    algorithm: str
    plugin: str
    plugin_version: str
    parameters: dict[str, Any]
    status: str
    message: str
    seconds: float
    outputs: dict[str, Any]


def _connect(project: str | Path, write: bool = True) -> sqlite3.Connection:
    return connect_tables(project, TABLES, write=write)


def record_run(
    project: str | Path,
    algorithm: str,
    plugin: str,
    plugin_version: str,
    parameters: dict[str, Any],
    status: str,
    message: str = "",
    seconds: float = 0.0,
    outputs: dict[str, Any] | None = None,
) -> int:
    with closing(_connect(project)) as con, con:
        cursor = con.execute(
            "INSERT INTO citydesk_history (run_at, algorithm, plugin, plugin_version, parameters,"
            " status, message, seconds, outputs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                datetime.now(UTC).isoformat(timespec="seconds"),
                algorithm,
                plugin,
                plugin_version,
                json.dumps(parameters, ensure_ascii=False, default=str),
                status,
                message,
                seconds,
                json.dumps(outputs or {}, ensure_ascii=False, default=str),
            ),
        )
        return int(cursor.lastrowid)


def history(project: str | Path) -> pd.DataFrame:
    with closing(_connect(project, write=False)) as con:
        return pd.read_sql_query(
            "SELECT fid, run_at, algorithm, plugin, plugin_version, status, seconds, parameters,"
            " message FROM citydesk_history ORDER BY fid",
            con,
        )


def entry(project: str | Path, fid: int) -> HistoryEntry:
    with closing(_connect(project, write=False)) as con:
        row = con.execute(
            "SELECT fid, run_at, algorithm, plugin, plugin_version, parameters, status, message,"
            " seconds, outputs FROM citydesk_history WHERE fid = ?",
            (fid,),
        ).fetchone()
    if row is None:
        raise CityDeskError(
            _("there is no run {n} in the project's history").format(n=fid),
            _("List them with: citydesk history list PROJECT."),
            gui_fix=_("See them in Processing > Processing history."),
            path=str(project),
        )
    return HistoryEntry(
        row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), row[6], row[7] or "",
        row[8] or 0.0, json.loads(row[9] or "{}"),
    )  # fmt: skip
