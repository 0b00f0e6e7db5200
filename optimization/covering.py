"""Covering models: LSCP (fewest sites that reach everyone) and MCLP (most demand reached by p).

Both work on the 0/1 coverage matrix ``cost <= radius``. Reductions before the solver sees it:
clients with the same set of covering sites become one row (weights added), clients already
covered by a pre-sited facility leave the model, and in LSCP a client nobody can cover is
reported by name instead of surfacing as a bare "infeasible".
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pulp

from citydesk.layers.feedback import Feedback, NullFeedback
from citydesk.layers.i18n import _

from .client_groups import same_rows
from .facility_problem import FacilityInputError, FacilityProblem, FacilityResult, assign_nearest
from .solve import SolveOptions, solve


def coverage_groups(covers: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct coverage rows and the summed weight of the clients that share each."""
    first, _group, summed = same_rows(np.packbits(covers, axis=1), weights)
    return covers[first], summed


def solve_lscp(
    problem: FacilityProblem,
    radius: float,
    options: SolveOptions | None = None,
    feedback: Feedback | None = None,
) -> FacilityResult:
    """Open the fewest sites so that every client with demand is within ``radius``."""
    feedback = feedback or NullFeedback()
    covers = problem.costs <= radius
    needs = problem.demand > 0
    lonely = np.flatnonzero(needs & ~covers.any(axis=1))
    if lonely.size:
        raise FacilityInputError(
            _(
                "{n} demand point(s) are farther than {r:g} from every candidate site: {names}."
            ).format(
                n=lonely.size, r=radius, names=", ".join(problem.client_name(i) for i in lonely[:5])
            ),
            _(
                "Raise the service radius to at least {need:g}, or add candidate sites near them."
            ).format(need=float(np.nanmax(np.min(problem.costs[lonely], axis=1)))),
        )
    model, y = _site_variables("lscp", pulp.LpMinimize, problem)
    pre = list(problem.presited)
    todo = needs & ~(covers[:, pre].any(axis=1) if pre else np.zeros_like(needs))
    rows, _weights = coverage_groups(covers[todo], problem.demand[todo])
    for r, row in enumerate(rows):
        model += pulp.lpSum(y[j] for j in np.flatnonzero(row)) >= 1, f"cover_{r}"
    model.setObjective(pulp.lpSum(y))
    return _finish("LSCP", model, y, problem, options, feedback)


def solve_mclp(
    problem: FacilityProblem,
    radius: float,
    p: int,
    options: SolveOptions | None = None,
    feedback: Feedback | None = None,
) -> FacilityResult:
    """Open ``p`` sites (pre-sited included) covering the most demand within ``radius``."""
    problem.check_p(p)
    covers = problem.costs <= radius
    model, y = _site_variables("mclp", pulp.LpMaximize, problem)
    model += pulp.lpSum(y) == p, "open_p"
    pre = list(problem.presited)
    done = covers[:, pre].any(axis=1) if pre else np.zeros(problem.n_clients, dtype=bool)
    todo = ~done & covers.any(axis=1) & (problem.demand > 0)
    rows, weights = coverage_groups(covers[todo], problem.demand[todo])
    gain = []
    for r, row in enumerate(rows):
        z = pulp.LpVariable(f"z_{r}", lowBound=0, upBound=1)  # integral at the optimum
        model += z <= pulp.lpSum(y[j] for j in np.flatnonzero(row)), f"cover_{r}"
        gain.append((z, float(weights[r])))
    model.setObjective(pulp.LpAffineExpression(gain, constant=float(problem.demand[done].sum())))
    result = _finish("MCLP", model, y, problem, options, feedback)
    if result.outcome.objective is not None:
        # report the covered demand itself: with every client pre-covered the model has
        # no variables left in its objective and solvers drop the constant
        covered = float(
            problem.demand[np.nan_to_num(result.client_cost, nan=np.inf) <= radius].sum()
        )
        shift = covered - result.outcome.objective
        bound = None if result.outcome.bound is None else result.outcome.bound + shift
        outcome = replace(result.outcome, objective=covered, bound=bound)
        result = replace(result, outcome=outcome)
    return result


def _site_variables(name: str, sense: int, problem: FacilityProblem):
    model = pulp.LpProblem(name, sense)
    y = [pulp.LpVariable(f"y_{j}", cat=pulp.LpBinary) for j in range(problem.n_sites)]
    for j in problem.presited:
        y[j].lowBound = 1
    return model, y


def _finish(label, model, y, problem, options, feedback) -> FacilityResult:
    outcome = solve(model, options, feedback)
    open_sites: tuple[int, ...] = ()
    if outcome.status.has_solution:
        open_sites = tuple(j for j, var in enumerate(y) if (var.varValue or 0) > 0.5)
    site, cost = assign_nearest(problem.costs, open_sites)
    return FacilityResult(label, outcome, open_sites, site, cost, problem.demand)
