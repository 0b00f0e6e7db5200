"""Every optimization has a default time limit and says what the solver is doing while it
runs (issue 18: a land-use phasing ran 15 minutes with no output)."""

from __future__ import annotations

import numpy as np
import pulp
import pytest

from citydesk.layers.feedback import RecordingFeedback
from citydesk.optimization import solve as solve_module
from citydesk.optimization.solve import DEFAULT_TIME_LIMIT_S, SolveOptions, solve


def _hard_knapsack(n: int = 120, m: int = 12, seed: int = 5) -> pulp.LpProblem:
    """A multi-dimensional 0/1 knapsack CBC needs a few seconds of branching to prove."""
    rng = np.random.default_rng(seed)
    weights = rng.integers(20, 100, size=(m, n))
    values = weights.sum(axis=0) + rng.integers(0, 10, size=n)
    problem = pulp.LpProblem("knapsack", pulp.LpMaximize)
    x = [pulp.LpVariable(f"x{i}", cat=pulp.LpBinary) for i in range(n)]
    problem += pulp.lpSum(int(values[i]) * x[i] for i in range(n))
    for k in range(m):
        problem += pulp.lpSum(int(weights[k, i]) * x[i] for i in range(n)) <= int(
            weights[k].sum() // 2
        )
    return problem


def test_options_have_a_default_time_limit():
    assert SolveOptions().time_limit == DEFAULT_TIME_LIMIT_S
    assert SolveOptions(time_limit=None).time_limit is None  # no limit, on purpose


def test_a_running_solve_reports_its_search(monkeypatch):
    monkeypatch.setattr(solve_module, "PROGRESS_EVERY_S", 0.3)
    feedback = RecordingFeedback()
    outcome = solve(_hard_knapsack(), SolveOptions(time_limit=4), feedback)
    assert outcome.status.has_solution
    progress = [m for m in feedback.messages if m.startswith("solver:")]
    assert progress, feedback.messages
    assert outcome.seconds < 4 + 2  # the limit holds (and the progress did not slow it)


def test_cli_time_limit_zero_means_none():
    import argparse

    from citydesk.workbench.cli.optimize_cmd import solve_options

    def args(limit):
        return argparse.Namespace(solver="cbc", time_limit=limit, gap=0.0)

    assert solve_options(args(None)).time_limit == DEFAULT_TIME_LIMIT_S
    assert solve_options(args(0)).time_limit is None
    assert solve_options(args(30)).time_limit == 30


def _grouped_problem(groups: int = 1500, options: int = 3, seed: int = 5):
    """A land-use-like model: every group (parcel) takes exactly one option; a budget row
    couples them; two objectives."""
    rng = np.random.default_rng(seed)
    model = pulp.LpProblem("grouped", pulp.LpMaximize)
    x = {(g, o): pulp.LpVariable(f"x_{g}_{o}", cat=pulp.LpBinary)
         for g in range(groups) for o in range(options)}  # fmt: skip
    for g in range(groups):
        model += pulp.lpSum(x[g, o] for o in range(options)) == 1
    cost = rng.uniform(0, 10, (groups, options))
    model += pulp.lpSum(cost[g, o] * v for (g, o), v in x.items()) <= 4 * groups
    a, b = rng.uniform(0, 1, (groups, options)), rng.uniform(0, 1, (groups, options))
    first = pulp.lpSum(a[g, o] * v for (g, o), v in x.items())
    second = pulp.lpSum(b[g, o] * v for (g, o), v in x.items())
    return model, {v.name: g for (g, _o), v in x.items()}, first, second


