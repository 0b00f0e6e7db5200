"""Scenarios, their indicators and the planner's decisions, kept inside the project file.

Three attribute tables in the project GeoPackage (registered in ``gpkg_contents``, so QGIS
lists them):

* ``citydesk_scenarios``: every saved revision of every scenario, TOML text as written. A
  save appends a revision and never rewrites an old one, so "what did we run in March" has
  an answer.
* ``citydesk_indicators``: the indicator values of a scenario run (per revision and area).
  A new run of the same revision replaces its rows in one transaction.
* ``citydesk_decisions``: "scenario X is preferred, because ...", with who, when and the
  scenarios it was compared with. Append-only: a changed mind is a new decision.

Every multi-row change runs in one SQLite transaction.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from citydesk.layers.i18n import _
from citydesk.layers.project_store import connect_tables

from .scenario import DEMO_SCENARIOS, Scenario, ScenarioError, parse_scenario, shipped_scenario

TABLES = {
    "citydesk_scenarios": (
        """CREATE TABLE IF NOT EXISTS citydesk_scenarios (
        fid INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, revision INTEGER NOT NULL,
        saved_at TEXT NOT NULL, author TEXT, title TEXT, toml TEXT NOT NULL,
        UNIQUE (name, revision))""",
        "CityDesk planning scenarios (TOML, every revision)",
    ),
    "citydesk_indicators": (
        """CREATE TABLE IF NOT EXISTS citydesk_indicators (
        fid INTEGER PRIMARY KEY AUTOINCREMENT, scenario TEXT NOT NULL, revision INTEGER NOT NULL,
        run_at TEXT NOT NULL, indicator TEXT NOT NULL, area TEXT NOT NULL, value REAL,
        unit TEXT)""",
        "CityDesk scenario indicators",
    ),
    "citydesk_decisions": (
        """CREATE TABLE IF NOT EXISTS citydesk_decisions (
        fid INTEGER PRIMARY KEY AUTOINCREMENT, decided_at TEXT NOT NULL, author TEXT,
        preferred TEXT NOT NULL, reason TEXT NOT NULL, compared TEXT NOT NULL)""",
        "CityDesk planning decisions",
    ),
}


@dataclass(frozen=True)
class Decision:
    decided_at: str
    author: str
    preferred: str
    reason: str
    compared: tuple[str, ...]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _connect(project: str | Path, write: bool = True) -> sqlite3.Connection:
    return connect_tables(project, TABLES, write=write)


def save_scenario(project: str | Path, scenario: Scenario | str, author: str = "") -> int:
    """Append a revision (checked first); returns its number. TOML text is stored as given
    so that comments survive; a Scenario object is written out as TOML."""
    text = scenario if isinstance(scenario, str) else scenario.to_toml()
    parsed = parse_scenario(text)
    with closing(_connect(project)) as con, con:
        (latest,) = con.execute(
            "SELECT COALESCE(MAX(revision), 0) FROM citydesk_scenarios WHERE name = ?",
            (parsed.name,),
        ).fetchone()
        con.execute(
            "INSERT INTO citydesk_scenarios (name, revision, saved_at, author, title, toml) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (parsed.name, latest + 1, _now(), author, parsed.title, text),
        )
    return latest + 1


def save_demo_scenarios(project: str | Path, author: str = "") -> dict[str, int]:
    """Store the shipped Cambridge demo scenarios; {name: revision}. Refused, naming the
    layers, on a project that does not have the demo's layers."""
    from .scenario_starter import check_demo_fits

    check_demo_fits(project)
    return {name: save_scenario(project, shipped_scenario(name), author) for name in DEMO_SCENARIOS}


def scenario_text(project: str | Path, name: str, revision: int | None = None) -> tuple[str, int]:
    """(TOML text, revision) of a scenario; the latest revision unless one is given."""
    with closing(_connect(project, write=False)) as con:
        if revision is None:
            row = con.execute(
                "SELECT toml, revision FROM citydesk_scenarios WHERE name = ? "
                "ORDER BY revision DESC LIMIT 1",
                (name,),
            ).fetchone()
        else:
            row = con.execute(
                "SELECT toml, revision FROM citydesk_scenarios WHERE name = ? AND revision = ?",
                (name, revision),
            ).fetchone()
        known = [r[0] for r in con.execute("SELECT DISTINCT name FROM citydesk_scenarios")]
    if row is None:
        fix = _("Scenarios in the project: {names}.").format(names=", ".join(known) or "-")
        if name.lower().endswith(".toml"):  # a scenario file, not yet stored
            fix = _(
                "Store the file first (citydesk plan save {project} {file}), then run it by "
                "the name inside it. {known}"
            ).format(project=Path(project).name, file=name, known=fix)
        raise ScenarioError(
            _("the project has no scenario '{name}'{rev}").format(
                name=name, rev="" if revision is None else f" (revision {revision})"
            ),
            fix,
            path=str(project),
        )
    return row[0], row[1]


