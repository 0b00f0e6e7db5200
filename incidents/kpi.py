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

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _

from .grid_codes import UNIT_DIGITS
from .text_codes import text_codes

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
#: the on-time close measures (docs/KPI.md):
#:  digital  数字城管: closed on time among the cases due to close in the period (closed, or
#:           past their time limit while open); the default
#:  311      the share of closed cases with a target that closed by it, as 311 systems publish
MEASURES = ("digital", "311")


@dataclass
class KpiSpec:
    by: str = "department"
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    dispatch_limit_hours: float = 1.0  # registered -> dispatched within this many hours
    measure: str = "digital"  # the on-time close measure, one of MEASURES
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))


def rate_text(value: float, digits: int = 1) -> str:
    """A rate as a report prints it ("87.5%"), or "-" where there was nothing to measure
    (NaN: no case due, none dispatched)."""
    return "-" if value != value else f"{value:.{digits}%}"


def grade(score: float) -> str:
    """A >= 90, B >= 75, C >= 60, D >= 40, E below."""
    if not np.isfinite(score):
        return "-"
    return next((g for limit, g in GRADES if score >= limit), "E")


def _us(values: pd.Series) -> np.ndarray:
    """Microseconds since the epoch as int64, NaT as the smallest int64 (sorts first): the
    store's own unit, so the facts' columns are read without a copy."""
    if isinstance(values.dtype, pd.DatetimeTZDtype) and values.dtype.unit == "us":
        return values.array.asi8  # the store's facts: a view, whatever the zone
    moments = pd.to_datetime(values, utc=True)
    if isinstance(moments, pd.Series):
        return moments.dt.as_unit("us").array.asi8
    return moments.as_unit("us").asi8


def _column(facts: pd.DataFrame, col: str, keep, dtype=None) -> np.ndarray:
    """A column as numpy, only the kept rows (no copy when all are kept)."""
    values = facts[col].to_numpy() if dtype is None else facts[col].to_numpy(dtype)
    return values if isinstance(keep, slice) else values[keep]


_NAT = np.iinfo(np.int64).min


def compute_kpis(facts: pd.DataFrame, spec: KpiSpec) -> pd.DataFrame:
    """The KPI table, one row per group, plus an ``ALL`` row for the whole period.

    ``facts`` has one row per registered case (``store.case_facts``). The counts are
    ``numpy.bincount`` over integer group codes and millisecond timestamps: pandas'
    datetime and groupby machinery took 0.9 s of the 2 s budget at a million cases."""
    if spec.by not in GROUPS:
        raise CityDeskError(
            _("cannot group KPIs by {by!r}").format(by=spec.by),
            _("Use one of: {names}.").format(names=", ".join(GROUPS)),
        )
    if spec.measure not in MEASURES:
        raise CityDeskError(
            _("there is no on-time measure {m!r}").format(m=spec.measure),
            _("Use one of: {names}.").format(names=", ".join(MEASURES)),
        )
    reg, due = _us(facts["registered_at"]), _us(facts["due_at"])
    disp, closed_at = _us(facts["dispatched_at"]), _us(facts["closed_at"])
    keep_mask = reg != _NAT
    if spec.start is not None:
        keep_mask &= reg >= _us(pd.Series([spec.start]))[0]
    if spec.end is not None:
        keep_mask &= reg < _us(pd.Series([spec.end]))[0]
    keep = slice(None) if keep_mask.all() else keep_mask
    end = _us(pd.Series([spec.end or dt.datetime.now(dt.UTC)]))[0]
    codes, names = _group_codes(facts, GROUPS[spec.by], keep)
    if (codes < 0).any():  # cases with no grid cell, no dispatcher, ...
        codes = np.where(codes < 0, len(names), codes)
        names.append(_("(none)"))
    reg, due, disp, closed_at = (v[keep] for v in (reg, due, disp, closed_at))
    is_closed = (facts["status"] == "closed").to_numpy()[keep]
    imported = (
        _column(facts, "imported", keep, bool)
        if "imported" in facts
        else np.zeros(len(reg), dtype=bool)
    )
    recorded = ~imported  # the source recorded no dispatch or rework steps of its cases
    closed = is_closed & (closed_at != _NAT) & (closed_at < end)
    has_due = due != _NAT
    # digital (数字城管): among cases due to close; 311: among closed cases with a target,
    # where an imported case has one only if its source gave it (CityDesk computes a due
    # time for every case, but the source's own rate counts its own targets)
    given = (
        _column(facts, "due_given", keep, bool)
        if "due_given" in facts
        else np.zeros(len(reg), dtype=bool)
    )
    target = has_due & (given | recorded)
    # a suspended case (挂账) is not due while its clock stands still: resumed, its due time
    # moves by the time it waited (CaseStore._resumed_due)
    waiting = (facts["status"] == "suspended").to_numpy()[keep]
    due_to_close = closed | (has_due & (due < end) & ~waiting)
    on_time_base = due_to_close if spec.measure == "digital" else closed & target
    dispatched = (disp != _NAT) & (disp < end)
    limit_us = spec.dispatch_limit_hours * 3_600_000_000
    hours = (closed_at[closed] - reg[closed]) / 3_600_000_000  # of the closed cases
    flags = {
        "registered": np.ones(len(reg), dtype=bool),
        "due_to_close": due_to_close,
        "closed": closed,
        "closed_on_time": closed
        & (target if spec.measure == "311" else has_due)
        & (closed_at <= due),
        "on_time_base": on_time_base,
        "rework_base": due_to_close & recorded,
        "reworked": due_to_close & recorded & (_column(facts, "rework_count", keep) > 0),
        "dispatch_base": recorded,
        "dispatched": dispatched,
        "dispatched_on_time": dispatched & (disp - reg <= limit_us),
        "dispatch_returned": dispatched & (_column(facts, "return_count", keep) > 0),
        "not_recorded": imported,
    }
    groups = len(names)
    sums = _count_flags(codes, flags, groups)
    total = {k: v.sum(keepdims=True) for k, v in sums.items()}
    table = pd.concat(
        [
            _rates(sums, *_close_hours(codes[closed], hours, groups), names, spec),
            _rates(total, *_close_hours(np.zeros(len(hours), np.int64), hours, 1), ["ALL"], spec),
        ],
        ignore_index=True,
    )
    return table.rename(columns={"group": spec.by})


