"""Pareto fronts of city-scale allocation models, each point with its proven gap.

Exact AUGMECON2 (``citydesk.optimization.pareto``) solves a full MIP per grid point: on 13k parcels
x
7 uses CBC needed minutes for a single epsilon point. Here the epsilon-constraint grid runs
over :class:`citydesk.optimization.lp_fix.PersistentLp`: per point, the LP relaxation from the
previous
basis, then a MIP over the marginal parcels. The LP value is a valid bound, so each point's
gap is proven; the objective carries a small augmentation (eps * f2 scaled by the ranges) so
that points are efficient up to that gap. Points dominated within the gap are dropped and
counted in the notes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import numpy as np
import pulp

from citydesk.layers.errors import CityDeskError
from citydesk.layers.feedback import Feedback, NullFeedback, check_canceled
from citydesk.layers.i18n import _, ngettext

from .lp_fix import GroupFixResult, PersistentLp
from .pareto import Objective, ParetoFront, ParetoPoint, collect_front, infeasible_model
from .reduced_cost import SwitchCosts
from .solve import PROVEN_GAP, SolveOutcome, SolveStatus

AUGMENT = 1e-4  # f2 over its whole range is worth 0.01 % of f1's range
#: the most one MIP of a point may take when the front has a budget to share (it used to be
#: the only limit, fixed: on a loaded machine 8 of 21 points missed the gap target)
MIP_CAP_S = 60.0


def grid_levels(points: int, objectives: int) -> int:
    """Levels per constrained objective: ``points`` in all, about, so that a front of three
    objectives asked for 25 plans walks a 5 x 5 grid rather than 25 x 25."""
    return max(2, round(points ** (1.0 / (objectives - 1))))


def epsilon_front(
    problem: pulp.LpProblem,
    groups: Mapping[str, int],
    objectives: Sequence[Objective],
    points: int = 20,
    target_gap: float = 0.001,
    feedback: Feedback | None = None,
    time_limit: float | None = None,
) -> ParetoFront:
    """An epsilon-constraint grid over the second (and third) objective, each grid point
    answered by LP + marginal MIP.

    ``groups`` maps each binary variable's name to its group (its parcel); every group must
    take exactly one variable, as in land-use allocation.

    With three objectives the first is maximised and the other two are held to a grid of
    :func:`grid_levels` levels each; each row of the grid (one level of the third) walks the
    second's levels upwards and takes AUGMECON2's two shortcuts, which stay valid for plans
    proven only within a gap: a level whose LP is infeasible ends its row (every higher
    level is tighter), and a plan that already reaches the next levels answers them too
    (the tighter levels' bounds can only be lower, so its proven gap still holds).

    Each constrained objective's payoff LP is kept as a lesson (:mod:`.reduced_cost`): at a
    grid point whose level is near that objective's best, the parcels it fixes are held at
    their use for the point, which is how the extremes of the front get proven.

    ``time_limit`` (seconds) is the whole front's budget. Each solve may use an equal share
    of what is left (at most ``MIP_CAP_S`` per MIP), so a point the solver closes quickly
    leaves its time to the next, and a slow machine spends longer rather than stopping
    points early. None means no overall limit (each MIP still stops at ``MIP_CAP_S``).
    Levels the budget did not reach, or where the solver found no plan in its share, are
    counted in ``unexplored``; points whose proven gap stayed above ``target_gap`` are named
    in the notes.
    """
    feedback = feedback or NullFeedback()
    if len(objectives) not in (2, 3):
        raise CityDeskError(
            _("The city-scale front takes 2 or 3 objectives, not {n}.").format(n=len(objectives)),
            _("Combine objectives with weights, or use AUGMECON2 on a smaller model."),
        )
    started = time.perf_counter()
    deadline = None if time_limit is None else started + time_limit
    n_levels = points if len(objectives) == 2 else grid_levels(points, len(objectives))
    n_levels = max(2, n_levels)
    grid = n_levels ** (len(objectives) - 1)
    solves_left = grid + len(objectives)  # the payoff solves, then one per grid point

    def solve_next(retry_cold: bool = True):
        nonlocal solves_left
        share = MIP_CAP_S
        if deadline is not None:
            share = min(MIP_CAP_S, max(0.05, (deadline - time.perf_counter()) / solves_left))
        solves_left = max(1, solves_left - 1)
        return engine.solve(target_gap, time_limit=share, deadline=deadline, retry_cold=retry_cold)

    work = problem.copy()
    rows = [f"_eps{k}" for k in range(1, len(objectives))]
    for name, o in zip(rows, objectives[1:], strict=True):
        work += o.sign * o.expression >= -1e30, name
    engine = PersistentLp(work, groups, feedback)
    f = [engine.vector(o.sign * o.expression) for o in objectives]
    constants = [o.sign * o.expression.constant for o in objectives]

    def values_of(x: np.ndarray) -> tuple[float, ...]:
        return tuple(
            float(o.sign * (v @ x + c)) for o, v, c in zip(objectives, f, constants, strict=True)
        )

    signs = np.array([o.sign for o in objectives])
    feedback.push_info("payoff table")
    ends = []
    pool: list[tuple[np.ndarray, np.ndarray]] = []  # every plan met: (objectives maximised, x)
    lessons = []  # each objective's payoff LP, for reduced-cost fixing at the grid points
    for lead in objectives:
        engine.maximise(lead.sign * lead.expression)
        result = solve_next()
        lessons.append(engine.switch_costs())
        if result.outcome.status is SolveStatus.INFEASIBLE:
            raise infeasible_model(lead.name)
        if not result.outcome.status.has_solution:
            # no plan in the time the end point had (its LP may have ended optimal): not
            # "infeasible", which it was called whenever the front's deadline had not passed
            raise CityDeskError(
                _("The time limit ended the front before its end points were found."),
                _("Give it more time (--time-limit), or fewer parcels."),
                gui_fix=_("Give it a larger time budget, or fewer parcels."),
            )
        ends.append(values_of(result.values))
        pool.append((np.array(ends[-1]) * signs, result.values))
    table = np.array(ends)
    g = table * signs  # every objective maximised
    spans = [max(g[:, k].max() - g[:, k].min(), 1e-9) for k in range(len(objectives))]
    span1 = max(spans[0], 1.0)
    # f1 plus each constrained objective scaled to its range: the augmented objective
    weights = np.array([1.0] + [AUGMENT * span1 / spans[k] for k in range(1, len(objectives))])
    terms = zip(weights, objectives, strict=True)
    engine.maximise(pulp.lpSum(float(w) * o.sign * o.expression for w, o in terms))
    levels = [np.linspace(g[:, k].min(), g[k, k], n_levels) for k in range(1, len(objectives))]
    found: dict[tuple, ParetoPoint] = {}
    done = solved = unanswered = bypassed = closed = 0
    outer = levels[1] if len(levels) > 1 else np.array([np.nan])
    for row_level in outer:
        if not np.isnan(row_level):
            engine.set_row_lower(rows[1], float(row_level), constants[2])
        reached = -np.inf  # the second objective's value of the row's last plan
        for n, epsilon in enumerate(levels[0]):
            check_canceled(feedback)
            if deadline is not None and time.perf_counter() >= deadline:
                break
            if epsilon <= reached:  # the plan below already reaches this level
                bypassed += 1
                done += 1
                solves_left = max(1, solves_left - 1)  # its share goes to the others
                continue
            engine.set_row_lower(rows[0], float(epsilon), constants[1])
            engine.forbid(_forbidden(lessons[1:], [epsilon, row_level], engine.group))
            result = solve_next(retry_cold=False)
            if _undecided(result) and (deadline is None or time.perf_counter() < deadline):
                # the LP could not settle the point from the warm basis: first ask whether the
                # row reaches this level at all (one LP), before solving it again cold
                top = engine.ceiling(
                    objectives[1].sign * objectives[1].expression, rows[0], deadline
                )
                if top is not None and top < epsilon - 1e-6 * max(1.0, abs(epsilon)):
                    result = _above_ceiling(result)
                else:
                    solves_left += 1
                    result = solve_next()
            done += 1
            solved += 1
            feedback.set_progress(100.0 * done / grid)
            status = result.outcome.status
            if status is SolveStatus.INFEASIBLE:  # higher levels are tighter: none is feasible
                closed += len(levels[0]) - n - 1
                done += len(levels[0]) - n - 1
                solves_left = max(1, solves_left - (len(levels[0]) - n - 1))
                break
            levels_here = [epsilon] + ([] if np.isnan(row_level) else [row_level])
            result = _best_known(result, pool, weights, levels_here)
            if not result.outcome.status.has_solution:
                unanswered += 1  # no plan within its share of the time: a gap in the front
                continue
            values = values_of(result.values)
            maximised = np.array(values) * signs
            pool.append((maximised, result.values))
            reached = float(maximised[1])
            key = tuple(round(v, 6) for v in values)
            if key not in found:
                chosen = np.flatnonzero(engine.binary & (result.values > 0.5))
                solution = {engine.variables[j].name: 1.0 for j in chosen}
                found[key] = ParetoPoint(values, result.outcome, solution)
        if deadline is not None and time.perf_counter() >= deadline:
            break
    method = "epsilon-constraint, LP + marginal MIP"
    front = collect_front(objectives, found, table, started, method, solved + len(objectives))
    front.skipped = bypassed + closed
    unreached = grid - done
    front.unexplored = unreached + unanswered
    if unreached:
        front.stopped = "time limit"
        front.notes.append(
            _("The time limit ended the front after {done} of {total} grid points.").format(
                done=done, total=grid
            )
        )
    if unanswered:
        front.notes.append(
            ngettext(
                "{n} grid point got no plan within its share of the time.",
                "{n} grid points got no plan within their share of the time.",
                unanswered,
            ).format(n=unanswered)
        )
    missed = [
        (k, p.outcome.gap)
        for k, p in enumerate(front.points, 1)
        if p.outcome.gap is None or p.outcome.gap > target_gap
    ]
    front.missed_gap = len(missed)
    if len(front.points) == 1 and not unreached and not unanswered:
        front.notes.append(
            _(
                "One plan is best for every objective: they do not conflict in this city's data,"
                " so the front is that one plan."
            )
        )
    elif 1 < len(front.points) < grid and not unreached and not unanswered:
        front.notes.append(
            _("{n} different plans answer the {total} grid points: the others repeat them.").format(
                n=len(front.points), total=grid
            )
        )
    if missed:
        front.notes.append(
            _("{n} of {total} points missed the {target} gap target: {which}.").format(
                n=len(missed),
                total=len(front.points),
                target=f"{target_gap:.2%}",
                which=", ".join(
                    f"plan_{k} ({'-' if gap is None else f'{gap:.2%}'})" for k, gap in missed
                ),
            )
        )
    return front


def _forbidden(
    lessons: Sequence[SwitchCosts | None], levels: Sequence[float], group: np.ndarray
) -> np.ndarray:
    """The uses no plan of a grid point can have, by reduced-cost fixing from the payoff LPs
    of its constrained objectives (:mod:`.reduced_cost`): near an objective's best level
    its LP leaves few parcels any choice (at the social extreme of the 13k Cambridge parcels
    224 of 12,816, where the LP's bound alone was 10.7 % above the plan)."""
    out = np.zeros(group.size, dtype=bool)
    for lesson, level in zip(lessons, levels, strict=False):
        if lesson is not None and not np.isnan(level):
            out |= lesson.others(float(level), group)
    return out


def _undecided(result: GroupFixResult) -> bool:
    """No plan and no LP verdict: the point's LP ended neither optimal nor infeasible."""
    return result.outcome.status is SolveStatus.NO_SOLUTION and result.outcome.bound is None


def _above_ceiling(result: GroupFixResult) -> GroupFixResult:
    """The point's level is above its row's LP ceiling (:meth:`PersistentLp.ceiling`): no
    plan reaches it, so the point is infeasible and, as after an infeasible LP, so is every
    higher level of the row."""
    outcome = SolveOutcome(SolveStatus.INFEASIBLE, None, None, result.outcome.seconds, "highs")
    return GroupFixResult(outcome, result.values, 0)


def _best_known(
    result: GroupFixResult,
    pool: Sequence[tuple[np.ndarray, np.ndarray]],
    weights: np.ndarray,
    levels: Sequence[float],
) -> GroupFixResult:
    """The solve's plan, or a plan met earlier (a payoff end, another grid point's) that
    also meets this grid point's levels and scores better, with its gap to this point's
    bound. Under a short share of time the marginal MIP may find nothing, or less than a
    plan already in hand; a plan is never lost that way, and its gap still says how good
    it is here."""
    bound = result.outcome.bound
    if bound is None:
        return result
    best, best_score = None, -np.inf
    for g, x in pool:
        tight = np.array([g[k + 1] - level for k, level in enumerate(levels)])
        if (tight >= -1e-7 * np.maximum(1.0, np.abs(levels))).all():
            score = float(weights @ g)
            if score > best_score:
                best, best_score = x, score
    mine = result.outcome.objective
    if best is None or (mine is not None and mine >= best_score):
        return result
    gap = max(0.0, bound - best_score) / max(1.0, abs(best_score))
    status = SolveStatus.OPTIMAL if gap <= PROVEN_GAP else SolveStatus.FEASIBLE
    outcome = SolveOutcome(status, best_score, bound, result.outcome.seconds, "highs")
    return GroupFixResult(outcome, best, result.freed)
