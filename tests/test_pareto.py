"""The Pareto engine returns exactly the published fronts of the multi-objective knapsacks.

Data: ../shared/data/moo_knapsack (from pyaugmecon, MIT). Its README names a.csv the objective
coefficients and c.csv the constraints; the files hold it the other way round (pyaugmecon's
``A x <= b`` and ``c x``), which the payoff tables confirm: only c.csv as objectives reproduces
payoff_table.csv.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pulp
import pytest
from conftest import SHARED

from citydesk.layers.errors import CityDeskError
from citydesk.optimization.knapsack import knapsack_model, read_knapsack
from citydesk.optimization.pareto import Objective, augmecon2, weighted_sum
from citydesk.optimization.solve import SolveOptions

KNAPSACK = SHARED / "moo_knapsack"


def _csv(name: str, instance: str) -> np.ndarray:
    return pd.read_csv(KNAPSACK / instance / name, index_col=0).to_numpy()


def knapsack(instance: str) -> tuple[pulp.LpProblem, list[Objective], set[tuple[int, ...]]]:
    model, objectives = knapsack_model(*read_knapsack(KNAPSACK / instance), name=instance)
    front = {tuple(int(v) for v in row) for row in _csv("pareto_sols.csv", instance)}
    return model, objectives, front


def _values(front) -> set[tuple[int, ...]]:
    return {tuple(round(v) for v in point.values) for point in front.points}


@pytest.mark.shared_data
def test_2kp50_front_is_exactly_the_published_35_points():
    model, objectives, published = knapsack("2kp50")
    front = augmecon2(model, objectives)
    assert len(published) == 35
    assert _values(front) == published
    assert all(point.proven for point in front.points)
    np.testing.assert_allclose(front.payoff, _csv("payoff_table.csv", "2kp50"))


@pytest.mark.shared_data
@pytest.mark.slow  # over 10 s: started early, so it does not end the run
def test_3kp40_front_within_a_box_is_exactly_the_published_points():
    """Three objectives, checked exactly on the part of the front where f3 >= 1501 (59 of
    the published 389 points). The box is itself a proof: a point of the boxed model's
    front that the full front dominated would be dominated by a point also in the box
    (its f3 is at least as large). The whole 389-point front takes about 3 minutes, so it
    is run and checked by ``benchmarks/optimization.py knapsack`` (docs/BENCHMARKS.md)."""
    model, objectives, published = knapsack("3kp40")
    floor = 1501
    model += objectives[2].expression >= floor
    front = augmecon2(model, objectives, workers=1)
    inside = {p for p in published if p[2] >= floor}
    assert len(published) == 389 and len(inside) == 59
    assert _values(front) == inside
    # the bypass answers almost every grid point without a solve
    assert front.solves < 2 * len(inside) < front.skipped


@pytest.mark.shared_data
def test_each_point_carries_its_solution():
    model, objectives, _ = knapsack("2kp50")
    front = augmecon2(model, objectives)
    profits = _csv("c.csv", "2kp50")
    for point in front.points[:5]:
        chosen = np.array([point.solution.get(f"x_{i}", 0.0) for i in range(profits.shape[1])])
        np.testing.assert_allclose(profits @ chosen, point.values)


@pytest.mark.shared_data
def test_minimised_objective_and_coarse_grid_give_efficient_points():
    """A 'min' objective and a 5-point grid: fewer points, all on the exact front."""
    model, objectives, published = knapsack("2kp50")
    second = Objective("minus f2", -1 * objectives[1].expression, sense="min")
    front = augmecon2(model, [objectives[0], second], grid=5)
    found = {(round(a), -round(b)) for a, b in (p.values for p in front.points)}
    assert 2 <= len(found) <= 5
    assert found <= published


@pytest.mark.shared_data
def test_weighted_sum_preview_finds_only_supported_efficient_points():
    model, objectives, published = knapsack("2kp50")
    weights = [(w, 1 - w) for w in np.linspace(0, 1, 11)]
    front = weighted_sum(model, objectives, weights)
    found = _values(front)
    assert found <= published
    assert 2 <= len(found) < len(published)


def test_objective_count_and_integrality_are_checked():
    x = pulp.LpVariable("x", 0, 1)
    model = pulp.LpProblem("m", pulp.LpMaximize)
    model += x <= 1
    one = Objective("a", 1 * x)
    with pytest.raises(CityDeskError, match="2 to 4 objectives"):
        augmecon2(model, [one])
    with pytest.raises(CityDeskError, match="integer-valued"):
        augmecon2(model, [one, Objective("b", -1 * x)])
    with pytest.raises(CityDeskError, match="sense"):
        Objective("c", 1 * x, sense="up")


def test_infeasible_model_is_named_before_the_grid():
    x = pulp.LpVariable("x", 0, 1, cat=pulp.LpBinary)
    model = pulp.LpProblem("m", pulp.LpMaximize)
    model += x >= 2
    objectives = [Objective("a", 1 * x, integer=True), Objective("b", -1 * x, integer=True)]
    with pytest.raises(CityDeskError, match="infeasible"):
        augmecon2(model, objectives, options=SolveOptions(solver="cbc"))


def _small_knapsack():
    """A 2-objective knapsack of 12 items whose exact front is quick to prove."""
    rng = np.random.default_rng(25)
    profits = rng.integers(1, 30, size=(2, 12))
    weights = rng.integers(1, 20, size=12)
    model = pulp.LpProblem("small", pulp.LpMaximize)
    x = [pulp.LpVariable(f"x_{i}", cat=pulp.LpBinary) for i in range(12)]
    model += pulp.lpSum(int(weights[i]) * x[i] for i in range(12)) <= int(weights.sum() // 2)
    objectives = [
        Objective(
            f"f{k + 1}", pulp.lpSum(int(profits[k, i]) * x[i] for i in range(12)), integer=True
        )
        for k in range(2)
    ]
    return model, objectives


def test_a_solve_stopped_without_a_solution_leaves_a_gap_not_a_dropped_row(monkeypatch):
    """Issue 25, defect 1: a timed-out solve was taken for an infeasible one and dropped the
    rest of its grid row; an unproven plan bypassed points it had not proven. Now the point
    is counted unexplored, the row goes on, and the front says it is incomplete."""
    import citydesk.optimization.pareto as pareto
    from citydesk.optimization.solve import SolveOutcome, SolveStatus

    model, objectives = _small_knapsack()
    exact = augmecon2(model.copy(), objectives)
    assert exact.complete and exact.unexplored == 0 and not exact.notes

    real = pareto.solve
    calls = {"n": 0}

    def flaky(problem, options=None, feedback=None, **kwargs):
        if "_cap" not in problem.constraints:  # the payoff table: solved as it is
            return real(problem, options, feedback, **kwargs)
        calls["n"] += 1
        if calls["n"] == 2:  # a grid solve stopped before any solution
            return SolveOutcome(SolveStatus.NO_SOLUTION, None, None, 1.0, "cbc")
        outcome = real(problem, options, feedback, **kwargs)
        if calls["n"] == 3:  # the next one: a plan, but not proven optimal
            return SolveOutcome(SolveStatus.FEASIBLE, outcome.objective, None, 1.0, "cbc")
        return outcome

    monkeypatch.setattr(pareto, "solve", flaky)
    timed = augmecon2(model.copy(), objectives)
    assert timed.unexplored == 1 and not timed.complete
    assert timed.proven_points == len(timed.points) - 1
    assert any("incomplete" in note for note in timed.notes)
    # the row went on: every exact point but the unexplored one is still found
    assert len(_values(exact) - _values(timed)) <= 1


def _fake_clock(monkeypatch, step: float) -> None:
    """Time in the front moves ``step`` s at each reading: a budget's effect, made
    independent of the machine's speed."""
    import types

    import citydesk.optimization.pareto as pareto

    now = {"t": 0.0}

    def tick() -> float:
        now["t"] += step
        return now["t"]

    monkeypatch.setattr(pareto, "time", types.SimpleNamespace(perf_counter=tick))


