"""Land-use allocation: each candidate parcel gets exactly one use.

The model is built from plain per-parcel x per-use arrays (what a parcel yields under a use),
so it can be tested on small hand-made instances and fed from real layers by
``citydesk.planning.landuse_inputs``. Binary x[i, u] = parcel i takes use u; use 0 is always "keep".

Constraints (each a named row group, so an infeasible model can say which ones conflict):

* one use per parcel: sum_u x[i, u] = 1; only allowed (zoning-compatible, not protected)
  uses get a variable at all, which is how zoning and protected land enter;
* demand targets: sum_iu yield[t][i, u] x[i, u] >= target_t for housing units, job floor
  area, school seats, park area (density caps are already in the yields);
* budget: sum_iu cost[i, u] x[i, u] <= budget;
* change cap: sum_i (1 - x[i, keep]) <= max_changed.

Objectives, each a linear expression sum_iu c[i, u] x[i, u] over the same variables:

* ``economic`` (max): land value uplift;
* ``social`` (max): new housing weighted by nearness to schools and parks, plus 2SFCA gain of
  new schools and parks (the caller computes the per-parcel coefficients);
* ``environment`` (min): impervious area added inside the floodplain;
* ``suitability`` (max, when a suitability analysis ran): hectares changed weighted by each
  parcel's 0..1 suitability score, so change goes where the overlay says it fits;
* ``compatibility`` (min): conflicting uses on touching parcels, summed over the parcel
  adjacency (a penalty per pair of land-use classes, ``citydesk.layers.land_compatibility``;
  a kept parcel counts with its class today). Exact and linear: only pairs whose penalty
  is not the sum of each parcel changing alone get variables, the pair's local polytope
  (:func:`_compatibility_rows`), so it holds at parcel scale with a tight LP bound.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pulp

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _

log = logging.getLogger(__name__)

#: the uses of the issue; index 0 must stay "keep"
USES = ("keep", "housing_low", "housing_high", "mixed_use", "commercial", "park", "school")
TARGETS = ("housing", "jobs", "school_seats", "park_area")
OBJECTIVES = {
    "economic": "max",
    "social": "max",
    "environment": "min",
    "compatibility": "min",
    "suitability": "max",
    "cost": "min",  # development and public cost: the planner's budget trade-off
}


class LandUseInputError(CityDeskError):
    """The land-use inputs are inconsistent (shapes, unknown names, negative yields)."""


@dataclass(frozen=True)
class Coverage:
    """Demand that a new facility use serves once, however many are built near it.

    A linear coefficient per parcel would credit every new school with the same unserved
    homes, so a model maximising it builds schools everywhere. Coverage is the maximal
    covering formulation instead: y_c <= sum of x[i, use] over the parcels i that reach
    demand cell c, y_c in [0, 1], and the objective gains demand_c * y_c.
    """

    use: str  # the facility use, e.g. "school"
    objective: str  # the objective credited, e.g. "social"
    reach: Any  # scipy sparse (cells x parcels) 0/1: a new facility on i serves cell c
    demand: np.ndarray  # (cells,) what serving the cell is worth


@dataclass(frozen=True)
class LandUseProblem:
    """Per-parcel, per-use yields, costs and objective coefficients.

    Every array is (parcels, uses). ``allowed[i, 0]`` (keep) must be True for every parcel:
    not changing a parcel is always possible.
    """

    parcel_ids: np.ndarray
    allowed: np.ndarray
    yields: Mapping[str, np.ndarray]  # target name -> (n, k) amount added
    cost: np.ndarray
    coefficients: Mapping[str, np.ndarray]  # objective name -> (n, k)
    uses: tuple[str, ...] = USES
    targets: Mapping[str, float] = field(default_factory=dict)
    budget: float | None = None
    max_changed: int | None = None
    protected: np.ndarray | None = None  # (n,) True: floodplain, open space, water... keep only
    adjacency: np.ndarray | None = None  # (m, 2) parcel index pairs, for compatibility
    #: penalty of neighbouring classes: (c, c) with ``use_class``, else (k, k) per use
    incompatible: np.ndarray | None = None
    #: (n, k) row of ``incompatible`` for each parcel under each use (keep: its class today)
    use_class: np.ndarray | None = None
    #: (n, k) penalty against touching parcels outside the model (they keep their use)
    outside_penalty: np.ndarray | None = None
    #: the penalty between touching parcels both outside the model: a constant, so that a
    #: plan's conflicts are the whole city's, as a plan over every parcel counts them
    outside_constant: float = 0.0
    coverage: tuple[Coverage, ...] = ()
    #: (n,) each modelled parcel's row in the parcels layer when a filter chose the
    #: candidates (None: every parcel, in layer order); a plan is written back over the whole
    #: layer with the others kept
    layer_rows: np.ndarray | None = None

    def __post_init__(self) -> None:
        n, k = len(self.parcel_ids), len(self.uses)
        if self.uses[0] != "keep":
            raise LandUseInputError(
                _("The first use must be 'keep', not {use!r}.").format(use=self.uses[0]),
                _("Put 'keep' first: every parcel may stay as it is."),
            )
        arrays = {"allowed": self.allowed, "cost": self.cost}
        arrays |= {f"yield {t}": a for t, a in self.yields.items()}
        arrays |= {f"objective {o}": a for o, a in self.coefficients.items()}
        for name, array in arrays.items():
            if np.shape(array) != (n, k):
                raise LandUseInputError(
                    _("{name} has shape {shape}; expected {n} parcels x {k} uses.").format(
                        name=name, shape=np.shape(array), n=n, k=k
                    ),
                    _("Give one row per parcel and one column per use."),
                )
        if self.use_class is not None and (
            np.shape(self.use_class) != (n, k)
            or self.incompatible is None
            or np.asarray(self.use_class).max(initial=0) >= len(self.incompatible)
        ):
            raise LandUseInputError(
                _("use_class must give a row of the penalty matrix per parcel and use."),
                _("Build it with layers.land_compatibility.use_classes."),
            )
        if self.protected is not None and np.shape(self.protected) != (n,):
            raise LandUseInputError(
                _("protected has shape {shape}; expected one flag per parcel ({n}).").format(
                    shape=np.shape(self.protected), n=n
                ),
                _("Give True for each parcel that must keep its use."),
            )
        if not np.asarray(self.allowed)[:, 0].all():
            raise LandUseInputError(
                _("Some parcels may not keep their current use."),
                _("Allow 'keep' on every parcel; constrain change with max_changed."),
            )
        unknown = (set(self.targets) - set(self.yields)) | (
            set(self.coefficients) - set(OBJECTIVES)
        )
        if unknown:
            raise LandUseInputError(
                _("Unknown target or objective names: {names}.").format(
                    names=", ".join(sorted(unknown))
                ),
                _("Targets: {t}; objectives: {o}.").format(
                    t=", ".join(TARGETS), o=", ".join(OBJECTIVES)
                ),
            )

    @property
    def n_parcels(self) -> int:
        return len(self.parcel_ids)


@dataclass
class LandUseModel:
    """The PuLP model with handles on its variables, rows and objective expressions."""

    problem: pulp.LpProblem
    x: dict[tuple[int, int], pulp.LpVariable]
    expressions: dict[str, pulp.LpAffineExpression]  # objectives and target/budget sums
    rows: dict[str, str]  # constraint group -> row name (targets, budget, changed)
    inputs: LandUseProblem

    def groups(self) -> dict[str, int]:
        """Variable name -> parcel: the one-use-per-parcel groups of the city-scale front."""
        return {var.name: i for (i, _u), var in self.x.items()}

    def plan(self) -> np.ndarray:
        """The use index chosen for each parcel (after a solve)."""
        chosen = np.zeros(self.inputs.n_parcels, dtype=int)
        for (i, u), var in self.x.items():
            if (var.varValue or 0) > 0.5:
                chosen[i] = u
        return chosen

    def plan_from(self, solution: Mapping[str, float]) -> np.ndarray:
        """The plan stored in a Pareto point's solution (variable name -> value)."""
        chosen = np.zeros(self.inputs.n_parcels, dtype=int)
        for (i, u), var in self.x.items():
            if solution.get(var.name, 0.0) > 0.5:
                chosen[i] = u
        return chosen


