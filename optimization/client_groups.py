"""Clients that choose alike, merged: an exact reduction of the p-median.

Why: on a road graph many demand points are reached through the same node (every point of a
one-way street through the street's start), so their costs to all sites differ by a constant,
``c_ij = a_i + d(u, j)``. Whatever sites are open, such clients are served by the same one,
and their share of the p-median's objective is ``sum a_i w_i`` plus one merged client's cost
with weight ``sum w_i``. Merging them shrinks every stage of the solve (the search, the
Lagrangian bound, the radius model; on Cambridge's roads 10,000 demand points become 5,582)
and changes no plan's cost.

Rows are compared after subtracting their smallest finite cost, rounded to a billionth of the
matrix's largest finite cost (the subtraction itself leaves float noise of about 1e-13 of a
cost): a plan's cost on the merged clients differs from its cost on the original ones by at
most that billionth times the total weight, far inside the solvers' tolerances. Clients of
weight 0 are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: rows whose shifted costs agree to this share of the largest finite cost are merged
RESOLUTION = 1e-9


@dataclass(frozen=True)
class ClientGroups:
    costs: np.ndarray  # one row per group: its first member's costs minus that row's minimum
    weights: np.ndarray  # the members' total weight
    constant: float  # sum over clients of weight x row minimum: add it to any plan's cost
    group: np.ndarray  # the group of each original client (-1: weight 0, dropped)

    @property
    def count(self) -> int:
        return len(self.weights)


def same_rows(keys: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clients whose ``keys`` rows are equal, as one: the first member of each group, each
    client's group, and each group's summed weight. The one merge behind the p-median's
    groups and the covering models' (``covering.coverage_groups``)."""
    _keys, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    return first, inverse, np.bincount(inverse, weights=weights, minlength=first.size)


def group_clients(costs: np.ndarray, weights: np.ndarray) -> ClientGroups:
    """Merge the clients whose costs differ by a constant across every site.

    Every client must reach at least one site (a finite cost): ``FacilityProblem`` checks it.
    """
    costs = np.asarray(costs, dtype=float)
    weights = np.asarray(weights, dtype=float)
    finite = np.isfinite(costs)
    shift = np.where(finite, costs, np.inf).min(axis=1)
    used = np.flatnonzero(weights > 0)
    shifted = costs[used] - shift[used, None]
    scale = float(np.max(np.where(finite[used], shifted, 0.0), initial=0.0)) or 1.0
    keys = np.round(shifted / (scale * RESOLUTION))  # inf stays inf: an unreachable site
    first, inverse, summed = same_rows(keys, weights[used])
    group = np.full(len(weights), -1)
    group[used] = inverse
    return ClientGroups(
        costs=shifted[first],
        weights=summed,
        constant=float(weights[used] @ shift[used]),
        group=group,
    )
