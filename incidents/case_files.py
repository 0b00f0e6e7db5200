"""Import a city system's case file into a project's case store, and say what happened.

One path for ``citydesk cases import`` and the workbench's *Dispatch > Import cases*: a CSV
through a column mapping (a shipped one by name, or a TOML file), or Open311 GeoReport v2
JSON/XML. The file is read and checked before the store is opened, so a refused file leaves
the project exactly as it was (issue 21); the import itself is one transaction and an
upsert (issue 19).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from citydesk.layers.i18n import _

from . import open311
from .import_csv import CaseImportError, ColumnMapping, check_cases, import_csv
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


def import_case_file(
    project: str | Path, path: str | Path, mapping: str | Path | None = None
) -> dict[str, Any]:
    """Import ``path`` into the case store of ``project``; the summary counts of
    :func:`citydesk.incidents.import_csv.import_csv` (Open311 files: of ``import_requests``)."""
    open311_file = is_open311(path)
    if not open311_file and not mapping:
        raise CaseImportError(
            _("a CSV import needs --mapping"),
            _("Use a shipped mapping (nyc311) or write one; see docs."),
            gui_fix=_("Choose a column mapping: a shipped one or a TOML file."),
        )
    if open311_file:
        codes = open311.Open311Mapping.load(mapping) if mapping else None
        requests = open311.read_valid_requests(path, codes)
        with open_project_store(project) as store:
            result = open311.import_requests(store, requests)
            result["outside_grid"] = store.outside_grid(c.source for c in requests.cases)
            return result
    checked = ColumnMapping.load(str(mapping))
    whole = check_cases(path, checked)  # read and checked before the store is opened
    with open_project_store(project) as store:
        result = import_csv(store, path, checked, checked=whole)
        result["outside_grid"] = store.outside_grid([checked.source])
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
            _("{n} rows closed before they were reported: {how}").format(
                n=result["backwards"], how=how
            )
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