def build_landuse_model(
    inputs: LandUseProblem,
    with_targets: bool = True,
    relaxed: bool = False,
    compatibility: bool = False,
) -> LandUseModel:
    """The allocation model; objectives are left to the caller (a Pareto run, a weighted sum).

    ``relaxed`` builds the LP relaxation (continuous x), used for fast bounds and for fixing
    the parcels whose LP value is already integral. ``compatibility`` adds the linearised
    neighbour penalty (:func:`_compatibility_rows`).
    """
    category = pulp.LpContinuous if relaxed else pulp.LpBinary
    model = pulp.LpProblem("land_use", pulp.LpMaximize)
    allowed = effective_allowed(inputs)
    pairs = np.argwhere(allowed)
    x = {
        (int(i), int(u)): pulp.LpVariable(f"x_{i}_{u}", lowBound=0, upBound=1, cat=category)
        for i, u in pairs
    }
    by_parcel: dict[int, list[pulp.LpVariable]] = {}
    for (i, _u), var in x.items():
        by_parcel.setdefault(i, []).append(var)
    for i, row in by_parcel.items():
        model += pulp.LpAffineExpression([(v, 1) for v in row]) == 1, f"one_use_{i}"

    def linear(array: np.ndarray) -> pulp.LpAffineExpression:
        array = np.asarray(array, dtype=float)
        return pulp.LpAffineExpression(
            [(var, array[i, u]) for (i, u), var in x.items() if array[i, u] != 0]
        )

    expressions = {name: linear(coef) for name, coef in inputs.coefficients.items()}
    for cov in inputs.coverage:
        _coverage_rows(model, x, cov, inputs.uses.index(cov.use), expressions[cov.objective])
    for name, amounts in inputs.yields.items():
        expressions[f"target:{name}"] = linear(amounts)
    expressions["budget"] = linear(inputs.cost)
    expressions["cost"] = expressions["budget"]
    changed = pulp.LpAffineExpression([(var, 1) for (i, u), var in x.items() if u != 0])
    expressions["changed"] = changed
    rows: dict[str, str] = {}
    if with_targets:
        for name, target in inputs.targets.items():
            model += expressions[f"target:{name}"] >= float(target), f"target_{name}"
            rows[name] = f"target_{name}"
    if inputs.budget is not None:
        model += expressions["budget"] <= float(inputs.budget), "budget"
        rows["budget"] = "budget"
    if inputs.max_changed is not None:
        model += changed <= int(inputs.max_changed), "max_changed"
        rows["max_changed"] = "max_changed"
    if compatibility:
        expressions["compatibility"] = _compatibility_rows(model, x, inputs)
    return LandUseModel(model, x, expressions, rows, inputs)


