"""Forecasts and backtests of a case store: the one way the command line, the desk's
Forecast tab and the evaluation report read a store's history for a forecast (its facts,
its city calendar, its grid, its placeholder points left out)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from citydesk.layers.i18n import _, ngettext

from .early_warning import early_warnings
from .forecast import (
    CaseHistory,
    ForecastError,
    ForecastSpec,
    fit,
    forecast_table,
    history_from_facts,
    level_name,
    unit_codes,
)
from .forecast_backtest import Backtest, backtest
from .placeholders import placeholder_facts

#: the years of history a forecast is fitted on (the seasonal terms need two)
HISTORY_YEARS = 3


def today(store) -> dt.date:
    """Today in the store's city (a forecast starts at the city's midnight, not UTC's)."""
    return dt.datetime.now(store.calendar.zone).date()


def last_day(store) -> dt.date | None:
    """The day after the store's last registered case, in the city's time (None: empty)."""
    moment = store.last_registered()
    if moment is None:
        return None
    return moment.astimezone(store.calendar.zone).date() + dt.timedelta(days=1)


def store_history(
    store, grid, spec: ForecastSpec, until: dt.date | None = None, since: dt.date | None = None
) -> tuple[CaseHistory, list[str]]:
    """The store's history before ``until`` (default today), from ``since`` (default
    ``HISTORY_YEARS`` before), with notes on the cases left out."""
    until = until or today(store)
    since = since or until - dt.timedelta(days=round(365.25 * HISTORY_YEARS))
    zone = store.calendar.zone
    start = dt.datetime.combine(since, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(until, dt.time(), tzinfo=zone)
    facts = store.case_facts(start, end)
    points, at_placeholder = placeholder_facts(facts)
    exclude = pd.Series(at_placeholder, index=facts.index)
    calendar = store.calendar
    history = history_from_facts(
        facts, calendar.tz, calendar.is_holiday, grid, spec, exclude=exclude, until=until
    )
    if len(history.day) == 0:
        last = last_day(store)
        raise ForecastError(
            _("no case in the {years} years before {date}").format(years=HISTORY_YEARS, date=until)
            + (
                "; " + _("the last was registered on {day}").format(day=last - dt.timedelta(days=1))
                if last
                else ""
            ),
            _("Forecast from a date the history reaches: --at {day}").format(day=last)
            if last
            else _("Import the city's cases first (citydesk cases import)."),
            gui_fix=_("Import the city's cases first, or load the demo case history."),
        )
    notes = [
        ngettext("{n} case left out: {why}", "{n} cases left out: {why}", n).format(n=n, why=_(why))
        for why, n in history.left_out.items()
    ]
    notes += [
        _("placeholder point ({lon:.5f}, {lat:.5f}) holds {cases} cases: left out").format(
            lon=p.lon, lat=p.lat, cases=p.cases
        )
        for p in points
    ]
    return history, notes


def run_forecast(
    store, grid, spec: ForecastSpec, until: dt.date | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """The forecast table of the period after ``until`` (default: from today)."""
    history, notes = store_history(store, grid, spec, until)
    return forecast_table(fit(history, history.n_days, spec)), notes


def run_backtest(
    store,
    grid,
    spec: ForecastSpec,
    test_from: dt.date | None = None,
    test_to: dt.date | None = None,
    progress: Callable[[float], None] | None = None,
    canceled: Callable[[], bool] | None = None,
) -> Backtest:
    """The rolling-origin backtest over [test_from, test_to) (default: the 52 weeks up to the
    day after the last case), fitted on up to ``HISTORY_YEARS`` before each origin."""
    until = test_to or last_day(store) or today(store)
    since = (test_from or until - dt.timedelta(days=364)) - dt.timedelta(
        days=round(365.25 * HISTORY_YEARS)
    )
    history, _notes = store_history(store, grid, spec, until, since)
    test_from = test_from or default_test_start(history, until)
    return backtest(history, test_from, until, spec, progress, canceled)


#: a backtest's first origin needs this much history before it
BACKTEST_WARM_UP_DAYS = 35


def default_test_start(history: CaseHistory, until: dt.date) -> dt.date:
    """The last 52 weeks before ``until``, or as many whole weeks of them as a short
    history allows after five weeks to fit on (a city with ten weeks of cases is tested on
    its last five)."""
    earliest = history.day0 + dt.timedelta(days=BACKTEST_WARM_UP_DAYS)
    start = max(until - dt.timedelta(days=364), earliest)
    weeks = (until - start).days // 7
    if weeks < 1:
        raise ForecastError(
            _("{days} days of cases are too few for a backtest").format(
                days=(until - history.day0).days
            ),
            _("A backtest needs at least six weeks of history."),
        )
    return until - dt.timedelta(days=7 * weeks)


@dataclass
class ForecastBoard:
    """What the desk's Forecast tab shows: the forecast of the period after ``until``, the
    early warnings of the last whole week before it, and the backtest when asked for."""

    table: pd.DataFrame
    warnings: pd.DataFrame  # the warning rows of early_warnings, with their reasons
    notes: list[str]
    spec: ForecastSpec
    backtest: Backtest | None = None


def forecast_board(
    store,
    grid,
    spec: ForecastSpec,
    until: dt.date | None = None,
    with_backtest: bool = False,
    progress: Callable[[float], None] | None = None,
    canceled: Callable[[], bool] | None = None,
) -> ForecastBoard:
    """The forecast, the week's warnings and (optionally) the backtest, from one read."""
    until = until or today(store)
    years = dt.timedelta(days=round(365.25 * HISTORY_YEARS) + (364 if with_backtest else 0))
    since = until - years
    history, notes = store_history(store, grid, spec, until, since)
    table = forecast_table(fit(history, history.n_days, spec))
    warnings = early_warnings(history, history.n_days - 7, history.n_days, forecast_spec=spec)
    result = None
    if with_backtest:
        first = default_test_start(history, until)
        result = backtest(history, first, until, spec, progress, canceled)
    return ForecastBoard(table, warnings[warnings["warning"]], notes, spec, result)


def forecast_layer(board: ForecastBoard, grid, category: str | None = None):
    """The forecast as a map layer: one feature per unit (cells, or the grid dissolved into
    communities or streets) with its expected count and intervals, in classes of the
    expected count; identify shows a unit's intervals and its warning."""
    from citydesk.layers.layer import VectorLayer
    from citydesk.layers.style import graduated

    table = board.table
    if category is not None:
        table = table[table["category"] == category]
    elif board.spec.by_category:
        raise ForecastError(
            _("a map shows one category, or a forecast of all categories together"),
            _("Choose a category, or forecast all categories together."),
        )
    level = board.spec.level
    cells = grid[["code", "geometry"]].copy()
    cells["unit"] = unit_codes(cells["code"], level).astype(str)
    units = cells[["unit", "geometry"]]
    if level != "cell":
        units = units.dissolve("unit").reset_index()
    first = table.groupby("unit", as_index=False).first()  # week: one period; day: the first
    frame = units.merge(first, on="unit", how="left")
    warned = board.warnings
    if category is not None:
        warned = warned[warned["category"] == category]
    reasons = dict(zip(warned["unit"], warned["reason"], strict=True))
    frame["warning"] = [reasons.get(unit, "") for unit in frame["unit"]]
    frame["start"] = frame["start"].astype(str)
    frame["end"] = frame["end"].astype(str)
    frame["expected"] = frame["expected"].round(2)
    name = _("Forecast, {level}, from {start}").format(
        level=level_name(level), start=frame["start"].iloc[0] if len(frame) else "-"
    )
    style = graduated(frame["expected"], "expected", method="quantile", k=5, ramp="YlOrRd")
    for cls in style.classes:  # a cell expects 0.013 cases a week: two significant digits
        cls.label = f"{cls.lower:.2g} - {cls.upper:.2g}"
    return VectorLayer(name=name, id="forecast", data=frame, style=style)
