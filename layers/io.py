"""One entry point to read and write any supported layer format.

Readers: GeoPackage, Shapefile (GBK-aware), GeoJSON, FlatGeobuf, GeoParquet, CSV with
coordinates, GeoTIFF, USGS ASCII DEM. Writers: GeoPackage, GeoJSON, GeoParquet, FlatGeobuf,
GeoTIFF. Writes go to a temporary file that replaces the target only when complete, so an
interrupted export never leaves half a file behind.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd

from .compact_geometry import CompactFeatures
from .crs import parse_crs
from .errors import CityDeskError, LayerReadError, LayerWriteError
from .feedback import Feedback, NullFeedback
from .format_registry import find_format
from .i18n import _
from .layer import Layer, LayerRole, RasterLayer, VectorLayer, slugify
from .readers.archive import data_members as archive_members
from .readers.archive import is_archive, unpack
from .readers.csv_points import read_csv_points
from .readers.raster import read_raster
from .readers.vector import is_citydesk_file, read_vector
from .style import default_style

#: .gdb is an Esri File Geodatabase (a folder); .tab/.mif are MapInfo's (with their sidecars)
VECTOR_READ = {
    ".gpkg", ".shp", ".geojson", ".json", ".fgb", ".gml", ".kml", ".gpx", ".sqlite",
    ".gdb", ".tab", ".mif", ".dxf", ".kmz",
}  # fmt: skip
PARQUET = {".parquet", ".geoparquet"}
CSV = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".ods"}  # tables of points (first sheet)
RASTER = {".tif", ".tiff", ".dem", ".asc", ".img", ".vrt"}
#: a ZIP's members read as data sets (not .txt: a README is not a table)
READABLE_IN_ARCHIVES = VECTOR_READ | PARQUET | {".csv", ".tsv", ".xlsx", ".xls", ".ods"} | RASTER

VECTOR_WRITE_DRIVERS = {
    ".gpkg": "GPKG",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".fgb": "FlatGeobuf",
    ".shp": "ESRI Shapefile",
}

# words in English and Chinese layer names; the first group with a match wins. 街道 in a
# Chinese layer name is the sub-district (街道办事处), a boundary, not a street.
_ROLE_HINTS: list[tuple[tuple[str, ...], LayerRole]] = [
    (("街道", "社区", "行政区", "区划", "网格", "边界"), LayerRole.BOUNDARY),
    (
        ("parcel", "landuse", "land_use", "zoning", "lot", "地块", "用地", "宗地", "控规"),
        LayerRole.LAND,
    ),
    (("housing", "building", "dwelling", "建筑", "房屋", "住宅"), LayerRole.HOUSING),
    (
        (
            "flood",
            "open_space",
            "openspace",
            "protected",
            "water",
            "wetland",
            "洪",
            "水系",
            "水域",
            "河道",
            "绿地",
            "公园",
            "生态",
        ),
        LayerRole.CONSTRAINT,
    ),
    (
        (
            "street",
            "road",
            "centerline",
            "rail",
            "transit",
            "hydrant",
            "pipe",
            "道路",
            "路网",
            "中心线",
            "管线",
            "轨道",
            "消火栓",
        ),
        LayerRole.INFRASTRUCTURE,
    ),
    (
        (
            "school",
            "fire",
            "police",
            "clinic",
            "hospital",
            "library",
            "facilit",
            "学校",
            "医院",
            "消防",
            "派出所",
            "设施",
            "卫生",
            "图书馆",
        ),
        LayerRole.FACILITIES,
    ),
    (
        ("boundary", "neighborhood", "neighbourhood", "district", "tract", "block", "grid"),
        LayerRole.BOUNDARY,
    ),
    (
        ("crash", "incident", "311", "case", "complaint", "event", "案件", "事件", "投诉"),
        LayerRole.INCIDENTS,
    ),
    (("dem", "elev", "terrain", "slope", "高程", "地形", "坡度"), LayerRole.ELEVATION),
]


def guess_role(name: str) -> LayerRole:
    """A first guess at a layer's role from its name; the user can always change it."""
    low = name.lower()
    for words, role in _ROLE_HINTS:
        if any(w in low for w in words):
            return role
    return LayerRole.OTHER