def _coverage_rows(model, x, cov: Coverage, use: int, objective) -> None:
    """Cells served by at least one new facility of ``use`` add their demand to
    ``objective`` (see :class:`Coverage`)."""
    reach = cov.reach.tocsr()
    for c in np.flatnonzero(np.asarray(cov.demand) > 0):
        near = [
            x[int(i), use]
            for i in reach.indices[reach.indptr[c] : reach.indptr[c + 1]]
            if (int(i), use) in x
        ]
        if not near:
            continue
        y = pulp.LpVariable(f"cover_{use}_{c}", lowBound=0, upBound=1)
        model += (
            pulp.LpAffineExpression([(y, 1)] + [(v, -1) for v in near]) <= 0,
            f"cover_{use}_{c}",
        )
        objective.addterm(y, float(cov.demand[c]))


def effective_allowed(inputs: LandUseProblem) -> np.ndarray:
    """Zoning-compatible uses, with protected parcels held to 'keep'."""
    allowed = np.asarray(inputs.allowed, dtype=bool).copy()
    if inputs.protected is not None:
        allowed[np.asarray(inputs.protected, dtype=bool), 1:] = False
    return allowed


def _compatibility_rows(model, x, inputs: LandUseProblem) -> pulp.LpAffineExpression:
    """The neighbour penalty as a linear expression, exact at every integer plan.

    Per pair of touching parcels (a, b) the penalty of uses (u, v) is written as what both
    keeping costs, plus what changing a alone and b alone adds (linear in x), plus a
    correction Q[u, v] only for both changing. Where at most one of the pair changes (almost
    every pair: a plan changes a few hundred of 13k parcels) the linear part is exact, so
    only pairs with a correction need variables: one w[u, v] >= 0 per changed use of each,
    the share of "a takes u and b takes v", tied to the parcels' own columns as the local
    polytope of the pair (sum_v w[u, v] <= x[a, u], sum_u w[u, v] <= x[b, v], and
    sum w >= 1 - x[a, keep] - x[b, keep], which is w[keep, keep] >= 0).

    At integer x that is exact; in the LP it is the tightest relaxation of one pair. An
    earlier form aggregated the correction over b's uses (one t per (pair, u), a third of
    the columns), but its LP took half of a block that must change together at half its
    cost: at a cap of 271 conflicts on Cambridge its bound was 0.39 % above the best plan,
    the local polytope's 0.006 % (see docs/OPTIMIZATION.md).
    """
    if inputs.adjacency is None or inputs.incompatible is None:
        raise LandUseInputError(
            _("The compatibility objective needs an adjacency list and a use penalty matrix."),
            _("Build the adjacency with planning.landuse_inputs.parcel_adjacency."),
        )
    terms = neighbour_terms(inputs)
    allowed = effective_allowed(inputs)
    expression = pulp.LpAffineExpression(constant=terms.constant)
    for (i, u), coef in zip(terms.linear_keys, terms.linear, strict=True):
        expression.addterm(x[i, u], float(coef))
    for a, b, q in terms.corrections:
        uses_a = np.flatnonzero(allowed[a, 1:]) + 1
        uses_b = np.flatnonzero(allowed[b, 1:]) + 1
        block = q[np.ix_(uses_a, uses_b)]
        # uses with the same row (column) of Q are one choice for the pair's penalty: housing
        # low and high are both residential. One w per block keeps the LP bound (spread a
        # block's w over its uses in proportion to x and every row still holds) with a third
        # of the columns.
        rows, of_a = np.unique(block, axis=0, return_inverse=True)
        _cols, first_b, of_b = np.unique(block, axis=1, return_index=True, return_inverse=True)
        of_a, of_b = of_a.ravel(), of_b.ravel()
        penalty = rows[:, first_b]  # (blocks of a) x (blocks of b)
        na, nb = penalty.shape
        w = [
            [pulp.LpVariable(f"w_{a}_{b}_{g}_{h}", lowBound=0) for h in range(nb)]
            for g in range(na)
        ]
        for g in range(na):
            row = [(w[g][h], 1.0) for h in range(nb)]
            row += [(x[a, int(u)], -1.0) for u in uses_a[of_a == g]]
            model += pulp.LpAffineExpression(row) <= 0, f"pair_{a}_{b}_a{g}"
        for h in range(nb):
            row = [(w[g][h], 1.0) for g in range(na)]
            row += [(x[b, int(v)], -1.0) for v in uses_b[of_b == h]]
            model += pulp.LpAffineExpression(row) <= 0, f"pair_{a}_{b}_b{h}"
        row = [(var, 1.0) for line in w for var in line] + [(x[a, 0], 1.0), (x[b, 0], 1.0)]
        model += pulp.LpAffineExpression(row) >= 1, f"pair_{a}_{b}_both"
        for g, h in zip(*np.nonzero(penalty), strict=True):
            expression.addterm(w[g][h], float(penalty[g, h]))
    return expression


