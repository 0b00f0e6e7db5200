"""Two-step floating catchment area (2SFCA) accessibility (Luo and Wang, 2003).

Step 1, for each facility j with supply S_j (school seats): its supply-to-demand ratio
R_j = S_j / sum of the demand P_i of every place i within the catchment of j (cost <= d0).
Step 2, for each place i: A_i = sum of R_j over the facilities j within its catchment.

A_i reads as "seats per resident within reach". Every seat of a facility that has anyone in
its catchment is shared out exactly once, so sum_i P_i * A_i equals the total supply of those
facilities; the tests check that invariant on the real Cambridge network. A facility with no
demand in reach has R_j = 0 (its seats serve nobody we model), and a place with no facility
in reach has A_i = 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np

from citydesk.layers.feedback import Feedback

from .network_access import NetworkCosts


@dataclass(frozen=True)
class TwoStepResult:
    access: np.ndarray  # per place: supply per unit of demand within reach
    ratio: np.ndarray  # per facility: supply / demand in its catchment (0 when none)
    demand_in_reach: np.ndarray  # per facility: the demand in its catchment
    served_supply: float  # supply of the facilities that have demand in their catchment


def two_step_fca(
    cost: np.ndarray, supply: np.ndarray, demand: np.ndarray, catchment: float
) -> TwoStepResult:
    """2SFCA on a places x facilities cost matrix (``inf`` = out of reach)."""
    cost = np.asarray(cost, dtype=float)
    supply = np.asarray(supply, dtype=float)
    demand = np.asarray(demand, dtype=float)
    if cost.shape != (len(demand), len(supply)):
        raise ValueError(f"cost is {cost.shape}, expected {(len(demand), len(supply))}")
    if (supply < 0).any() or (demand < 0).any():
        raise ValueError("supply and demand must not be negative")
    reach = cost <= catchment
    in_reach = demand @ reach
    ratio = np.divide(supply, in_reach, out=np.zeros_like(supply), where=in_reach > 0)
    access = reach @ ratio
    return TwoStepResult(access, ratio, in_reach, float(supply[in_reach > 0].sum()))


def network_two_step_fca(
    costs: NetworkCosts,
    places: gpd.GeoSeries,
    demand: np.ndarray,
    facilities: gpd.GeoSeries,
    supply: np.ndarray,
    catchment: float,
    feedback: Feedback | None = None,
) -> TwoStepResult:
    """2SFCA with network costs from each place to each facility (one Dijkstra per
    facility, cut at the catchment)."""
    cost = costs.facility_costs(
        costs.entrances(facilities), costs.snap_places(places), limit=catchment, feedback=feedback
    )
    return two_step_fca(cost, supply, demand, catchment)
