"""Import a city system's case file into a project's case store, and say what happened.

One path for ``citydesk cases import`` and the workbench's *Dispatch > Import cases*: a CSV
through a column mapping (a shipped one by name, or a TOML file), or Open311 GeoReport v2
JSON/XML. The file is read and checked before the store is opened, so a refused file leaves
the project exactly as it was (issue 21); the import itself is one transaction and an
upsert (issue 19).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from citydesk.layers.i18n import _, ngettext

from . import open311
from .import_csv import CaseImportError, CheckedFile, ColumnMapping, check_cases, import_csv
from .stores import open_project_store

OPEN311_SUFFIXES = (".json", ".xml")


def is_open311(path: str | Path) -> bool:
    """An Open311 GeoReport v2 file: XML, or JSON that is not GeoJSON (a portal's cases as
    a GeoJSON layer are read through a mapping, :mod:`.layer_cases`)."""
    from .layer_cases import is_geojson

    path = Path(path)
    return path.suffix.lower() in OPEN311_SUFFIXES and not (
        path.suffix.lower() == ".json" and is_geojson(path)
    )


@dataclass
class CheckedCaseFile:
    """A case file read and checked whole, nothing written: what the import then stores,
    and what a mapping draft's check reports."""

    rows: int
    needs_location: int
    open311: open311.CheckedRequests | None = None
    mapping: ColumnMapping | None = None
    csv: CheckedFile | None = None


def check_case_file(path: str | Path, mapping: str | Path | None = None) -> CheckedCaseFile:
    """Read and check ``path`` as the import will: an Open311 file (its service codes
    through ``mapping`` when given), else a CSV, spreadsheet or GIS layer through the column
    mapping ``mapping`` (required). Raises :class:`CaseImportError` naming what is wrong."""
    if is_open311(path):
        codes = open311.Open311Mapping.load(mapping) if mapping else None
        requests = open311.read_valid_requests(path, codes)
        missing = sum(1 for c in requests.cases if c.lon is None or c.lat is None)
        return CheckedCaseFile(len(requests.cases), missing, open311=requests)
    if not mapping:
        raise CaseImportError(
            _("a CSV import needs --mapping"),
            _("Use a shipped mapping (nyc311) or write one; see docs."),
            gui_fix=_("Choose a column mapping: a shipped one or a TOML file."),
        )
    columns = ColumnMapping.load(str(mapping))
    whole = check_cases(path, columns)
    return CheckedCaseFile(whole.rows, whole.needs_location, mapping=columns, csv=whole)


def import_case_file(
    project: str | Path, path: str | Path, mapping: str | Path | None = None
) -> dict[str, Any]:
    """Import ``path`` into the case store of ``project``; the summary counts of
    :func:`citydesk.incidents.import_csv.import_csv` (Open311 files: of ``import_requests``).
    The file is checked whole before the store is opened (:func:`check_case_file`)."""
    checked = check_case_file(path, mapping)
    with open_project_store(project) as store:
        if checked.open311 is not None:
            result = open311.import_requests(store, checked.open311)
            result["outside_grid"] = store.outside_grid(c.source for c in checked.open311.cases)
            return result
        assert checked.mapping is not None
        result = import_csv(store, path, checked.mapping, checked=checked.csv)
        result["outside_grid"] = store.outside_grid([checked.mapping.source])
        return result


def import_summary(result: dict[str, Any]) -> list[str]:
    """The import's outcome as the lines a user reads (CLI output, the window's notice)."""
    lines = [
        _(
            "{rows} rows: {added} added, {skipped} already imported, {closed} closed at the "
            "source, {nl} need a location"
        ).format(
            rows=result["rows"],
            added=result["added"],
            skipped=result["skipped"],
            closed=result["closed"],
            nl=result["needs_location"],
        )
    ]
    if result.get("updated") or result.get("refused"):
        lines.append(
            _(
                "of those already imported: {updated} updated from the source, {unchanged} "
                "unchanged, {refused} refused (moved on here; see the log)"
            ).format(
                updated=result["updated"],
                unchanged=result["unchanged"],
                refused=result["refused"],
            )
        )
    if result.get("backwards"):
        how = {
            "clamp": _("closed at the report time"),
            "keep": _("kept as the source wrote them"),
        }.get(str(result.get("backwards_policy")), "")
        lines.append(
            ngettext(
                "{n} row closed before it was reported: {how}",
                "{n} rows closed before they were reported: {how}",
                int(result["backwards"]),
            ).format(n=result["backwards"], how=how)
        )
    if result.get("step_gaps"):
        lines.append(
            ngettext(
                "{n} row has a step time after a step it has none for: those later step "
                "times were left out of its history",
                "{n} rows have a step time after a step they have none for: those later "
                "step times were left out of their histories",
                int(result["step_gaps"]),
            ).format(n=result["step_gaps"])
        )
    if result.get("defaulted"):
        defaulted = result["defaulted"]
        lines.append(
            _(
                "{n} rows filed under the default category {key}, their types not in the "
                "mapping's [categories]: {types}"
            ).format(
                n=sum(defaulted.values()),
                key=result.get("default_category"),
                types=", ".join(f"{k or '(empty)'} ({v})" for k, v in list(defaulted.items())[:8]),
            )
        )
    if result.get("outside_grid"):
        lines.append(
            _(
                "{n} cases lie outside the unit grid: check their coordinates (the mapping's "
                "[coordinates] crs or offset, or lat and lon swapped)"
            ).format(n=result["outside_grid"])
        )
    if result.get("bad_lines"):
        lines.append(
            _("skipped malformed lines: {lines}").format(
                lines=", ".join(map(str, result["bad_lines"]))
            )
        )
    return lines