@dataclass(frozen=True)
class NeighbourTerms:
    """The neighbour penalty split as :func:`_compatibility_rows` models it."""

    constant: float  # every pair as it is today
    linear_keys: list[tuple[int, int]]  # (parcel, use) with a coefficient
    linear: np.ndarray
    #: (a, b, Q) per pair whose penalty is not linear: Q[u, v] (uses x uses) is what both
    #: changing, a to u and b to v, adds to the two changes alone (zero where either keeps)
    corrections: list[tuple[int, int, np.ndarray]]


def use_class_of(inputs: LandUseProblem) -> np.ndarray:
    """(parcels x uses) row of ``incompatible`` for each parcel under each use: the problem's
    ``use_class``, or the use itself when the penalty is given per use."""
    if inputs.use_class is not None:
        return np.asarray(inputs.use_class, dtype=np.int64)
    n, k = inputs.n_parcels, len(inputs.uses)
    return np.broadcast_to(np.arange(k), (n, k))


def neighbour_terms(inputs: LandUseProblem) -> NeighbourTerms:
    """Constant, linear coefficients and corrections of the neighbour penalty (vectorised
    over the pairs; the model then only adds what is not zero)."""
    penalty = np.asarray(inputs.incompatible, dtype=float)
    pairs = np.asarray(inputs.adjacency, dtype=np.int64).reshape(-1, 2)
    allowed = effective_allowed(inputs)
    klass = use_class_of(inputs)
    a, b = pairs[:, 0], pairs[:, 1]
    ca, cb = klass[a], klass[b]  # (m, k)
    base = penalty[ca[:, 0], cb[:, 0]]
    alone_a = np.where(allowed[a], penalty[ca, cb[:, :1]] - base[:, None], 0.0)
    alone_b = np.where(allowed[b], penalty[ca[:, :1], cb] - base[:, None], 0.0)
    alone_a[:, 0] = alone_b[:, 0] = 0.0
    linear = np.zeros(allowed.shape)
    constant = float(base.sum()) + inputs.outside_constant
    if inputs.outside_penalty is not None:  # neighbours outside the model keep their use
        outside = np.asarray(inputs.outside_penalty, dtype=float)
        constant += float(outside[:, 0].sum())
        linear[:, 1:] += np.where(allowed[:, 1:], outside[:, 1:] - outside[:, :1], 0.0)
    np.add.at(linear, a, alone_a)
    np.add.at(linear, b, alone_b)
    both = (
        penalty[ca[:, :, None], cb[:, None, :]]
        - penalty[ca, cb[:, :1]][:, :, None]
        - penalty[ca[:, :1], cb][:, None, :]
        + base[:, None, None]
    )
    both *= allowed[a][:, :, None] & allowed[b][:, None, :]
    both[:, 0, :] = both[:, :, 0] = 0.0
    both[np.abs(both) < 1e-12] = 0.0
    corrections = [
        (int(a[e]), int(b[e]), both[e]) for e in np.flatnonzero((both != 0).any(axis=(1, 2)))
    ]
    keys = np.argwhere((linear != 0) & allowed)
    return NeighbourTerms(
        constant=constant,
        linear_keys=[(int(i), int(u)) for i, u in keys],
        linear=linear[keys[:, 0], keys[:, 1]],
        corrections=corrections,
    )


