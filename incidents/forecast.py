"""Forecasts of case counts per unit (cell, community or street) × category × week or day,
with prediction intervals (预警预测: foresee where problems will come).

The model, and why it is this one
---------------------------------
A command centre has thousands of cells and dozens of categories; most cell × category
series hold a handful of cases a year. A regression per series (the textbook way, and the
peer in ``benchmarks/forecast.py``) fits noise on such series and takes minutes. So the
expected count of unit *i*, category *c*, day *t* is split in two:

    λ(i, c, t) = s(i, c) · Λ(c, t)

- **Λ(c, t), when cases come:** a Poisson regression (log link; Newton's method, checked
  against statsmodels' GLM in the tests) of the category's city-wide daily count on a trend,
  the day of the week, the public holidays of the city profile's calendar and annual Fourier
  terms. Terms are added only as the history allows (a trend from half a year, one annual
  harmonic from a year, two from two years), so a city with two months of data gets a
  day-of-week model, not a wild extrapolation. A category with too few cases to estimate its
  own shape borrows the shape of all cases and fits only its level.
- **s(i, c), where they come:** the unit's share of the category, from its own cases
  weighted by recency (half-life ``half_life_days``) and *pooled* toward its neighbours by
  empirical Bayes (:func:`_shares`): the unit's rate is Gamma-distributed around its
  neighbours' mean with a shape ``κ`` estimated from how much units really differ from their
  neighbourhoods. A cell with 3 cases thus gets a forecast between its own rate and its
  neighbourhood's, not 3 × the city's growth, and a cell with none still gets a small,
  non-zero expectation.

Intervals are negative binomial. The unit's rate has a Gamma posterior of shape
``α = κ + own weighted cases``, so a short or sparse history widens the interval by itself;
on top, each category's city-wide extra-Poisson dispersion ``δ`` is measured on its own
recent weeks (method of moments): ``Var = μ + μ² (1/α + δ)``.
``incidents/forecast_backtest.py`` checks these intervals' coverage on the store's own
history.

Qt-free and store-free: :func:`history_from_facts` turns the store's case facts into a
:class:`CaseHistory`; everything else works on arrays.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.special import betainc
from scipy.stats import nbinom

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import N_, _

from .grid_codes import UNIT_DIGITS
from .text_codes import text_codes

log = logging.getLogger(__name__)

#: the unit levels a forecast can be made at (the grid's code layout says which digits)
LEVEL_DIGITS = UNIT_DIGITS
HORIZONS = ("week", "day")
#: every category together (the dashboard's per-cell warnings)
ALL = "*"
#: the range of the estimated pooling strength κ: beyond 10 a unit with no case in years
#: among busy neighbours would still be forecast at half their rate (one unlike unit among
#: a hundred alike barely moves the moment estimate)
KAPPA_RANGE = (0.5, 10.0)
#: counts converted into the dense float32 table at a time (no float64 copy of it is made)
_SLICE = 1 << 22


class ForecastError(CityDeskError):
    """A forecast that cannot be made (no history before the origin, an unknown level)."""


@dataclass(frozen=True)
class ForecastSpec:
    """What to forecast and how strongly to pool. The defaults were chosen on the Cambridge
    crash history's backtest (docs/INCIDENTS.md, "Forecasts")."""

    level: str = "cell"  # cell, community or street
    horizon: str = "week"  # week: the next 7 days as one figure; day: each of the next 7
    by_category: bool = True  # False: all categories as one series per unit
    half_life_days: float = 182.0  # recency weighting of a unit's share
    #: pooling strength: how many of a unit's own cases its neighbourhood's rate is worth
    #: (the Gamma prior's shape); None: estimated from the data (method of moments)
    prior_cases: float | None = None
    min_category_cases: int = 300  # fewer in the history: borrow the all-case shape
    dispersion_weeks: int = 26  # the recent weeks each category's dispersion is measured on

    def __post_init__(self) -> None:
        if self.level not in LEVEL_DIGITS:
            raise ForecastError(
                _("unknown forecast level {level!r}").format(level=self.level),
                _("Use one of: {levels}.").format(levels=", ".join(LEVEL_DIGITS)),
            )
        if self.horizon not in HORIZONS:
            raise ForecastError(
                _("unknown forecast horizon {horizon!r}").format(horizon=self.horizon),
                _("Use one of: {horizons}.").format(horizons=", ".join(HORIZONS)),
            )
        for name in ("half_life_days", "prior_cases"):
            value = getattr(self, name)
            if value is None and name == "prior_cases":
                continue
            if not np.isfinite(value) or value <= 0:
                raise ForecastError(
                    _("{name} must be a positive number, not {value}").format(
                        name=name, value=value
                    ),
                    _("Give a positive number."),
                )


