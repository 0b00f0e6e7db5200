"""Does a new layer lie where the project is? A layer added far from the others is almost
always a CRS or column mistake: latitude and longitude swapped in a CSV (the points land
in another hemisphere), or a projected file read as degrees. The file reads without error,
so nothing else would say so (issue 21: swapped lat/long passed `project add` silently)."""

from __future__ import annotations

import math

from pyproj import CRS, Geod
from pyproj.exceptions import ProjError

from .crs import boxes_meet, transformer
from .i18n import _
from .layer import Layer
from .project import Project, bounds_in, layers_extent


def _bounds_in(layer: Layer, project: Project, swap: bool = False):
    x0, y0, x1, y1 = layer.extent
    box = (y0, x0, y1, x1) if swap else (x0, y0, x1, y1)
    return bounds_in(box, layer.crs, project.crs)


def settle_missing_crs(project: Project, layer: Layer, how: str | None = None) -> str | None:
    """Give a layer that came without a CRS the one its coordinates fit near the project,
    and say so in one line (None when the layer has a CRS). The project's own CRS is tried
    first, then lon/lat, then the projected CRSs of the project's area
    (:func:`citydesk.layers.crs_guess.guess_crs`). When nothing fits the layer keeps no CRS
    (it is drawn as if in the project's) and the line says how to give it one: ``how``, the
    command-line way unless the caller (the workbench) has its own words."""
    if layer.crs is not None:
        return None
    how = how or _("add it again with --assign-crs and the CRS it was made in")
    from .crs import crs_label
    from .crs_guess import guess_crs

    near, preferred = crs_hints(project, but=layer.id)
    guesses = guess_crs(layer.extent, near=near, preferred=preferred)
    if not guesses:
        return _(
            "layer '{name}' has no CRS, and its coordinates fit none near the project: it is "
            "drawn as if in the project's CRS; {how}"
        ).format(name=layer.name, how=how)
    layer.label_crs(guesses[0])
    also = ", ".join(f"EPSG:{c.to_epsg()}" if c.to_epsg() else c.name for c in guesses[1:])
    line = _(
        "layer '{name}' has no CRS: its coordinates fit {crs}, which it was given; if that is "
        "wrong, {how}"
    ).format(name=layer.name, crs=crs_label(guesses[0]), how=how)
    if also:
        line += " " + _("(they also fit {others})").format(others=also)
    return line


def crs_hints(project: Project, but: str | None = None):
    """(where the project's layers are, in lon/lat, or None; the CRSs its data is likeliest
    in: the project's, then its city profile's), what :func:`.crs_guess.guess_crs` weighs
    coordinates of unknown CRS against. ``but`` leaves out the layer being placed."""
    others = [lay for lay in project.layers.values() if lay.id != but]
    home = layers_extent(others, CRS.from_epsg(4326)) if others else None
    near = home if home is not None and all(math.isfinite(v) for v in home) else None
    return near, [project.crs, _profile_crs(project)]


def _profile_crs(project: Project) -> CRS | None:
    """The city profile's working CRS (the city's own projected CRS), if the project has a
    usable profile: the likeliest CRS of the city's files after the project's."""
    from .city_profile import profile_in_metadata

    profile = profile_in_metadata(project.metadata)
    return CRS.from_user_input(profile.crs) if profile is not None else None


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
    if placed is not None and boxes_meet(placed, home):
        return None
    if layer.crs.is_geographic:
        swapped = _bounds_in(layer, project, swap=True)
        if swapped is not None and boxes_meet(swapped, home):
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
        to_lonlat = transformer(project.crs, "EPSG:4326")
        a = to_lonlat.transform((placed[0] + placed[2]) / 2, (placed[1] + placed[3]) / 2)
        b = to_lonlat.transform((home[0] + home[2]) / 2, (home[1] + home[3]) / 2)
        km = Geod(ellps="WGS84").inv(a[0], a[1], b[0], b[1])[2] / 1000
    except ProjError:
        return _("far")
    if not math.isfinite(km):
        return _("far")
    return f"{km:,.0f} km"
