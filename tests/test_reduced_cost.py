"""Reduced-cost fixing (optimization/reduced_cost.py) against brute force on small models.

Each model: parcels with two or three uses, a value and a weight per use, one knapsack row
on the weights (a city's budget or target) and one use per parcel. Every plan is enumerated,
so what the LP's reduced costs claim about all plans is checked against all plans."""

from __future__ import annotations

import itertools

import numpy as np
import pulp
import pytest

from citydesk.optimization.lp_fix import PersistentLp


def _model(seed: int, n: int = 7):
    rng = np.random.default_rng(seed)
    uses = rng.integers(2, 4, n)
    value = {(i, u): int(rng.integers(0, 60)) for i in range(n) for u in range(uses[i])}
    weight = {(i, u): int(rng.integers(0, 40)) for i in range(n) for u in range(uses[i])}
    cap = int(sum(min(weight[i, u] for u in range(uses[i])) for i in range(n)) + 25)
    problem = pulp.LpProblem("parcels", pulp.LpMaximize)
    x = {k: pulp.LpVariable(f"x_{k[0]}_{k[1]}", 0, 1) for k in value}
    for i in range(n):
        problem += pulp.lpSum(x[i, u] for u in range(uses[i])) == 1, f"one_{i}"
    problem += pulp.lpSum(weight[k] * x[k] for k in x) <= cap, "budget"
    objective = pulp.lpSum(value[k] * x[k] for k in x)
    problem += objective
    plans = []
    for choice in itertools.product(*(range(u) for u in uses)):
        if sum(weight[i, u] for i, u in enumerate(choice)) <= cap:
            plans.append((choice, sum(value[i, u] for i, u in enumerate(choice))))
    groups = {f"x_{i}_{u}": i for i, u in value}
    return problem, objective, groups, plans


def _use_of(engine: PersistentLp, column: int) -> int:
    return int(engine.variables[column].name.rsplit("_", 1)[1])


@pytest.mark.parametrize("seed", range(12))
def test_every_plan_near_the_lp_optimum_keeps_the_fixed_uses(seed):
    """For every level between the best plan and a little below, each group the LP's lesson
    keeps has the LP's use in every plan reaching the level. A wrong sign in a reduced cost
    or in the switch makes some plan break it (checked: flipping the switch's sign fails)."""
    problem, objective, groups, plans = _model(seed)
    engine = PersistentLp(problem, groups)
    engine.maximise(objective)
    engine.model.run()
    lesson = engine.switch_costs()
    assert lesson is not None
    best = max(value for _, value in plans)
    assert lesson.bound >= best - 1e-6
    fixed_any = False
    for level in np.linspace(best, best - 30, 7):
        kept = lesson.kept(level)
        for g in np.flatnonzero(kept & (lesson.use >= 0)):
            fixed_any = True
            use = _use_of(engine, int(lesson.use[g]))
            for choice, value in plans:
                if value >= level:
                    assert choice[g] == use, (level, g, choice)
    assert fixed_any or seed % 3  # most instances fix something, or the test says nothing


def test_a_restricted_mips_bound_holds_for_the_whole_model():
    """The engine's bound (the LP's, or a restricted MIP's when no held group could have
    moved in a better plan) is never below the true optimum, and the certificate does
    shorten some: with one marginal group and no larger MIPs, several instances end with a
    bound under the LP's."""
    tightened = 0
    for seed in range(12):
        problem, objective, groups, plans = _model(seed, n=9)
        best = max(value for _, value in plans)
        engine = PersistentLp(problem, groups)
        engine.maximise(objective)
        engine.model.run()
        lp_bound = engine.switch_costs().bound
        result = engine.solve(target_gap=0.0, marginal=1, most_marginal=1, time_limit=None)
        assert result.outcome.bound >= best - 1e-6, seed
        assert result.outcome.objective <= best + 1e-6, seed
        tightened += result.outcome.bound < lp_bound - 1e-6
    assert tightened >= 2


def test_a_forbidden_use_stays_out_of_lp_and_mip_until_released():
    """The grid point's fixings hold in the LP and in its MIPs, and the next point's call
    releases them."""
    problem, objective, groups, _plans = _model(4)
    engine = PersistentLp(problem, groups)
    engine.maximise(objective)
    free = engine.solve(target_gap=0.0, time_limit=None)
    chosen = np.flatnonzero(engine.binary & (free.values > 0.5))
    banned = np.zeros(engine.n, dtype=bool)
    banned[chosen[0]] = True
    engine.forbid(banned)
    held = engine.solve(target_gap=0.0, time_limit=None)
    assert held.values[chosen[0]] < 0.5
    assert held.outcome.objective <= free.outcome.objective + 1e-6
    engine.forbid(np.zeros(engine.n, dtype=bool))
    again = engine.solve(target_gap=0.0, time_limit=None)
    assert again.outcome.objective == pytest.approx(free.outcome.objective)