LEVEL_NAMES = {"cell": N_("cell"), "community": N_("community"), "street": N_("street")}


def level_name(level: str) -> str:
    """The unit level in the user's language (网格, 社区, 街道)."""
    return _(LEVEL_NAMES[level])


def unit_codes(grid_codes: pd.Series | np.ndarray, level: str) -> np.ndarray:
    """The codes of the units at ``level`` the cells belong to (one rule for every figure
    made per community or street)."""
    codes = pd.Series(np.asarray(grid_codes, dtype=object)).astype(str)
    digits = LEVEL_DIGITS[level]
    return (codes if digits is None else codes.str[:digits]).to_numpy(dtype=object)


@dataclass
class CaseHistory:
    """Cases as day / unit / category indices, with the calendar facts of every day.

    ``day0`` is the first local date; day ``k`` is ``day0 + k``. ``holiday`` covers the days
    of the history and a year after it, so a forecast knows next week's holidays.
    """

    day0: dt.date
    n_days: int  # days of history: a forecast origin is at most this
    units: np.ndarray  # unit codes (every unit of the grid, busy or not)
    categories: np.ndarray  # category codes ("*" for all together)
    day: np.ndarray  # per case
    unit: np.ndarray
    category: np.ndarray
    holiday: np.ndarray  # bool per day, n_days + 366 long
    neighbours: sp.csr_matrix | None = None  # unit adjacency (without the unit), or None
    left_out: dict[str, int] = field(default_factory=dict)  # why cases were not counted
    _by_day: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)
    _unit_days: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def n_units(self) -> int:
        return len(self.units)

    @property
    def n_categories(self) -> int:
        return len(self.categories)

    def date(self, day: int) -> dt.date:
        return self.day0 + dt.timedelta(days=int(day))

    def day_of(self, date: dt.date) -> int:
        return (date - self.day0).days

    #: counts per (unit, category, day) are kept as one table up to this many cells
    #: (a backtest or an early warning refits a week at a time: counting ten million cases
    #: again for each fit took 0.25 s a fit)
    DENSE_CELLS = 50_000_000

    def _counts_by_day(self) -> np.ndarray:
        """(categories, days) counts over the whole history, counted once."""
        if self._by_day is None:
            flat = self.category * max(self.n_days, 1) + self.day
            counts = np.bincount(
                flat[self.day < self.n_days], minlength=self.n_categories * self.n_days
            )
            self._by_day = counts.reshape(self.n_categories, self.n_days)
        return self._by_day

    def unit_days(self) -> np.ndarray | None:
        """(units x categories, days) counts, counted once, as float32 (exact for counts
        under 2**24, and half the memory of float64: 175 MB at the cap, where float64 made
        the forecast's heap peak 684 MiB); None when that table would be too large (then
        each fit counts the cases itself)."""
        cells = self.n_units * self.n_categories * self.n_days
        if cells > self.DENSE_CELLS or self.n_days <= 0:
            return None
        if self._unit_days is None:
            keep = (self.day >= 0) & (self.day < self.n_days)
            row = self.unit[keep] * self.n_categories + self.category[keep]
            flat = row * self.n_days + self.day[keep]
            counts = np.bincount(flat, minlength=cells)
            table = np.empty(cells, dtype=np.float32)
            for lo in range(0, cells, _SLICE):  # no float64 copy of the whole table
                table[lo : lo + _SLICE] = counts[lo : lo + _SLICE]
            del counts
            self._unit_days = table.reshape(self.n_units * self.n_categories, self.n_days)
        return self._unit_days

    def weighted_unit_sums(self, days: int, weight: np.ndarray) -> np.ndarray | None:
        """``unit_days()[:, :days] @ weight``, in float32 on the table as it is (a float64
        product copied the table as float64 at every refit: 3 s more over a 52-origin
        backtest of 40,000 series); None without the dense table."""
        dense = self.unit_days()
        if dense is None:
            return None
        return (dense[:, :days] @ weight.astype(np.float32)).astype(np.float64)

    def daily_totals(self, until: int) -> np.ndarray:
        """(categories, days) city-wide counts of the days before ``until``."""
        out = np.zeros((self.n_categories, max(until, 0)), dtype=np.int64)
        known = min(max(until, 0), self.n_days)
        out[:, :known] = self._counts_by_day()[:, :known]
        return out

    def counts(self, start: int, end: int) -> np.ndarray:
        """(units, categories) counts of the days [start, end)."""
        keep = (self.day >= start) & (self.day < end)
        flat = self.unit[keep] * self.n_categories + self.category[keep]
        counts = np.bincount(flat, minlength=self.n_units * self.n_categories)
        return counts.reshape(self.n_units, self.n_categories)