def archive_data_sets(path: str | Path) -> list[str]:
    """The file names of the data sets a ZIP holds that CityDesk reads (Add layer asks which
    one when there are several)."""
    return [Path(n).name for n in archive_members(path, READABLE_IN_ARCHIVES)]


def open_archive(path: str | Path, layer: str | int | None = None) -> tuple[Path, Any]:
    """A ZIP's data set as a file (:mod:`.readers.archive`), and the layer left to choose in
    it: ``layer`` names a member of the archive (``parks.shp`` or ``parks``), or, when the
    archive holds one data set, a layer inside that (a zipped GeoPackage's). Other paths
    come back as they are."""
    path = Path(path)
    if not is_archive(path):
        return path, layer
    readable = READABLE_IN_ARCHIVES
    if isinstance(layer, str):
        names = archive_members(path, readable)
        if len(names) > 1 or any(layer in (Path(n).name, Path(n).stem) for n in names):
            return unpack(path, layer, readable), None  # a member, or which it lacks
    return unpack(path, None, readable), layer


@contextmanager
def _named_in(archive: Path, inner: Path) -> Iterator[None]:
    """A problem with a ZIP's data set names the ZIP and the member, not the cache path."""
    try:
        yield
    except CityDeskError as exc:
        if exc.path == str(inner):
            exc.path = f"{archive} ({inner.name})"
            exc.args = (exc.message,)  # str(exc) as the message says it
        raise


def data_set_path(path: str | Path) -> Path:
    """The data set a chosen path belongs to: a file picked inside an Esri File Geodatabase
    (a file dialog cannot pick its folder: ``parcels.gdb/gdb``) is the geodatabase."""
    path = Path(path)
    for parent in (path, *path.parents):
        if parent.suffix.lower() == ".gdb":
            return parent
    return path


def layers_to_choose(path: str | Path) -> list[str]:
    """The data layers a user must choose from when a file (a GeoPackage, a File
    Geodatabase, or a ZIP's one such data set) holds several; [] when there is nothing to
    choose, or the file is unreadable (its reader says why)."""
    from .readers.vector import data_layer_names

    try:
        inner, _layer = open_archive(data_set_path(path), None)
        if not inner.exists() or layer_kind(inner) != "vector" or inner.suffix.lower() == ".shp":
            return []
        names = data_layer_names(inner)
    except CityDeskError:
        return []
    return names if len(names) > 1 else []


def layer_kind(path: str | Path) -> str:
    """'vector', 'parquet', 'csv', 'raster' or 'archive' (a ZIP: see :func:`open_archive`) by
    file extension (clear error otherwise)."""
    ext = Path(path).suffix.lower()
    if is_archive(path):
        return "archive"
    for kind, exts in (
        ("vector", VECTOR_READ),
        ("parquet", PARQUET),
        ("csv", CSV),
        ("raster", RASTER),
    ):
        if ext in exts:
            return kind
    raise LayerReadError(
        _("'{value0}' is not a format CityDesk reads").format(value0=ext or "no extension"),
        _("Supported: .gpkg .shp .geojson .fgb .parquet .csv .tif .dem, and these zipped"),
        path=str(path),
    )


def read_frame(
    path: str | Path,
    layer: str | int | None = None,
    *,
    encoding: str | None = None,
    x_field: str | None = None,
    y_field: str | None = None,
    wkt_field: str | None = None,
    csv_crs: Any = None,
    bbox: tuple[float, float, float, float] | None = None,
    feedback: Feedback | None = None,
    compact: bool = False,
) -> tuple[Any, dict[str, Any]]:
    """Read a vector source of any supported format into a GeoDataFrame plus read facts.
    ``compact``: a GIS file may come back as :class:`CompactFeatures` (what a layer holds)."""
    path = Path(path)
    if is_archive(path):
        inner, layer = open_archive(path, layer)
        with _named_in(path, inner):
            return read_frame(
                inner,
                layer,
                encoding=encoding,
                x_field=x_field,
                y_field=y_field,
                wkt_field=wkt_field,
                csv_crs=csv_crs,
                bbox=bbox,
                feedback=feedback,
                compact=compact,
            )
    try:
        kind = layer_kind(path)
    except LayerReadError:
        reader = find_format("reader", path)  # a format a plugin contributes
        if reader is None or not path.exists():
            raise
        return reader(path)
    if not path.exists():
        raise LayerReadError(_("the file does not exist"), _("Check the path."), path=str(path))
    if kind == "vector":
        return read_vector(
            path, layer, encoding=encoding, bbox=bbox, feedback=feedback, compact=compact
        )
    if kind == "parquet":
        return _read_parquet(path, bbox)
    if kind == "csv":
        return read_csv_points(
            path,
            x_field=x_field,
            y_field=y_field,
            wkt_field=wkt_field,
            crs=csv_crs,
            encoding=encoding,
            feedback=feedback,
        )
    raise LayerReadError(
        _("this is a raster, not a vector layer"), _("Use read_layer()."), path=str(path)
    )


