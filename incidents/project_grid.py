"""The unit grid inside a CityDesk project: the layer with id ``unit_grid``.

One place decides where a project keeps its grid, so the case store (grid codes of new
cases), the dashboard (cells, hotspots) and ``citydesk grid build`` agree on it.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from citydesk.layers.i18n import _

GRID_LAYER_ID = "unit_grid"


def read_project_grid(project: str | Path) -> gpd.GeoDataFrame | None:
    """The project's unit grid, or None if it has none (refuses a non-project file)."""
    from citydesk.layers.project_store import read_project_meta
    from citydesk.layers.readers.vector import read_vector

    meta = read_project_meta(project)
    if not any(layer.get("id") == GRID_LAYER_ID for layer in meta.get("layers", [])):
        return None
    frame, _facts = read_vector(project, GRID_LAYER_ID)
    return frame


def save_grid_to_project(
    grid: gpd.GeoDataFrame, project: str | Path, metadata: dict | None = None
) -> None:
    """Add the grid to the project (replacing an earlier one), drawn as orange outlines,
    and merge ``metadata`` into the project's (e.g. ``routing_rules``). Call it before
    opening the project's case store: saving rewrites the file."""
    from citydesk.layers.layer import LayerRole, VectorLayer
    from citydesk.layers.project_store import put_layers

    layer = VectorLayer(name=_("Unit grid"), data=grid, role=LayerRole.BOUNDARY, id=GRID_LAYER_ID)
    layer.style.symbol.fill = "none"
    layer.style.symbol.stroke = "#e6550d"
    put_layers(project, [layer], group="Boundaries", metadata=metadata, on_top=False)


def grid_spec_for(profile, **changes):
    """The unit grid of a city by its profile: the 6-digit administrative code, the
    neighbourhoods' code and name fields as the street parts (``changes`` override). The
    cells are drawn in a metric CRS chosen from the boundary (its own when projected, else
    the UTM or CGCS2000 zone), as before city profiles, so existing grids keep their codes."""
    from dataclasses import replace

    from citydesk.layers.city_layers import MissingData

    from .grid import GridSpec

    if (profile is None or not profile.admin_code) and "county_code" not in changes:
        raise MissingData(
            _("the unit grid needs the city's 6-digit administrative code"),
            _(
                'Add admin_code = "......" to the city profile (or give --county): the 6 digits '
                "every grid code starts with; in China the county's 行政区划代码, in the US the "
                "state and county FIPS and 0, elsewhere any 6 digits your city uses (a "
                "statistics code, padded)."
            ),
        )
    areas = profile.layers.neighborhoods if profile is not None else None
    spec = GridSpec(
        county_code=profile.admin_code if profile is not None else "",
        street_code_field=areas.code if areas is not None else None,
        street_name_field=areas.name if areas is not None else None,
    )
    return replace(spec, **changes)
