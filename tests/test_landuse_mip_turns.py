"""A land-use plan's whole MIP in turns (optimization.landuse._full_mip): CBC, then HiGHS from
CBC's plan where CBC has not proven it, then CBC for the rest; the best plan and the tightest
bound of the turns stand. The solvers are scripted here: which one proves what, and when, is
the point, not the solvers (benchmarks/equal_plots.py runs them on a city of equal plots)."""

from __future__ import annotations

import time

import pulp
import pytest

import citydesk.optimization.solve as solve_module
from citydesk.optimization import landuse
from citydesk.optimization.solve import SolveOptions, SolveOutcome, SolveStatus


def _problem():
    problem = pulp.LpProblem("land_use", pulp.LpMaximize)
    x = pulp.LpVariable("x", cat=pulp.LpBinary)
    y = pulp.LpVariable("y", cat=pulp.LpBinary)
    problem += x + 2 * y
    problem += x + y <= 1
    return problem, x, y


def _scripted(monkeypatch, turns):
    """Each solve takes the next (solver, x, y, status, bound) and records what it was given."""
    calls = []
    script = iter(turns)

    def fake(problem, options, feedback=None, warm_start=None):
        solver, x, y, status, bound = next(script)
        assert options.solver == solver
        start = {v.name: value for v, value in (warm_start or {}).items()}
        calls.append((options.solver, options.time_limit, start))
        ends = options.ends_at()  # each turn ends at its own time, within the run's
        assert ends is not None and ends - time.perf_counter() <= options.time_limit + 1e-6
        values = {"x": x, "y": y}
        for var in problem.variables():
            var.varValue = values[var.name]
        objective = x + 2 * y
        return SolveOutcome(status, objective, bound, 1.0, solver)

    monkeypatch.setattr(solve_module, "solve", fake)
    monkeypatch.setattr(solve_module, "highs_available", lambda: True)
    return calls


def test_each_turn_goes_on_from_the_best_plan_and_the_tightest_bound_proves_it(monkeypatch):
    problem, x, y = _problem()
    feasible = SolveStatus.FEASIBLE
    calls = _scripted(
        monkeypatch,
        [
            ("cbc", 1, 0, feasible, 3.0),
            ("highs", 0, 1, feasible, 2.5),
            ("cbc", 1, 0, feasible, 2.0),
        ],
    )
    outcome = landuse._full_mip(problem, SolveOptions(time_limit=600), None, None)
    turns = [(solver, limit) for solver, limit, _start in calls]
    assert turns[:2] == [("cbc", 30.0), ("highs", 60.0)]
    assert calls[2][0] == "cbc" and calls[2][1] > 500  # the rest of the 600 s
    assert calls[1][2] == {"x": 1.0, "y": 0.0}  # HiGHS from CBC's plan
    assert calls[2][2] == {"x": 0.0, "y": 1.0}  # CBC again from HiGHS's better plan
    # the last turn's worse plan is not what the problem is left with
    assert (x.varValue, y.varValue) == (0.0, 1.0)
    assert outcome.objective == 2.0 and outcome.bound == 2.0
    assert outcome.status is SolveStatus.OPTIMAL and outcome.solver == "cbc+highs"


def test_a_proof_ends_the_turns(monkeypatch):
    problem, _x, _y = _problem()
    calls = _scripted(
        monkeypatch,
        [("cbc", 1, 0, SolveStatus.FEASIBLE, 3.0), ("highs", 0, 1, SolveStatus.OPTIMAL, 2.0)],
    )
    outcome = landuse._full_mip(problem, SolveOptions(time_limit=600), None, None)
    assert len(calls) == 2
    assert outcome.status is SolveStatus.OPTIMAL and outcome.solver == "highs"


@pytest.mark.parametrize(
    "options",
    [
        SolveOptions(time_limit=600, highs_after_cbc=False),  # the user named CBC
        SolveOptions(solver="highs", time_limit=600),
        SolveOptions(time_limit=20),  # no time for more than CBC's turn
    ],
)
def test_one_solver_where_the_user_or_the_clock_says_so(monkeypatch, options):
    problem, _x, _y = _problem()
    calls = _scripted(monkeypatch, [(options.solver, 0, 1, SolveStatus.FEASIBLE, 3.0)])
    landuse._full_mip(problem, options, None, None)
    assert [c[:2] for c in calls] == [(options.solver, options.time_limit)]


def test_the_command_line_names_cbc_only_when_the_user_does():
    import argparse

    from citydesk.workbench.cli.optimize_cmd import solve_options

    given = argparse.Namespace(solver="cbc", time_limit=None, gap=0.0)
    unsaid = argparse.Namespace(solver=None, time_limit=None, gap=0.0)
    assert solve_options(given).highs_after_cbc is False
    assert solve_options(unsaid).solver == "cbc" and solve_options(unsaid).highs_after_cbc