def _read_parquet(path: Path, bbox) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    try:
        frame = gpd.read_parquet(path, bbox=bbox)
    except Exception as exc:  # pyarrow raises many types for damaged files
        raise LayerReadError(
            _("cannot read the GeoParquet file ({exc})").format(exc=exc),
            _("The file is damaged or is plain Parquet without geometry metadata; re-export it."),
            path=str(path),
        ) from exc
    return frame, {"path": str(path), "driver": "Parquet"}


def read_layer(
    path: str | Path,
    layer: str | int | None = None,
    *,
    name: str | None = None,
    role: LayerRole | str | None = None,
    assign_crs: Any = None,
    encoding: str | None = None,
    x_field: str | None = None,
    y_field: str | None = None,
    wkt_field: str | None = None,
    style_index: int = 0,
    feedback: Feedback | None = None,
    compact: bool = True,
) -> Layer:
    """Read any supported file as a :class:`VectorLayer` or :class:`RasterLayer`.

    ``assign_crs`` labels data whose file carries no CRS (it does not reproject).
    ``compact`` (the default, what the workbench holds): a GIS file's geometry is kept as
    coordinate arrays until ``layer.data`` is asked for; ``False`` reads the GeoDataFrame at
    once, the faster way for a caller that will use it straight away (a conversion, an
    analysis), since building it later from the arrays costs about as much again.
    """
    feedback = feedback or NullFeedback()
    path = data_set_path(path)
    if is_archive(path):
        inner, layer = open_archive(path, layer)
        with _named_in(path, inner):
            return read_layer(
                inner,
                layer,
                name=name,
                role=role,
                assign_crs=assign_crs,
                encoding=encoding,
                x_field=x_field,
                y_field=y_field,
                wkt_field=wkt_field,
                style_index=style_index,
                feedback=feedback,
                compact=compact,
            )
    base = name or (str(layer) if isinstance(layer, str) else path.stem)
    if layer_kind(path) == "raster":
        if not path.exists():
            raise LayerReadError(_("the file does not exist"), _("Check the path."), path=str(path))
        raster = read_raster(path, name=base, feedback=feedback)
        if assign_crs is not None and raster.raster_crs is None:
            raster.label_crs(parse_crs(assign_crs))
        if role:
            raster.role = LayerRole(role)
        return raster
    frame, facts = read_frame(
        path,
        layer,
        encoding=encoding,
        x_field=x_field,
        y_field=y_field,
        wkt_field=wkt_field,
        csv_crs=assign_crs,
        feedback=feedback,
        compact=compact,
    )
    if assign_crs is not None and frame.crs is None:
        if isinstance(frame, CompactFeatures):
            frame = dataclasses.replace(frame, crs=parse_crs(assign_crs))
        else:
            frame = frame.set_crs(parse_crs(assign_crs))
    source = f"{path}|layername={layer}" if layer is not None else str(path)
    vector = VectorLayer(
        name=base,
        source=source,
        role=LayerRole(role) if role else guess_role(base),
        data=frame,
        metadata={
            "read": {k: v for k, v in facts.items() if k != "bad_lines"},
            "bad_lines": facts.get("bad_lines", []),
        },
    )
    vector.style = default_style(vector.geometry_type, style_index)
    return vector


def _atomic_target(path: Path) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # GDAL drivers want to create the file themselves
    return Path(tmp)


