"""Neighbour compatibility at parcel scale (issue 25): the penalty the model carries is the
penalty of the plan, for every plan; a kept parcel counts with its use today; the city's
table is read strictly; and a three-objective front is Pareto-optimal where it is proven."""

from __future__ import annotations

import dataclasses
import itertools

import geopandas as gpd
import numpy as np
import pulp
import pytest
from shapely.geometry import box

from citydesk.layers.city_profile import ProfileError, parse_profile, profile_text
from citydesk.layers.land_compatibility import CLASSES, penalty_matrix, use_classes
from citydesk.optimization.landuse import (
    LandUseProblem,
    build_landuse_model,
    compatibility_penalty,
    objectives_for,
)
from citydesk.optimization.pareto_large import epsilon_front, grid_levels
from citydesk.planning.landuse_inputs import landuse_problem

USES4 = ("keep", "a", "b", "c")


def _random_problem(rng, n: int = 6, classes: int = 5) -> LandUseProblem:
    k = len(USES4)
    allowed = rng.random((n, k)) < 0.7
    allowed[:, 0] = True
    penalty = rng.integers(0, 4, (classes, classes)).astype(float)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n) if rng.random() < 0.5]
    return LandUseProblem(
        parcel_ids=np.arange(n),
        allowed=allowed,
        yields={},
        cost=np.zeros((n, k)),
        coefficients={"economic": rng.integers(0, 20, (n, k)).astype(float)},
        uses=USES4,
        adjacency=np.array(pairs, dtype=int).reshape(-1, 2),
        incompatible=penalty + penalty.T,
        use_class=rng.integers(0, classes, (n, k)),
        outside_penalty=rng.integers(0, 3, (n, k)).astype(float),
    )


def _plans(problem: LandUseProblem):
    choices = [np.flatnonzero(row) for row in problem.allowed]
    return (np.array(p) for p in itertools.product(*choices))


@pytest.mark.parametrize("seed", range(6))
def test_the_modelled_penalty_is_the_plans_penalty_for_every_plan(seed):
    """Fix the plan, minimise the modelled penalty: it must come out at the plan's own
    penalty, or the front would trade conflicts that are not there."""
    rng = np.random.default_rng(seed)
    problem = _random_problem(rng)
    model = build_landuse_model(problem, compatibility=True)
    expression = model.expressions["compatibility"]
    plans = list(_plans(problem))
    for k in rng.choice(len(plans), size=min(6, len(plans)), replace=False):
        plan = plans[k]
        fixed = model.problem.copy()
        fixed.sense = pulp.LpMinimize
        fixed.setObjective(expression)
        for (i, u), var in model.x.items():
            fixed += var == float(plan[i] == u), f"fix_{i}_{u}"
        assert fixed.solve(pulp.PULP_CBC_CMD(msg=False)) == pulp.LpStatusOptimal
        assert pulp.value(expression) == pytest.approx(compatibility_penalty(problem, plan))
    # and the least penalty the model finds is the least over every plan
    least = model.problem.copy()
    least.sense = pulp.LpMinimize
    least.setObjective(expression)
    least.solve(pulp.PULP_CBC_CMD(msg=False))
    brute = min(compatibility_penalty(problem, p) for p in plans)
    assert pulp.value(expression) == pytest.approx(brute)


@pytest.mark.parametrize("seed", range(8))
def test_the_relaxation_of_a_chain_of_parcels_is_exact(seed):
    """Each touching pair is modelled by its local polytope, which is exact on a tree: on a
    chain of parcels the LP relaxation must reach the best plan, whatever the penalties and
    values. The earlier form (a correction per pair and use of one parcel) let the LP take
    half of a pair that must change together at half the cost, a bound 0.39 % above the best
    plan on Cambridge at a tight conflict cap."""
    rng = np.random.default_rng(100 + seed)
    problem = _random_problem(rng, n=4)
    problem = dataclasses.replace(
        problem,
        adjacency=np.array([(0, 1), (1, 2), (2, 3)]),
        outside_penalty=None,
    )
    weight = float(rng.uniform(2, 10))
    value = problem.coefficients["economic"]

    def score(plan) -> float:
        rows = np.arange(len(plan))
        return float(value[rows, plan].sum()) - weight * compatibility_penalty(problem, plan)

    best = max(score(p) for p in _plans(problem))
    model = build_landuse_model(problem, relaxed=True, compatibility=True)
    model.problem.sense = pulp.LpMaximize
    model.problem.setObjective(
        model.expressions["economic"] - weight * model.expressions["compatibility"]
    )
    assert model.problem.solve(pulp.PULP_CBC_CMD(msg=False)) == pulp.LpStatusOptimal
    assert pulp.value(model.problem.objective) == pytest.approx(best, abs=1e-6)


