"""Forecasts of case counts (issue 23): the regression against statsmodels, intervals that
cover what they claim, pooling of sparse cells, short histories, the backtest's verdict, and
the city's own day and calendar. Synthetic histories with a known truth; the real Cambridge
crash history is in tests/test_dashboard.py and the Helsinki one in test_city_helsinki.py."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from citydesk.incidents.forecast import (
    CaseHistory,
    ForecastError,
    ForecastSpec,
    _design,
    _fit_glm,
    fit,
    forecast_table,
    history_from_facts,
    unit_codes,
    unit_neighbours,
)
from citydesk.incidents.forecast_backtest import backtest

DAY0 = dt.date(2021, 1, 4)  # a Monday


def square_grid(side: int = 10) -> gpd.GeoDataFrame:
    """side × side cells of 100 m; two streets (west, east), each of two communities."""
    cells, codes = [], []
    for row in range(side):
        for col in range(side):
            street = 1 + (col >= side // 2)
            community = 1 + (row >= side // 2)
            seq = len([c for c in codes if c[:12] == f"110101{street:03d}{community:03d}"]) + 1
            codes.append(f"110101{street:03d}{community:03d}{seq:02d}")
            cells.append(shapely.box(col * 100, row * 100, (col + 1) * 100, (row + 1) * 100))
    return gpd.GeoDataFrame({"code": codes}, geometry=cells, crs="EPSG:3857")


def simulate(
    rates: np.ndarray, days: int, seed: int = 1, season: float = 0.3, dispersion: float = 0.0
) -> CaseHistory:
    """Cases per unit (rates per day, one category) with a weekday pattern, an annual cycle
    and a gentle trend; ``dispersion``: a gamma-mixed city-wide weekly multiplier."""
    rng = np.random.default_rng(seed)
    k = np.arange(days)
    weekday = np.array([1.2, 1.1, 1.0, 1.0, 1.0, 0.8, 0.7])[(k + DAY0.weekday()) % 7]
    holiday = np.isin(np.arange(days + 366) % 364, [0, 150, 357])
    shape = weekday * (1 + season * np.sin(2 * np.pi * k / 365.25)) * np.exp(0.05 * k / 365)
    shape = shape * np.where(holiday[:days], 0.5, 1.0)
    if dispersion:
        weekly = rng.gamma(1 / dispersion, dispersion, size=days // 7 + 1).repeat(7)[:days]
        shape = shape * weekly
    counts = rng.poisson(rates[:, None] * shape[None, :])
    unit, day = np.nonzero(counts)
    n = counts[unit, day]
    return CaseHistory(
        DAY0,
        days,
        np.array([f"u{i:03d}" for i in range(len(rates))], dtype=object),
        np.array(["0101"], dtype=object),
        np.repeat(day, n),
        np.repeat(unit, n),
        np.zeros(n.sum(), dtype=np.int64),
        holiday,
    )


def test_the_newton_regression_gives_statsmodels_coefficients():
    sm = pytest.importorskip("statsmodels.api")
    history = simulate(np.full(5, 2.0), 800)
    origin = 800
    x = _design(history, np.arange(origin), origin, origin)
    y = history.daily_totals(origin)[0].astype(float)
    ours = _fit_glm(y, x)
    theirs = sm.GLM(y, x, family=sm.families.Poisson()).fit().params
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-8)
    assert x.shape[1] == 1 + 1 + 6 + 4 + 1  # constant, trend, weekdays, 2 harmonics, holiday


def test_intervals_cover_what_they_claim_and_the_model_beats_the_baselines():
    rng = np.random.default_rng(3)
    rates = rng.gamma(2.0, 0.4, size=60)  # ~0.8 cases a day per unit
    history = simulate(rates, 3 * 364, dispersion=0.05)
    result = backtest(history, history.date(2 * 364))
    table = result.table.set_index("method")
    assert 0.78 <= table.loc["model", "coverage80"] <= 0.92
    assert 0.93 <= table.loc["model", "coverage95"] <= 0.995
    assert table.loc["model", "mae"] < table.loc["seasonal_naive", "mae"]
    assert table.loc["model", "mae"] < table.loc["moving_average", "mae"]
    assert result.beats_seasonal_naive and "beats seasonal naive" in result.verdict()
    assert len(result.origins) == 52 and result.scale_lag == "52 weeks"


def test_a_forecast_that_does_not_beat_seasonal_naive_says_so():
    """A city whose weeks repeat exactly every 52 weeks: seasonal naive is perfect."""
    rng = np.random.default_rng(5)
    year = rng.poisson(rng.gamma(1.0, 3.0, size=(8, 364)))  # wild day-to-day swings
    counts = np.concatenate([year, year, year], axis=1)
    unit, day = np.nonzero(counts)
    n = counts[unit, day]
    history = CaseHistory(
        DAY0,
        3 * 364,
        np.array([f"u{i}" for i in range(8)], dtype=object),
        np.array(["0101"], dtype=object),
        np.repeat(day, n),
        np.repeat(unit, n),
        np.zeros(n.sum(), dtype=np.int64),
        np.zeros(3 * 364 + 366, dtype=bool),
    )
    result = backtest(history, history.date(2 * 364))
    assert result.table.set_index("method").loc["seasonal_naive", "mae"] == 0
    assert not result.beats_seasonal_naive
    assert "NOT" in result.verdict()


def test_a_sparse_cell_is_pooled_toward_its_neighbours_and_never_zero():
    grid = square_grid(10)
    rates = np.full(100, 0.5)
    quiet = 44  # an inner cell with no case at all
    rates[quiet] = 0.0
    history = simulate(rates, 2 * 364, seed=2)
    history.units = grid["code"].to_numpy(dtype=object)
    history.neighbours = unit_neighbours(grid, history.units, "cell")
    table = forecast_table(fit(history, history.n_days)).set_index("unit")
    around = table["expected"].drop(history.units[quiet])
    mine = table.loc[history.units[quiet], "expected"]
    assert 0 < mine < around.median() / 5  # pooled, not zero, and still its own (quiet)
    assert table.loc[history.units[quiet], "hi95"] >= 1  # one case there is no surprise
    # a busy cell keeps its own rate: pooling does not flatten the city
    rates[7] = 5.0
    busy = simulate(rates, 2 * 364, seed=2)
    busy.units, busy.neighbours = history.units, history.neighbours
    table = forecast_table(fit(busy, busy.n_days)).set_index("unit")
    assert table.loc[busy.units[7], "expected"] > 5 * around.median()


def test_a_short_history_forecasts_with_wider_intervals():
    rates = np.full(30, 1.0)
    long = simulate(rates, 3 * 364, seed=4)
    weeks = 8
    keep = long.day >= long.n_days - 7 * weeks
    short = CaseHistory(
        long.date(long.n_days - 7 * weeks),
        7 * weeks,
        long.units,
        long.categories,
        long.day[keep] - (long.n_days - 7 * weeks),
        long.unit[keep],
        long.category[keep],
        long.holiday[long.n_days - 7 * weeks :],
    )

    def width(history):
        table = forecast_table(fit(history, history.n_days))
        return ((table["hi95"] - table["lo95"]) / table["expected"]).mean()

    fitted = fit(short, short.n_days)
    assert fitted.train_days == 56  # no trend or annual terms from 8 weeks
    assert width(short) > width(long)


def test_too_little_history_is_a_clear_error():
    history = simulate(np.full(3, 1.0), 5)
    with pytest.raises(ForecastError, match="at least a week of history"):
        fit(history, history.n_days)
    with pytest.raises(ForecastError, match="level"):
        ForecastSpec(level="district")
    with pytest.raises(ForecastError, match="positive"):
        ForecastSpec(prior_cases=float("nan"))


def test_history_from_facts_counts_days_in_the_city_and_its_calendar():
    grid = square_grid(4)
    code = grid["code"].iloc[5]
    facts = pd.DataFrame(
        {
            "case_id": ["a", "b", "c", "d", "e"],
            # 03:30 UTC on 10 March is still 9 March in New York
            "registered_at": pd.to_datetime(
                [
                    "2024-03-10 03:30",
                    "2024-03-10 12:00",
                    "2024-03-11 12:00",
                    "2024-03-11 13:00",
                    "2024-03-12 12:00",
                ],
                utc=True,
            ),
            "grid_code": [code, code, None, code, "999999999999999"],
            "category_code": ["0101", "0101", "0101", "0202", "0101"],
        }
    )
    holiday = {dt.date(2024, 3, 11)}
    history = history_from_facts(
        facts,
        "America/New_York",
        lambda d: d in holiday,
        grid,
        exclude=pd.Series([False, False, False, True, False]),
        until=dt.date(2024, 3, 14),
    )
    assert history.day0 == dt.date(2024, 3, 9) and history.n_days == 5
    assert sorted(history.day.tolist()) == [0, 1]
    assert history.left_out == {
        "no grid cell": 1,
        "at a placeholder point": 1,
        "outside the grid": 1,
    }
    assert history.holiday[2] and not history.holiday[1]
    assert len(history.units) == 16  # every cell of the grid, quiet ones too
    assert unit_codes([code], "community")[0] == code[:12]
    assert unit_codes([code], "street")[0] == code[:9]
    community = history_from_facts(
        facts, "America/New_York", lambda d: False, grid, ForecastSpec(level="community")
    )
    assert len(community.units) == 4 and community.neighbours.shape == (4, 4)


def test_daily_forecasts_and_their_backtest():
    """--horizon day: each of the next 7 days per unit, with the weekday pattern; the
    backtest scores them against the same weekday a week earlier."""
    history = simulate(np.full(20, 2.0), 2 * 364, seed=6)
    spec = ForecastSpec(horizon="day")
    table = forecast_table(fit(history, history.n_days, spec))
    assert len(table) == 20 * 7 and table["start"].nunique() == 7
    per_day = table.groupby("start")["expected"].sum()
    weekday = [d.weekday() for d in per_day.index]
    tuesday, sunday = per_day.iloc[weekday.index(1)], per_day.iloc[weekday.index(6)]
    assert 1.3 < tuesday / sunday < 1.9  # the truth is 1.1 / 0.7
    # the Monday after the history is one of the calendar's holidays (half the cases)
    assert history.holiday[history.n_days] and per_day.iloc[weekday.index(0)] < 0.7 * tuesday
    result = backtest(history, history.date(history.n_days - 28), spec=spec)
    assert result.scale_lag == "7 days" and len(result.origins) == 4
    assert result.table.set_index("method").loc["model", "periods"] == 4 * 7 * 20
    assert result.beats_seasonal_naive
