"""The algorithm: run(params, context, feedback) -> outputs. It never touches Qt."""

from __future__ import annotations

import pandas as pd

from .exposure import exposed, metric_crs


def run(params, context, feedback):
    parcels = params["parcels"]
    roads = params["roads"]
    if params.get("road_filter"):
        from citydesk.layers.expressions import filter_mask  # CityDesk's safe filter language

        roads = roads[filter_mask(roads, params["road_filter"]).to_numpy()]
    crs = metric_crs(parcels)
    feedback.set_progress(20)
    near = exposed(parcels.to_crs(crs), roads.to_crs(crs), params["distance"])
    feedback.set_progress(80)
    units = pd.to_numeric(parcels[params["units_field"]], errors="coerce").fillna(0)
    out = parcels[near].copy()
    context.push_message(f"{int(near.sum())} parcels within {params['distance']:g} m")
    return {
        "output": out,
        "parcels": int(near.sum()),
        "housing_units": float(units[near].sum()),
        "share_of_units": float(units[near].sum() / max(units.sum(), 1)),
    }