def plan_totals(inputs: LandUseProblem, plan: np.ndarray) -> dict[str, float]:
    """Every objective, target sum, cost and change count of a plan (use index per parcel)."""
    rows = np.arange(inputs.n_parcels)
    totals = {
        name: float(np.asarray(c)[rows, plan].sum()) for name, c in inputs.coefficients.items()
    }
    totals |= {name: float(np.asarray(a)[rows, plan].sum()) for name, a in inputs.yields.items()}
    totals["cost"] = float(np.asarray(inputs.cost)[rows, plan].sum())
    totals["changed"] = int((plan != 0).sum())
    if inputs.adjacency is not None and inputs.incompatible is not None:
        totals["compatibility"] = compatibility_penalty(inputs, plan)
    return totals


def compatibility_penalty(inputs: LandUseProblem, plan: np.ndarray) -> float:
    """The neighbour penalty of a finished plan: sum over adjacent pairs of the use penalty."""
    if inputs.adjacency is None or inputs.incompatible is None:
        return 0.0
    pairs = np.asarray(inputs.adjacency, dtype=int).reshape(-1, 2)
    penalty = np.asarray(inputs.incompatible, dtype=float)
    klass = use_class_of(inputs)
    a, b = pairs[:, 0], pairs[:, 1]
    total = float(penalty[klass[a, plan[a]], klass[b, plan[b]]].sum())
    if inputs.outside_penalty is not None:
        total += float(np.asarray(inputs.outside_penalty)[np.arange(len(plan)), plan].sum())
    total += inputs.outside_constant
    return total


