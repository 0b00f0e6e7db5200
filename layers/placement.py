"""Does a new layer lie where the project is? A layer added far from the others is almost
always a CRS or column mistake: latitude and longitude swapped in a CSV (the points land
in another hemisphere), or a projected file read as degrees. The file reads without error,
so nothing else would say so (issue 21: swapped lat/long passed `project add` silently)."""

from __future__ import annotations

import math

from pyproj import Geod, Transformer
from pyproj.exceptions import ProjError

from .i18n import _
from .layer import Layer
from .project import Project, bounds_in, layers_extent


def _bounds_in(layer: Layer, project: Project, swap: bool = False):
    x0, y0, x1, y1 = layer.extent
    box = (y0, x0, y1, x1) if swap else (x0, y0, x1, y1)
    return bounds_in(box, layer.crs, project.crs)


def _meets(a, b) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def placement_warning(project: Project, layer: Layer) -> str | None:
    """A one-line warning when ``layer`` lies nowhere near the project's other layers
    (None when it overlaps them, or the project has nothing to compare with)."""
    others = [lay for lay in project.layers.values() if lay.id != layer.id]
    if not others or layer.crs is None:
        return None
    home = layers_extent(others, project.crs)
    if any(math.isnan(v) for v in home):
        return None
    # a little margin: a layer just beside the city (a new district) is fine
    pad = max(home[2] - home[0], home[3] - home[1]) * 0.5
    home = (home[0] - pad, home[1] - pad, home[2] + pad, home[3] + pad)
    placed = _bounds_in(layer, project)
    if placed is not None and _meets(placed, home):
        return None
    if layer.crs.is_geographic:
        swapped = _bounds_in(layer, project, swap=True)
        if swapped is not None and _meets(swapped, home):
            return _(
                "layer '{name}' lies far from the project, but would lie on it with latitude "
                "and longitude exchanged: the columns look swapped (give --x-field for "
                "longitude and --y-field for latitude)"
            ).format(name=layer.name)
    distance = _distance_km(project, placed, home)
    return _(
        "layer '{name}' lies {km} from the project's other layers: check its CRS "
        "(--assign-crs) or its coordinate columns"
    ).format(name=layer.name, km=distance)


def _distance_km(project: Project, placed, home) -> str:
    if placed is None:
        return _("nowhere on Earth")
    try:
        to_lonlat = Transformer.from_crs(project.crs, "EPSG:4326", always_xy=True)
        a = to_lonlat.transform((placed[0] + placed[2]) / 2, (placed[1] + placed[3]) / 2)
        b = to_lonlat.transform((home[0] + home[2]) / 2, (home[1] + home[3]) / 2)
        km = Geod(ellps="WGS84").inv(a[0], a[1], b[0], b[1])[2] / 1000
    except ProjError:
        return _("far")
    if not math.isfinite(km):
        return _("far")
    return f"{km:,.0f} km"
