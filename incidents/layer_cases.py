"""Case exports that are GIS layers, read as the import's table of text.

ArcGIS Hub portals and many 311 systems offer their cases as GeoJSON, a (zipped) shapefile,
a GeoPackage or a File Geodatabase instead of a CSV. Their attributes become the columns a
mapping names, as a CSV's would, and each feature's point a ``geometry`` column of WKT in
lon/lat (``location = "geometry"`` in the mapping; a line or area gives the point on it
that :func:`shapely.point_on_surface` picks). A layer without a CRS keeps its own x/y, read
through the mapping's ``[coordinates] crs``.
"""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _

GEOMETRY_COLUMN = "geometry"
_GEOJSON = re.compile(rb'"type"\s*:\s*"(?:FeatureCollection|Feature)"')


def is_geojson(path: str | Path) -> bool:
    """A JSON file that is GeoJSON (an object of type FeatureCollection or Feature), not an
    Open311 array of requests."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
    except OSError:
        return False
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    return head.startswith(b"{") and _GEOJSON.search(head) is not None


def is_case_layer(path: str | Path) -> bool:
    """A file the layer reader reads as vectors (its :data:`~citydesk.layers.io.VECTOR_READ`,
    or a ZIP of one); a ``.json`` only when it is GeoJSON (else it is Open311)."""
    from citydesk.layers.io import VECTOR_READ, data_set_path

    path = Path(path)
    if path.suffix.lower() == ".json":
        return is_geojson(path)
    return data_set_path(path).suffix.lower() in VECTOR_READ | {".zip"}


def read_case_layer(path: str | Path, error: type[CityDeskError]) -> pd.DataFrame:
    """Every feature of the file's one layer: attributes as text (blank: missing), dates as
    ISO text (with their offset when the source has one), and the point as WKT."""
    from citydesk.layers.io import data_set_path, open_archive
    from citydesk.layers.readers.vector import data_layer_names, read_vector

    try:
        inner, layer = open_archive(data_set_path(path), None)
        if layer is None:
            names = data_layer_names(inner)
            if len(names) > 1:
                raise error(
                    _("the file holds {n} layers: {names}").format(
                        n=len(names), names=", ".join(names)
                    ),
                    _("Export the cases as one layer, or save the cases' layer on its own."),
                    path=str(path),
                )
        frame, _facts = read_vector(inner, layer)
    except error:
        raise
    except CityDeskError as exc:
        raise error(exc.problem, exc.fix, path=str(path), gui_fix=exc.gui_fix) from exc
    if not isinstance(frame, gpd.GeoDataFrame):
        frame = frame.to_geodataframe()
    table = pd.DataFrame(
        {str(c): _as_text(frame[c]) for c in frame.columns if c != frame.geometry.name}
    )
    table[GEOMETRY_COLUMN] = _points(frame)
    if table.empty:
        raise error(
            _("the file has its header but no rows"),
            _("There is nothing to import; export the cases again if rows were expected."),
            path=str(path),
        )
    return table.reset_index(drop=True)


def _as_text(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        text = values.dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    elif pd.api.types.is_datetime64_any_dtype(values):
        text = values.dt.strftime("%Y-%m-%d %H:%M:%S")
    else:
        text = values.astype("string")
    text = text.astype(object).where(values.notna(), None)
    return text.where(text.astype(str).str.strip() != "", None)


def _points(frame: gpd.GeoDataFrame) -> pd.Series:
    geoms = frame.geometry
    if geoms.crs is not None and not geoms.crs.equals("EPSG:4326"):
        geoms = geoms.to_crs(4326)
    values = geoms.to_numpy()
    missing = shapely.is_missing(values) | shapely.is_empty(values)
    points = values.copy()
    points[~missing] = shapely.point_on_surface(values[~missing])
    xy = shapely.get_coordinates(points[~missing])
    placed = ~missing
    placed[placed] = np.isfinite(xy).all(axis=1)  # POINT (NaN NaN): written for no place
    missing = ~placed
    points[missing] = None
    wkt = shapely.to_wkt(points, rounding_precision=-1, trim=True)
    return pd.Series(wkt, index=frame.index, dtype=object).where(~missing, None)