@pytest.mark.parametrize("seed", range(6))
def test_the_coupling_switch_equals_the_switch_where_no_row_ties_two_parcels(seed):
    """Priced by the coupling rows alone, a switch leaves out only rows over one or two
    groups; a one-use row's dual is the same on every column of its group, so it cancels in
    a switch. With no pair rows (this model) the two rankings are the same switch."""
    from citydesk.optimization.reduced_cost import column_switch

    problem, objective, groups, _plans = _model(seed)
    engine = PersistentLp(problem, groups)
    engine.maximise(objective)
    engine.model.run()
    solution = engine.model.getSolution()
    lp = np.asarray(solution.col_value)
    full = column_switch(engine.group, lp, np.asarray(solution.col_dual))
    coupled = column_switch(engine.group, lp, engine._coupling_switch(solution))
    finite = np.isfinite(full)
    assert finite.any() and np.array_equal(finite, np.isfinite(coupled))
    np.testing.assert_allclose(coupled[finite], full[finite], atol=1e-7)


def test_the_neighbourhood_search_finds_better_plans_and_never_a_worse_one(monkeypatch):
    """From the plan of a MIP over one group, rounds over windows of one group each: every
    plan stays feasible (it is among the enumerated plans, with the same value), none is
    worse than where it started or better than the best plan, and some rounds find better
    plans (a search that returns its input fails)."""
    from citydesk.optimization import lp_fix

    monkeypatch.setattr(lp_fix, "LNS_WINDOW", 1)
    gained = 0
    for seed in range(12):
        problem, objective, groups, plans = _model(seed, n=8)
        value_of = dict(plans)
        engine = PersistentLp(problem, groups)
        engine.maximise(objective)
        first = engine._solve_once(0.0, 1, None)  # the LP, then a MIP over one group
        better = engine._improve(first, 0.0, lambda: None)
        choice = [0] * len(set(groups.values()))
        for j in np.flatnonzero(engine.binary & (better.values > 0.5)):
            choice[int(engine.group[j])] = _use_of(engine, j)
        assert tuple(choice) in value_of
        assert better.outcome.objective == pytest.approx(value_of[tuple(choice)])
        assert first.outcome.objective <= better.outcome.objective + 1e-9
        assert better.outcome.objective <= max(value_of.values()) + 1e-9
        gained += better.outcome.objective > first.outcome.objective + 1e-9
    assert gained >= 2


@pytest.mark.parametrize("bound", [8.7e8, 1234.5, 0.4, 0.0, -0.4, -56.0, -2.1e8])
@pytest.mark.parametrize("gap", [0.001, 0.05])
def test_enough_is_the_least_plan_within_the_gap(bound, gap):
    """The plan value a restricted MIP may stop at meets the gap against the LP's bound, as
    every solve measures it (relative to the plan, at least 1), with little to spare."""
    from citydesk.optimization.lp_fix import enough
    from citydesk.optimization.solve import relative_gap

    value = enough(bound, gap)
    assert value <= bound
    assert relative_gap(value, bound) <= gap
    assert relative_gap(value, bound) >= 0.95 * gap  # not a needlessly strict stop


def test_a_restricted_mip_stops_at_a_plan_good_enough_for_the_whole_model():
    """Given ``enough`` (a plan value meeting the caller's gap against the LP's bound), HiGHS
    stops at a plan above it instead of proving its own optimum; without it, or with a value
    no plan reaches, every MIP returns the best plan (all plans enumerated). It starts from
    the worst plan, so a stop at the first plan above ``enough`` shows."""
    stopped = 0
    for seed in range(6):
        problem, objective, groups, plans = _model(seed, n=9)
        engine = PersistentLp(problem, groups)
        engine.maximise(objective)
        engine.model.run()
        lp = np.asarray(engine.model.getSolution().col_value)
        every = np.arange(len(set(groups.values())))
        (worst_choice, worst), best = min(plans, key=lambda p: p[1]), max(v for _, v in plans)
        start = np.array(
            [
                float(worst_choice[int(engine.group[j])] == _use_of(engine, j))
                for j in range(engine.n)
            ]
        )
        assert engine._restricted_mip(lp, every, 0.0, None, start)[1] == pytest.approx(best)
        unreachable = engine._restricted_mip(lp, every, 0.0, None, start, enough=best + 1)
        assert unreachable[1] == pytest.approx(best)
        early = engine._restricted_mip(lp, every, 0.0, None, start, enough=worst - 0.5)[1]
        assert worst - 0.5 < early <= best + 1e-9
        stopped += early < best - 1e-9
    assert stopped >= 1
