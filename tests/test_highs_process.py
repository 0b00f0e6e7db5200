"""HiGHS runs in a child process, so a deadline or a Cancel stops it even inside a step of
HiGHS that never looks at the clock (issue 25: time limits that hold; on nine Cambridges
HiGHS's root rounding ran minutes past a 60 s limit, and Cancel could not stop it)."""

from __future__ import annotations

import functools
import time

import pulp
import pytest
from test_solver_progress import _hard_knapsack as _knapsack

from citydesk.layers.feedback import CanceledError, RecordingFeedback
from citydesk.optimization import solve as solve_module
from citydesk.optimization.highs_process import KILL_AFTER_S, run_in_child
from citydesk.optimization.solve import SolveOptions, SolveStatus, solve


def _stalling(monkeypatch, seconds: float = 60.0) -> None:
    """Every HiGHS child sleeps ``seconds`` after its first plan, deaf to the clock."""
    monkeypatch.setattr(
        solve_module, "run_in_child", functools.partial(run_in_child, stall_s=seconds)
    )


def test_a_highs_solve_gives_the_same_answer_in_its_child():
    x = pulp.LpVariable("x", 0, 10, cat="Integer")
    y = pulp.LpVariable("y", 0, 10)
    problem = pulp.LpProblem("small", pulp.LpMaximize)
    problem += 3 * x + 2 * y + 5  # the constant is the model's, not HiGHS's
    problem += x + y <= 7.5
    problem += x - y <= 2
    outcome = solve(problem, SolveOptions(solver="highs"))
    assert outcome.status is SolveStatus.OPTIMAL
    assert (x.value(), y.value()) == pytest.approx((4, 3.5))
    assert outcome.objective == pytest.approx(3 * 4 + 2 * 3.5 + 5)
    assert outcome.bound == pytest.approx(outcome.objective)


def test_an_infeasible_model_is_said_infeasible():
    x = pulp.LpVariable("x", 0, 1, cat="Integer")
    problem = pulp.LpProblem("none", pulp.LpMinimize)
    problem += x
    problem += x >= 2
    assert solve(problem, SolveOptions(solver="highs")).status is SolveStatus.INFEASIBLE


def test_the_time_limit_holds_when_highs_stops_looking_at_the_clock(monkeypatch):
    """The child hangs after its first plan for a minute; the 2 s limit still holds, and the
    plan it reported is the answer, with its objective recomputed by the model."""
    _stalling(monkeypatch)
    problem = _knapsack()
    started = time.perf_counter()
    outcome = solve(problem, SolveOptions(solver="highs", time_limit=2.0))
    took = time.perf_counter() - started
    assert took < 2.0 + KILL_AFTER_S + 1.0, took
    assert outcome.status is SolveStatus.FEASIBLE  # HiGHS's first plan (here: all zero)
    assert all(v.varValue is not None for v in problem.variables())
    assert outcome.objective == pytest.approx(pulp.value(problem.objective))


def test_cancel_stops_a_child_that_does_not_look_at_the_clock(monkeypatch):
    _stalling(monkeypatch)
    feedback = RecordingFeedback()
    original = feedback.push_info

    def cancel_at_first_plan(message: str) -> None:
        original(message)
        if message.startswith("solver: a solution of"):
            feedback.cancel()

    feedback.push_info = cancel_at_first_plan  # type: ignore[method-assign]
    started = time.perf_counter()
    with pytest.raises(CanceledError):
        solve(_knapsack(), SolveOptions(solver="highs", time_limit=None), feedback)
    assert time.perf_counter() - started < 10.0  # not the minute the child sleeps


def _small() -> pulp.LpProblem:
    x = pulp.LpVariable("x", 0, 3, cat="Integer")
    problem = pulp.LpProblem("p", pulp.LpMaximize)
    problem += x
    return problem


def test_a_child_that_cannot_start_is_an_error_not_a_hang(monkeypatch):
    from citydesk.optimization import highs_process

    monkeypatch.setattr(highs_process._workers, "worker", None, raising=False)  # a new child
    monkeypatch.setattr(highs_process.sys, "executable", "/bin/false")
    with pytest.raises(highs_process.HighsChildError):
        solve(_small(), SolveOptions(solver="highs"))


def test_the_child_is_kept_between_solves_and_replaced_after_a_kill(monkeypatch):
    """Hundreds of small solves (an exact front) pay the process start once; a child killed
    at a deadline is replaced by the next solve."""
    from citydesk.optimization import highs_process

    solve(_small(), SolveOptions(solver="highs"))
    first = highs_process._workers.worker._child.pid
    assert solve(_small(), SolveOptions(solver="highs")).objective == 3
    assert highs_process._workers.worker._child.pid == first
    with monkeypatch.context() as patched:
        _stalling(patched)
        solve(_knapsack(), SolveOptions(solver="highs", time_limit=1.0))
    assert solve(_small(), SolveOptions(solver="highs")).objective == 3
    assert highs_process._workers.worker._child.pid != first


