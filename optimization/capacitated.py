"""The capacitated p-median: open p sites whose capacities absorb the demand at least cost.

Demand may split between sites (as in spopt's capacitated PMedian), so assignments x_ij are
continuous; the linking rows ``x_ij <= y_j`` are kept because they make the LP bound far
tighter than the capacity rows alone. Before any solver runs, an impossible instance is
explained in numbers: the demand against the largest capacity p sites can offer.
"""

from __future__ import annotations

import numpy as np
import pulp

from citydesk.layers.feedback import Feedback, NullFeedback
from citydesk.layers.i18n import _

from .facility_problem import FacilityInputError, FacilityProblem, FacilityResult
from .solve import SolveOptions, solve


def solve_capacitated_pmedian(
    problem: FacilityProblem,
    p: int,
    capacities: np.ndarray,
    options: SolveOptions | None = None,
    feedback: Feedback | None = None,
) -> FacilityResult:
    """Open ``p`` sites (pre-sited included) and route every unit of demand within capacity."""
    feedback = feedback or NullFeedback()
    problem.check_p(p)
    problem.check_reachable()
    capacities = np.asarray(capacities, dtype=float)
    if capacities.shape != (problem.n_sites,) or (capacities < 0).any():
        raise FacilityInputError(
            _("There must be one non-negative capacity per candidate site ({m}).").format(
                m=problem.n_sites
            ),
            _("Give 0 for a site that cannot take demand."),
        )
    _check_capacity(problem, p, capacities)
    costs, w = problem.costs, problem.demand
    model = pulp.LpProblem("capacitated_p_median", pulp.LpMinimize)
    y = [pulp.LpVariable(f"y_{j}", cat=pulp.LpBinary) for j in range(problem.n_sites)]
    for j in problem.presited:
        y[j].lowBound = 1
    model += pulp.lpSum(y) == p, "open_p"
    x: dict[tuple[int, int], pulp.LpVariable] = {}
    loads: dict[int, list[tuple[pulp.LpVariable, float]]] = {}
    for i in map(int, np.flatnonzero(w > 0)):
        reach = [int(j) for j in np.flatnonzero(np.isfinite(costs[i]))]
        row = [pulp.LpVariable(f"x_{i}_{j}", lowBound=0, upBound=1) for j in reach]
        for j, var in zip(reach, row, strict=True):
            x[i, j] = var
            loads.setdefault(int(j), []).append((var, float(w[i])))
            model += var <= y[j], f"link_{i}_{j}"
        model += pulp.lpSum(row) == 1, f"serve_{i}"
    for j, load in loads.items():
        model += pulp.LpAffineExpression(load) <= capacities[j] * y[j], f"capacity_{j}"
    model.setObjective(
        pulp.LpAffineExpression([(v, w[i] * costs[i, j]) for (i, j), v in x.items()])
    )
    outcome = solve(model, options, feedback)
    n = problem.n_clients
    site, cost = np.full(n, -1), np.full(n, np.nan)
    open_sites: tuple[int, ...] = ()
    if outcome.status.has_solution:
        open_sites = tuple(j for j, var in enumerate(y) if (var.varValue or 0) > 0.5)
        share = np.zeros((n, problem.n_sites))
        for (i, j), var in x.items():
            share[i, j] = var.varValue or 0.0
        served = share.sum(axis=1) > 0.5
        site = np.where(served, share.argmax(axis=1), -1)
        # a split client's cost is the share-weighted mean of its sites' costs
        cost = np.where(
            served, np.nansum(share * np.where(np.isfinite(costs), costs, 0), 1), np.nan
        )
    return FacilityResult("capacitated p-median", outcome, open_sites, site, cost, w)


def _check_capacity(problem: FacilityProblem, p: int, capacities: np.ndarray) -> None:
    free = [j for j in range(problem.n_sites) if j not in set(problem.presited)]
    best_free = np.sort(capacities[free])[::-1][: p - len(problem.presited)]
    most = float(capacities[list(problem.presited)].sum() + best_free.sum())
    demand = float(problem.demand.sum())
    if most < demand:
        raise FacilityInputError(
            _(
                "Total demand {demand:,.0f} exceeds the most that {p} sites can hold ({most:,.0f})."
            ).format(demand=demand, p=p, most=most),
            _("Open more sites, raise capacities, or lower the demand."),
        )