def _group_codes(
    facts: pd.DataFrame, key: str, keep: np.ndarray | slice
) -> tuple[np.ndarray, list]:
    """Each kept case's group as an integer code, and the groups' names in sorted order
    (computed on the names, then mapped: a community is the start of a grid code, and a
    category is told by its kind too, component:0104 not being event:0104)."""
    if key == "community":
        codes, names = text_codes(facts["grid_code"])
        names = [n[: UNIT_DIGITS["community"]] for n in names]
    elif key == "category_code" and "kind" in facts:
        codes, names = text_codes(facts["category_code"])
        kinds, kind_names = text_codes(facts["kind"])
        width = max(len(names), 1)
        codes = np.where((codes < 0) | (kinds < 0), -1, kinds * width + codes)
        names = [f"{k}:{c}" for k in kind_names for c in names] if names else []
    else:
        codes, names = text_codes(facts[key])
    codes = codes[keep]
    if not len(names):
        return codes.astype(np.int64), []
    # the distinct names used, sorted; several codes may share one (two grid codes, one
    # community)
    shifted = codes.astype(np.int64) + 1  # none (-1) -> 0; int8 category codes widened
    used = np.flatnonzero(np.bincount(shifted, minlength=len(names) + 1)[1:])
    final, inverse = np.unique(
        np.asarray(names, dtype=object)[used].astype(str), return_inverse=True
    )
    lookup = np.full(len(names) + 1, -1, np.int64)
    lookup[used + 1] = inverse
    return lookup[shifted], list(final)


def _count_flags(
    codes: np.ndarray, flags: dict[str, np.ndarray], groups: int
) -> dict[str, np.ndarray]:
    """Per group, how many cases carry each flag. The flags are packed into one small
    integer per case and counted in one pass over (group, pattern); twelve weighted
    bincounts took 0.6 s at ten million cases."""
    names = list(flags)
    patterns = 1 << len(names)
    if groups * patterns > 50_000_000:  # a very fine grid: one count per flag instead
        return {k: np.bincount(codes[v], minlength=groups) for k, v in flags.items()}
    pattern = np.zeros(len(codes), np.uint16)
    for bit, name in enumerate(names):
        pattern |= flags[name].astype(np.uint16) << np.uint16(bit)
    counts = np.bincount(codes.astype(np.int64) * patterns + pattern, minlength=groups * patterns)
    counts = counts.reshape(groups, patterns)
    has = (np.arange(patterns)[:, None] >> np.arange(len(names))) & 1
    per_flag = counts @ has
    return {name: per_flag[:, bit] for bit, name in enumerate(names)}


