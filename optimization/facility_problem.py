"""The plain inputs and outputs that every facility-location model shares.

A model sees only a cost matrix (clients x candidate sites, metres or seconds; ``inf`` where a
site cannot reach a client), demand weights and the sites that must stay open. Where the
costs come from (a road graph, a straight-line matrix, a travel-time table) is the caller's
business, so the models stay small and testable against spopt on the same matrices.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _

from .solve import SolveOutcome


class FacilityInputError(CityDeskError):
    """The facility-location inputs cannot describe a solvable problem."""


@dataclass(frozen=True)
class FacilityProblem:
    """Clients, candidate sites and the costs between them.

    ``presited`` are indices of sites that are open whatever the model decides (existing fire
    stations, say); they count towards ``p`` in the models that take one, as in spopt.
    """

    costs: np.ndarray
    weights: np.ndarray | None = None
    presited: tuple[int, ...] = ()
    site_names: tuple[str, ...] | None = None
    client_names: tuple[str, ...] | None = None
    _w: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        costs = np.asarray(self.costs, dtype=float)
        if costs.ndim != 2 or 0 in costs.shape:
            raise FacilityInputError(
                _(
                    "The cost matrix must be 2-D (clients x sites) and not empty; got {shape}."
                ).format(shape=costs.shape),
                _("Build it with one row per demand point and one column per candidate site."),
            )
        if np.isnan(costs).any() or (costs < 0).any():
            row, col = np.argwhere(np.isnan(costs) | (costs < 0))[0]
            raise FacilityInputError(
                _("The cost from client {i} to site {j} is {value}.").format(
                    i=self.client_name(row), j=self.site_name(col), value=costs[row, col]
                ),
                _("Costs must be zero or positive; use inf where a site cannot reach a client."),
            )
        weights = np.ones(costs.shape[0]) if self.weights is None else np.asarray(self.weights)
        weights = weights.astype(float)
        if weights.shape != (costs.shape[0],) or np.isnan(weights).any() or (weights < 0).any():
            raise FacilityInputError(
                _("There must be one non-negative demand weight per client ({n}).").format(
                    n=costs.shape[0]
                ),
                _("Fill missing weights with 0, or drop those clients."),
            )
        bad = [j for j in self.presited if not 0 <= j < costs.shape[1]]
        if bad or len(set(self.presited)) != len(self.presited):
            raise FacilityInputError(
                _("Pre-sited facilities {bad} are not distinct candidate sites.").format(
                    bad=bad or list(self.presited)
                ),
                _("Give each existing facility once, as a column index of the cost matrix."),
            )
        object.__setattr__(self, "costs", costs)
        object.__setattr__(self, "_w", weights)
        object.__setattr__(self, "presited", tuple(int(j) for j in self.presited))

    @property
    def demand(self) -> np.ndarray:
        return self._w

    @property
    def n_clients(self) -> int:
        return self.costs.shape[0]

    @property
    def n_sites(self) -> int:
        return self.costs.shape[1]

    def client_name(self, i: int) -> str:
        return self.client_names[i] if self.client_names else str(int(i))

    def site_name(self, j: int) -> str:
        return self.site_names[j] if self.site_names else str(int(j))

    def check_p(self, p: int) -> None:
        """Explain an impossible facility count before any solver runs."""
        if not len(self.presited) <= p <= self.n_sites or p < 1:
            raise FacilityInputError(
                _(
                    "Cannot open {p} facilities: there are {m} candidate sites and {k} pre-sited"
                    " ones."
                ).format(p=p, m=self.n_sites, k=len(self.presited)),
                _("Choose p between {lo} and {hi} (p counts the pre-sited facilities).").format(
                    lo=max(1, len(self.presited)), hi=self.n_sites
                ),
            )

    def check_reachable(self) -> None:
        """A client no site can reach makes every model infeasible; name it."""
        unreachable = np.flatnonzero(~np.isfinite(self.costs).any(axis=1) & (self._w > 0))
        if unreachable.size:
            names = ", ".join(self.client_name(i) for i in unreachable[:5])
            raise FacilityInputError(
                _("{n} demand point(s) cannot be reached from any candidate site: {names}.").format(
                    n=unreachable.size, names=names
                ),
                _("Check the road network around them, or give them zero weight."),
            )


@dataclass(frozen=True)
class FacilityResult:
    """Which sites open, who goes where, and what the solver proved about it."""

    model: str
    outcome: SolveOutcome
    open_sites: tuple[int, ...]
    assignment: np.ndarray  # site index per client, -1 where unserved / uncovered
    client_cost: np.ndarray  # cost from each client to its site, nan where unserved
    weights: np.ndarray

    @property
    def objective(self) -> float | None:
        return self.outcome.objective

    def mean_cost(self) -> float:
        """Demand-weighted mean cost of the served clients (spopt's ``mean_dist``)."""
        return weighted_mean(self.client_cost, self.weights)

    def percentile_cost(self, q: float) -> float:
        """Demand-weighted percentile (q in 0..100): the cost that q % of the demand beats."""
        return weighted_percentile(self.client_cost, self.weights, q)

    def covered_share(self, radius: float, by_demand: bool = True) -> float:
        """Share of the demand (or, ``by_demand=False``, of the clients) within ``radius``.

        spopt's ``perc_cov`` is the client share; planners usually want the demand share.
        """
        within = np.nan_to_num(self.client_cost, nan=np.inf) <= radius
        weights = self.weights if by_demand else np.ones_like(self.weights)
        total = weights.sum()
        return float(weights[within].sum() / total) if total else 0.0


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    """Weighted mean of the non-nan values (nan when no weight is left)."""
    keep = ~np.isnan(values)
    w = weights[keep]
    return float(np.sum(w * values[keep]) / w.sum()) if w.sum() else float("nan")


def weighted_percentile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest value whose cumulative weight reaches q % (ignores nan values)."""
    keep = ~np.isnan(values) & (weights > 0)
    if not keep.any():
        return float("nan")
    order = np.argsort(values[keep], kind="stable")
    v = values[keep][order]
    cum = np.cumsum(weights[keep][order])
    idx = int(np.searchsorted(cum, q / 100.0 * cum[-1] - 1e-9 * cum[-1]))
    return float(v[min(idx, v.size - 1)])


def assign_nearest(costs: np.ndarray, open_sites: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Each client to its cheapest open site: (site index or -1, cost or nan)."""
    if not open_sites:
        n = costs.shape[0]
        return np.full(n, -1), np.full(n, np.nan)
    cols = np.asarray(open_sites)
    sub = costs[:, cols]
    best = np.argmin(sub, axis=1)
    cost = sub[np.arange(costs.shape[0]), best]
    site = np.where(np.isfinite(cost), cols[best], -1)
    return site, np.where(np.isfinite(cost), cost, np.nan)
