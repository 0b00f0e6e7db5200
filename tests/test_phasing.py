"""Phasing: per-period budgets, cumulative targets and infrastructure precedence, checked by
enumerating every schedule of a small plan."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from citydesk.optimization.phasing import (
    Infrastructure,
    PhasingInfeasible,
    PhasingProblem,
    phasing_from_plan,
    solve_phasing,
)
from citydesk.optimization.solve import SolveStatus


def small(**changes) -> PhasingProblem:
    base = dict(
        parcel_ids=np.array(["a", "b", "c", "d", "e"]),
        yields={"housing": np.array([100.0, 80.0, 60.0, 50.0, 40.0])},
        cost=np.array([10.0, 8.0, 6.0, 5.0, 4.0]),
        value=np.array([30.0, 20.0, 25.0, 10.0, 12.0]),
        budgets=[12.0, 12.0, 12.0],
        targets={"housing": [60.0, 150.0, 250.0]},
        infrastructure=(Infrastructure("school", 6.0, (0, 1)),),
    )
    base.update(changes)
    return PhasingProblem(**base)


def brute_force(problem: PhasingProblem) -> float:
    n, periods = len(problem.parcel_ids), problem.periods
    factor = [
        (1 + problem.discount_rate) ** -(t * problem.years_per_period) for t in range(periods)
    ]
    best = -np.inf
    for schedule in itertools.product(range(periods + 1), repeat=n):  # 0: deferred
        for school in range(periods + 1):
            s = np.array(schedule)
            spend = [
                problem.cost[s == t + 1].sum() + (6.0 if school == t + 1 else 0)
                for t in range(periods)
            ]
            if any(spend[t] > problem.budgets[t] for t in range(periods)):
                continue
            if any(s[i] and (not school or s[i] < school) for i in (0, 1)):
                continue
            housing = problem.yields["housing"]
            if any(
                housing[(s >= 1) & (s <= t + 1)].sum() < problem.targets["housing"][t]
                for t in range(periods)
            ):
                continue
            value = sum(problem.value[i] * factor[s[i] - 1] for i in range(n) if s[i])
            value -= 1e-6 * 6.0 * factor[school - 1] if school else 0
            best = max(best, value)
    return best


def test_schedule_is_optimal_and_respects_every_rule():
    problem = small()
    result = solve_phasing(problem)
    assert result.outcome.status is SolveStatus.OPTIMAL
    assert result.outcome.objective == pytest.approx(brute_force(problem), rel=1e-9)
    school = result.infrastructure_period["school"]
    for i in (0, 1):  # served by the school: never before it
        assert result.period[i] == 0 or (school and result.period[i] >= school)
    table = result.by_period
    assert (table["spending"] <= table["budget"] + 1e-9).all()
    assert (table["housing"] >= table["housing_target"] - 1e-9).all()


@pytest.mark.parametrize("solver", ["cbc", "highs"])
@pytest.mark.parametrize("seed", range(6))
def test_random_schedules_match_enumeration(seed, solver):
    """The cumulative model ("developed by period t") against every schedule of random
    small plans, on both solvers: the same optimum, or infeasible where no schedule is."""
    from citydesk.optimization.solve import SolveOptions

    rng = np.random.default_rng(seed)
    problem = small(
        yields={"housing": rng.integers(20, 120, 5).astype(float)},
        cost=rng.integers(2, 12, 5).astype(float),
        value=rng.integers(-5, 40, 5).astype(float),
        budgets=list(rng.integers(8, 20, 3).astype(float)),
        targets={"housing": list(np.cumsum(rng.integers(0, 90, 3)).astype(float))},
    )
    best = brute_force(problem)
    options = SolveOptions(solver=solver)
    if not np.isfinite(best):
        with pytest.raises(PhasingInfeasible):
            solve_phasing(problem, options)
        return
    result = solve_phasing(problem, options)
    assert result.outcome.objective == pytest.approx(best, rel=1e-7, abs=1e-6)
    table = result.by_period
    assert (table["spending"] <= table["budget"] + 1e-9).all()
    assert (table["housing"] >= table["housing_target"] - 1e-9).all()


def test_impossible_early_target_is_named_with_its_period():
    problem = small(targets={"housing": [200.0, 250.0, 300.0]})
    with pytest.raises(PhasingInfeasible) as err:
        solve_phasing(problem)
    first = err.value.shortfalls[0]
    assert first.period == 1 and first.wanted == 200
    assert "housing by period 1: 200 units wanted," in err.value.message
    assert first.reached < 200


def test_phasing_from_an_allocation_plan():
    import sys

    sys.path.insert(0, "tests")
    from test_landuse import small as landuse

    inputs = landuse(0)
    plan = np.array([1, 2, 0, 3, 0, 0])
    problem = phasing_from_plan(inputs, plan, budgets=[1e9, 1e9], targets={"housing": [0, 10]})
    assert list(problem.parcel_ids) == [0, 1, 3]
    result = solve_phasing(problem)
    assert result.outcome.status is SolveStatus.OPTIMAL
    assert set(result.period) <= {0, 1, 2}


def _plan_inputs():
    import sys

    sys.path.insert(0, "tests")
    from test_landuse import small as landuse

    return landuse(0), np.array([1, 2, 0, 3, 0, 0])


def test_a_city_without_land_values_gets_a_schedule():
    """Every OSM city has no land values: the economic value of each change was 0, so the
    schedule gained nothing from any change and deferred them all past the horizon (Helsinki:
    13 parcels planned, none scheduled, "optimal: 0"). The social value orders it now."""
    import dataclasses

    inputs, plan = _plan_inputs()
    coefficients = dict(inputs.coefficients)
    coefficients["economic"] = np.zeros_like(np.asarray(coefficients["economic"]))
    inputs = dataclasses.replace(inputs, coefficients=coefficients)
    problem = phasing_from_plan(inputs, plan, budgets=[1e12, 1e12])
    assert problem.value_name == "social"
    result = solve_phasing(problem)
    assert (result.period == 1).all()  # money enough: all at once, as early as possible
    assert any("social" in note for note in result.notes)  # said where it is read


def test_a_change_of_negative_value_is_still_made():
    """A park's economic value is negative: the plan chose it, so it is scheduled when the
    budgets allow, after the valuable changes, not deferred forever."""
    from citydesk.optimization.phasing import worth_doing

    assert list(worth_doing(np.array([5.0, 1.0]))) == [5.0, 1.0]  # all positive: unchanged
    shifted = worth_doing(np.array([30.0, -10.0, 0.0]))
    assert (shifted > 0).all() and list(np.argsort(shifted)) == [1, 2, 0]
    assert (worth_doing(np.zeros(3)) == 1.0).all()
    problem = small(value=np.array([30.0, 20.0, -25.0, 10.0, 0.0]), targets={}, infrastructure=())
    problem = PhasingProblem(
        **{**problem.__dict__, "value": worth_doing(problem.value), "budgets": [40.0, 40.0]}
    )
    result = solve_phasing(problem)
    assert (result.period >= 1).all()
