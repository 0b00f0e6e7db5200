"""CAD drawings (DXF) as GIS layers: one layer per CAD layer and kind of geometry.

Planning departments, in China above all, exchange plans as AutoCAD drawings. GDAL reads a
DXF as a single table of every entity, its CAD layer in a ``Layer`` column and points, lines
and polygons mixed, which no GIS layer can be. The drawing is therefore offered as the
layers a planner sees in CAD, split by geometry: ``地块 (polygons)``, ``道路 (lines)``,
``注记 (points)`` (text, with its ``Text``). A closed polyline is a polygon (a parcel drawn
in CAD is a closed polyline; GDAL keeps it a line unless a global option says otherwise,
which a threaded reader must not set). The text encoding comes from the drawing's own
``$DWGCODEPAGE`` (GDAL reads ANSI_936, the GBK of Chinese AutoCAD before 2007); a DXF has no
CRS, so it is placed by the CRS guess like any file without one (docs/DATA.md).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from pandas.api.types import is_string_dtype
from pyogrio.errors import DataLayerError, DataSourceError

from ..errors import LayerReadError
from ..feedback import Feedback, NullFeedback
from ..i18n import _
from .gdal_messages import gdal_message

CAD_SUFFIXES = (".dxf",)
#: geometry type -> the word in a drawing's layer names (data names, not translated: a
#: project saved in one language must find its layer in another)
FAMILIES = {
    "Point": "points",
    "MultiPoint": "points",
    "LineString": "lines",
    "MultiLineString": "lines",
    "Polygon": "polygons",
    "MultiPolygon": "polygons",
}
_ORDER = {"polygons": 0, "lines": 1, "points": 2}
#: GDAL's bookkeeping columns, not attributes a planner reads
_DROPPED = ("SubClasses", "PaperSpace", "RawCodeValues")


def is_cad(path: str | Path) -> bool:
    return Path(path).suffix.lower() in CAD_SUFFIXES


def cad_layers(path: str | Path) -> list[tuple[str, str]]:
    """(name, geometry type) of each layer the drawing offers, polygons first."""
    return _layers_of(_entities(path))


def _layers_of(frame: gpd.GeoDataFrame) -> list[tuple[str, str]]:
    kinds = frame.drop_duplicates("_layer")
    ordered = sorted(
        zip(kinds["_layer"], kinds["Layer"], kinds["_family"], strict=True),
        key=lambda item: (str(item[1]), _ORDER[item[2]]),
    )
    geometry = {"points": "Point", "lines": "LineString", "polygons": "Polygon"}
    return [(name, geometry[family]) for name, _cad, family in ordered]


def read_cad(
    path: str | Path, layer: str | int | None = None, feedback: Feedback | None = None
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """One of :func:`cad_layers` (the first when ``layer`` is None or 0, as GDAL's layer 0)."""
    feedback = feedback or NullFeedback()
    frame = _entities(path)
    names = [name for name, _kind in _layers_of(frame)]
    if not names:
        raise LayerReadError(
            _("the drawing has no entities GIS can use (points, lines or areas)"),
            _("Check that the drawing's model space holds the plan, not only paper space."),
            path=str(path),
        )
    if layer is None or layer == 0:
        layer = names[0]
    if isinstance(layer, int) or layer not in names:
        raise LayerReadError(
            _("there is no layer '{layer}' in this file").format(layer=layer),
            _("Layers in it: {value0}.").format(value0=", ".join(names)),
            path=str(path),
        )
    chosen = frame[frame["_layer"] == layer].drop(columns=["_family", "_layer"])
    chosen = chosen.drop(columns=[c for c in chosen.columns if c in _DROPPED])
    empty = [c for c in chosen.columns if c != "geometry" and chosen[c].isna().all()]
    chosen = gpd.GeoDataFrame(chosen.drop(columns=empty), geometry="geometry", crs=None)
    chosen.index = pd.Index(chosen.index.to_numpy() + 1, name="fid")  # GDAL's fids, from 1
    feedback.set_progress(100.0)
    facts = {
        "path": str(path),
        "driver": "DXF",
        "cad_layer": layer,
        "features_declared": len(frame),
    }
    return chosen, facts


def _entities(path: str | Path) -> gpd.GeoDataFrame:
    """Every entity of the drawing's model space, 2D, closed polylines as polygons,
    geometry collections (exploded blocks) as their parts, with its family and the name of
    the layer it is offered in. Read once per version of the file: listing the layers and
    reading each of them (``project new --from`` reads them all) parse the drawing once."""
    path = Path(path)
    if not path.exists():
        raise LayerReadError(_("the file does not exist"), _("Check the path."), path=str(path))
    stat = path.stat()
    return _parsed(path, path.resolve(), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=2)
def _parsed(path: Path, _where: Path, _mtime_ns: int, _size: int) -> gpd.GeoDataFrame:
    """The drawing as :func:`_entities` gives it (shared: callers take copies of parts)."""
    try:
        frame = pyogrio.read_dataframe(str(path))
    except (DataSourceError, DataLayerError) as exc:
        raise LayerReadError(
            _("cannot read the drawing ({err})").format(err=gdal_message(exc)),
            _("Save it again as DXF from the CAD program (File > Save As > DXF)."),
            path=str(path),
        ) from exc
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    frame = frame.explode(index_parts=False)  # a collection's parts, each its own row
    geoms = shapely.force_2d(frame.geometry.to_numpy())
    closed = (
        (shapely.get_type_id(geoms) == 1)  # LineString
        & shapely.is_closed(geoms)
        & (shapely.get_num_coordinates(geoms) >= 4)
    )
    geoms[closed] = [shapely.Polygon(shapely.get_coordinates(g)) for g in geoms[closed]]
    frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index))
    frame["_family"] = frame.geometry.geom_type.map(FAMILIES)
    frame = frame[frame["_family"].notna()]
    if "Layer" not in frame.columns:
        frame["Layer"] = "0"  # AutoCAD's default layer
    frame["Layer"] = frame["Layer"].fillna("0")
    frame = _gbk_declared_as_western(frame).reset_index(drop=True)
    frame["_layer"] = frame["Layer"].astype(str) + " (" + frame["_family"] + ")"
    return frame