def scenario_diff(
    project: str | Path, name: str, old: int | None = None, new: int | None = None
) -> str:
    """A unified diff of two stored revisions of a scenario (default: the last two), so a
    planner sees what changed between the runs being compared."""
    import difflib

    new_text, new_rev = scenario_text(project, name, new)
    old_rev = old if old is not None else new_rev - 1
    if old_rev < 1:
        return ""
    old_text, old_rev = scenario_text(project, name, old_rev)
    return "".join(
        difflib.unified_diff(
            old_text.splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            f"{name} revision {old_rev}",
            f"{name} revision {new_rev}",
        )
    )


def load_scenario(project: str | Path, name: str, revision: int | None = None) -> Scenario:
    text, _rev = scenario_text(project, name, revision)
    return parse_scenario(text, f"{project}:{name}")


def list_scenarios(project: str | Path) -> pd.DataFrame:
    """The latest revision of each scenario: name, revision, saved_at, author, title."""
    with closing(_connect(project, write=False)) as con:
        return pd.read_sql_query(
            "SELECT name, MAX(revision) AS revision, saved_at, author, title "
            "FROM citydesk_scenarios GROUP BY name ORDER BY MIN(fid)",
            con,
        )


def scenario_history(project: str | Path, name: str) -> pd.DataFrame:
    with closing(_connect(project, write=False)) as con:
        return pd.read_sql_query(
            "SELECT revision, saved_at, author, title FROM citydesk_scenarios WHERE name = ? "
            "ORDER BY revision",
            con,
            params=(name,),
        )


def save_indicators(project: str | Path, name: str, revision: int, table: pd.DataFrame) -> None:
    """Replace the stored indicators of (scenario, revision) with ``table`` (columns
    indicator, area, value, unit), in one transaction."""
    rows = [
        (
            name,
            revision,
            _now(),
            r.indicator,
            r.area,
            None if pd.isna(r.value) else float(r.value),
            r.unit,
        )
        for r in table.itertuples()
    ]
    with closing(_connect(project)) as con, con:
        con.execute(
            "DELETE FROM citydesk_indicators WHERE scenario = ? AND revision = ?", (name, revision)
        )
        con.executemany(
            "INSERT INTO citydesk_indicators (scenario, revision, run_at, indicator, area, value, "
            "unit) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


def stored_indicators(project: str | Path, names: list[str] | None = None) -> pd.DataFrame:
    """The indicators of the latest run revision of each scenario (or of ``names``)."""
    with closing(_connect(project, write=False)) as con:
        frame = pd.read_sql_query(
            "SELECT i.scenario, i.revision, i.run_at, i.indicator, i.area, i.value, i.unit "
            "FROM citydesk_indicators i JOIN (SELECT scenario, MAX(revision) AS revision "
            "FROM citydesk_indicators GROUP BY scenario) last "
            "ON i.scenario = last.scenario AND i.revision = last.revision ORDER BY i.fid",
            con,
        )
    if names is not None:
        missing = sorted(set(names) - set(frame["scenario"]))
        if missing:
            raise ScenarioError(
                _("no results for scenario(s) {names}").format(names=", ".join(missing)),
                _("Run them first: citydesk plan run PROJECT NAME."),
                gui_fix=_("Run them first (tick them and press Run in Planning scenarios)."),
                path=str(project),
            )
        frame = frame[frame["scenario"].isin(names)]
    return frame


def record_decision(
    project: str | Path, preferred: str, reason: str, compared: list[str], author: str = ""
) -> Decision:
    """Append the planner's choice and why; the preferred scenario must be among those
    compared and the reason must say something."""
    if not reason.strip():
        raise ScenarioError(
            _("a decision needs a reason"),
            _("Say why this option is preferred; the reason is kept with the plan."),
        )
    if preferred not in compared:
        raise ScenarioError(
            _("'{name}' is not among the compared scenarios").format(name=preferred),
            _("Compared: {names}.").format(names=", ".join(compared)),
        )
    decision = Decision(_now(), author, preferred, reason.strip(), tuple(compared))
    with closing(_connect(project)) as con, con:
        con.execute(
            "INSERT INTO citydesk_decisions (decided_at, author, preferred, reason, compared) "
            "VALUES (?, ?, ?, ?, ?)",
            (decision.decided_at, author, preferred, decision.reason, json.dumps(compared)),
        )
    return decision


def decisions(project: str | Path) -> list[Decision]:
    """Every decision, oldest first."""
    with closing(_connect(project, write=False)) as con:
        rows = con.execute(
            "SELECT decided_at, author, preferred, reason, compared FROM citydesk_decisions "
            "ORDER BY fid"
        ).fetchall()
    return [Decision(a, b or "", c, d, tuple(json.loads(e))) for a, b, c, d, e in rows]