def objectives_for(model: LandUseModel, names: Sequence[str], integer: bool = False):
    """:class:`citydesk.optimization.pareto.Objective` handles for the named objectives."""
    from .pareto import Objective

    available = [n for n in OBJECTIVES if n in model.expressions]
    missing = [n for n in names if n not in available]
    if missing:
        raise LandUseInputError(
            _("No coefficients for objective(s) {names}.").format(names=", ".join(missing)),
            _("Objectives available: {names}.").format(names=", ".join(available)),
        )
    return [Objective(n, model.expressions[n], OBJECTIVES[n], integer) for n in names]


def target_label(target: str) -> str:
    """A target's name in the interface language."""
    return {
        "housing": _("housing"),
        "jobs": _("jobs floor area"),
        "school_seats": _("school seats"),
        "park_area": _("park area"),
    }.get(target, target)


def target_unit(target: str) -> str:
    """The unit a target is counted in, for messages and reports."""
    return {
        "housing": _("units"),
        "jobs": _("m² job floor area"),
        "school_seats": _("seats"),
        "park_area": _("m² of park"),
    }.get(target, "")


def solve_landuse(
    inputs: LandUseProblem,
    weights: Mapping[str, float],
    options=None,
    feedback=None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    normalise: bool = False,
):
    """One plan maximising ``sum weight * sign * objective`` under every constraint, and
    with each objective in ``bounds`` kept within its [low, high] range (the epsilon
    constraints of a planner who says "at least this much social benefit").

    The objectives are in different units (dollars, weighted homes, square metres), so a
    plain weighted sum lets the largest unit win whatever the weights. With ``normalise``
    each objective is divided by its attainable range (:func:`objective_ranges`), and
    weight 1 on each means equal importance.

    An infeasible model raises :class:`LandUseInfeasible`, whose message names the targets
    that cannot be met, by how much, and which constraints stop them.
    """
    from .solve import SolveOptions, SolveStatus

    options = options or SolveOptions()
    scales = objective_ranges(inputs, list(weights), options, feedback) if normalise else {}
    model = build_landuse_model(inputs)
    objectives = objectives_for(model, list(weights))
    model.problem.setObjective(
        pulp.lpSum(
            weights[o.name] * o.sign * o.expression / scales.get(o.name, 1.0) for o in objectives
        )
    )
    bounds = bounds or {}
    for o in objectives_for(model, list(bounds)):
        low, high = bounds[o.name]
        model.problem += o.expression >= low, f"epsilon_low_{o.name}"
        model.problem += o.expression <= high, f"epsilon_high_{o.name}"
    started = time.perf_counter()
    found = None
    if inputs.n_parcels >= GROUP_FIX_PARCELS:
        found = _group_fix_plan(model, options, feedback)
        if found is not None and (
            found[0].status is SolveStatus.OPTIMAL
            or (found[0].gap is not None and found[0].gap <= options.mip_gap)  # as asked
            or options.solver == "highs"
        ):
            # HiGHS on the full model of the demo tiled 3 x 3 ran 5 minutes past a 60 s and a
            # 600 s limit in its root node's rounding heuristic, which neither its clock nor
            # an interrupt reaches; CBC runs in a process that is stopped at the deadline
            return found
    start = None
    if found is not None:  # the full MIP starts from that plan, with the time that is left
        options = options.left_after(started)
        start = {var: float(found[1][i] == u) for (i, u), var in model.x.items()}
    outcome = _full_mip(model.problem, options, feedback, start)
    if outcome.status is SolveStatus.INFEASIBLE:
        from .landuse_infeasibility import explain_infeasibility

        raise LandUseInfeasible(explain_infeasibility(inputs, options, feedback))
    if found is not None and (
        not outcome.status.has_solution or outcome.objective < found[0].objective - 1e-9
    ):
        from .lp_fix import plan_outcome

        # the full MIP ran out of time without the start's plan (CBC may drop a start it
        # cannot repair): the marginal-parcel plan stands, with the better of the bounds
        bound = found[0].bound
        if outcome.bound is not None and outcome.bound >= found[0].objective:
            bound = min(bound, outcome.bound)  # (a maximum: each bound is above every plan)
        seconds = time.perf_counter() - started
        return plan_outcome(found[0].objective, bound, seconds), found[1]
    plan = model.plan() if outcome.status.has_solution else None
    return outcome, plan


