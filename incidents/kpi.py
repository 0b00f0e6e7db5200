"""Performance indicators of city-management cases, per department, grid, community,
category or dispatcher, with the composite score and the A-E grade.

The formulas are in docs/KPI.md. Everything is computed from the case table and the
append-only history, so a figure can always be traced back to events.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from layers.errors import CityDeskError
from layers.i18n import _

GROUPS = {
    "department": "department",
    "grid": "grid_code",
    "community": "community",
    "category": "category_code",
    "role": "dispatcher",  # dispatch KPIs attributed to the dispatcher who sent the case
}

#: weights of the composite score (sum to 1); cities tune them in their evaluation rules
DEFAULT_WEIGHTS = {
    "on_time_close_rate": 0.40,
    "close_rate": 0.20,
    "rework_rate": 0.15,  # enters as (1 - rate)
    "on_time_dispatch_rate": 0.10,
    "accurate_dispatch_rate": 0.15,
}
GRADES = [(90.0, "A"), (75.0, "B"), (60.0, "C"), (40.0, "D")]


@dataclass
class KpiSpec:
    by: str = "department"
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    dispatch_limit_hours: float = 1.0  # registered -> dispatched within this many hours
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))


def grade(score: float) -> str:
    """A >= 90, B >= 75, C >= 60, D >= 40, E below."""
    if not np.isfinite(score):
        return "-"
    return next((g for limit, g in GRADES if score >= limit), "E")


def compute_kpis(facts: pd.DataFrame, spec: KpiSpec) -> pd.DataFrame:
    """The KPI table, one row per group, plus an ``ALL`` row for the whole period.

    ``facts`` has one row per registered case (``store.case_facts``). Everything is a
    column operation and one ``groupby``: grouping a million cases by 1,942 grid cells one
    group at a time took seconds."""
    if spec.by not in GROUPS:
        raise CityDeskError(
            _("cannot group KPIs by {by!r}").format(by=spec.by),
            _("Use one of: {names}.").format(names=", ".join(GROUPS)),
        )
    f = facts[facts["registered_at"].notna()]
    if spec.start is not None:
        f = f[f["registered_at"] >= pd.Timestamp(spec.start)]
    if spec.end is not None:
        f = f[f["registered_at"] < pd.Timestamp(spec.end)]
    end = pd.Timestamp(spec.end) if spec.end is not None else pd.Timestamp.now(tz="UTC")
    closed = (f["status"] == "closed") & f["closed_at"].notna() & (f["closed_at"] < end)
    due_to_close = closed | (f["due_at"] < end)
    dispatched = f["dispatched_at"].notna() & (f["dispatched_at"] < end)
    limit = pd.Timedelta(hours=spec.dispatch_limit_hours)
    hours = (f["closed_at"] - f["registered_at"]).dt.total_seconds() / 3600
    key = GROUPS[spec.by]
    keys = f["grid_code"].str[:12] if key == "community" else f[key]
    flags = pd.DataFrame(
        {
            "key": keys.astype(object).where(keys.notna(), _("(none)")),
            "registered": 1,
            "due_to_close": due_to_close,
            "closed": closed,
            "closed_on_time": closed & (f["closed_at"] <= f["due_at"]),
            "reworked": due_to_close & (f["rework_count"] > 0),
            "dispatched": dispatched,
            "dispatched_on_time": dispatched & (f["dispatched_at"] - f["registered_at"] <= limit),
            "dispatch_returned": dispatched & (f["return_count"] > 0),
            "hours_to_close": hours.where(closed),
        }
    )
    groups = flags.groupby("key", sort=True)
    table = _rates(groups.sum(numeric_only=True), groups["hours_to_close"], spec)
    whole = _rates(
        flags.drop(columns="key").sum(numeric_only=True).to_frame("ALL").T,
        flags.assign(key="ALL").groupby("key")["hours_to_close"],
        spec,
    )
    table = pd.concat([table, whole]).rename_axis(spec.by).reset_index()
    return table


def _rates(sums: pd.DataFrame, hours, spec: KpiSpec) -> pd.DataFrame:
    """Counts -> the KPI columns; a rate with nothing to divide by is NaN, not 0."""
    ratio = lambda num, den: (sums[num] / sums[den].where(sums[den] > 0)).astype(float)  # noqa: E731
    out = pd.DataFrame(index=sums.index)
    for col in ("registered", "due_to_close", "closed", "closed_on_time"):
        out[col] = sums[col].astype(int)
    out["close_rate"] = ratio("closed", "due_to_close")
    out["on_time_close_rate"] = ratio("closed_on_time", "due_to_close")
    out["rework_rate"] = ratio("reworked", "due_to_close")
    out["dispatched"] = sums["dispatched"].astype(int)
    out["on_time_dispatch_rate"] = ratio("dispatched_on_time", "dispatched")
    out["accurate_dispatch_rate"] = (
        (sums["dispatched"] - sums["dispatch_returned"])
        / sums["dispatched"].where(sums["dispatched"] > 0)
    ).astype(float)
    out["mean_hours_to_close"] = hours.mean().reindex(out.index).astype(float)
    out["median_hours_to_close"] = hours.median().reindex(out.index).astype(float)
    out["score"] = [composite_score(row, spec.weights) for row in out.to_dict("records")]
    out["grade"] = [grade(v) for v in out["score"]]
    return out


def composite_score(row: dict[str, float], weights: dict[str, float]) -> float:
    """Weighted 0-100 score; rates that are undefined (nothing due, nothing dispatched) are
    left out and the remaining weights rescaled, so a unit is not punished for having no
    cases of a kind."""
    total = weight_sum = 0.0
    for name, weight in weights.items():
        value = row[name]
        if not np.isfinite(value):
            continue
        total += weight * ((1.0 - value) if name == "rework_rate" else value)
        weight_sum += weight
    return 100.0 * total / weight_sum if weight_sum else float("nan")


def kpis_from_store(store, spec: KpiSpec) -> pd.DataFrame:
    """KPIs straight from a case store: one narrow read of the cases' summary columns,
    which the store keeps equal to the replay of each history (``verify_all``)."""
    return compute_kpis(store.case_facts(spec.start, spec.end), spec)