def _gbk_declared_as_western(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Text that is GBK but was decoded as the Western code page the drawing declares.

    Some writers (ezdxf among them) save Chinese text as GBK under ``$DWGCODEPAGE``
    ANSI_1252, so GDAL turns 地块 into ``µØ¿é``. When every non-ASCII text of the drawing
    goes back to bytes through that code page and those bytes are GBK spelling Chinese, the
    text is read so; anything else is left as GDAL read it."""
    columns = [c for c in frame.columns if c != "geometry" and is_string_dtype(frame[c])]
    values = {v for c in columns for v in frame[c].dropna() if isinstance(v, str)}
    western = [v for v in values if not v.isascii()]
    if not western:
        return frame
    fixed = {}
    for value in western:
        raw = _western_bytes(value)
        if raw is None or not _mostly_high(value):
            return frame
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            return frame
        fixed[value] = text
    if not any(re.search(r"[\u3400-\u9fff]", t) for t in fixed.values()):
        return frame
    frame = frame.copy()
    for column in columns:
        frame[column] = frame[column].map(lambda v: fixed.get(v, v) if isinstance(v, str) else v)
    return frame


def _mostly_high(text: str) -> bool:
    """At least half of the text's letters are non-ASCII, as in GBK read byte by byte (地块
    -> µØ¿é); a Western name has a few accented letters among plain ones (Jäätie, Façade),
    whose bytes would also decode as GBK, into nonsense."""
    letters = [c for c in text if not (c.isascii() and not c.isalpha()) and not c.isspace()]
    return sum(not c.isascii() for c in letters) >= 0.5 * max(1, len(letters))


def _western_bytes(text: str) -> bytes | None:
    """The bytes a code-page-1252 decoding turned into ``text`` (None if it cannot have)."""
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1252")
        except UnicodeEncodeError:
            if ord(char) > 0xFF:
                return None
            out.append(ord(char))  # the five bytes cp1252 leaves undefined pass through
    return bytes(out)