#: turns on a land-use plan's whole MIP, each solver going on from the best plan so far:
#: CBC first, HiGHS for a while where CBC has not proven the plan, then CBC for the rest
#: (None: what is left of the time limit)
MIP_TURNS: tuple[tuple[str, float | None], ...] = (("cbc", 30.0), ("highs", 60.0), ("cbc", None))


def _full_mip(problem: pulp.LpProblem, options, feedback, start):
    """The whole model's MIP, in :data:`MIP_TURNS`. CBC proves the demo's plans fastest (0.6
    and 2.2 s for its two scenarios, HiGHS 1.6 and 6.2 s). On a city of 900 equal plots (a
    planned grid; any city without land values plans area against cost) CBC ran the whole
    600 s to a 0.020 % gap it could not close, where HiGHS, going on from CBC's plan, proves
    it in 0.4 s; elsewhere HiGHS stalls where CBC gets on, so CBC has the rest of the time
    after HiGHS's turn. The better plan and the tighter bound of the turns stand."""
    from .solve import (
        PROVEN_GAP,
        SolveOutcome,
        SolveStatus,
        highs_available,
        relative_gap,
        solve,
    )

    limit = options.time_limit
    if (
        options.solver != "cbc"
        or not options.highs_after_cbc
        or (limit is not None and limit <= MIP_TURNS[0][1])
        or not highs_available()
    ):
        return solve(problem, options, feedback, warm_start=start)
    started = time.perf_counter()
    sense = 1.0 if problem.sense == pulp.LpMaximize else -1.0
    best: tuple[float, dict] | None = None  # objective, column values
    bounds: list[float] = []
    ran: list[str] = []  # the solvers that had a turn, in order
    last = None
    for solver, seconds in MIP_TURNS:
        rest = options.left_after(started)
        if rest.time_limit is not None and rest.time_limit < 1.0:
            break
        if seconds is not None and (rest.time_limit is None or seconds < rest.time_limit):
            # the turn's own end: HiGHS runs to its options' deadline, not its time limit
            rest = replace(rest, time_limit=seconds, deadline=time.perf_counter() + seconds)
        if last is not None:
            log.info("%s has not proven the plan: %s goes on from it", last.solver, solver)
        plan = best[1] if best is not None else start
        last = solve(problem, replace(rest, solver=solver), feedback, warm_start=plan)
        ran.append(solver)
        if last.status in (SolveStatus.INFEASIBLE, SolveStatus.UNBOUNDED):
            return last
        if last.bound is not None:
            bounds.append(last.bound)
        if last.status.has_solution and (
            best is None or sense * (last.objective or 0.0) > sense * best[0]
        ):
            values = {v: float(v.varValue) for v in problem.variables() if v.varValue is not None}
            best = (float(last.objective or 0.0), values)
        if last.status is SolveStatus.OPTIMAL:
            break
    assert last is not None
    if best is None:
        return last
    for var, value in best[1].items():  # the best turn's plan, whichever came last
        var.varValue = value
    bound = (min if sense > 0 else max)(bounds) if bounds else None
    proven = bound is not None and relative_gap(best[0], bound) <= max(PROVEN_GAP, options.mip_gap)
    return SolveOutcome(
        SolveStatus.OPTIMAL if proven else SolveStatus.FEASIBLE,
        best[0],
        bound,
        time.perf_counter() - started,
        last.solver if last.status is SolveStatus.OPTIMAL else "+".join(dict.fromkeys(ran)),
    )