def _profile():
    """A city whose parcels' ``use`` field holds CityDesk's land-use classes already."""
    return parse_profile(
        'name = "Test"\ntimezone = "UTC"\ncrs = "EPSG:32619"\n'
        '[layers.parcels]\nlayer = "parcels"\nid = "use"\nland_use = "use"\n'
        'housing_units = "units"\n'
    )


def test_a_kept_parcel_counts_with_its_land_use_today():
    """Three parcels in a row: a factory, a vacant lot, a house. Homes on the vacant lot
    conflict with the kept factory (1.0 by default), which a per-use table could not say."""
    parcels = gpd.GeoDataFrame(
        {"use": ["industrial", "vacant", "residential"], "units": [0, 0, 1]},
        geometry=[box(0, 0, 50, 50), box(50, 0, 100, 50), box(100, 0, 150, 50)],
        crs="EPSG:32619",
    )
    problem = landuse_problem(parcels, compatibility=True, profile=_profile())
    assert sorted(map(tuple, problem.adjacency)) == [(0, 1), (1, 2)]
    keep = np.zeros(3, dtype=int)
    assert compatibility_penalty(problem, keep) == 0.0  # a vacant lot conflicts with nothing
    homes = keep.copy()
    homes[1] = problem.uses.index("housing_low")
    assert compatibility_penalty(problem, homes) == pytest.approx(1.0)
    park = keep.copy()
    park[1] = problem.uses.index("park")
    assert compatibility_penalty(problem, park) == pytest.approx(0.5)  # green beside industry


def test_the_penalty_of_a_parcel_outside_the_candidates_still_counts():
    parcels = gpd.GeoDataFrame(
        {"use": ["industrial", "vacant"], "units": [0, 0]},
        geometry=[box(0, 0, 50, 50), box(50, 0, 100, 50)],
        crs="EPSG:32619",
    )
    problem = landuse_problem(
        parcels, candidates=np.array([False, True]), compatibility=True, profile=_profile()
    )
    assert len(problem.adjacency) == 0 and problem.n_parcels == 1
    homes = np.array([problem.uses.index("housing_high")])
    assert compatibility_penalty(problem, homes) == pytest.approx(1.0)
    model = build_landuse_model(problem, compatibility=True)
    model.problem.setObjective(model.expressions["compatibility"])
    model.problem.sense = pulp.LpMinimize
    model.problem.solve(pulp.PULP_CBC_CMD(msg=False))
    assert pulp.value(model.expressions["compatibility"]) == pytest.approx(0.0)  # keep it


def test_the_city_changes_a_pair_and_a_misspelt_class_is_refused():
    default = penalty_matrix()
    r, i = CLASSES.index("residential"), CLASSES.index("industrial")
    assert default[r, i] == default[i, r] == 1.0
    city = penalty_matrix({"industrial": {"residential": 0.4}})
    assert city[r, i] == city[i, r] == 0.4
    text = profile_text("cambridge") + "\n[planning.compatibility.residental]\nindustrial = 1\n"
    with pytest.raises(ProfileError, match="did you mean 'residential'"):
        parse_profile(text)
    text = profile_text("cambridge") + "\n[planning.compatibility.residential]\nindustrial = -1\n"
    with pytest.raises(ProfileError, match="outside 0 to 1000"):
        parse_profile(text)
    classes = use_classes(["industrial", "no such"], ("keep", "housing_low", "park"))
    assert [CLASSES[c] for c in classes[0]] == ["industrial", "residential", "green"]
    assert CLASSES[classes[1, 0]] == "unknown"


def test_three_objective_grid_levels():
    assert grid_levels(25, 3) == 5 and grid_levels(4, 3) == 2 and grid_levels(10, 2) == 10


def _three_objective_problem(rng) -> LandUseProblem:
    """Seven parcels with random economic and social values and random neighbours."""
    problem = _random_problem(rng, n=7)
    coefficients = {
        "economic": rng.integers(0, 20, (7, 4)).astype(float),
        "social": rng.integers(0, 20, (7, 4)).astype(float),
    }
    return LandUseProblem(**{**problem.__dict__, "coefficients": coefficients})


