"""Early warnings (预警): units whose case count in a period breaks what their own forecast
allowed, with the reason in words.

The expected count is the forecast (:mod:`citydesk.incidents.forecast`) fitted on the days
before the period only, so the baseline has the history's trend, weekday, season and
holidays, and it is pooled: a quiet cell's baseline is its neighbourhood's small rate, never
zero (the old seasonal baseline compared a city with one year of data against zeros and
flagged all 56 busy cells). With a short history the forecast's interval is wide, so it
warns less, with the confidence it has.

A unit warns when the probability of seeing at least its count under the forecast's negative
binomial is small after the Benjamini-Hochberg false-discovery-rate correction over all
units tested at once (2,000 cells at 1 % would give 20 warnings by chance every week), and it
saw at least ``min_count`` cases. Each warning says why: "observed 11, expected 2.1 (90 % up
to 5), 4 weeks in a row" — the weeks counted back from the period's end in which the unit's
count went over its 90 % bound.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control

from citydesk.layers.i18n import _

from .forecast import CaseHistory, ForecastSpec, fit, nb_cdf, upper_bound


@dataclass(frozen=True)
class WarningSpec:
    fdr: float = 0.05  # false discovery rate over all units tested
    min_count: int = 3  # fewer cases never warn
    upper: float = 0.90  # the bound a reason quotes and a streak is counted against
    streak_weeks: int = 8  # how far back "weeks in a row" looks


def reason(count: int, expected: float, upper: float, level: float, weeks: int) -> str:
    """The warning in words, as the dashboard, the map, the PDF and the CLI show it."""
    shown = f"{expected:.2g}" if expected < 1 else f"{expected:.1f}"
    text = _("observed {count}, expected {expected} ({level:.0%} up to {upper})").format(
        count=int(count), expected=shown, level=level, upper=int(upper)
    )
    if weeks >= 2:
        text += ", " + _("{weeks} weeks in a row").format(weeks=weeks)
    return text


def early_warnings(
    history: CaseHistory,
    start: int,
    end: int,
    spec: WarningSpec | None = None,
    forecast_spec: ForecastSpec | None = None,
) -> pd.DataFrame:
    """Every unit × category of ``history`` over the days [start, end): its count, the
    expectation and bound, the p-value and its FDR-adjusted q-value, whether it warns, for
    how many weeks in a row it has been over its bound, and the reason."""
    spec = spec or WarningSpec()
    forecast_spec = forecast_spec or ForecastSpec(by_category=history.n_categories > 1)
    fitted = fit(history, start, forecast_spec)
    mu, size = fitted.predict(start, end - start)
    count = history.counts(start, end)
    p_value = np.clip(1.0 - nb_cdf(count - 1, mu, size), 0.0, 1.0)
    q_value = false_discovery_control(p_value.ravel(), method="bh").reshape(p_value.shape)
    bound = upper_bound(mu, size, spec.upper)
    warn = (q_value <= spec.fdr) & (count >= spec.min_count)
    weeks = _weeks_over(history, end, warn, spec, forecast_spec, fitted)
    frame = pd.DataFrame(
        {
            "unit": np.repeat(history.units, history.n_categories),
            "category": np.tile(history.categories, history.n_units),
            "count": count.ravel(),
            "expected": mu.ravel(),
            "upper": bound.ravel().astype(int),
            "p_value": p_value.ravel(),
            "q_value": q_value.ravel(),
            "warning": warn.ravel(),
            "weeks_over": weeks.ravel(),
        }
    )
    frame["reason"] = ""
    flagged = frame["warning"].to_numpy()
    frame.loc[flagged, "reason"] = [
        reason(r.count, r.expected, r.upper, spec.upper, r.weeks_over)
        for r in frame.loc[flagged].itertuples()
    ]
    frame.attrs["start"] = history.date(start)
    frame.attrs["end"] = history.date(end)
    return frame


def _weeks_over(history, end, warn, spec, forecast_spec, fitted) -> np.ndarray:
    """For the warning units: how many whole weeks, counted back from ``end``, each went
    over its bound (each week judged by a fit on the days before it)."""
    weeks = np.zeros(warn.shape, dtype=int)
    going = warn.copy()
    warm = fitted
    for k in range(spec.streak_weeks):
        week_start = end - 7 * (k + 1)
        if not going.any() or week_start < 7:
            break
        warm = fit(history, week_start, forecast_spec, warm=warm)
        mu, size = warm.predict(week_start, 7)
        over = history.counts(week_start, week_start + 7) > upper_bound(mu, size, spec.upper)
        going &= over
        weeks += going
    return weeks


def whole_days(history: CaseHistory, start: pd.Timestamp, end: pd.Timestamp, tz: str):
    """The whole local days of [start, end) as day indices (a week before ``end`` when the
    period holds no whole day): warnings compare whole days with whole days' forecasts."""
    first = pd.Timestamp(start).tz_convert(tz)
    last = pd.Timestamp(end).tz_convert(tz)
    begin = first.normalize() + (
        pd.Timedelta(days=1) if first != first.normalize() else pd.Timedelta(0)
    )
    stop = last.normalize()
    to_day = lambda t: history.day_of(dt.date(t.year, t.month, t.day))  # noqa: E731
    a, b = to_day(begin), to_day(stop)
    if b - a < 1:
        a = b - 7
    return a, b