def write_frame(
    frame: gpd.GeoDataFrame,
    path: str | Path,
    layer_name: str | None = None,
    *,
    feedback: Feedback | None = None,
) -> Path:
    """Write a GeoDataFrame to .gpkg/.geojson/.fgb/.shp/.parquet, atomically. Into an
    existing GeoPackage it writes this one layer (replacing a layer of the same name) and
    keeps every other: the file is copied, written, and renamed back, so an interrupted
    write leaves the old file (issue 21: converting onto a GeoPackage dropped its other
    layers)."""
    feedback = feedback or NullFeedback()
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in VECTOR_WRITE_DRIVERS and ext not in PARQUET:
        writer = find_format("writer", path)
        if writer is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            writer(frame, path)
            return path
        raise LayerWriteError(
            _("'{ext}' is not a vector format CityDesk writes").format(ext=ext),
            _("Use .gpkg, .geojson, .fgb, .shp or .parquet."),
            path=str(path),
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    if is_citydesk_file(path):  # replacing it would destroy the project and its cases
        raise LayerWriteError(
            _("this file is a CityDesk project or case store; exporting over it would destroy it"),
            _("Export to a new file name."),
            path=str(path),
        )
    tmp = _atomic_target(path)
    try:
        if ext == ".gpkg" and path.exists():
            shutil.copyfile(path, tmp)  # the other layers come along
        if ext in PARQUET:
            frame.to_parquet(tmp, write_covering_bbox=True, compression="zstd")
        else:
            import pyogrio

            out = frame
            if VECTOR_WRITE_DRIVERS[ext] == "GeoJSON" and frame.crs is not None:
                out = frame.to_crs(4326)  # RFC 7946: GeoJSON is WGS 84 lon/lat
            pyogrio.write_dataframe(
                out,
                str(tmp),
                layer=layer_name or slugify(path.stem),
                driver=VECTOR_WRITE_DRIVERS[ext],
                encoding="UTF-8" if ext == ".shp" else None,
                promote_to_multi=ext in (".gpkg", ".fgb", ".shp") or None,
            )
        _replace(tmp, path)
    except Exception as exc:
        _cleanup(tmp)
        raise LayerWriteError(
            _("could not write the layer ({exc})").format(exc=exc),
            _("Check the folder is writable and has space."),
            path=str(path),
        ) from exc
    feedback.set_progress(100)
    return path


def _replace(tmp: Path, path: Path) -> None:
    """Move the finished temp file (and shapefile sidecars) over the target."""
    if tmp.suffix.lower() == ".shp":
        for side in tmp.parent.glob(tmp.stem + ".*"):
            os.replace(side, path.with_suffix(side.suffix))
    else:
        os.replace(tmp, path)


def _cleanup(tmp: Path) -> None:
    for side in tmp.parent.glob(tmp.stem + ".*"):
        side.unlink(missing_ok=True)


def write_raster(layer: RasterLayer, path: str | Path) -> Path:
    """Write a raster layer as a tiled, deflate-compressed GeoTIFF (atomically)."""
    import rasterio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _atomic_target(path)
    bands, rows, cols = layer.shape
    profile = {
        "driver": "GTiff",
        "width": cols,
        "height": rows,
        "count": bands,
        "dtype": str(layer.array.dtype),
        "crs": layer.crs.to_wkt() if layer.crs else None,
        "transform": layer.transform,
        "nodata": layer.nodata,
        "compress": "deflate",
        "tiled": cols >= 256 and rows >= 256,
    }
    try:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(layer.array)
            if layer.units:
                dst.update_tags(ELEVATION_UNITS=layer.units)
                dst.units = tuple(layer.units for _ in range(bands))
        os.replace(tmp, path)
    except Exception as exc:
        _cleanup(tmp)
        raise LayerWriteError(
            _("could not write the raster ({exc})").format(exc=exc),
            _("Check the folder."),
            path=str(path),
        ) from exc
    return path


def write_layer(layer: Layer, path: str | Path, *, feedback: Feedback | None = None) -> Path:
    """Write a vector layer to a vector format or a raster layer to GeoTIFF."""
    path = Path(path)
    if isinstance(layer, RasterLayer):
        if path.suffix.lower() not in (".tif", ".tiff"):
            raise LayerWriteError(
                _("rasters are written as GeoTIFF"), _("Use a .tif file name."), path=str(path)
            )
        return write_raster(layer, path)
    assert isinstance(layer, VectorLayer)
    return write_frame(layer.frame_to_write(), path, layer.id, feedback=feedback)