def history_from_facts(
    facts: pd.DataFrame,
    timezone: str,
    is_holiday,
    grid=None,
    spec: ForecastSpec | None = None,
    exclude: pd.Series | np.ndarray | None = None,
    until: dt.date | None = None,
    weights=None,
) -> CaseHistory:
    """A :class:`CaseHistory` from the store's case facts (``registered_at``, ``grid_code``,
    ``category_code``), dated in the city's ``timezone``.

    ``grid`` gives every unit (quiet ones too) and the neighbourhoods the shares pool over;
    without it the units are the codes seen and pooling goes toward the city. ``exclude``
    marks cases to leave out (at placeholder points). ``is_holiday(date)`` is the city
    calendar's. ``until`` is the local date the history ends before (today, for a forecast
    of next week; default the day after the last case): quiet days at the end count as such.
    ``weights``: the grid's queen contiguity when the caller has it already.
    """
    spec = spec or ForecastSpec()
    left_out: dict[str, int] = {}
    cell, cell_names = text_codes(facts["grid_code"])  # categorical codes: no strings made
    keep = (cell >= 0) & facts["registered_at"].notna().to_numpy()
    left_out[N_("no grid cell")] = int((~keep).sum())
    if exclude is not None:
        away = np.asarray(exclude, dtype=bool)
        left_out[N_("at a placeholder point")] = int((keep & away).sum())
        keep &= ~away
    # the city's calendar day of each case, as numpy days (a million in ~50 ms)
    moments = pd.to_datetime(facts["registered_at"], utc=True)[keep]
    days = moments.dt.tz_convert(timezone).dt.tz_localize(None).to_numpy().astype("datetime64[D]")
    case_cells = cell[keep]
    if until is not None:
        before = days < np.datetime64(until, "D")
        days, case_cells = days[before], case_cells[before]
        keep[np.flatnonzero(keep)[~before]] = False
    if len(days):
        day0 = days.min().astype(dt.date)
        end = until or days.max().astype(dt.date) + dt.timedelta(days=1)
    else:
        end = until or dt.date.today()
        day0 = end
    n_days = (end - day0).days
    day = (days - np.datetime64(day0, "D")).astype(np.int64)
    # each distinct cell code's unit found once, then taken by the cases' codes
    cell_units = unit_codes(np.asarray(cell_names, dtype=object), spec.level)
    if grid is not None:
        units = np.unique(unit_codes(grid["code"], spec.level))
    else:
        seen = np.unique(case_cells) if len(case_cells) else np.zeros(0, np.int64)
        units = np.unique(cell_units[seen].astype(str)).astype(object)
    unit_of_cell = pd.Index(units).get_indexer(cell_units)  # -1 for a code outside the grid
    unit = unit_of_cell[case_cells] if len(cell_names) else np.zeros(0, np.int64)
    known = unit >= 0
    if not known.all():
        left_out[N_("outside the grid")] = int((~known).sum())
        day, unit = day[known], unit[known]
        keep[np.flatnonzero(keep)[~known]] = False
    if spec.by_category:
        kinds, kind_names = text_codes(facts["category_code"])
        used, category = np.unique(kinds[keep], return_inverse=True)
        categories = np.asarray([kind_names[k] if k >= 0 else "nan" for k in used], dtype=object)
    else:
        categories = np.array([ALL], dtype=object)
        category = np.zeros(len(day), dtype=np.int64)
    holiday = np.array(
        [bool(is_holiday(day0 + dt.timedelta(days=k))) for k in range(n_days + 366)], dtype=bool
    )
    neighbours = None
    if grid is not None and len(units) > 1:
        neighbours = unit_neighbours(grid, units, spec.level, weights)
    return CaseHistory(
        day0,
        n_days,
        units,
        categories,
        day,
        unit.astype(np.int64),
        np.asarray(category, dtype=np.int64),
        holiday,
        neighbours,
        {k: v for k, v in left_out.items() if v},
    )


