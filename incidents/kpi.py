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


def case_facts(cases: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """One row per case with the moments and flags the KPIs need, from its history."""
    ev = events.copy()
    ev["at"] = pd.to_datetime(ev["at"], utc=True, format="ISO8601")
    first = lambda action: ev[ev["action"] == action].groupby("case_id")["at"].min()  # noqa: E731
    facts = cases.set_index("case_id")[
        ["department", "grid_code", "category_code", "due_at", "status"]
    ].copy()
    facts["due_at"] = pd.to_datetime(facts["due_at"], utc=True, format="ISO8601")
    facts["registered_at"] = first("register")
    facts["dispatched_at"] = first("dispatch")
    closes = ev[ev["action"].isin(["close", "close_imported"])].groupby("case_id")["at"].max()
    facts["closed_at"] = closes.where(facts["status"].reindex(closes.index) == "closed")
    dispatchers = (
        ev[ev["action"] == "dispatch"].sort_values("at").groupby("case_id")["actor"].first()
    )
    facts["dispatcher"] = dispatchers
    facts["returned"] = ev[ev["action"] == "return_to_dispatch"].groupby("case_id").size()
    facts["reworked"] = ev[ev["action"] == "check_fail"].groupby("case_id").size()
    facts[["returned", "reworked"]] = facts[["returned", "reworked"]].fillna(0).astype(int)
    facts["community"] = facts["grid_code"].str[:12]
    return facts.reset_index()


def compute_kpis(facts: pd.DataFrame, spec: KpiSpec) -> pd.DataFrame:
    """The KPI table, one row per group, plus an ``ALL`` row for the whole period."""
    if spec.by not in GROUPS:
        raise CityDeskError(
            _("cannot group KPIs by {by!r}").format(by=spec.by),
            _("Use one of: {names}.").format(names=", ".join(GROUPS)),
        )
    f = facts[facts["registered_at"].notna()].copy()
    if spec.start is not None:
        f = f[f["registered_at"] >= pd.Timestamp(spec.start)]
    if spec.end is not None:
        f = f[f["registered_at"] < pd.Timestamp(spec.end)]
    end = pd.Timestamp(spec.end) if spec.end is not None else pd.Timestamp.now(tz="UTC")
    closed = f["closed_at"].notna() & (f["closed_at"] < end)
    f["closed"] = closed
    f["due_to_close"] = closed | (f["due_at"] < end)
    f["closed_on_time"] = closed & (f["closed_at"] <= f["due_at"])
    f["dispatched"] = f["dispatched_at"].notna() & (f["dispatched_at"] < end)
    limit = pd.Timedelta(hours=spec.dispatch_limit_hours)
    f["dispatched_on_time"] = f["dispatched"] & (f["dispatched_at"] - f["registered_at"] <= limit)
    f["dispatch_returned"] = f["dispatched"] & (f["returned"] > 0)
    f["has_rework"] = f["due_to_close"] & (f["reworked"] > 0)
    f["hours_to_close"] = ((f["closed_at"] - f["registered_at"]).dt.total_seconds() / 3600).where(
        closed
    )
    key = GROUPS[spec.by]
    f[key] = f[key].fillna(_("(none)"))
    parts = [_aggregate(g, spec).assign(**{spec.by: name}) for name, g in f.groupby(key)]
    parts.append(_aggregate(f, spec).assign(**{spec.by: "ALL"}))
    table = pd.concat(parts, ignore_index=True)
    first = [spec.by]
    return table[first + [c for c in table.columns if c not in first]]


def _rate(num: int, den: int) -> float:
    return float(num) / den if den else float("nan")


def _aggregate(g: pd.DataFrame, spec: KpiSpec) -> pd.DataFrame:
    due = int(g["due_to_close"].sum())
    dispatched = int(g["dispatched"].sum())
    row = {
        "registered": len(g),
        "due_to_close": due,
        "closed": int(g["closed"].sum()),
        "closed_on_time": int(g["closed_on_time"].sum()),
        "close_rate": _rate(g["closed"].sum(), due),
        "on_time_close_rate": _rate(g["closed_on_time"].sum(), due),
        "rework_rate": _rate(g["has_rework"].sum(), due),
        "dispatched": dispatched,
        "on_time_dispatch_rate": _rate(g["dispatched_on_time"].sum(), dispatched),
        "accurate_dispatch_rate": _rate(dispatched - g["dispatch_returned"].sum(), dispatched),
        "mean_hours_to_close": float(g["hours_to_close"].mean()),
        "median_hours_to_close": float(g["hours_to_close"].median()),
    }
    row["score"] = composite_score(row, spec.weights)
    row["grade"] = grade(row["score"])
    return pd.DataFrame([row])


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
    import pandas as pd

    cases = store.query()
    events = pd.read_sql_query(
        "SELECT case_id, action, actor, role, at FROM case_events", store._con
    )
    return compute_kpis(case_facts(cases, events), spec)