def test_the_child_ends_with_the_process_that_started_it(tmp_path):
    """The workbench kills an analysis process that does not stop in time: its HiGHS child,
    deaf to the clock, must not run on (PR_SET_PDEATHSIG on Linux)."""
    import os
    import subprocess
    import sys
    import textwrap

    if not sys.platform.startswith("linux"):
        pytest.skip("the parent-death signal is Linux's")
    pid_file = tmp_path / "child.pid"
    script = textwrap.dedent(
        f"""
        import functools, sys
        sys.path.insert(0, {str(__file__.rsplit("/", 1)[0])!r})
        from test_highs_process import _knapsack
        from citydesk.optimization import highs_process, solve as solve_module
        from citydesk.optimization.solve import SolveOptions, solve

        real = highs_process.HighsWorker._start
        def start(self):
            real(self)
            open({str(pid_file)!r}, "w").write(str(self._child.pid))
        highs_process.HighsWorker._start = start
        solve_module.run_in_child = functools.partial(highs_process.run_in_child, stall_s=120)
        solve(_knapsack(), SolveOptions(solver="highs", time_limit=None))
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.perf_counter() + 60
    while not pid_file.exists() or not pid_file.read_text():
        assert time.perf_counter() < deadline and parent.poll() is None
        time.sleep(0.05)
    child = int(pid_file.read_text())
    time.sleep(1.0)  # the child is asleep after its first plan
    parent.kill()
    parent.wait()
    for _ in range(100):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        with open(f"/proc/{child}/stat") as f:
            if f.read().split(")")[-1].split()[0] == "Z":  # a zombie: dead, not reaped
                break
        time.sleep(0.05)
    else:
        os.kill(child, 9)
        pytest.fail("the HiGHS child outlived its parent")


def test_ctrl_c_is_the_parents_to_decide(monkeypatch):
    """Ctrl+C reaches the whole process group: the child ignores it and goes on until the
    parent asks it to stop (the CLI's first Ctrl+C keeps what is proven)."""
    import os
    import signal

    from citydesk.optimization import highs_process

    solve(_small(), SolveOptions(solver="highs"))
    child = highs_process._workers.worker._child
    os.kill(child.pid, signal.SIGINT)
    time.sleep(0.3)
    assert child.poll() is None  # still there, and still answers
    assert solve(_small(), SolveOptions(solver="highs")).objective == 3
    assert highs_process._workers.worker._child.pid == child.pid


def test_an_error_in_the_parent_ends_the_childs_job(monkeypatch):
    """A second Ctrl+C (KeyboardInterrupt) or a failing progress report leaves no child
    solving on: it is killed, and the next solve starts a new one."""
    from citydesk.optimization import highs_process

    _stalling(monkeypatch)
    feedback = RecordingFeedback()

    def fail(message: str) -> None:
        raise KeyboardInterrupt

    feedback.push_info = fail  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        solve(_knapsack(), SolveOptions(solver="highs", time_limit=None), feedback)
    assert highs_process._workers.worker._child is None
    monkeypatch.undo()
    assert solve(_small(), SolveOptions(solver="highs")).objective == 3


def test_a_model_without_integer_columns_is_solved_in_the_child():
    """An LP through solve() (the land-use objective ranges): the child passed HiGHS an empty
    integrality list, which HiGHS refused for larger models (small ones happened to pass),
    and the child then solved an empty model: 'no solution', and the demo's weights lost
    their normalisation with --solver highs."""
    n = 5_000
    xs = [pulp.LpVariable(f"x{k}", 0, 1) for k in range(n)]
    problem = pulp.LpProblem("lp", pulp.LpMaximize)
    problem += pulp.lpSum((1 + k % 7) * x for k, x in enumerate(xs))
    problem += pulp.lpSum(xs) <= n / 2, "half"
    for k in range(0, n - 1, 2):
        problem += xs[k] + xs[k + 1] <= 1, f"pair_{k}"
    outcome = solve(problem, SolveOptions(solver="highs"))
    assert outcome.status is SolveStatus.OPTIMAL
    best = sum(max(1 + k % 7, 1 + (k + 1) % 7) for k in range(0, n - 1, 2))
    assert outcome.objective == pytest.approx(best)


def test_a_model_highs_refuses_is_an_error_not_an_empty_answer():
    import numpy as np

    from citydesk.optimization.highs_process import HighsChildError

    arrays = {
        "num_col": 2, "num_row": 1, "a_format": 1, "sense": 1, "offset": 0.0,
        "col_cost": np.ones(2), "col_lower": np.zeros(2), "col_upper": np.ones(2),
        "row_lower": np.zeros(1), "row_upper": np.ones(1),
        "a_start": np.array([0, 1, 2], dtype=np.int32),
        "a_index": np.array([0, 5], dtype=np.int32),  # row 5 of a model with one row
        "a_value": np.ones(2), "integrality": np.zeros(2, dtype=np.int32),
    }  # fmt: skip
    with pytest.raises(HighsChildError, match="HiGHS refused the model"):
        run_in_child(arrays, {})