#: from this many parcels in the model (the scenario's candidates) a weighted plan starts
#: from the LP and MIPs over its marginal parcels (:mod:`citydesk.optimization.lp_fix`),
#: then the full MIP gets that plan and the time left. CBC alone proved the 13,116-parcel
#: demo plans in about a minute, and was 23 % from its bound at 600 s on 16,110 candidates
#: of the demo tiled 3 x 3 (benchmarks/plan_large_city.py; HiGHS alone overran the 600 s
#: by more than 5 minutes)
GROUP_FIX_PARCELS = 15_000
#: the share of the time limit the marginal MIPs may take before the full MIP
GROUP_FIX_SHARE = 0.25


def _group_fix_plan(model: LandUseModel, options, feedback):
    """(outcome, plan) of the LP-and-marginal-MIPs plan for the model's objective,
    proven against the LP bound; None when it finds none in its share of the time."""
    from .lp_fix import PersistentLp
    from .solve import PROVEN_GAP

    ends = [options.deadline] if options.deadline is not None else []
    if options.time_limit is not None:
        ends.append(time.perf_counter() + GROUP_FIX_SHARE * options.time_limit)
    deadline = min(ends, default=None)
    work = model.problem.copy()
    engine = PersistentLp(work, model.groups(), feedback)
    engine.maximise(work.objective)
    result = engine.solve(max(options.mip_gap, PROVEN_GAP), time_limit=None, deadline=deadline)
    if not result.outcome.status.has_solution:
        return None
    solution = {v.name: float(x) for v, x in zip(engine.variables, result.values, strict=True)}
    log.info("marginal-parcel plan: %s", result.outcome.describe())
    return result.outcome, model.plan_from(solution)


def objective_ranges(
    inputs: LandUseProblem, names: Sequence[str], options=None, feedback=None
) -> dict[str, float]:
    """max - min of each objective over the LP relaxation of the model (targets, budget and
    caps included): the scale that makes weights comparable. Two LP solves per objective;
    an objective that cannot vary gets scale 1. An LP that ends without a solution (the
    time limit) is an error: scale 1 in its place would weigh the objective in its own
    units, a plan the planner did not ask for.

    The LPs run in one HiGHS model kept in process (:class:`.lp_fix.PersistentLp`) whatever
    the plan's MIP solver: an LP's optimum is the solver's to find, not to choose, and CBC
    in a process per LP took 12.4 s for three objectives of the demo where this takes
    5.2 s (the values agree to 1e-10)."""
    from .lp_fix import PersistentLp
    from .solve import SolveOptions

    options = options or SolveOptions()
    model = build_landuse_model(inputs, relaxed=True)
    varying = [
        o
        for o in objectives_for(model, list(names))
        if any(abs(c) > 0 for c in o.expression.values())
    ]
    scales = {name: 1.0 for name in names}  # no plan changes it (e.g. no land value)
    if not varying:
        return scales
    engine = PersistentLp(model.problem, model.groups(), feedback)
    deadline = options.ends_at()
    for o in varying:
        values = []
        for sense in (1, -1):
            engine.maximise(sense * o.expression)
            status = engine.run_lp(deadline)
            if status == "infeasible":
                return scales  # the plan's own solve says so, and explains which targets
            if status != "optimal":
                raise CityDeskError(
                    _(
                        "The range of the objective '{name}', which makes the weights"
                        " comparable, was not found: {why}."
                    ).format(name=o.name, why=status),
                    _("Give it more time (--time-limit)."),
                    gui_fix=_("Give it more time."),
                )
            values.append(sense * engine.lp_value())
        spread = abs(values[0] - values[1])
        scales[o.name] = spread if spread > 1e-9 else 1.0
    return scales


class LandUseInfeasible(CityDeskError):
    """The targets cannot all be met; ``shortfalls`` says which, by how much and why."""

    def __init__(self, shortfalls) -> None:
        self.shortfalls = shortfalls
        lines = "; ".join(s.describe() for s in shortfalls) or _("no target could be named")
        super().__init__(
            _("The land-use targets cannot all be met: {lines}.").format(lines=lines),
            _("Lower those targets, or relax the constraints named."),
        )
