"""The multi-objective 0/1 knapsack: read from CSV files and built as a model, once.

Why it is here: the knapsack fronts are the exact Pareto engine's check against published
fronts (`citydesk optimize pareto`, the tests, the benchmark). The files follow pyaugmecon's
layout: ``c.csv`` the objectives' profits (one row per objective), ``a.csv`` the constraint
weights and ``b.csv`` the capacities (``A x <= b``), each with a header row and an index
column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pulp

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _

from .pareto import Objective


def read_knapsack(folder: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(profits, weights, capacities)`` from ``folder``'s c.csv, a.csv and b.csv."""
    folder = Path(folder)
    try:
        profits, weights, capacity = (
            pd.read_csv(folder / f"{n}.csv", index_col=0).to_numpy(dtype=float)
            for n in ("c", "a", "b")
        )
    except (OSError, ValueError) as exc:
        raise CityDeskError(
            _("Cannot read the knapsack CSV files in {folder}: {err}").format(
                folder=folder, err=exc
            ),
            _("The folder needs c.csv, a.csv and b.csv with a header row and an index column."),
        ) from exc
    if weights.shape[1] != profits.shape[1] or capacity.size != weights.shape[0]:
        raise CityDeskError(
            _(
                "The knapsack files do not fit together: {items} items in c.csv, {w} in "
                "a.csv, {rows} constraint rows and {caps} capacities."
            ).format(
                items=profits.shape[1],
                w=weights.shape[1],
                rows=weights.shape[0],
                caps=capacity.size,
            ),
            _("Give a.csv one column per item of c.csv, and b.csv one capacity per row of a.csv."),
        )
    return profits, weights, capacity.ravel()


def knapsack_model(
    profits: np.ndarray, weights: np.ndarray, capacity: np.ndarray, name: str = "knapsack"
) -> tuple[pulp.LpProblem, list[Objective]]:
    """The model ``A x <= b``, x binary, and one maximised objective per row of profits
    (integer-valued when every profit is an integer, so the exact front's grid is step 1)."""
    items = range(profits.shape[1])
    model = pulp.LpProblem(name, pulp.LpMaximize)
    x = [pulp.LpVariable(f"x_{i}", cat=pulp.LpBinary) for i in items]
    for r in range(weights.shape[0]):
        model += pulp.lpSum(float(weights[r, i]) * x[i] for i in items) <= float(capacity[r])
    integer = bool(np.all(np.equal(np.mod(profits, 1), 0)))
    objectives = [
        Objective(
            f"f{k + 1}", pulp.lpSum(float(profits[k, i]) * x[i] for i in items), integer=integer
        )
        for k in range(profits.shape[0])
    ]
    return model, objectives
