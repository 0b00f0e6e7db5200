"""Raster reading: GeoTIFF, USGS ASCII DEM and anything else GDAL opens.

Elevation units matter: the two USGS quads of San Francisco are in metres and in feet. GDAL
reports the unit per band; we keep it on the layer so that :mod:`citydesk.layers.raster_ops` can
normalise before any analysis mixes them, instead of silently stacking feet on metres.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import LayerReadError
from ..feedback import Feedback, NullFeedback
from ..i18n import _
from ..layer import LayerRole, RasterLayer
from ..style import Style

_FEET = {"ft", "foot", "feet", "us survey foot", "ftus", "us-ft"}
_METRES = {"m", "metre", "metres", "meter", "meters"}


def normalise_units(raw: str | None) -> str:
    """'m', 'ft' or the raw string (lower-case) when it is something else."""
    value = (raw or "").strip().lower()
    if value in _FEET:
        return "ft"
    if value in _METRES:
        return "m"
    return value


def read_raster(
    path: str | Path, name: str | None = None, feedback: Feedback | None = None
) -> RasterLayer:
    """Read a whole raster into memory as a :class:`RasterLayer`."""
    import rasterio  # here, not at import: its own GDAL is ~20 MiB a vector-only process
    from rasterio.errors import RasterioIOError

    feedback = feedback or NullFeedback()
    path = Path(path)
    try:
        with rasterio.open(path) as src:
            data = src.read()
            units = normalise_units(
                (src.units[0] if src.units and src.units[0] else None)
                or src.tags().get("ELEVATION_UNITS")
            )
            layer = RasterLayer(
                name=name or path.stem,
                source=str(path),
                role=LayerRole.ELEVATION if src.driver == "USGSDEM" or units else LayerRole.OTHER,
                array=data,
                transform=src.transform,
                raster_crs=src.crs and _to_pyproj(src.crs),
                nodata=src.nodata,
                units=units,
                style=Style(kind="raster", ramp="terrain"),
                metadata={"driver": src.driver},
            )
    except RasterioIOError as exc:
        raise LayerReadError(
            _("cannot read the raster ({exc})").format(exc=exc),
            _(
                "The file is damaged, truncated or not a raster format; re-export or re-download "
                "it."
            ),
            path=str(path),
        ) from exc
    feedback.set_progress(100)
    return layer


def _to_pyproj(crs):  # rasterio CRS -> pyproj CRS, so all layers share one CRS type
    from pyproj import CRS

    return CRS.from_wkt(crs.to_wkt())
