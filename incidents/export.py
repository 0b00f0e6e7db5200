"""Export cases to CSV, GeoPackage or Open311, with reporters' personal data masked.

Reporter name, phone and e-mail are personal data: exports replace them with a mask unless
the user explicitly asks for them (``include_personal=True`` / ``--include-personal-data``),
because exported files travel further than the case store does.

A case row carries one time per step (the last handling, the last passed check); a case
that failed its check and was handled again has more steps than that. The **history**
export (``history=True`` / ``--history``) is the audit trail itself: one row per step of
each exported case, in order, with who took it in which role and when.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _
from citydesk.layers.io import write_frame

from . import open311

PERSONAL = ("reporter_name", "reporter_phone", "reporter_email")
MASK = "***"


def mask_personal(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in PERSONAL:
        if col in out:
            out[col] = out[col].where(out[col].fillna("") == "", MASK)
    return out


def local_times(cases: pd.DataFrame, tz: str) -> pd.DataFrame:
    """The moments as the city's local date-times (what a clerk reads in a spreadsheet),
    each column named with its zone: ``reported_at (Europe/Helsinki)``. Stored moments are
    UTC text (``...Z``); a spreadsheet cannot hold a time zone."""
    out = cases.copy()
    for col in [c for c in out.columns if c == "at" or c.endswith("_at")]:
        moments = pd.to_datetime(out[col], utc=True, errors="coerce", format="ISO8601")
        if moments.notna().any() or out[col].isna().all():
            out[col] = moments.dt.tz_convert(tz).dt.tz_localize(None)
            out = out.rename(columns={col: f"{col} ({tz})"})
    return out


def with_step_times(cases: pd.DataFrame, steps: pd.DataFrame) -> pd.DataFrame:
    """The cases with their handling and check times after the dispatch time (empty where
    a case has none), so an export carries every step of the loop."""
    out = cases.merge(steps, on="case_id", how="left")
    order = list(cases.columns)
    at = order.index("dispatched_at") + 1 if "dispatched_at" in order else len(order)
    return out[[*order[:at], "handled_at", "checked_at", *order[at:]]]


#: the columns of a history export, in order: the step's case, then the event as stored
HISTORY_COLUMNS = [
    "case_id",
    "source_id",
    "seq",
    "at",
    "action",
    "from_state",
    "to_state",
    "actor",
    "role",
    "note",
    "detail",
]


def case_history(store, cases: pd.DataFrame, every_case: bool = False) -> pd.DataFrame:
    """Every step of ``cases`` (a ``store.query`` frame), ordered by case and step, with each
    case's number in its source system beside it (what a department's own records use).
    ``every_case``: ``cases`` are all the store holds, so its whole history is read in one
    scan rather than case by case."""
    events = store.events_frame(case_ids=None if every_case else cases["case_id"])
    # (a whole-table read also has the steps of cases reported since ``cases`` was read)
    events = events[events["case_id"].isin(cases["case_id"])]
    out = events.merge(cases[["case_id", "source_id"]], on="case_id", how="left")
    return out.sort_values(["case_id", "seq"], kind="stable")[HISTORY_COLUMNS].reset_index(
        drop=True
    )


def export_cases(
    store,
    path: str | Path,
    *,
    include_personal: bool = False,
    lang: str = "en",
    dialect=None,
    history: bool = False,
    case_ids: Iterable[str] | None = None,
    **filters,
) -> Path:
    """Write the cases matching ``filters`` (see ``store.query``), or the cases ``case_ids``
    (those a desk shows), to ``path``; the format comes from the extension: .csv (in the
    city's ``dialect``, see :func:`citydesk.layers.city_profile.project_csv_dialect`), .xlsx
    (Excel, times in the city's zone), .gpkg, .json or .xml (Open311 GeoReport v2).
    ``history``: their steps instead (:func:`case_history`), as .csv or .xlsx."""
    path = Path(path)
    ext = path.suffix.lower()
    if history and ext not in (".csv", ".xlsx"):
        raise CityDeskError(
            _("a case history cannot be exported as {ext!r}").format(ext=ext),
            _("Export the history as .csv or .xlsx (one row per step)."),
        )
    every_case = case_ids is None and not any(filters.values())
    if history:  # the cases' ids and source ids are all it reads of them
        chosen = (
            store.query(columns=["case_id", "source_id"], **filters)
            if case_ids is None
            else store.query_ids(case_ids)[["case_id", "source_id"]]
        )
        steps = case_history(store, chosen, every_case=every_case)
        if ext == ".xlsx":
            from citydesk.layers.csv_safe import write_xlsx

            return write_xlsx(local_times(steps, store.calendar.tz), path, sheet="history")
        from citydesk.layers.csv_safe import write_csv

        write_csv(steps, path, dialect=dialect, index=False)
        return path
    cases = store.query(**filters) if case_ids is None else store.query_ids(case_ids)
    if ext in (".json", ".xml"):  # Open311 has no reporter fields: nothing personal leaves
        requests = open311.to_requests(cases, store.catalogue, lang, store.calendar.tz)
        return (
            open311.write_json(requests, path)
            if ext == ".json"
            else open311.write_xml(requests, path)
        )
    cases = with_step_times(cases, store.step_times())
    if not include_personal:
        cases = mask_personal(cases)
    if ext == ".csv":
        from citydesk.layers.csv_safe import write_csv

        write_csv(cases, path, dialect=dialect, index=False)
        return path
    if ext == ".xlsx":
        from citydesk.layers.csv_safe import write_xlsx

        return write_xlsx(local_times(cases, store.calendar.tz), path, sheet="cases")
    if ext == ".gpkg":
        geom = [
            shapely.Point(x, y) if pd.notna(x) and pd.notna(y) else None
            for x, y in zip(cases["lon"], cases["lat"], strict=True)
        ]
        return write_frame(gpd.GeoDataFrame(cases, geometry=geom, crs=4326), path, "cases")
    raise CityDeskError(
        _("cannot export cases as {ext!r}").format(ext=ext),
        _("Use .csv, .xlsx, .gpkg, .json or .xml (Open311)."),
    )