def unit_neighbours(grid, units: np.ndarray, level: str, weights=None) -> sp.csr_matrix:
    """Units that touch (queen contiguity of their cells); a unit is not its own neighbour
    (its prior must come from the others, or pooling would only echo its own count)."""
    from .hotspots import queen

    cells = grid.reset_index(drop=True)
    cell_adj = sp.csr_matrix((weights if weights is not None else queen(cells)).sparse)
    of_cell = pd.Index(units).get_indexer(unit_codes(cells["code"], level))
    member = sp.csr_matrix(
        (np.ones(len(cells)), (np.arange(len(cells)), of_cell)), shape=(len(cells), len(units))
    )
    adj = sp.csr_matrix(member.T @ cell_adj @ member)
    adj.setdiag(0)
    adj.eliminate_zeros()
    adj.data[:] = 1.0
    return adj


# --- the temporal model ------------------------------------------------------------------


def _design(history: CaseHistory, days: np.ndarray, origin: int, train_days: int) -> np.ndarray:
    """The regressors of days ``days`` for a model fitted on ``train_days`` days before
    ``origin``: what the history can support and nothing more."""
    dates = pd.DatetimeIndex(pd.Timestamp(history.day0) + pd.to_timedelta(days, unit="D"))
    cols = [np.ones(len(days))]
    if train_days >= 182:
        cols.append((days - origin) / 365.25)
    if train_days >= 28:
        dow = dates.day_of_week.to_numpy()
        cols += [(dow == k).astype(float) for k in range(1, 7)]
    harmonics = 2 if train_days >= 730 else 1 if train_days >= 365 else 0
    doy = dates.day_of_year.to_numpy() / 365.25
    for k in range(1, harmonics + 1):
        cols += [np.sin(2 * np.pi * k * doy), np.cos(2 * np.pi * k * doy)]
    if train_days >= 365:
        cols.append(history.holiday[days].astype(float))
    return np.column_stack(cols)


def _fit_glm(y: np.ndarray, x: np.ndarray, start: np.ndarray | None = None) -> np.ndarray | None:
    """Poisson regression (log link) by Newton's method, or None when it does not converge
    (a category without cases on holidays, separation: the caller falls back to a plainer
    model). ``start``: the coefficients of a nearby origin (a backtest's previous one).

    Why not statsmodels' GLM: it gives the same coefficients (tests/test_forecast.py checks
    it) but its per-fit set-up and SVD solves took 7 ms a fit, 7 of the 14 s of a city-scale
    backtest; these dozen lines take a fifth of that. statsmodels stays the benchmark's peer.
    """
    keep = x.std(axis=0) > 0
    keep[0] = True
    xk = x[:, keep]
    mean = y.mean()
    if mean <= 0:
        return None
    beta = np.zeros(xk.shape[1])
    beta[0] = np.log(mean)
    if start is not None and len(start) == x.shape[1] and np.all(np.isfinite(start[keep])):
        beta = start[keep].copy()
    for _step in range(50):
        eta = np.clip(xk @ beta, -50, 50)
        mu = np.exp(eta)
        hessian = xk.T @ (xk * mu[:, None])
        gradient = xk.T @ (y - mu)
        try:
            delta = np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            delta = np.linalg.lstsq(hessian, gradient, rcond=None)[0]
        if not np.all(np.isfinite(delta)):
            return None
        # a damped step: a far start (or a quiet holiday column) must not overshoot
        largest = np.abs(delta).max()
        beta += delta if largest <= 5 else delta * (5 / largest)
        if largest < 1e-8:
            break
    else:
        return None
    params = np.zeros(x.shape[1])
    params[keep] = beta
    if not np.all(np.isfinite(params)) or np.abs(params).max() > 30:
        return None
    return params