def test_a_front_stopped_by_its_budget_keeps_what_it_proved(monkeypatch):
    """Issue 25, defect 3: a capped front returns the points it proved, says it stopped,
    and names the levels it did not reach."""
    model, objectives = _small_knapsack()
    exact = augmecon2(model.copy(), objectives)
    _fake_clock(monkeypatch, step=1.0)
    capped = augmecon2(model.copy(), objectives, budget=12.0)
    assert capped.stopped == "time limit" and not capped.complete
    assert 0 < len(capped.points) < len(exact.points)
    assert _values(capped) <= _values(exact)  # every point kept is a true Pareto point
    assert capped.unexplored > 0
    assert any(note.startswith("Unexplored: f2 ") for note in capped.notes)
    assert any("Stopped by the time limit" in note for note in capped.notes)
    assert any("not reached in the time given" in note for note in capped.notes)


def test_a_cancelled_front_returns_its_points(monkeypatch):
    """A cancel while the grid is walked ends the front with what it has, marked so."""
    from citydesk.layers.feedback import RecordingFeedback

    model, objectives = _small_knapsack()
    exact = augmecon2(model.copy(), objectives)

    class CancelLater(RecordingFeedback):
        asked = 0

        def is_canceled(self) -> bool:
            self.asked += 1
            return self.asked > 14  # of 26 in the whole run: half way along the grid

    front = augmecon2(model.copy(), objectives, feedback=CancelLater())
    assert front.stopped == "canceled" and not front.complete
    assert front.points and _values(front) <= _values(exact)
    assert any("Cancelled" in note for note in front.notes)
    # the user stopped it: not "the solver stopped without a solution"
    assert any("before it was cancelled" in note for note in front.notes)
    assert not any("without a solution" in note for note in front.notes)


