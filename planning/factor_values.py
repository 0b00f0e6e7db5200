"""Raw values of suitability factors for each parcel, from the project's layers.

One function per factor source; :mod:`citydesk.planning.suitability` turns the raw values into
0..1 scores. Sources:

* ``network``: walking (or driving) cost on the street network to the nearest facility of a
  kind defined in the scenario;
* ``field``: a column of the parcel layer, or arithmetic on columns in the filter language
  (``land_value_usd / land_area_sqft``);
* ``distance``: straight-line metres to the nearest feature of a layer;
* ``overlay``: share of the parcel's area inside a layer (0..1);
* ``raster``: a zonal statistic of a raster, either a raster layer of the project or a
  GeoTIFF path (relative to the project's folder), vectorized (:mod:`citydesk.layers.zonal_stats`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from citydesk.layers.expressions import evaluate_expression
from citydesk.layers.i18n import _
from citydesk.layers.layer import RasterLayer
from citydesk.layers.overlay import nearest_distance
from citydesk.layers.zonal_stats import zonal_stats

from .scenario import Factor, ScenarioError


def factor_values(
    name: str,
    factor: Factor,
    parcels: gpd.GeoDataFrame,
    read_layer: Callable[[str, str], gpd.GeoDataFrame],
    read_raster: Callable[[str, str], RasterLayer],
    network_cost: Callable[[str, str], np.ndarray],
    share_in: Callable[[str, str], np.ndarray],
) -> np.ndarray:
    """One raw value per parcel. The readers name the scenario field in their errors:
    ``read_layer(layer, field)``, ``read_raster(layer, field)``,
    ``network_cost(facility kind, field)`` and ``share_in(layer, field)`` (the share of
    each parcel's area inside a layer: the caller keeps them, a scenario's other steps cut
    the same layers)."""
    where = f"suitability.factors.{name}"
    if factor.source == "network":
        return network_cost(factor.facility, f"{where}.facility")
    if factor.source == "field":
        try:
            values = evaluate_expression(parcels, factor.expression)
        except Exception as exc:
            raise ScenarioError(
                _("{where}.expression: {exc}").format(where=where, exc=exc), getattr(exc, "fix", "")
            ) from exc
        if factor.transform == "categories":
            return values.to_numpy()
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(float)
        return np.where(np.isfinite(numbers), numbers, np.nan)  # x / 0 is no value
    if factor.source == "distance":
        return nearest_distance(parcels, read_layer(factor.layer, f"{where}.layer"))
    if factor.source == "overlay":
        return share_in(factor.layer, f"{where}.layer")
    raster = read_raster(factor.layer, f"{where}.layer")
    stats = zonal_stats(parcels.geometry, raster, (factor.statistic,))
    return stats[factor.statistic].to_numpy(float)


def raster_from(project: str | Path, layer: str) -> RasterLayer | None:
    """A project raster layer by id, or a GeoTIFF path relative to the project's folder."""
    from citydesk.layers.project_store import read_project_raster
    from citydesk.layers.readers.raster import read_raster

    if layer.lower().endswith((".tif", ".tiff")):
        path = Path(layer)
        path = path if path.is_absolute() else Path(project).parent / path
        return read_raster(path) if path.exists() else None
    return read_project_raster(project, layer)