@dataclass
class Fitted:
    """A model fitted on the days before ``origin``: per category the temporal coefficients,
    per unit × category the share's Gamma shape ``alpha`` and the share, and per category
    the dispersion ``delta``."""

    history: CaseHistory
    origin: int
    train_days: int
    coef: list[np.ndarray | None]  # per category; None: the all-case shape with ``level``
    level: np.ndarray  # per category: log-level over the all-case shape (when coef is None)
    shape_coef: np.ndarray | None  # the all-case shape
    alpha: np.ndarray  # (units, categories)
    share: np.ndarray  # (units, categories)
    delta: np.ndarray  # (categories,)
    spec: ForecastSpec

    def daily_rate(self, days: np.ndarray) -> np.ndarray:
        """Λ(c, t): (categories, days) expected city-wide counts."""
        x = _design(self.history, days, self.origin, self.train_days)
        out = np.zeros((self.history.n_categories, len(days)))
        base = np.exp(x @ self.shape_coef) if self.shape_coef is not None else None
        for c, coef in enumerate(self.coef):
            if coef is not None:
                out[c] = np.exp(x @ coef)
            elif base is not None:
                out[c] = base * np.exp(self.level[c])
        return out

    def predict(self, start: int, length: int) -> tuple[np.ndarray, np.ndarray]:
        """Expected counts and negative-binomial sizes, (units, categories), for the days
        [start, start + length)."""
        rate = self.daily_rate(np.arange(start, start + length)).sum(axis=1)
        mu = self.share * rate[None, :]
        return mu, nb_size(self.alpha, self.delta[None, :])


