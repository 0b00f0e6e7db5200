"""Raster operations that keep units and CRSs honest: unit conversion, mosaics, reprojection."""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import CityDeskError, CRSError, LayerReadError
from .i18n import _
from .layer import RasterLayer
from .style import Style

FOOT_TO_M = 0.3048


def to_metres(layer: RasterLayer) -> RasterLayer:
    """A copy whose values are in metres (feet converted); nodata cells stay nodata."""
    if layer.units != "ft":
        return layer
    data = layer.array.astype("float32")
    mask = np.zeros(data.shape, bool) if layer.nodata is None else data == layer.nodata
    data = np.where(mask, data, data * FOOT_TO_M).astype("float32")
    return RasterLayer(
        name=layer.name,
        source=layer.source,
        role=layer.role,
        array=data,
        transform=layer.transform,
        raster_crs=layer.raster_crs,
        nodata=layer.nodata,
        units="m",
        style=layer.style,
        metadata={**layer.metadata, "converted_from": "ft"},
    )


def mosaic(layers: list[RasterLayer], name: str = "mosaic") -> RasterLayer:
    """Merge rasters of one CRS into one, after bringing every elevation to metres.

    Refuses mixed CRSs (reproject first) rather than guessing.
    """
    from rasterio.io import MemoryFile
    from rasterio.merge import merge

    if not layers:
        raise CityDeskError(
            _("there are no rasters to make a mosaic of"), _("Choose at least one raster.")
        )
    crs = layers[0].crs
    if crs is None:
        raise CRSError(
            _("'{name}' has no CRS").format(name=layers[0].name),
            _("Assign the raster's CRS before making a mosaic."),
        )
    for other in layers[1:]:
        if other.crs != crs:
            raise LayerReadError(
                _("'{name}' is in another CRS than '{name1}'").format(
                    name=other.name, name1=layers[0].name
                ),
                _("Reproject the rasters to one CRS before making a mosaic."),
            )
    normalised = [to_metres(layer) for layer in layers]
    nodata = next((layer.nodata for layer in normalised if layer.nodata is not None), -32767.0)
    files = []
    try:
        datasets = []
        for layer in normalised:
            mem = MemoryFile()
            files.append(mem)
            ds = mem.open(
                driver="GTiff",
                width=layer.shape[2],
                height=layer.shape[1],
                count=layer.shape[0],
                dtype="float32",
                crs=crs.to_wkt(),
                transform=layer.transform,
                nodata=nodata,
            )
            ds.write(np.where(layer.masked(1).mask, nodata, layer.array[0]).astype("float32"), 1)
            datasets.append(ds)
        array, transform = merge(datasets, nodata=nodata)
        for ds in datasets:
            ds.close()
    finally:
        for mem in files:
            mem.close()
    units = {layer.units for layer in normalised}
    return RasterLayer(
        name=name,
        source="; ".join(layer.source for layer in layers),
        role=layers[0].role,
        array=array,
        transform=transform,
        raster_crs=crs,
        nodata=nodata,
        units=units.pop() if len(units) == 1 else "",
        style=Style(kind="raster", ramp="terrain"),
    )


def reproject_raster(layer: RasterLayer, crs: Any, resolution: float | None = None) -> RasterLayer:
    """The raster warped into ``crs`` (bilinear for continuous data), nodata preserved."""
    from pyproj import CRS
    from rasterio.crs import CRS as RioCRS
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    target = CRS.from_user_input(crs)
    if layer.crs is None:
        raise LayerReadError(
            _("'{name}' has no CRS and cannot be reprojected").format(name=layer.name),
            _("Assign its CRS first (--assign-crs)."),
            gui_fix=_("Add it again through {place}, giving its CRS.").format(
                place=_("Project > Add layer with options...")
            ),
        )
    if target == layer.crs:
        return layer
    src_crs, dst_crs = RioCRS.from_wkt(layer.crs.to_wkt()), RioCRS.from_wkt(target.to_wkt())
    bands, rows, cols = layer.shape
    transform, width, height = calculate_default_transform(
        src_crs,
        dst_crs,
        cols,
        rows,
        *layer.extent,
        resolution=resolution,
    )
    nodata = layer.nodata if layer.nodata is not None else np.nan
    dtype = layer.array.dtype if layer.nodata is not None else np.float32
    out = np.full((bands, height, width), nodata, dtype=dtype)
    for b in range(bands):
        reproject(
            layer.array[b],
            out[b],
            src_transform=layer.transform,
            src_crs=src_crs,
            src_nodata=layer.nodata,
            dst_transform=transform,
            dst_crs=dst_crs,
            dst_nodata=nodata,
            resampling=Resampling.bilinear,
        )
    return RasterLayer(
        name=layer.name,
        source=layer.source,
        role=layer.role,
        array=out,
        transform=transform,
        raster_crs=target,
        nodata=None if np.isnan(nodata) else nodata,
        units=layer.units,
        style=layer.style,
        metadata=dict(layer.metadata),
    )


def hillshade(
    elevation: np.ndarray, dx: float, dy: float, azimuth: float = 315.0, altitude: float = 45.0
) -> np.ndarray:
    """Illumination 0..1 of a DEM (NaN stays NaN), sun from ``azimuth``/``altitude`` degrees.

    The standard Horn-style shading (as in GDAL's gdaldem hillshade), vectorised with numpy;
    ``dx``/``dy`` are the cell sizes in the same unit as the elevations.
    """
    z = np.asarray(elevation, dtype=float)
    gy, gx = np.gradient(z, dy, dx)
    slope = np.pi / 2 - np.arctan(np.hypot(gx, gy))
    aspect = np.arctan2(-gx, gy)
    az, alt = np.radians(360.0 - azimuth + 90.0), np.radians(altitude)
    shade = np.sin(alt) * np.sin(slope) + np.cos(alt) * np.cos(slope) * np.cos(az - aspect)
    return np.clip(shade, 0.0, 1.0)


def slope_degrees(layer: RasterLayer, band: int = 1) -> RasterLayer:
    """Slope in degrees of an elevation raster (nodata stays nodata, as NaN).

    Elevations are brought to metres first and the cells must be metres too: a DEM in a
    geographic CRS would give slopes from degrees-over-metres, which are meaningless, so it
    is refused with the fix (reproject) instead.
    """
    layer = to_metres(layer)
    crs = layer.raster_crs
    if crs is None or not crs.is_projected:
        raise LayerReadError(
            _("slope needs a DEM in a projected CRS (cells in metres)"),
            _("Reproject the DEM to a projected CRS (UTM or state plane) first."),
            path=layer.source,
        )
    factor = crs.axis_info[0].unit_conversion_factor  # cell size unit -> metres
    z = layer.array[band - 1].astype(float)
    if layer.nodata is not None:
        z[z == layer.nodata] = np.nan
    dx, dy = abs(layer.transform.a) * factor, abs(layer.transform.e) * factor
    gy, gx = np.gradient(z, dy, dx)
    slope = np.degrees(np.arctan(np.hypot(gx, gy))).astype("float32")
    return RasterLayer(
        name=f"{layer.name} slope",
        source=layer.source,
        role=layer.role,
        array=slope,
        transform=layer.transform,
        raster_crs=crs,
        nodata=None,
        units="degree",
        style=Style(kind="raster", ramp="viridis"),
        metadata={**layer.metadata, "derived": "slope"},
    )
