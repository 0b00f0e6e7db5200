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
from citydesk.layers.i18n import _

from .lp_fix import PersistentLp
from .pareto import Objective, ParetoFront, ParetoPoint, collect_front, infeasible_model

AUGMENT = 1e-4  # f2 over its whole range is worth 0.01 % of f1's range
#: the most one MIP of a point may take when the front has a budget to share (it used to be
#: the only limit, fixed: on a loaded machine 8 of 21 points missed the gap target)
MIP_CAP_S = 60.0


def epsilon_front(
    problem: pulp.LpProblem,
    groups: Mapping[str, int],
    objectives: Sequence[Objective],
    points: int = 20,
    target_gap: float = 0.001,
    feedback: Feedback | None = None,
    time_limit: float | None = None,
) -> ParetoFront:
    """``points`` epsilon levels of the second objective, each answered by LP + marginal MIP.

    ``groups`` maps each binary variable's name to its group (its parcel); every group must
    take exactly one variable, as in land-use allocation.

    ``time_limit`` (seconds) is the whole front's budget. Each solve may use an equal share
    of what is left (at most ``MIP_CAP_S`` per MIP), so a point the solver closes quickly
    leaves its time to the next, and a slow machine spends longer rather than stopping
    points early. None means no overall limit (each MIP still stops at ``MIP_CAP_S``).
    Levels the budget did not reach, or where the solver found no plan in its share, are
    counted in ``unexplored``; points whose proven gap stayed above ``target_gap`` are named
    in the notes.
    """
    feedback = feedback or NullFeedback()
    if len(objectives) != 2:
        raise CityDeskError(
            _("The city-scale front takes 2 objectives, not {n}.").format(n=len(objectives)),
            _("Combine objectives with weights, or use AUGMECON2 on a smaller model."),
        )
    started = time.perf_counter()
    deadline = None if time_limit is None else started + time_limit
    n_levels = max(2, points)
    solves_left = n_levels + 2  # the two payoff solves, then one per level

    def solve_next():
        nonlocal solves_left
        share = MIP_CAP_S
        if deadline is not None:
            share = min(MIP_CAP_S, max(0.05, (deadline - time.perf_counter()) / solves_left))
        solves_left -= 1
        return engine.solve(target_gap, time_limit=share, deadline=deadline)

    first, second = objectives
    work = problem.copy()
    work += second.sign * second.expression >= -1e30, "_eps"
    engine = PersistentLp(work, groups, feedback)
    f = [engine.vector(o.sign * o.expression) for o in objectives]
    constants = [o.sign * o.expression.constant for o in objectives]

    def values_of(x: np.ndarray) -> tuple[float, ...]:
        return tuple(
            float(o.sign * (v @ x + c)) for o, v, c in zip(objectives, f, constants, strict=True)
        )

    feedback.push_info("payoff table")
    ends = []
    for lead in objectives:
        engine.maximise(lead.sign * lead.expression)
        result = solve_next()
        if not result.outcome.status.has_solution:
            if deadline is not None and time.perf_counter() >= deadline:
                raise CityDeskError(
                    _("The time limit ended the front before its end points were found."),
                    _("Give it more time (--time-limit), or fewer parcels."),
                    gui_fix=_("Give it a larger time budget, or fewer parcels."),
                )
            raise infeasible_model(lead.name)
        ends.append(values_of(result.values))
    table = np.array(ends)
    g = table * np.array([o.sign for o in objectives])  # both maximised
    lo, hi = g[0, 1], g[1, 1]
    span1 = max(abs(g[0, 0] - g[1, 0]), 1.0)
    span2 = max(hi - lo, 1e-9)
    engine.maximise(
        first.sign * first.expression + (AUGMENT * span1 / span2) * second.sign * second.expression
    )
    found: dict[tuple, ParetoPoint] = {}
    levels = np.linspace(lo, hi, n_levels)
    unreached = unanswered = 0
    for n, epsilon in enumerate(levels):
        check_canceled(feedback)
        if deadline is not None and time.perf_counter() >= deadline:
            unreached = len(levels) - n
            break
        engine.set_row_lower("_eps", float(epsilon))
        result = solve_next()
        feedback.set_progress(100.0 * (n + 1) / len(levels))
        if not result.outcome.status.has_solution:
            unanswered += 1  # no plan within its share of the time: a gap in the front
            continue
        values = values_of(result.values)
        key = tuple(round(v, 6) for v in values)
        if key not in found:
            chosen = np.flatnonzero(engine.binary & (result.values > 0.5))
            solution = {engine.variables[j].name: 1.0 for j in chosen}
            found[key] = ParetoPoint(values, result.outcome, solution)
    method = "epsilon-constraint, LP + marginal MIP"
    front = collect_front(objectives, found, table, started, method, len(levels) + 2)
    front.unexplored = unreached + unanswered
    if unreached:
        front.notes.append(
            _("The time limit ended the front after {done} of {total} levels.").format(
                done=len(levels) - unreached, total=len(levels)
            )
        )
    if unanswered:
        front.notes.append(
            _("{n} levels got no plan within their share of the time.").format(n=unanswered)
        )
    missed = [
        (k, p.outcome.gap)
        for k, p in enumerate(front.points, 1)
        if p.outcome.gap is None or p.outcome.gap > target_gap
    ]
    front.missed_gap = len(missed)
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
