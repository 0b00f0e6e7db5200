"""Suitability of a scenario's parcels: its factors' raw values, scores and the overlay.

Weights are the scenario's ``suitability.weights``, or come from its ``pairwise``
comparisons through AHP (the consistency ratio is kept with the result so the report can
show it); with neither, every factor weighs the same.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from citydesk.layers.i18n import _

from .ahp import AhpResult, ahp_weights, pairwise_matrix
from .factor_values import factor_values, raster_from
from .scenario import Scenario, ScenarioError
from .suitability import suitability


def factor_weights(scenario: Scenario) -> tuple[dict[str, float], AhpResult | None]:
    su = scenario.suitability
    names = list(su.factors)
    if su.pairwise:
        result = ahp_weights(names, pairwise_matrix(names, [tuple(t) for t in su.pairwise]))
        return result.as_dict(), result
    if su.weights:
        return {n: su.weights.get(n, 0.0) for n in names}, None
    return dict.fromkeys(names, 1.0), None


def run_suitability(inputs, scenario: Scenario) -> pd.DataFrame:
    """Per parcel: raw factor values (``raw_<factor>``), scores (``s_<factor>``),
    ``suitability`` and ``factors_missing``; ``attrs["ahp"]`` holds the AHP result."""
    su = scenario.suitability

    def read_raster(layer: str, where: str):
        raster = raster_from(inputs.project, layer)
        if raster is None:
            raise ScenarioError(
                _("{where} = '{layer}': no raster layer or GeoTIFF of that name").format(
                    where=where, layer=layer
                ),
                _("Add the raster to the project, or give a .tif path next to the project."),
            )
        return raster

    def network_cost(key: str, where: str) -> np.ndarray:
        return inputs.facility_cost(key, scenario.facilities[key])

    raw = pd.DataFrame(
        {
            name: factor_values(
                name, f, inputs.parcels, inputs.layer, read_raster, network_cost, inputs.share_in
            )
            for name, f in su.factors.items()
        }
    )
    raw = raw.replace([np.inf, -np.inf], np.nan)  # unreachable: no value, not "very far"
    transforms = {name: f.to_transform() for name, f in su.factors.items()}
    weights, ahp = factor_weights(scenario)
    out = pd.concat([raw.add_prefix("raw_"), suitability(raw, transforms, weights)], axis=1)
    out.attrs["ahp"] = ahp
    out.attrs["weights"] = weights
    return out


def suitability_frame(inputs, result: pd.DataFrame) -> gpd.GeoDataFrame:
    """The parcels with their suitability columns, for a layer."""
    keep = [c for c in inputs.identity_columns() if c not in result.columns]  # the result wins
    return gpd.GeoDataFrame(
        pd.concat([inputs.parcels[keep], result], axis=1),
        geometry=inputs.parcels.geometry.values,
        crs=inputs.crs,
    )
