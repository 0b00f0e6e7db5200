"""The p-median: open p sites so that the demand-weighted travel cost is smallest.

Formulation: Elloumi's (2010) radius formulation, in its sparse chained form. For client i
with distinct site distances D_1 < ... < D_K, the continuous variable z_ik is 1 when no open
site lies within D_k, and the cost is D_1 + sum_k (D_k+1 - D_k) z_ik. Instead of Elloumi's
dense cover rows ``z_ik + sum(y_j : d_ij <= D_k) >= 1`` the rows are chained,
``z_ik >= z_i,k-1 - sum(y_j : d_ij == D_k)``, which sum to the same inequalities (so the LP
bound is the same) with O(sites) non-zeros per client instead of O(sites^2).

Reductions: a client's chain stops at the first radius that surely holds an open site, either
because more than (sites - p) sites lie within it or because a pre-sited facility does. Only
the y_j are integer.

Truncation (Garcia, Labbe & Marin 2011): most clients end up served by one of their nearest
few sites, so each chain is first cut at the client's cost in the vertex-substitution
incumbent, or at its Lagrangian reach if that is farther (``_depth_for``). Without its last
cover row a cut chain caps the client's cost at the cut radius, so the cut model is a
*relaxation*: its bound is valid for the full problem. If the relaxation's solution serves
every client within its cut, its true cost equals the relaxed cost and it is optimal;
otherwise the chains of the clients it over-reached are extended and it is solved
again. The textbook model (spopt's) has clients x sites assignment variables and as many
linking rows; this one usually needs a tenth of the rows.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pulp

from citydesk.layers.feedback import Feedback, NullFeedback, check_canceled

from .client_groups import group_clients
from .facility_problem import FacilityProblem, FacilityResult, assign_nearest
from .pmedian_lagrangian import lagrangian_bound
from .solve import SolveOptions, SolveOutcome, SolveStatus, solve
from .vertex_substitution import greedy_pmedian, vertex_substitution


def solve_pmedian(
    problem: FacilityProblem,
    p: int,
    options: SolveOptions | None = None,
    feedback: Feedback | None = None,
    heuristic_start: bool = True,
) -> FacilityResult:
    """Open ``p`` sites (pre-sited ones included) minimising the weighted cost."""
    options = options or SolveOptions()
    feedback = feedback or NullFeedback()
    problem.check_p(p)
    problem.check_reachable()
    # clients reached through the same node choose alike: merged, they shrink every stage
    # below (docs/OPTIMIZATION.md); the plans' costs are the same, shifted by a constant
    started = time.perf_counter()
    groups = group_clients(problem.costs, problem.demand)
    costs, w = groups.costs, groups.weights
    # the time limit holds for the whole call (search, bound, model building and solves),
    # not only for the solver: a 5 s limit took 13-15 s (issue 25)
    options = options.left_after(started)
    keep = np.arange(problem.n_sites)
    lower: float | None = None
    forced = np.zeros(problem.n_sites, dtype=bool)
    forced[list(problem.presited)] = True
    incumbent: list[int] | None = None
    reach: np.ndarray | None = None
    if heuristic_start:
        feedback.push_info("vertex substitution start")
        budget = np.inf if options.time_limit is None else 0.25 * options.time_limit
        incumbent, upper = _local_search(costs, w, p, problem.presited, feedback, started + budget)
        # sites the Lagrangian bound proves closed (or open) in every optimal solution; the
        # volume algorithm may use half of what is left of the limit. On the merged clients:
        # the same bound (merging is exact) in half the time of the original ones
        left = np.inf if options.deadline is None else options.deadline - time.perf_counter()
        lagrange = lagrangian_bound(
            costs, w, p, upper, problem.presited, deadline=time.perf_counter() + 0.5 * left
        )
        # the Lagrangian heuristic: the relaxation's own sites, improved by substitution,
        # are often better than any restart (10,000 x 1,000 on Cambridge's roads: 0.15 %
        # below the greedy start's local optimum); a cheaper incumbent proves more sites
        # closed with the same multipliers
        check_canceled(feedback)
        start = [*problem.presited, *(j for j in lagrange.chosen if j not in problem.presited)]
        sites, cost = vertex_substitution(costs, w, p, problem.presited, start=start[:p])
        if cost < upper - 1e-9 * max(1.0, upper):
            incumbent, upper = [int(j) for j in sites], cost
            lagrange = lagrange.fixed(upper)
        lower = float(lagrange.bound)
        reach = _reach(lagrange.multipliers, w)
        keep = np.flatnonzero(~lagrange.closed)
        forced |= lagrange.opened
        feedback.push_info(
            f"{problem.n_sites - len(keep)} sites proven closed, {int(forced.sum())} open"
        )
    if incumbent is not None and forced.sum() == p:
        # every other choice of sites is proven worse than the incumbent (for each, the
        # fixing found a lower bound above its cost), so the incumbent is optimal and no
        # solver is needed; the outcome says so (solver "lagrangian")
        cost = _cost(costs, w, incumbent)
        seconds = time.perf_counter() - started
        proven = SolveOutcome(SolveStatus.OPTIMAL, cost, cost, seconds, "lagrangian")
        return _result(problem, proven, tuple(sorted(incumbent)), groups.constant)
    position = {int(j): k for k, j in enumerate(keep)}
    outcome, chosen = _solve_radius(
        costs[:, keep],
        w,
        p,
        tuple(position[int(j)] for j in np.flatnonzero(forced)),
        [position[j] for j in incumbent] if incumbent is not None else None,
        options,
        feedback,
        started,
        lower,
        reach,
    )
    return _result(problem, outcome, tuple(sorted(int(keep[k]) for k in chosen)), groups.constant)


def _local_search(
    costs, w, p, presited, feedback, deadline: float, restarts: int = 32
) -> tuple[list[int], float]:
    """Vertex substitution from the greedy start and from random ones: each run takes
    milliseconds at 1,000 x 100, and the best of them is often the optimum, which lets the
    Lagrangian fixing close more sites and the solver prune at once (on the benchmark's
    seeds 0, 1 and 42 the optimum came from restart 8, 2 and 16).

    The restarts stop at ``deadline`` (a quarter of the time limit) or after ten times the
    greedy run's time (at least a second), whichever is sooner. At city scale a restart
    takes about 3 s (Cambridge's roads, 5,582 merged clients x 1,000 sites) and the
    Lagrangian heuristic that follows finds the optimum from the relaxation's own sites
    anyway, so a quarter of a 300 s limit spent on restarts made a proof of 24 s take 89 s."""
    began = time.perf_counter()
    best, best_cost = vertex_substitution(costs, w, p, presited, feedback=feedback)
    deadline = min(deadline, began + max(1.0, 11 * (time.perf_counter() - began)))
    rng = np.random.default_rng(0)
    free = np.setdiff1d(np.arange(costs.shape[1]), list(presited))
    for _ in range(restarts):
        if time.perf_counter() > deadline:
            break
        start = [*presited, *rng.choice(free, p - len(presited), replace=False).tolist()]
        sites, cost = vertex_substitution(costs, w, p, presited, start=start, feedback=feedback)
        if cost < best_cost - 1e-9 * max(1.0, cost):
            best, best_cost = sites, cost
    return [int(j) for j in best], best_cost


def _solve_radius(
    costs, w, p, presited, incumbent, options, feedback, started, lower=None, reach=None
):
    """The truncated radius model, extended until no client over-reaches its cut; returns
    the outcome and the open sites (column indices of ``costs``). ``lower`` is a proven
    lower bound (the Lagrangian's), reported when time runs out before the solver's;
    ``reach`` (per client, from its multiplier) is how far the relaxation may serve it."""
    m = costs.shape[1]
    pre = np.full(costs.shape[0], np.inf)
    if presited:
        pre = costs[:, list(presited)].min(axis=1)
    levels = [_levels(costs[i], m - p + 1, pre[i]) for i in range(costs.shape[0])]
    if incumbent is not None:
        depth = _depth_for(levels, costs, incumbent, np.zeros(len(levels), dtype=int), reach)
    else:
        depth = np.array([min(len(v), 8) for v in levels])
    feedback.set_progress(5)
    while True:
        model, y, chains = _build(costs, w, p, presited, levels, depth, feedback)
        warm = _warm_start(y, chains, incumbent, costs) if incumbent is not None else None
        outcome = solve(model, options.left_after(started), feedback, warm_start=warm, cuts=False)
        if not outcome.status.has_solution:
            if outcome.status is SolveStatus.INFEASIBLE:
                return outcome, ()
            if incumbent is None:
                # out of time before the solver had any plan and without a heuristic start:
                # the greedy plan (milliseconds) is an answer, reported as unproven
                incumbent = greedy_pmedian(costs, w, p, presited)
            # out of time: keep the incumbent, with the bound proven before the solver ran
            return _timed_out(costs, w, incumbent, lower, started, options), incumbent
        chosen = [j for j, var in enumerate(y) if (var.varValue or 0) > 0.5]
        if incumbent is None or _cost(costs, w, chosen) < _cost(costs, w, incumbent):
            incumbent = chosen
        over = _over_reached(levels, depth, costs, chosen)
        if not over.any() or outcome.status is not SolveStatus.OPTIMAL:
            # the relaxation's bound holds for the full model; the objective is the true cost
            objective = _cost(costs, w, incumbent)
            status = outcome.status
            if over.any() or (
                outcome.bound is not None and objective > outcome.bound + 1e-6 * max(1, objective)
            ):
                status = SolveStatus.FEASIBLE
            bound = _best_bound(outcome.bound, lower)
            closes = bound is not None and objective <= bound + 1e-6 * max(1.0, abs(objective))
            if status is SolveStatus.FEASIBLE and closes and not over.any():
                status = SolveStatus.OPTIMAL  # the Lagrangian bound closes the gap
            final = SolveOutcome(
                status, objective, bound, time.perf_counter() - started, outcome.solver
            )
            return final, incumbent
        if options.out_of_time():  # no time to extend and solve again
            return _timed_out(costs, w, incumbent, lower, started, options), incumbent
        feedback.push_info(f"extending {int(over.sum())} truncated clients")
        depth = _depth_for(levels, costs, chosen, depth, reach)


def _best_bound(solver: float | None, lower: float | None) -> float | None:
    """The tighter of two proven lower bounds (either may be missing)."""
    known = [b for b in (solver, lower) if b is not None and np.isfinite(b)]
    return max(known) if known else None


def _timed_out(costs, w, incumbent, lower, started, options) -> SolveOutcome:
    """The incumbent as the answer of a run out of time, with ``lower`` as its bound."""
    cost = _cost(costs, w, incumbent)
    proven = lower is not None and cost <= lower + 1e-6 * max(1.0, abs(cost))
    status = SolveStatus.OPTIMAL if proven else SolveStatus.FEASIBLE
    return SolveOutcome(status, cost, lower, time.perf_counter() - started, options.solver)


def _result(
    problem: FacilityProblem, outcome: SolveOutcome, open_sites, constant: float = 0.0
) -> FacilityResult:
    """The plan on the original clients; ``constant`` (the merged clients' shifts) brings the
    solver's objective and bound back to the original costs."""
    outcome = replace(
        outcome,
        objective=None if outcome.objective is None else outcome.objective + constant,
        bound=None if outcome.bound is None else outcome.bound + constant,
    )
    site, cost = assign_nearest(problem.costs, open_sites)
    return FacilityResult("p-median", outcome, open_sites, site, cost, problem.demand)


def _cost(costs: np.ndarray, w: np.ndarray, sites) -> float:
    return float(w @ costs[:, list(sites)].min(axis=1))


def _reach(multipliers: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Each client's Lagrangian reach, ``lam_i / w_i``: the distance up to which the
    relaxation finds serving it worthwhile (0 for clients of no weight)."""
    return np.divide(multipliers, w, out=np.zeros(len(w)), where=w > 0)


def _depth_for(levels, costs, sites, depth, reach=None) -> np.ndarray:
    """Keep every level up to each client's cost under ``sites``, or up to its Lagrangian
    ``reach`` if that is farther; without a reach, a margin of levels beyond the cost.

    The chains must reach far enough that the relaxation's solution does not over-reach
    them (each round of over-reach is another solve), yet every level is a column and a row
    of the LP. The multipliers say how far each client is served in the LP (a client is
    served only by sites it is attracted to, ``w_i d_ij < lam_i``), so cutting there keeps
    what the relaxation uses: Cambridge's roads (5,582 merged clients, 163 sites left) took
    one round of 28k columns and 8 s, where a margin of 17 levels made 109k columns and
    43 s. Without multipliers (no heuristic start), a margin: on the benchmark's seeds 0
    and 42, no margin took 10 and 7 rounds, a tenth of the sites 2 rounds, a fifth 1 round.
    """
    n, m = costs.shape
    nearest = costs[:, list(sites)].min(axis=1)
    if reach is not None:
        nearest, margin = np.maximum(nearest, reach), 0
    else:
        # a fifth of the sites, but at most about 100,000 chain variables in all: at 10,000
        # clients a fifth of 230 sites made a 460,000-variable model
        margin = max(4, min(m // 5, 100_000 // max(1, n)))
    wanted = np.array(
        [
            min(len(v), int(np.searchsorted(v, c)) + 1 + margin)
            for v, c in zip(levels, nearest, strict=True)
        ]
    )
    return np.maximum(depth, wanted)


def _over_reached(levels, depth, costs, sites) -> np.ndarray:
    """Clients whose cut chain undercounts their true cost under ``sites``."""
    nearest = costs[:, list(sites)].min(axis=1)
    return np.array(
        [d < len(v) and c > v[d - 1] for v, d, c in zip(levels, depth, nearest, strict=True)]
    )


def _levels(row: np.ndarray, cutoff_count: int, presited_cost: float) -> np.ndarray:
    """Distinct finite distances of one client, cut where an open site is guaranteed."""
    finite = np.isfinite(row)
    values = np.unique(row[finite])
    counts = np.searchsorted(np.sort(row[finite]), values, side="right")
    stop = len(values) - 1
    sure = np.flatnonzero(counts >= cutoff_count)
    if sure.size:
        stop = min(stop, int(sure[0]))
    if np.isfinite(presited_cost):
        stop = min(stop, int(np.searchsorted(values, presited_cost)))
    return values[: stop + 1]


def _build(
    costs: np.ndarray,
    w: np.ndarray,
    p: int,
    presited: Sequence[int],
    levels: list[np.ndarray],
    depth: np.ndarray,
    feedback: Feedback | None = None,
) -> tuple[pulp.LpProblem, list[pulp.LpVariable], list[tuple[np.ndarray, list[pulp.LpVariable]]]]:
    """The (possibly cut) chained radius model; a chain is cut when depth < its level count."""
    n, m = costs.shape
    model = pulp.LpProblem("p_median", pulp.LpMinimize)
    y = [pulp.LpVariable(f"y_{j}", cat=pulp.LpBinary) for j in range(m)]
    for j in presited:
        y[j].lowBound = 1
    model += pulp.LpAffineExpression([(v, 1) for v in y]) == p, "open_p"
    objective: list[tuple[pulp.LpVariable, float]] = []
    constant = 0.0
    chains: list[tuple[np.ndarray, list[pulp.LpVariable]]] = []
    for i in range(n):
        if i % 100 == 0 and feedback is not None:
            check_canceled(feedback)  # a city-sized model takes seconds to build
        if w[i] == 0:
            chains.append((np.empty(0), []))
            continue
        row, values = costs[i], levels[i][: depth[i]]
        complete = depth[i] >= len(levels[i])
        constant += w[i] * values[0]
        z = [pulp.LpVariable(f"z_{i}_{k}", lowBound=0, upBound=1) for k in range(len(values) - 1)]
        previous = None
        for k, var in enumerate(z):
            terms = [(var, 1.0)] + [(y[j], 1.0) for j in np.flatnonzero(row == values[k])]
            _chain_row(model, terms, previous, f"r_{i}_{k}")
            objective.append((var, w[i] * (values[k + 1] - values[k])))
            previous = var
        if complete:
            # the last radius must hold an open site (it may not when some sites are unreachable)
            last = [(y[j], 1.0) for j in np.flatnonzero(row == values[-1])]
            _chain_row(model, last, previous, f"r_{i}_last")
        chains.append((values, z))
    model.setObjective(pulp.LpAffineExpression(objective, constant=constant))
    return model, y, chains


def _chain_row(model, terms, previous, name) -> None:
    """``terms >= 1`` for the first radius, ``terms >= previous z`` for the next ones."""
    if previous is not None:
        terms = [*terms, (previous, -1.0)]
    rhs = 0 if previous is not None else 1
    model += pulp.LpConstraint(pulp.LpAffineExpression(terms), pulp.LpConstraintGE, rhs=rhs), name


def _warm_start(y, chains, start, costs: np.ndarray) -> dict:
    warm: dict[pulp.LpVariable, float] = {var: 0.0 for var in y}
    for j in start:
        warm[y[j]] = 1.0
    nearest = costs[:, list(start)].min(axis=1)
    for i, (values, z) in enumerate(chains):
        for k, var in enumerate(z):
            warm[var] = 1.0 if nearest[i] > values[k] else 0.0
    return warm
