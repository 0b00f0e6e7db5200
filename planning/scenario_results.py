"""A scenario run's results in the project: a styled plan layer and the indicator rows."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from citydesk.layers.i18n import _

from .landuse_front import USE_COLOURS, use_label
from .scenario_store import save_indicators

if TYPE_CHECKING:
    from citydesk.layers.layer import VectorLayer

#: the per-parcel columns a plan layer carries (when the run computed them)
LAYER_COLUMNS = (
    "use",
    "changed",
    "units_before",
    "units_after",
    "residents",
    "walk_school_m",
    "walk_park_m",
    "walk_clinic_m",
    "drive_fire_s",
    "school_access",
    "suitability",
    "phase",
    "neighborhood",
)


def plan_frame(
    parcels: gpd.GeoDataFrame, state: pd.DataFrame, keep: Sequence[str] = ()
) -> gpd.GeoDataFrame:
    """The parcels' ``keep`` columns (the profile's id, address and land use: see
    :func:`~citydesk.layers.city_layers.identity_columns`) with the run's per-parcel
    columns; unreachable costs are left empty rather than written as infinity. A city field
    named like a result column (a land-use field called ``use``) gives way to the result."""
    values = state[[c for c in LAYER_COLUMNS if c in state.columns]].copy()
    keep = [c for c in keep if c not in values.columns and c != "geometry"]
    for column in values.columns:
        if values[column].dtype.kind == "f":
            values[column] = values[column].replace([np.inf, -np.inf], np.nan)
    frame = pd.concat([parcels[keep].reset_index(drop=True), values.reset_index(drop=True)], axis=1)
    return gpd.GeoDataFrame(frame, geometry=parcels.geometry.values, crs=parcels.crs)


def plan_layer(parcels: gpd.GeoDataFrame, result, keep: Sequence[str] = ()) -> VectorLayer:
    """A vector layer of the plan, categorized by use (unchanged parcels unfilled)."""
    from citydesk.layers.layer import LayerRole, VectorLayer
    from citydesk.layers.style import Category, Style, Symbol

    name = result.scenario.name
    return VectorLayer(
        name=_("Scenario {title}").format(title=result.scenario.display_title()),
        data=plan_frame(parcels, result.state, keep),
        role=LayerRole.LAND,
        id=f"scenario_{name}",
        style=Style(
            kind="categorized",
            symbol=Symbol(fill="none", stroke="#bbbbbb", stroke_width=0.05),
            field="use",
            categories=[
                Category(
                    use, use_label(use), Symbol(fill=colour, stroke="#bbbbbb", stroke_width=0.05)
                )
                for use, colour in USE_COLOURS.items()
            ],
        ),
    )


def save_result(
    project: str | Path, parcels: gpd.GeoDataFrame, result, keep: Sequence[str] = ()
) -> str:
    """Write the plan layer (group "Planning", on top; ``keep``: the parcel columns it
    starts with) and the indicators; returns the layer id."""
    from citydesk.layers.project_store import put_layers

    layer = plan_layer(parcels, result, keep)
    put_layers(project, [layer], group=_("Planning"))
    save_indicators(project, result.scenario.name, result.revision or 0, result.indicators)
    return layer.id
