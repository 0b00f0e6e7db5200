"""Reduced-cost fixing for one-use-per-parcel models: what an LP optimum proves about every plan.

An LP optimum of ``max f`` with value ``U``, reduced costs ``d`` and row duals ``y`` bounds every
feasible plan ``x`` (integer or not) by

    U - f(x) >= sum_j d_j (x_j - lp_j)

with every term non-negative: a column at its lower bound has ``d_j >= 0`` and can only rise,
one at its upper bound ``d_j <= 0`` and can only fall, and the row terms (dropped here) have the
same signs. In a group of binaries of which exactly one is 1 (a parcel's uses), moving the plan
from the LP's use ``u`` to ``a`` costs ``d_a - d_u`` at least; the cheapest such move is the
group's *least switch*. So a plan with ``f(x) >= level`` keeps the LP's use in every group whose
least switch exceeds ``U - level``: the textbook reduced-cost fixing, per group.

Two places use it. A front's grid point holds a constrained objective at ``level``; the payoff
LP of that objective (solved once) fixes the groups of every point whose level is near that
objective's best: at the social extreme of the 13k-parcel Cambridge model all but 224 of 12,816
parcels. And a point's own LP, with the plan in hand as the level, shows when the parcels a
restricted MIP left fixed could not have helped, so that MIP's bound holds for the whole model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SwitchCosts:
    """One LP optimum's lesson: ``bound`` (its value), per group the LP's ``use`` (a column;
    -1 where the LP splits the group) and ``least`` switch (-inf where split, +inf where the
    group has no alternative), per column its ``switch`` (:func:`column_switch`, which the
    marginal ranking reads too), and ``slack``, the LP's summed dual infeasibilities, by
    which the inequality may be off in floating point."""

    bound: float
    use: np.ndarray
    least: np.ndarray
    switch: np.ndarray
    slack: float

    def kept(self, level: float) -> np.ndarray:
        """Groups in which every plan reaching ``level`` has the LP's use (a bool per group)."""
        budget = self.bound - level + self.slack + 1e-9 * max(1.0, abs(self.bound))
        return self.least > budget

    def others(self, level: float, group: np.ndarray) -> np.ndarray:
        """The columns no plan reaching ``level`` can use: every column of a kept group but
        the LP's use (a bool per column; ``group`` is each column's group, -1 for none)."""
        kept = self.kept(level)
        in_kept = group >= 0
        in_kept[in_kept] = kept[group[group >= 0]]
        out = in_kept.copy()
        uses = self.use[kept]
        out[uses[uses >= 0]] = False
        return out


def column_switch(group: np.ndarray, lp: np.ndarray, reduced: np.ndarray) -> np.ndarray:
    """Per column, what moving its group onto it costs: its reduced cost minus that of the
    group's used column (HiGHS minimises, so both are signed). +inf for used columns and
    columns of no group.

    An alternative's reduced cost alone is not enough: the one-use row's dual is free to shift
    both, and HiGHS often leaves the used column at its upper bound with the whole difference
    on it and a zero on the alternative."""
    binary = group >= 0
    used = binary & (lp >= 0.5)
    current = np.zeros(int(group.max()) + 1 if binary.any() else 0)
    current[group[used]] = reduced[used]
    unused = binary & (lp < 0.5)
    switch = np.full(group.size, np.inf)
    switch[unused] = reduced[unused] - current[group[unused]]
    return switch


def switch_costs(
    group: np.ndarray,
    lp: np.ndarray,
    reduced: np.ndarray,
    bound: float,
    slack: float,
    n_groups: int,
) -> SwitchCosts:
    """The lesson of an LP optimum (``lp`` values, ``reduced`` costs in HiGHS's minimising
    sense, ``bound`` its value as maximised) for the ``n_groups`` groups of binaries
    ``group`` (each column's group, -1 for none)."""
    binary = group >= 0
    split = np.zeros(n_groups, dtype=bool)
    split[group[binary & (np.abs(lp - np.round(lp)) > 1e-6)]] = True
    switch = column_switch(group, lp, reduced)
    least = np.full(n_groups, np.inf)
    alternative = binary & np.isfinite(switch)
    np.minimum.at(least, group[alternative], switch[alternative])
    least[split] = -np.inf
    use = np.full(n_groups, -1)
    used = binary & (lp >= 0.5)
    use[group[used]] = np.flatnonzero(used)
    use[split] = -1
    return SwitchCosts(float(bound), use, least, switch, float(slack))
