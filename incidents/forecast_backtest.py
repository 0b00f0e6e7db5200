"""Rolling-origin backtests of the case forecasts, against the two baselines a sceptic asks
for (``citydesk cases forecast --backtest``).

At each origin (every 7 days through the test window) the model is fitted on the days
before it only and forecasts the period after it; so are the baselines:

- **seasonal naive:** the same week a year (52 weeks) earlier; for daily forecasts the same
  weekday a week earlier;
- **moving average:** the mean of the last 4 weeks, scaled to the period.

Errors are over every unit × category × period: MAE, RMSE, and MASE (Hyndman and Koehler 2006),
the MAE divided by the in-sample MAE of the seasonal naive forecast on the last year before
the first origin, pooled over all series because most single series are too sparse for a
scale of their own. MASE below 1 beats seasonal naive in-sample; the honest comparison is
the seasonal naive row of the same table, computed out of sample like the model. Interval
coverage is the share of observed counts inside the model's central 80 % and 95 % intervals.

Why RMSE too: on sparse series (a cell sees a crash every other year) the forecast that
minimises MAE is the median, zero, whatever the risk; the mean, which the model forecasts and
a command centre plans with, is judged fairly by squared error. Counts are discrete, so at
low means an interval covers more than its nominal level (an interval of [0, 0] already holds
most weeks); coverage well *below* nominal is the warning sign.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from citydesk.layers.i18n import _

from .forecast import CaseHistory, ForecastError, ForecastSpec, fit, nb_cdf, periods_of

log = logging.getLogger(__name__)

METHODS = ("model", "seasonal_naive", "moving_average")


def method_names() -> dict[str, str]:
    return {
        "model": _("CityDesk forecast"),
        "seasonal_naive": _("seasonal naive"),
        "moving_average": _("moving average (4 weeks)"),
    }


@dataclass
class Backtest:
    """The backtest's figures: one row per method, with the origins and the verdict."""

    table: pd.DataFrame  # method, mae, mase, rmse, coverage80, coverage95, periods
    origins: list[dt.date]
    scale_lag: str  # what the MASE scale compared: "52 weeks", "1 week", "7 days", "1 day"
    notes: list[str] = field(default_factory=list)

    def _pair(self, metric: str) -> tuple[float, float]:
        table = self.table.set_index("method")[metric]
        return float(table["model"]), float(table["seasonal_naive"])

    @property
    def beats_seasonal_naive(self) -> bool:
        """Lower MAE and lower RMSE than seasonal naive, out of sample."""
        return all(m < n for m, n in (self._pair("mae"), self._pair("rmse")))

    def verdict(self) -> str:
        (mae, naive_mae), (rmse, naive_rmse) = self._pair("mae"), self._pair("rmse")
        figures = _("MAE {mae:.3f} against {naive_mae:.3f}, RMSE {rmse:.3f} against "
                    "{naive_rmse:.3f}").format(
            mae=mae, naive_mae=naive_mae, rmse=rmse, naive_rmse=naive_rmse
        )  # fmt: skip
        if self.beats_seasonal_naive:
            return _("The forecast beats seasonal naive: {figures}.").format(figures=figures)
        if rmse < naive_rmse:
            return _(
                "The forecast beats seasonal naive on RMSE but not on MAE: {figures}. The "
                "series are so sparse that forecasting zero minimises MAE; read the expected "
                "counts of larger units (community, street) or of many cells together."
            ).format(figures=figures)
        return _(
            "The forecast does NOT beat seasonal naive here: {figures}. Use its figures with care."
        ).format(figures=figures)


def backtest(
    history: CaseHistory,
    test_start: dt.date,
    test_end: dt.date | None = None,
    spec: ForecastSpec | None = None,
    progress: Callable[[float], None] | None = None,
    canceled: Callable[[], bool] | None = None,
) -> Backtest:
    """Rolling-origin evaluation over [test_start, test_end) (default: to the history's end)."""
    spec = spec or ForecastSpec()
    first = history.day_of(test_start)
    last = history.n_days if test_end is None else min(history.day_of(test_end), history.n_days)
    if first < 28:
        raise ForecastError(
            _("the backtest starts {days} days into the history").format(days=max(first, 0)),
            _("Start it later: the model needs earlier cases to fit on (at least 4 weeks)."),
        )
    origins = list(range(first, last - 6, 7))
    if not origins:
        raise ForecastError(
            _("the backtest window from {start} holds no whole week of history").format(
                start=test_start
            ),
            _("Start the backtest at least a week before the history ends."),
        )
    weekly = spec.horizon == "week"
    season = 364 if weekly else 7
    abs_err = dict.fromkeys(METHODS, 0.0)
    sq_err = dict.fromkeys(METHODS, 0.0)
    inside80 = inside95 = 0
    count = 0
    fitted = None
    for i, origin in enumerate(origins):
        if canceled is not None and canceled():
            break
        fitted = fit(history, origin, spec, warm=fitted)
        recent = history.counts(origin - 28, origin) / 28.0
        for start, length in periods_of(spec, origin):
            mu, size = fitted.predict(start, length)
            y = history.counts(start, start + length)
            naive_start = start - season if start - season >= 0 else None
            naive = (
                history.counts(naive_start, naive_start + length)
                if naive_start is not None
                else recent * length
            )
            for method, guess in (
                ("model", mu),
                ("seasonal_naive", naive),
                ("moving_average", recent * length),
            ):
                abs_err[method] += np.abs(y - guess).sum()
                sq_err[method] += ((y - guess) ** 2).sum()
            for level, tail in ((80, 0.10), (95, 0.025)):
                inside = (nb_cdf(y, mu, size) >= tail) & (nb_cdf(y - 1, mu, size) < 1 - tail)
                if level == 80:
                    inside80 += int(inside.sum())
                else:
                    inside95 += int(inside.sum())
            count += y.size
        if progress is not None:
            progress((i + 1) / len(origins))
    if count == 0:
        raise ForecastError(_("the backtest was canceled"), _("Run it again to the end."))
    scale, scale_lag = _naive_scale(history, first, weekly)
    rows = []
    for method in METHODS:
        mae = abs_err[method] / count
        rows.append(
            {
                "method": method,
                "mae": mae,
                "mase": mae / scale if scale > 0 else np.nan,
                "rmse": float(np.sqrt(sq_err[method] / count)),
                "coverage80": inside80 / count if method == "model" else np.nan,
                "coverage95": inside95 / count if method == "model" else np.nan,
                "periods": count,
            }
        )
    notes = []
    if first < season + 7:
        notes.append(
            _("less than a year before the test: seasonal naive used the last 4 weeks' mean")
        )
    return Backtest(
        pd.DataFrame(rows), [history.date(o) for o in origins[: i + 1]], scale_lag, notes
    )


def _naive_scale(history: CaseHistory, first: int, weekly: bool) -> tuple[float, str]:
    """The in-sample MAE of seasonal naive over the last year (weekly) or 8 weeks (daily)
    before the first origin; the lag falls back to one period with less history."""
    length = 7 if weekly else 1
    lag = 364 if weekly else 7
    span = 364 if weekly else 56
    if first - span - lag < 0:
        lag, label = length, (_("1 week") if weekly else _("1 day"))
    else:
        label = _("52 weeks") if weekly else _("7 days")
    total, n = 0.0, 0
    start = max(first - span, lag)
    for s in range(start, first - length + 1, length):
        y = history.counts(s, s + length)
        before = history.counts(s - lag, s - lag + length)
        total += np.abs(y - before).sum()
        n += y.size
    return (total / n if n else 0.0), label
