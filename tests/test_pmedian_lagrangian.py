"""The Lagrangian bound of the p-median and the sites it fixes, against brute force: the
bound never exceeds the optimum, a site it closes is in no optimal solution, a site it opens
is in every one. (solve_pmedian's answers are checked against spopt in
test_facility_location.py.)"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from citydesk.optimization.pmedian_lagrangian import lagrangian_bound
from citydesk.optimization.vertex_substitution import vertex_substitution


def _euclidean(seed: int, n: int, m: int):
    """n clients and m sites at random in a square, weights 1-11: (the generator, for
    further draws; the costs; the weights)."""
    rng = np.random.default_rng(seed)
    clients, sites = rng.uniform(0, 1000, (n, 2)), rng.uniform(0, 1000, (m, 2))
    costs = np.sqrt(((clients[:, None] - sites[None]) ** 2).sum(-1))
    return rng, costs, rng.integers(1, 12, n).astype(float)


def _all_costs(costs, w, p, presited=()):
    free = [j for j in range(costs.shape[1]) if j not in presited]
    out = {}
    for combo in itertools.combinations(free, p - len(presited)):
        sites = (*presited, *combo)
        out[frozenset(sites)] = float(w @ costs[:, list(sites)].min(axis=1))
    return out


@pytest.mark.parametrize("seed", range(12))
def test_bound_and_fixing_agree_with_brute_force(seed):
    n, m, p = 40, 10, 3
    rng, costs, w = _euclidean(seed, n, m)
    presited = (int(rng.integers(m)),) if seed % 3 == 0 else ()
    every = _all_costs(costs, w, p, presited)
    best = min(every.values())
    optima = [s for s, c in every.items() if c <= best * (1 + 1e-12)]
    _sites, upper = vertex_substitution(costs, w, p, presited)
    result = lagrangian_bound(costs, w, p, upper, presited)
    assert result.bound <= best * (1 + 1e-9)
    assert result.bound >= 0.9 * best  # and it is a useful bound
    for j in np.flatnonzero(result.closed):
        assert all(j not in s for s in optima)
    for j in np.flatnonzero(result.opened):
        assert all(j in s for s in optima)
    assert set(presited) <= set(np.flatnonzero(result.opened))


def test_fixing_with_the_optimum_as_upper_bound_closes_sites():
    """With a tight upper bound most far-off sites are proven closed."""
    rng = np.random.default_rng(5)
    clients, sites = rng.uniform(0, 1000, (60, 2)), rng.uniform(0, 1000, (12, 2))
    costs = np.sqrt(((clients[:, None] - sites[None]) ** 2).sum(-1))
    w = np.ones(60)
    best = min(_all_costs(costs, w, 3).values())
    result = lagrangian_bound(costs, w, 3, best)
    assert result.closed.sum() >= 3 and result.bound <= best * (1 + 1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_the_same_multipliers_fix_more_with_a_better_incumbent(seed):
    """``fixed(upper)`` re-tests the sites against a cheaper incumbent without a new
    subgradient: it keeps every site closed before, closes no optimal site, and the
    relaxation's own sites (the Lagrangian heuristic's start) are p distinct sites."""
    n, m, p = 50, 12, 3
    _rng, costs, w = _euclidean(100 + seed, n, m)
    every = _all_costs(costs, w, p)
    best = min(every.values())
    optima = [s for s, c in every.items() if c <= best * (1 + 1e-12)]
    loose = lagrangian_bound(costs, w, p, 1.5 * best)
    assert len(set(loose.chosen.tolist())) == p
    tight = loose.fixed(best)
    assert tight.bound == loose.bound
    assert (tight.closed >= loose.closed).all() and tight.closed.sum() >= loose.closed.sum()
    for j in np.flatnonzero(tight.closed):
        assert all(j not in s for s in optima)
    for j in np.flatnonzero(tight.opened):
        assert all(j in s for s in optima)


def test_the_sorted_evaluation_equals_the_dense_one():
    """L(lam) from the sorted rows (only the attracted pairs) equals the textbook sum over
    every client and site, for multipliers below, between and beyond the costs."""
    from citydesk.optimization.pmedian_lagrangian import _evaluate, _SortedCosts

    rng = np.random.default_rng(7)
    wd = rng.uniform(0, 100, (30, 9))
    sorted_costs = _SortedCosts(wd)
    forced = np.zeros(9, dtype=bool)
    for lam in (np.zeros(30), rng.uniform(0, 100, 30), np.full(30, 1e6), wd[:, 3].copy()):
        value, rho, *_ = _evaluate(sorted_costs, lam, 3, forced)
        dense_rho = np.minimum(0.0, wd - lam[:, None]).sum(axis=0)
        assert rho == pytest.approx(dense_rho)
        assert value == pytest.approx(lam.sum() + np.sort(dense_rho)[:3].sum())


def _lp_bound(costs, w, p):
    """The textbook model's LP relaxation: the best any Lagrangian bound can reach (the
    relaxed subproblem has the integrality property)."""
    import pulp

    n, m = costs.shape
    model = pulp.LpProblem("lp", pulp.LpMinimize)
    y = [pulp.LpVariable(f"y{j}", 0, 1) for j in range(m)]
    x = {(i, j): pulp.LpVariable(f"x{i}_{j}", 0, 1) for i in range(n) for j in range(m)}
    model += pulp.lpSum(w[i] * costs[i, j] * x[i, j] for i in range(n) for j in range(m))
    model += pulp.lpSum(y) == p
    for i in range(n):
        model += pulp.lpSum(x[i, j] for j in range(m)) == 1
        for j in range(m):
            model += x[i, j] <= y[j]
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    return pulp.value(model.objective)


@pytest.mark.parametrize("seed", range(4))
def test_the_volume_algorithm_nears_the_lp_bound(seed):
    """The bound climbs to within 0.5 % of the LP relaxation's value and never above it (a
    plain subgradient stalled at 0.15 % from the optimum on Cambridge's roads, where the
    LP is at 0.09 %)."""
    n, m, p = 60, 15, 4
    _rng, costs, w = _euclidean(200 + seed, n, m)
    lp = _lp_bound(costs, w, p)
    _sites, upper = vertex_substitution(costs, w, p, ())
    result = lagrangian_bound(costs, w, p, upper)
    assert result.bound <= lp * (1 + 1e-7)
    assert result.bound >= lp * (1 - 5e-3)
    assert result.multipliers.shape == (n,)
