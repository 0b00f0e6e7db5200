"""Why a land-use model is infeasible: elastic targets, then the capacity of each target.

Step 1 (elastic): every target row gets a slack s_t in [0, target_t] and the model minimises
sum_t s_t / target_t, so the smallest relative violation shows which targets conflict.
Step 2 (capacity): for each short target, the most it can reach alone under the hard
constraints (one use per parcel, zoning, protected land, budget, change cap): a MIP with a
budget, a sort without one (:func:`_most_by_sorting`).
Step 3 (cause): that maximum is recomputed with one constraint group relaxed at a time;
the groups whose relaxation raises it are the ones named in the message, e.g.
"housing target 5,000 units; at most 3,870 are possible under the zoning and
protected-land constraints".
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pulp

from citydesk.layers.i18n import _

from .landuse import (
    LandUseProblem,
    build_landuse_model,
    effective_allowed,
    target_label,
    target_unit,
)
from .solve import SolveOptions, solve

GROUPS = ("budget", "max_changed", "zoning", "protected")


def _group_label(group: str) -> str:
    return {
        "budget": _("budget"),
        "max_changed": _("change cap"),
        "zoning": _("zoning"),
        "protected": _("protected-land"),
    }[group]


@dataclass(frozen=True)
class Shortfall:
    """One target that cannot be met, with the most that is possible and what limits it."""

    target: str
    wanted: float
    reached: float  # in the least-violating compromise of all targets
    most_possible: float  # this target alone, under every hard constraint
    limited_by: tuple[str, ...]

    def describe(self) -> str:
        unit = target_unit(self.target)
        labels = [_group_label(g) for g in self.limited_by]
        causes = labels[0] if len(labels) == 1 else ""
        if len(labels) > 1:
            causes = _("{first} and {last}").format(first=", ".join(labels[:-1]), last=labels[-1])
        base = _("{target} target {wanted:,.0f} {unit}; at most {most:,.0f} are possible").format(
            target=target_label(self.target),
            wanted=self.wanted,
            unit=unit,
            most=self.most_possible,
        )
        if causes:
            base += " " + _("under the {causes} constraints").format(causes=causes)
        if self.most_possible >= self.wanted - 1e-6:
            base = _(
                "{target} target {wanted:,.0f} {unit} is possible alone, but with the other"
                " targets only {reached:,.0f} are reached"
            ).format(
                target=target_label(self.target),
                wanted=self.wanted,
                unit=unit,
                reached=self.reached,
            )
        return base


def explain_infeasibility(
    inputs: LandUseProblem, options: SolveOptions | None = None, feedback=None
) -> list[Shortfall]:
    """The targets that conflict, by how much, and which constraint groups limit them.

    With one target the elastic step is skipped: its least violation is that target's most
    possible, which step 2 computes anyway, and CBC proves the elastic model slowly (its
    objective is a single slack, so nothing guides the branching: 48 s on the demo for a
    housing target, where the same optimum as a housing maximum takes 5 s)."""
    wanted = {name: float(t) for name, t in inputs.targets.items() if t > 0}
    if len(wanted) == 1:
        ((name, target),) = wanted.items()
        most = _most_possible(inputs, name, options, feedback)
        if most < target - 1e-6 * max(1.0, target):
            return [_shortfall(inputs, name, target, most, most, options, feedback)]
    elastic = build_landuse_model(inputs, with_targets=False)
    slacks = {}
    for name, target in wanted.items():
        s = pulp.LpVariable(f"short_{name}", lowBound=0, upBound=float(target))
        elastic.problem += elastic.expressions[f"target:{name}"] + s >= float(target), f"t_{name}"
        slacks[name] = (s, float(target))
    elastic.problem.sense = pulp.LpMinimize
    elastic.problem.setObjective(pulp.lpSum(s / t for s, t in slacks.values()))
    solve(elastic.problem, options, feedback)
    shortfalls = []
    for name, (s, target) in slacks.items():
        if (s.varValue or 0.0) <= 1e-6 * max(1.0, target):
            continue
        reached = float(pulp.value(elastic.expressions[f"target:{name}"]))
        most = _most_possible(inputs, name, options, feedback)
        shortfalls.append(_shortfall(inputs, name, target, reached, most, options, feedback))
    return shortfalls


def _shortfall(
    inputs: LandUseProblem, name: str, target: float, reached: float, most: float, options, feedback
) -> Shortfall:
    """The shortfall of one target, with the constraint groups whose relaxation raises its
    most possible."""
    limited = tuple(
        group
        for group in GROUPS
        if (relaxed := _relax(inputs, group)) is not None
        and _most_possible(relaxed, name, options, feedback) > most + 1e-6 * max(1.0, most)
    )
    return Shortfall(name, target, reached, most, limited)


def _most_possible(inputs: LandUseProblem, target: str, options, feedback) -> float:
    """The most ``target`` can reach under the hard constraints alone."""
    if inputs.budget is None:
        return _most_by_sorting(inputs, target)
    model = build_landuse_model(inputs, with_targets=False)
    model.problem.sense = pulp.LpMaximize
    model.problem.setObjective(model.expressions[f"target:{target}"])
    outcome = solve(model.problem, options, feedback)
    return float(outcome.objective or 0.0)


def _relax(inputs: LandUseProblem, group: str) -> LandUseProblem | None:
    """The inputs with one constraint group lifted (None when it is not there)."""
    if group == "budget":
        return replace(inputs, budget=None) if inputs.budget is not None else None
    if group == "max_changed":
        return replace(inputs, max_changed=None) if inputs.max_changed is not None else None
    if group == "protected":
        protected = inputs.protected
        return (
            replace(inputs, protected=None) if protected is not None and np.any(protected) else None
        )
    allowed = np.asarray(inputs.allowed, dtype=bool)
    if allowed.all():
        return None
    return replace(inputs, allowed=np.ones_like(allowed))


def _most_by_sorting(inputs: LandUseProblem, target: str) -> float:
    """The most a target can reach without a budget, exactly and without a solver: every
    parcel keeps its use or takes the allowed use that adds most to the target, and the
    change cap takes the parcels whose change adds most. The MIP of the same question took
    CBC 6 s a call on the 13k demo parcels, and the explanation asks it once per target and
    once more per constraint group (38 s for the demo's 200,000-home plan)."""
    amounts = np.asarray(inputs.yields[target], dtype=float)
    allowed = effective_allowed(inputs)
    kept = amounts[:, 0]  # keeping today's use is always allowed
    others = np.where(allowed[:, 1:], amounts[:, 1:], -np.inf)
    gain = others.max(axis=1, initial=-np.inf) - kept
    gains = np.sort(gain[gain > 0])[::-1]
    if inputs.max_changed is not None:
        gains = gains[: max(0, int(inputs.max_changed))]
    return float(kept.sum() + gains.sum())