def test_cancel_reaches_inside_a_highs_solve():
    """The land-use front took 30 s, then 4.4 s, to stop after Cancel: HiGHS ran its LP and
    MIP to the end. Its interrupt callbacks now ask the feedback during the solve."""
    from citydesk.layers.feedback import CanceledError
    from citydesk.optimization.pareto import Objective
    from citydesk.optimization.pareto_large import epsilon_front

    class Asked:
        def __init__(self, cancel_after: int | None) -> None:
            self.calls, self.cancel_after = 0, cancel_after

        def set_progress(self, pct: float) -> None:
            pass

        def push_info(self, message: str) -> None:
            pass

        def is_canceled(self) -> bool:
            self.calls += 1
            return self.cancel_after is not None and self.calls > self.cancel_after

    model, groups, first, second = _grouped_problem()
    objectives = [Objective("a", first), Objective("b", second)]
    asked = Asked(cancel_after=None)
    epsilon_front(model, groups, objectives, points=3, feedback=asked)
    assert asked.calls > 200  # asked during the solves (18 times when only between them)
    stopping = Asked(cancel_after=5)
    with pytest.raises(CanceledError):
        epsilon_front(model, groups, objectives, points=3, feedback=stopping)
    assert stopping.calls < asked.calls


def test_cbc_stops_itself_before_the_runs_deadline(monkeypatch):
    """CBC's clock starts after PuLP has written the model, and a CBC stopped at the run's
    deadline is not read back: the full MIP of nine Cambridges after its marginal-parcel
    plan was killed with its solutions. CBC now gets nine tenths of the time left, so it
    stops itself and its plan is read."""
    import time

    seen = {}
    real = pulp.PULP_CBC_CMD

    def recording(*args, **kwargs):
        seen["limit"] = kwargs["timeLimit"]
        return real(*args, **kwargs)

    monkeypatch.setattr(pulp, "PULP_CBC_CMD", recording)
    x = pulp.LpVariable("x", 0, 3, cat="Integer")
    problem = pulp.LpProblem("p", pulp.LpMaximize)
    problem += x
    options = SolveOptions(time_limit=100.0).left_after(time.perf_counter())
    assert solve(problem, options).objective == 3
    assert 80 <= seen["limit"] <= 0.9 * 100
    solve(problem, SolveOptions(time_limit=100.0))  # no deadline: the limit as given
    assert seen["limit"] == 100.0


def test_a_highs_solve_reports_its_plans_and_bound(monkeypatch):
    """A HiGHS solve said only "solver: searching (N s)"; its callbacks now give what CBC's
    log gives: each better plan, and the nodes, best plan and bound as it goes."""
    monkeypatch.setattr(solve_module, "PROGRESS_EVERY_S", 0.0)
    feedback = RecordingFeedback()
    outcome = solve(_hard_knapsack(), SolveOptions(solver="highs", time_limit=4), feedback)
    assert outcome.status.has_solution
    found = [m for m in feedback.messages if m.startswith("solver: a solution of")]
    assert found, feedback.messages
    # in the model's sense: PuLP hands HiGHS a maximum as a minimum of the negated values
    assert not any(m.startswith("solver: a solution of -") for m in found), found
    assert any(" nodes, best " in m and ", bound " in m for m in feedback.messages)


def test_a_cbc_bound_rounded_to_its_printed_digits_stays_a_bound():
    """CBC prints its bound with three decimals ("Upper bound: 1.866"): a plan of 1.86629
    (a normalised land-use objective) then had a "bound" below it, and a gap of 0.015 %
    made of rounding. Widened by half the last digit, the bound is above every plan."""
    x = pulp.LpVariable("x", 0, 1, cat="Integer")
    problem = pulp.LpProblem("p", pulp.LpMaximize)
    problem += 1.86629 * x
    problem.solve(pulp.PULP_CBC_CMD(msg=False))
    problem.sol_status = pulp.LpSolutionIntegerFeasible  # as CBC stopped on its time limit
    log = "Result - Stopped on time limit\n\nObjective value:  1.86629000\nUpper bound:  1.866\n"
    status, objective, bound = solve_module._classify_cbc(problem, log)
    assert status.name == "FEASIBLE" and objective == pytest.approx(1.86629)
    assert bound == pytest.approx(1.8665) and bound >= objective
