"""The built-in algorithms: thin adapters from typed parameters to CityDesk's own functions.

Each is ``run(params, context, feedback) -> outputs``, exactly what a third-party plugin
writes, so the host, the generated dialogs, the CLI and history treat them alike.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np

from citydesk.layers.crs import suggest_projected_crs, to_lonlat_bounds
from citydesk.layers.errors import CityDeskError
from citydesk.layers.expressions import filter_mask
from citydesk.layers.i18n import _


def _metric(frame: gpd.GeoDataFrame):
    return suggest_projected_crs(
        to_lonlat_bounds(tuple(frame.total_bounds), frame.crs), frame.crs.geodetic_crs
    )


def _filtered(frame: gpd.GeoDataFrame, text: str | None) -> gpd.GeoDataFrame:
    if not text:
        return frame
    return frame[filter_mask(frame, text).to_numpy()]


def buffer(params, context, feedback):
    frame = params["input"]
    crs = _metric(frame)
    shapes = frame.to_crs(crs).buffer(params["distance"])
    if params["dissolve"]:
        out = gpd.GeoDataFrame(geometry=[shapes.union_all()], crs=crs)
    else:
        out = gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=shapes.values, crs=crs)
    feedback.set_progress(100)
    return {"output": out.to_crs(frame.crs), "features": len(out)}


def repair_geometries(params, context, feedback):
    """The GUI's way to the validation report's ``--repair`` (QGIS: Fix geometries)."""
    from citydesk.layers.validation import repair

    out, repaired = repair(params["input"])
    feedback.set_progress(100)
    return {"output": out, "repaired": repaired}


def zonal_statistics(params, context, feedback):
    from citydesk.layers.zonal_stats import zonal_stats
    from citydesk.planning.factor_values import raster_from

    raster = raster_from(context.project_path, params["raster"])
    if raster is None:
        raise CityDeskError(
            _("no raster layer or GeoTIFF '{name}'").format(name=params["raster"]),
            _("Give a raster layer id of the project or a .tif path next to it."),
        )
    polygons = params["polygons"]
    stat = params["statistic"]
    values = zonal_stats(polygons.geometry, raster, (stat,))
    out = polygons.copy()
    out[stat] = values[stat].to_numpy()
    out["pixels"] = values["pixels"].to_numpy()
    feedback.set_progress(100)
    return {"output": out, "polygons": len(out), "without_pixels": int((out["pixels"] == 0).sum())}


def _network(params, context):
    from citydesk.layers.city_profile import profile_or_none
    from citydesk.layers.road_network import build_network, network_spec
    from citydesk.planning.network_access import MODES, NetworkCosts

    # walking uses the profile's walkable segments (footways too), driving the drivable ones
    spec = network_spec(profile_or_none(context.project_path), params["mode"], use_node_ids=False)
    network = build_network(params["streets"], spec)
    return network, NetworkCosts(network, MODES[params["mode"]])


def nearest_facility(params, context, feedback):
    from citydesk.planning.network_access import nearest_facility as nearest

    facilities = _filtered(params["facilities"], params.get("facility_filter"))
    if facilities.empty:
        raise CityDeskError(_("no facility matches the filter"), _("Check the filter."))
    network, costs = _network(params, context)
    feedback.set_progress(40)
    places = params["places"]
    cost, owner = nearest(costs, places.geometry, facilities.geometry, to_facility=True)
    out = places.copy()
    column = "walk_m" if params["mode"] == "walk" else "drive_s"
    out[column] = np.where(np.isfinite(cost), cost, np.nan)
    names = facilities.get("name", facilities.index.astype(str)).astype(str).to_numpy()
    out["nearest"] = np.where(owner >= 0, names[np.maximum(owner, 0)], "")
    feedback.set_progress(100)
    return {
        "output": out,
        "median": float(np.nanmedian(out[column])),
        "unreachable": int(np.isnan(out[column]).sum()),
        "network": network.report.lines(),
    }


def service_areas(params, context, feedback):
    from citydesk.planning.network_access import service_areas as areas

    facilities = _filtered(params["facilities"], params.get("facility_filter"))
    try:
        thresholds = [float(t) for t in params["thresholds"].split(",") if t.strip()]
    except ValueError:
        raise CityDeskError(
            _("thresholds must be numbers separated by commas"), _("For example 400,800,1200.")
        ) from None
    costs = _network(params, context)[1]
    out = areas(costs, facilities.geometry, thresholds)
    feedback.set_progress(100)
    return {"output": out.to_crs(facilities.crs), "areas_km2": (out.area / 1e6).round(3).tolist()}


def suitability(params, context, feedback):
    from citydesk.planning.analysis_layers import save_suitability
    from citydesk.planning.scenario_store import load_scenario

    scenario = load_scenario(context.project_path, params["scenario"])
    layer_id, result = save_suitability(context.project_path, scenario)
    ahp = result.attrs.get("ahp")
    return {
        "layer": layer_id,
        "weights": result.attrs["weights"],
        "consistency_ratio": None if ahp is None else ahp.consistency_ratio,
    }


def unit_grid(params, context, feedback):
    from citydesk.incidents.grid import GridSpec, build_unit_grid
    from citydesk.incidents.project_grid import save_grid_to_project

    spec = GridSpec(
        county_code=params["county"],
        cell_size_m=params["cell_size"],
        street_code_field=params.get("street_code_field"),
    )
    grid = build_unit_grid(params["boundary"], params["streets"], spec, None, feedback=feedback)
    save_grid_to_project(grid, context.project_path)
    return {"cells": len(grid), "first_code": grid["code"].min(), "last_code": grid["code"].max()}


def kpi(params, context, feedback):
    from citydesk.incidents.kpi import KpiSpec, kpis_from_store
    from citydesk.incidents.stores import open_project_store

    project = context.project_path
    with open_project_store(project) as store:
        table = kpis_from_store(store, KpiSpec(by=params["by"]))
    if params.get("output_csv"):
        from citydesk.layers.city_profile import project_csv_dialect
        from citydesk.layers.csv_safe import write_table

        write_table(table, params["output_csv"], dialect=project_csv_dialect(project))
    return {
        "groups": len(table),
        "grades": table["grade"].value_counts().to_dict() if "grade" in table else {},
    }