def _brute_front(profits: np.ndarray, weights: np.ndarray, capacity: int) -> set[tuple]:
    """Every subset of the items, kept if it fits, then the non-dominated objective vectors:
    the exact front computed without any solver."""
    import itertools

    n = profits.shape[1]
    vectors = set()
    for bits in itertools.product((0, 1), repeat=n):
        x = np.array(bits)
        if weights @ x <= capacity:
            vectors.add(tuple(int(v) for v in profits @ x))
    arr = np.array(sorted(vectors))
    keep = set()
    for v in arr:
        dominated = np.any(np.all(arr >= v, axis=1) & np.any(arr > v, axis=1))
        if not dominated:
            keep.add(tuple(int(t) for t in v))
    return keep


@pytest.mark.parametrize("k, solver", [(3, "cbc"), (4, "cbc"), (3, "highs"), (4, "highs")])
def test_augmecon2_matches_brute_force_with_three_and_four_objectives(k, solver):
    """Issue 25: AUGMECON2 with 4 objectives, checked on an instance whose front is computed
    independently by enumerating every plan (3 objectives as well, as a control). With
    HiGHS too: its plans put a binary at 1.0000000000000366, which crashed the warm start
    of the next solve (PuLP refuses a start above the bound)."""
    rng = np.random.default_rng(40 + k)
    n = 12
    profits = rng.integers(1, 30, size=(k, n))
    weights = rng.integers(1, 20, size=n)
    capacity = int(weights.sum() // 3)
    model = pulp.LpProblem("brute", pulp.LpMaximize)
    x = [pulp.LpVariable(f"x_{i}", cat=pulp.LpBinary) for i in range(n)]
    model += pulp.lpSum(int(weights[i]) * x[i] for i in range(n)) <= capacity
    objectives = [
        Objective(
            f"f{j + 1}", pulp.lpSum(int(profits[j, i]) * x[i] for i in range(n)), integer=True
        )
        for j in range(k)
    ]
    exact = _brute_front(profits, weights, capacity)
    assert len(exact) >= 15  # 16 and 21 points: a front, not a corner case
    for workers in (1, 2):  # one solve at a time, and two sharing the grid in slabs
        options = SolveOptions(solver=solver, time_limit=None)
        front = augmecon2(model, objectives, options=options, workers=workers)
        assert front.complete
        assert _values(front) == exact


def test_knapsack_files_that_do_not_fit_together_are_refused(tmp_path, capsys):
    """Bad input for ``citydesk optimize pareto``: one line naming what does not fit, exit 2."""
    from citydesk.workbench.cli.main import main

    pd.DataFrame([[3, 4, 5], [1, 2, 3]]).to_csv(tmp_path / "c.csv")
    pd.DataFrame([[2, 2]]).to_csv(tmp_path / "a.csv")  # two items where c.csv has three
    pd.DataFrame([[3]]).to_csv(tmp_path / "b.csv")
    assert main(["optimize", "pareto", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "do not fit together: 3 items in c.csv, 2 in a.csv" in err


@pytest.mark.parametrize(("items", "cuts"), [(12, False), (1_200, None)])
def test_small_models_are_walked_with_cbc_cuts_off(monkeypatch, items, cuts):
    """A knapsack-sized model's grid walk runs without CBC's cut generators (5x faster per
    solve on 3kp50, same answers); a model beyond SMALL_MODEL columns keeps them."""
    import citydesk.optimization.pareto as pareto

    seen = []
    real = pareto.solve

    def spy(problem, options=None, feedback=None, warm_start=None, cuts=None):
        seen.append(cuts)
        return real(problem, options, feedback, warm_start=warm_start, cuts=cuts)

    monkeypatch.setattr(pareto, "solve", spy)
    rng = np.random.default_rng(3)
    x = [pulp.LpVariable(f"x{i}", cat=pulp.LpBinary) for i in range(items)]
    model = pulp.LpProblem("k", pulp.LpMaximize)
    weights = rng.integers(1, 10, items)
    load = pulp.lpSum(int(w) * v for w, v in zip(weights, x, strict=True))
    model += load <= int(weights.sum() // 3)
    first = Objective("a", pulp.lpSum(x[: items // 2]), integer=True)
    second = Objective("b", pulp.lpSum(x[items // 2 :]), integer=True)
    front = augmecon2(model, [first, second], grid=None if items < 100 else 3, workers=1)
    assert front.points and front.solves
    walk = seen[-front.solves :]  # the payoff table's and the ranges' solves come first
    assert set(walk) == {cuts}