def _close_hours(
    codes: np.ndarray, hours: np.ndarray, groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Mean and median hours to close per group (NaN for a group with nothing closed),
    from the closed cases' group codes and hours.
    The cases are put in group order by a radix sort of their 16-bit group codes, then
    each group's middle is found by selection (``numpy.partition``), in linear time: a
    full sort by (group, hours) took 1.5 s at ten million cases."""
    count = np.bincount(codes, minlength=groups)
    mean = np.bincount(codes, weights=hours, minlength=groups) / np.where(count, count, np.nan)
    median = np.full(groups, np.nan)
    if groups == 1:
        ranked = hours
    else:
        small = codes.astype(np.int16) if groups < 2**15 else codes
        ranked = hours[np.argsort(small, kind="stable")]
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    for g in np.flatnonzero(count):
        part = ranked[start[g] : start[g] + count[g]]
        lo, hi = (count[g] - 1) // 2, count[g] // 2
        picked = np.partition(part, [lo, hi]) if lo != hi else np.partition(part, lo)
        median[g] = (picked[lo] + picked[hi]) / 2
    return mean, median


def _rates(sums: dict, mean, median, names: list, spec: KpiSpec) -> pd.DataFrame:
    """Counts -> the KPI columns; a rate with nothing to divide by is NaN, not 0."""

    def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)

    out = pd.DataFrame({"group": names})
    for col in ("registered", "due_to_close", "closed"):
        out[col] = sums[col].astype(int)
    # with nothing to measure on time (a 311 export without due dates) the count is missing,
    # as its rate is, not a 0 that reads as "none closed on time"
    out["closed_on_time"] = pd.array(sums["closed_on_time"], dtype="Int64")
    out.loc[sums["on_time_base"] == 0, "closed_on_time"] = pd.NA
    out["close_rate"] = ratio(sums["closed"], sums["due_to_close"])
    out["on_time_close_rate"] = ratio(sums["closed_on_time"], sums["on_time_base"])
    out["rework_rate"] = ratio(sums["reworked"], sums["rework_base"])
    out["dispatched"] = sums["dispatched"].astype(int)
    # imported cases: their source recorded no dispatch; the rates are over the recorded
    # ones only, NaN ("not recorded") where there are none
    out["not_recorded"] = sums["not_recorded"].astype(int)
    out["on_time_dispatch_rate"] = np.where(
        sums["dispatch_base"] > 0, ratio(sums["dispatched_on_time"], sums["dispatched"]), np.nan
    )
    out["accurate_dispatch_rate"] = np.where(
        sums["dispatch_base"] > 0,
        ratio(sums["dispatched"] - sums["dispatch_returned"], sums["dispatched"]),
        np.nan,
    )
    out["mean_hours_to_close"] = mean
    out["median_hours_to_close"] = median
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


#: the steps an evaluation counts the cases of, per group: urged by the command centre
#: (督办) and given more time (延期); column -> lifecycle action
MARKED_STEPS = {"urged": "urge", "extended": "extend"}


def kpis_from_store(store, spec: KpiSpec) -> pd.DataFrame:
    """KPIs straight from a case store: one narrow read of the cases' summary columns,
    which the store keeps equal to the replay of each history (``verify_all``), and the
    counts of the registered cases urged (督办) and extended (延期) before the period's
    end, from the few cases whose history has those steps."""
    return with_marked_counts(
        compute_kpis(store.case_facts(spec.start, spec.end), spec), store, spec
    )


def with_marked_counts(table: pd.DataFrame, store, spec: KpiSpec) -> pd.DataFrame:
    """``table`` (:func:`compute_kpis` over ``spec``) with the ``MARKED_STEPS`` columns:
    how many of each group's registered cases were urged or extended before the end."""
    for column, action in MARKED_STEPS.items():
        marked = store.case_facts(spec.start, spec.end, with_action=action, action_before=spec.end)
        table[column] = _counts_by_group(marked, table, spec)
    return table


def _counts_by_group(marked: pd.DataFrame, table: pd.DataFrame, spec: KpiSpec) -> np.ndarray:
    """How many of the ``marked`` cases each row of ``table`` (a group, then ALL) holds:
    they are grouped as the KPIs group every case, by the same computation."""
    counts = np.zeros(len(table), dtype=int)
    if marked.empty:
        return counts
    own = compute_kpis(marked, spec)
    per_group = dict(zip(own[spec.by], own["registered"], strict=True))
    for i, group in enumerate(table[spec.by]):
        counts[i] = per_group.get(group, 0)
    return counts
