"""Every optimization has a default time limit and says what the solver is doing while it
runs (issue 18: a land-use phasing ran 15 minutes with no output)."""

from __future__ import annotations

import numpy as np
import pulp

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