@pytest.mark.parametrize("seed", range(3))
def test_a_three_objective_front_is_pareto_optimal_where_proven(seed):
    """Economic up, a second value up, conflicts down, on a model small enough to list every
    plan: each proven point is on the true front (no plan dominates it), and the front
    spans the conflicts from the least to the most a best plan has."""
    problem = _three_objective_problem(np.random.default_rng(100 + seed))
    model = build_landuse_model(problem, compatibility=True)
    objectives = objectives_for(model, ["economic", "social", "compatibility"])
    front = epsilon_front(model.problem, model.groups(), objectives, points=16)
    everything = np.array(
        [
            [
                problem.coefficients["economic"][np.arange(7), p].sum(),
                problem.coefficients["social"][np.arange(7), p].sum(),
                -compatibility_penalty(problem, p),
            ]
            for p in _plans(problem)
        ]
    )
    assert front.points and front.unexplored == 0
    for point in front.points:
        assert point.proven  # every group free: the MIP's bound is the whole model's
        mine = np.array([point.values[0], point.values[1], -point.values[2]])
        dominated = np.all(everything >= mine - 1e-6, axis=1) & np.any(
            everything > mine + 1e-6, axis=1
        )
        assert not dominated.any(), point.values
        plan = model.plan_from(point.solution)
        assert compatibility_penalty(problem, plan) == pytest.approx(point.values[2])
    least = -everything[:, 2].max()
    assert min(p.values[2] for p in front.points) == pytest.approx(least)


def test_a_city_without_todays_land_use_is_told_what_conflicts_count():
    parcels = gpd.GeoDataFrame(
        {"units": [0, 0]}, geometry=[box(0, 0, 50, 50), box(50, 0, 100, 50)], crs="EPSG:32619"
    )
    notes: list[str] = []
    problem = landuse_problem(parcels, compatibility=True, notes=notes)
    assert any("compatibility counts only conflicts between parcels" in n for n in notes)
    assert compatibility_penalty(problem, np.zeros(2, dtype=int)) == 0.0


@pytest.mark.parametrize("seed", [1, 2])  # fronts with levels above their row's ceiling
def test_a_point_the_lp_cannot_decide_is_settled_by_its_rows_ceiling(seed, monkeypatch):
    """HiGHS could not decide the LPs of the 13k-parcel front's least-conflict row (warm:
    "unknown"; cold: "unknown" after 28-45 s), and those points counted as unexplored. Now
    the row's ceiling (the walked objective's LP best at the row's level) settles them: a
    level above it is infeasible, and closes the row as an infeasible LP does; one below it
    is solved again cold. With every warm LP made undecided the front is the same front."""
    from citydesk.optimization import pareto_large
    from citydesk.optimization.lp_fix import GroupFixResult, PersistentLp
    from citydesk.optimization.solve import SolveOutcome, SolveStatus

    problem = _three_objective_problem(np.random.default_rng(100 + seed))
    model = build_landuse_model(problem, compatibility=True)
    objectives = objectives_for(model, ["economic", "social", "compatibility"])
    plain = epsilon_front(model.problem.copy(), model.groups(), objectives, points=16)

    solve, ceiling = PersistentLp.solve, PersistentLp.ceiling
    settled = []

    def undecided(self, *args, retry_cold=True, **kwargs):
        result = solve(self, *args, retry_cold=retry_cold, **kwargs)
        if retry_cold:
            return result  # the cold retry answers
        outcome = SolveOutcome(SolveStatus.NO_SOLUTION, None, None, 0.0, "highs")
        return GroupFixResult(outcome, result.values, 0)

    def spy(self, *args, **kwargs):
        top = ceiling(self, *args, **kwargs)
        settled.append(top)
        return top

    monkeypatch.setattr(PersistentLp, "solve", undecided)
    monkeypatch.setattr(PersistentLp, "ceiling", spy)
    closed = []
    above = pareto_large._above_ceiling
    monkeypatch.setattr(pareto_large, "_above_ceiling", lambda r: closed.append(r) or above(r))
    front = epsilon_front(model.problem.copy(), model.groups(), objectives, points=16)
    assert settled  # (None where even the row has no LP solution: solved again cold)
    assert front.unexplored == 0 == plain.unexplored
    assert front.skipped == plain.skipped
    assert closed  # some level was above its row's ceiling
    np.testing.assert_allclose(
        sorted(p.values for p in front.points), sorted(p.values for p in plain.points)
    )
