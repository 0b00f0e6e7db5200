"""Forecast plus backtest at city scale (issue 23: 2,000 cells × 20 categories × 3 years of
daily history in under 30 s), side by side with a plain statsmodels per-series loop.

The history is synthetic, with the structure of a real one: cell activity lognormal,
category sizes Zipf-like, a weekday pattern, an annual cycle, a trend, the US public
holidays quiet, and extra-Poisson noise (a gamma-mixed rate per cell-week). About 1.0 M cases.

- **CityDesk:** ``history`` built once, then ``backtest`` (52 weekly origins through the last
  year, each fit on the days before it only) and the forecast of the week after the history.
- **Peer:** for each series (cell × category), a statsmodels Poisson GLM with the same
  regressors (trend, weekday, two annual harmonics, holiday) fitted on its own daily counts
  at each origin, forecasting the next 7 days: what one writes without a pooled model. It
  takes hours on all 40,000 series, so it runs on a random sample of series (``--peer-series``)
  at the same origins and its time is scaled to all series (it is linear in the series count:
  one independent fit each). Both are scored on the same sample: MAE and RMSE of the weekly
  counts, so the comparison is the same work and the same figures.

    .venv/bin/python benchmarks/forecast.py [--cells 2000] [--categories 20] [--years 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import tracemalloc
import warnings

import numpy as np
from common import ROOT, print_peak_rss, print_results

sys.path.insert(0, str(ROOT))

from citydesk.incidents.forecast import CaseHistory, ForecastSpec, _design, fit, forecast_table
from citydesk.incidents.forecast_backtest import backtest


def synthetic_history(cells: int, categories: int, years: int, seed: int = 1) -> CaseHistory:
    import holidays

    rng = np.random.default_rng(seed)
    day0 = dt.date(2021, 1, 1)
    n_days = 364 * years
    dates = [day0 + dt.timedelta(days=k) for k in range(n_days + 366)]
    us = holidays.country_holidays("US")
    holiday = np.array([d in us for d in dates])
    k = np.arange(n_days)
    dow = np.array([1.15, 1.1, 1.05, 1.05, 1.0, 0.75, 0.65])[[d.weekday() for d in dates[:n_days]]]
    season = 1 + 0.25 * np.sin(2 * np.pi * k / 365.25)
    trend = np.exp(0.05 * k / 365.25)
    shape = dow * season * trend * np.where(holiday[:n_days], 0.6, 1.0)
    cell_rate = rng.lognormal(0, 1.0, cells)
    cell_rate /= cell_rate.sum()
    cat_rate = 1 / np.arange(1, categories + 1) ** 1.1
    cat_rate *= 920 / cat_rate.sum()  # ~920 cases a day city-wide
    days, units, cats = [], [], []
    weeks = n_days // 7
    for c in range(categories):
        # a gamma-mixed weekly multiplier per cell: real series are over-dispersed
        mix = rng.gamma(4.0, 0.25, size=(cells, weeks)).repeat(7, axis=1)
        lam = cat_rate[c] * cell_rate[:, None] * shape[None, :] * mix
        counts = rng.poisson(lam)
        u, d = np.nonzero(counts)
        n = counts[u, d]
        days.append(np.repeat(d, n))
        units.append(np.repeat(u, n))
        cats.append(np.full(n.sum(), c))
    return CaseHistory(
        day0,
        n_days,
        np.array([f"{i:05d}" for i in range(cells)], dtype=object),
        np.array([f"{c:02d}" for c in range(categories)], dtype=object),
        np.concatenate(days),
        np.concatenate(units),
        np.concatenate(cats),
        holiday,
        None,
    )


def series_counts(history: CaseHistory, series: np.ndarray) -> np.ndarray:
    """Daily counts of the chosen series, (series, days): the peer's input, built once
    outside its timing."""
    flat = history.unit * history.n_categories + history.category
    index = np.full(history.n_units * history.n_categories, -1)
    index[series] = np.arange(len(series))
    pick = index[flat] >= 0
    where = index[flat[pick]] * history.n_days + history.day[pick]
    return np.bincount(where, minlength=len(series) * history.n_days).reshape(len(series), -1)


def peer(history: CaseHistory, counts: np.ndarray, origins: list[int]) -> np.ndarray:
    """The per-series loop: a statsmodels Poisson GLM per series and origin; returns the
    weekly forecasts (series, origins)."""
    import statsmodels.api as sm

    out = np.zeros((len(counts), len(origins)))
    for j, origin in enumerate(origins):
        x = _design(history, np.arange(origin), origin, origin)
        x_next = _design(history, np.arange(origin, origin + 7), origin, origin)
        for i, daily in enumerate(counts):
            y = daily[:origin]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    fitted = sm.GLM(y, x, family=sm.families.Poisson()).fit()
                    out[i, j] = np.exp(x_next @ fitted.params).sum()
                except Exception:
                    out[i, j] = y[-28:].mean() * 7
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=2000)
    parser.add_argument("--categories", type=int, default=20)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--peer-series", type=int, default=100)
    args = parser.parse_args()
    history = synthetic_history(args.cells, args.categories, args.years)
    print(f"{len(history.day):,} cases, {history.n_units * history.n_categories:,} series")
    spec = ForecastSpec()
    test_start = history.date(history.n_days - 364)
    tracemalloc.start()
    t0 = time.perf_counter()
    result = backtest(history, test_start, spec=spec)
    table = forecast_table(fit(history, history.n_days, spec))
    ours = time.perf_counter() - t0
    heap = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(result.table.to_string(index=False))
    print(f"forecast rows: {len(table):,}")

    # the same origins and a sample of series, scored for both
    rng = np.random.default_rng(7)
    n_series = history.n_units * history.n_categories
    sample = np.sort(rng.choice(n_series, size=min(args.peer_series, n_series), replace=False))
    origins = [history.day_of(d) for d in result.origins]
    counts = series_counts(history, sample)
    t0 = time.perf_counter()
    theirs = peer(history, counts, origins)
    peer_time = (time.perf_counter() - t0) * n_series / len(sample)
    mine = np.zeros_like(theirs)
    actual = np.zeros_like(theirs)
    for j, origin in enumerate(origins):
        mu, _size = fit(history, origin, spec).predict(origin, 7)
        mine[:, j] = mu.ravel()[sample]
        actual[:, j] = history.counts(origin, origin + 7).ravel()[sample]
    score = lambda f: (np.abs(f - actual).mean(), np.sqrt(((f - actual) ** 2).mean()))  # noqa: E731
    (m_mae, m_rmse), (p_mae, p_rmse) = score(mine), score(theirs)
    rows = [
        [
            "CityDesk (pooled model)",
            f"{ours:.1f} s",
            f"{m_mae:.3f}",
            f"{m_rmse:.3f}",
            f"{heap:.0f} MiB",
        ],
        [
            f"statsmodels per-series loop (measured on {len(sample)} series, scaled)",
            f"{peer_time:.0f} s",
            f"{p_mae:.3f}",
            f"{p_rmse:.3f}",
            "-",
        ],
    ]
    print_results(
        f"Forecast + 52-origin backtest, {args.cells} cells × {args.categories} categories × "
        f"{args.years} years ({len(history.day):,} cases); ratio {peer_time / ours:.0f}×",
        ["", "time", "MAE (sample)", "RMSE (sample)", "heap peak"],
        rows,
    )
    print_peak_rss()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