def nb_size(alpha: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """The negative binomial ``n`` of ``Var = μ + μ² (1/α + δ)`` (huge = Poisson)."""
    inverse = 1.0 / np.maximum(alpha, 1e-9) + delta
    return 1.0 / np.maximum(inverse, 1e-9)


def fit(
    history: CaseHistory,
    origin: int,
    spec: ForecastSpec | None = None,
    warm: Fitted | None = None,
) -> Fitted:
    """Fit on the days before ``origin`` (a day index; ``history.n_days`` = after the last).
    ``warm``: the fit of a nearby origin, whose coefficients start the iterations."""
    spec = spec or ForecastSpec()
    train_days = min(origin, history.n_days)
    if train_days < 7:
        raise ForecastError(
            _("only {days} days of cases before {date}").format(
                days=max(train_days, 0), date=history.date(origin)
            ),
            _("A forecast needs at least a week of history; import the city's earlier cases."),
        )
    every_day = history.daily_totals(origin)  # read once: the fit and the dispersion use it
    totals = every_day[:, -train_days:].astype(float)
    days = np.arange(origin - train_days, origin)
    x = _design(history, days, origin, train_days)
    all_cases = totals.sum(axis=0)
    before = warm.shape_coef if warm is not None else None
    shape_coef = _fit_glm(all_cases, x, before) if all_cases.sum() > 0 else None
    if shape_coef is None and all_cases.sum() > 0:  # the plainest model: a constant rate
        shape_coef = np.zeros(x.shape[1])
        shape_coef[0] = np.log(all_cases.mean())
    coef: list[np.ndarray | None] = []
    level = np.full(history.n_categories, -np.inf)
    weights = 0.5 ** ((origin - days) / spec.half_life_days)
    base = np.exp(x @ shape_coef) if shape_coef is not None else np.zeros(len(days))
    for c in range(history.n_categories):
        y = totals[c]
        before = warm.coef[c] if warm is not None else None
        own = _fit_glm(y, x, before) if y.sum() >= spec.min_category_cases else None
        coef.append(own)
        if own is None and y.sum() > 0:
            level[c] = np.log((weights * y).sum() / max((weights * base).sum(), 1e-12))
    alpha, share = _shares(history, origin, spec)
    fitted = Fitted(
        history, origin, train_days, coef, level, shape_coef, alpha, share,
        np.zeros(history.n_categories), spec,
    )  # fmt: skip
    fitted.delta = _dispersion(fitted, spec, every_day)
    return fitted


def _shares(history: CaseHistory, origin: int, spec: ForecastSpec):
    """Each unit's pooled share of each category: (alpha, share), (units, categories).

    Empirical Bayes: a unit's recency-weighted count ``n`` is Poisson around its rate, and
    the rate is Gamma-distributed around the mean ``m`` of its neighbours (the category's
    pattern and all cases' pattern scaled to the category, so a rare category still pools
    toward where cases happen at all) with shape ``κ``. ``κ`` is the method-of-moments
    estimate from how much units really differ from their neighbourhoods,
    ``Σ m² / Σ[(n − m)² − n]`` (or ``spec.prior_cases`` when given). The posterior rate is
    ``(κ + n) / (1 + κ / m)``: a busy unit keeps its own rate, a quiet one moves toward its
    neighbourhood, and the share's Gamma shape ``α = κ + n`` never drops near zero, so no
    unit is judged against a zero baseline. ``m`` has a floor of a tenth of the city's mean
    per unit."""
    own: np.ndarray
    days = min(origin, history.n_days)
    weight = 0.5 ** ((origin - np.arange(days)) / spec.half_life_days)
    summed = history.weighted_unit_sums(days, weight)
    if summed is not None:  # the recency-weighted sum over days, from the counted table
        own = summed.reshape(history.n_units, history.n_categories)
    else:
        keep = history.day < origin
        age = origin - history.day[keep]
        weight = 0.5 ** (age / spec.half_life_days)
        flat = history.unit[keep] * history.n_categories + history.category[keep]
        own = np.bincount(
            flat, weights=weight, minlength=history.n_units * history.n_categories
        ).reshape(history.n_units, history.n_categories)
    per_category = own.sum(axis=0)
    everything = own.sum(axis=1)
    scaled = everything[:, None] * (per_category / max(per_category.sum(), 1e-12))[None, :]
    mix = (own + scaled) / 2
    city = per_category[None, :] / max(history.n_units, 1)
    if history.neighbours is not None:
        degree = np.asarray(history.neighbours.sum(axis=1)).ravel()[:, None]
        around = history.neighbours @ mix
        prior = np.where(degree > 0, around / np.maximum(degree, 1), city)
    else:  # no map: toward the unit's overall activity and the city's mean
        prior = (scaled + city) / 2
    prior = np.maximum(prior, 0.1 * city)
    total = prior.sum(axis=0, keepdims=True)
    prior = prior * np.where(total > 0, per_category[None, :] / np.maximum(total, 1e-12), 0)
    if spec.prior_cases is not None:
        kappa = np.full(history.n_categories, float(spec.prior_cases))
    else:
        excess = (((own - prior) ** 2) - own).sum(axis=0)
        kappa = np.where(
            excess > 0, (prior**2).sum(axis=0) / np.maximum(excess, 1e-12), KAPPA_RANGE[1]
        )
        kappa = np.clip(kappa, KAPPA_RANGE[0], KAPPA_RANGE[1])
    alpha = own + kappa[None, :]
    rate = alpha / (1 + kappa[None, :] / np.maximum(prior, 1e-12))
    total_rate = rate.sum(axis=0, keepdims=True)
    share = np.where(
        total_rate > 0, rate / np.maximum(total_rate, 1e-300), 1.0 / max(history.n_units, 1)
    )
    return alpha, share


def _dispersion(fitted: Fitted, spec: ForecastSpec, every_day: np.ndarray) -> np.ndarray:
    """Per category, the extra-Poisson variance δ of the city-wide weekly count on the recent
    weeks, ``Σ[(Y − M)² − M] / Σ M²`` (method of moments, never below zero): the weeks that
    are busier or quieter for every unit at once (weather, a campaign, a holiday season the
    calendar does not name). What a single unit does apart from its neighbourhood is not
    noise to widen the interval with: it is what an early warning is for."""
    history, origin = fitted.history, fitted.origin
    weeks = min(spec.dispersion_weeks, fitted.train_days // 7)
    delta = np.zeros(history.n_categories)
    if weeks < 2:
        return delta
    first = origin - 7 * weeks
    totals = every_day[:, first:]
    observed = totals.reshape(history.n_categories, weeks, 7).sum(axis=2)
    rate = fitted.daily_rate(np.arange(first, origin))
    expected = rate.reshape(history.n_categories, weeks, 7).sum(axis=2)
    num = ((observed - expected) ** 2 - expected).sum(axis=1)
    den = (expected**2).sum(axis=1)
    ok = den > 0
    delta[ok] = np.maximum(num[ok] / den[ok], 0.0)
    return delta


# --- the forecast table ------------------------------------------------------------------


def intervals(mu: np.ndarray, size: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """The central ``level`` prediction interval of NB(mean ``mu``, size ``size``)."""
    tail = (1 - level) / 2
    p = size / (size + np.maximum(mu, 1e-12))
    lo = nbinom.ppf(tail, size, p)
    hi = nbinom.ppf(1 - tail, size, p)
    zero = mu <= 0
    return np.where(zero, 0, lo), np.where(zero, 0, hi)


def nb_cdf(k: np.ndarray, mu: np.ndarray, size: np.ndarray) -> np.ndarray:
    """P(X <= k) for NB(mean mu, size): the regularised incomplete beta, vectorised
    (scipy.stats.nbinom.cdf computes the same with more overhead)."""
    p = size / (size + np.maximum(mu, 1e-12))
    out = betainc(size, np.maximum(k, 0) + 1.0, p)
    out = np.where(k < 0, 0.0, out)
    return np.where(mu <= 0, 1.0, out)


def upper_bound(mu: np.ndarray, size: np.ndarray, level: float) -> np.ndarray:
    """The one-sided ``level`` upper prediction bound (a warning's "90 % up to 5")."""
    p = size / (size + np.maximum(mu, 1e-12))
    return np.where(mu <= 0, 0, nbinom.ppf(level, size, p))


def periods_of(spec: ForecastSpec, origin: int) -> list[tuple[int, int]]:
    """The forecast periods after ``origin``: one week, or each of the next 7 days."""
    if spec.horizon == "week":
        return [(origin, 7)]
    return [(origin + k, 1) for k in range(7)]


def forecast_table(fitted: Fitted) -> pd.DataFrame:
    """Every unit × category × period after the origin: the expected count, the 80 % and
    95 % intervals, and the unit's cases in the last year (what a reader weighs it by)."""
    history, spec = fitted.history, fitted.spec
    last_year = history.counts(fitted.origin - 365, fitted.origin)
    frames = []
    for start, length in periods_of(spec, fitted.origin):
        mu, size = fitted.predict(start, length)
        lo80, hi80 = intervals(mu, size, 0.80)
        lo95, hi95 = intervals(mu, size, 0.95)
        n = mu.size
        frames.append(
            pd.DataFrame(
                {
                    "unit": np.repeat(history.units, history.n_categories),
                    "category": np.tile(history.categories, history.n_units),
                    "start": np.full(n, history.date(start)),
                    "end": np.full(n, history.date(start + length)),
                    "expected": mu.ravel(),
                    "lo80": lo80.ravel().astype(int),
                    "hi80": hi80.ravel().astype(int),
                    "lo95": lo95.ravel().astype(int),
                    "hi95": hi95.ravel().astype(int),
                    "cases_last_year": last_year.ravel(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
