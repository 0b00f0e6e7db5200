"""CSV files with coordinate columns (311 exports, GPS logs, assessor tables).

Real exports have quirks: differently named coordinate columns, rows with too many fields,
empty or non-numeric coordinates, and GBK text. Each is reported, never fatal by surprise:
malformed rows are skipped and listed with their line numbers, rows without usable coordinates
are kept with an empty geometry so no record silently disappears.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import LayerReadError, NeedsReadOptions
from ..feedback import Feedback, NullFeedback
from ..i18n import _
from .csv_dialect import file_header, to_numbers
from .encoding import detect_encoding
from .spreadsheet import is_spreadsheet, read_sheet

X_NAMES = ("longitude", "lon", "lng", "long", "x", "point_x", "xcoord", "x_coord", "经度")
Y_NAMES = ("latitude", "lat", "y", "point_y", "ycoord", "y_coord", "纬度")
WKT_NAMES = ("wkt", "geometry", "the_geom", "geom", "shape")
_LONLAT_NAMES = {"longitude", "lon", "lng", "long", "latitude", "lat", "经度", "纬度"}
_BAD_LINE = re.compile(r"line (\d+): (.*)")


def _norm(name: str) -> str:
    return name.strip().lower().replace(" ", "_")


def detect_coordinate_columns(columns: list[str]) -> tuple[str | None, str | None, str | None]:
    """(x, y, wkt) column names found among ``columns`` by common spellings."""
    normed = {_norm(c): c for c in columns}
    x = next((normed[n] for n in X_NAMES if n in normed), None)
    y = next((normed[n] for n in Y_NAMES if n in normed), None)
    wkt = next((normed[n] for n in WKT_NAMES if n in normed), None)
    return x, y, wkt


def _sniff_encoding(path: Path) -> str:
    with open(path, "rb") as fh:
        return detect_encoding(fh.read(1 << 20))


def csv_columns(path: str | Path, encoding: str | None = None) -> list[str]:
    """The header's column names, read as :func:`read_csv_points` would (sniffed encoding
    and delimiter): what the layer-options dialog offers as coordinate columns."""
    import csv

    path = Path(path)
    if is_spreadsheet(path):
        return list(read_sheet(path, LayerReadError).columns)
    encoding = encoding or _sniff_encoding(path)
    skip, delimiter = file_header(path, encoding)
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        rows = csv.reader(fh, delimiter=delimiter)
        header = next((row for k, row in enumerate(rows) if k >= skip), [])
    return [name.strip().lstrip("\ufeff") for name in header]


def read_csv_points(
    path: str | Path,
    *,
    x_field: str | None = None,
    y_field: str | None = None,
    wkt_field: str | None = None,
    crs: Any = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    feedback: Feedback | None = None,
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Read a CSV into points (or WKT geometries). Returns the frame and the read facts.

    Without ``crs``, coordinates in lon/lat-named columns (or within +-180/+-90) are taken as
    EPSG:4326; anything else is left without a CRS so validation asks the user for one.
    """
    feedback = feedback or NullFeedback()
    path = Path(path)
    if not path.exists():
        raise LayerReadError(_("the file does not exist"), _("Check the path."), path=str(path))
    if is_spreadsheet(path):  # a table of points in Excel: the same columns, read as text
        df = read_sheet(path, LayerReadError)
        return _points(df, path, [], "XLSX", "", ",", x_field, y_field, wkt_field, crs, feedback)
    encoding = encoding or _sniff_encoding(path)
    # lines of title above the header are skipped, as the case import skips them
    skip, sniffed = file_header(path, encoding)
    delimiter = delimiter or sniffed
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            df = pd.read_csv(
                path,
                sep=delimiter,
                skiprows=skip,
                engine="c",
                encoding=encoding,
                on_bad_lines="warn",
                dtype=str,
                keep_default_na=False,
                na_values=[""],
            )
    except UnicodeDecodeError as exc:
        raise NeedsReadOptions(
            _("the text is not {encoding} ({reason} at byte {start})").format(
                encoding=encoding, reason=exc.reason, start=exc.start
            ),
            _("Give the encoding with --encoding (e.g. gb18030 or latin-1)."),
            options=("encoding",),
            gui_fix=_("In {place}, choose its encoding (e.g. gb18030 or latin-1).").format(
                place=_("Project > Add layer with options...")
            ),
            path=str(path),
        ) from exc
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise LayerReadError(
            _("this is not a readable CSV ({exc})").format(exc=exc),
            _("Check that the file is complete and uses one delimiter (, ; tab or |)."),
            path=str(path),
        ) from exc
    feedback.set_progress(60)
    bad_lines: list[dict[str, Any]] = []
    for w in caught:
        for m in _BAD_LINE.finditer(str(w.message)):
            bad_lines.append({"line": int(m.group(1)), "problem": m.group(2).strip()})
    return _points(
        df, path, bad_lines, "CSV", encoding, delimiter, x_field, y_field, wkt_field, crs, feedback
    )


def _points(
    df: pd.DataFrame,
    path: Path,
    bad_lines: list[dict[str, Any]],
    driver: str,
    encoding: str,
    delimiter: str,
    x_field: str | None,
    y_field: str | None,
    wkt_field: str | None,
    crs: Any,
    feedback: Feedback,
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """A table read as text (a CSV's or a sheet's) as points or WKT geometries."""
    auto_x, auto_y, auto_wkt = detect_coordinate_columns(list(df.columns))
    x_field = x_field or (None if wkt_field else auto_x)
    y_field = y_field or (None if wkt_field else auto_y)
    wkt_field = wkt_field or (None if (x_field and y_field) else auto_wkt)
    for name in (x_field, y_field, wkt_field):
        if name is not None and name not in df.columns:
            raise NeedsReadOptions(
                _("there is no column '{name}' (columns: {value1})").format(
                    name=name, value1=", ".join(df.columns)
                ),
                _("Name the coordinate columns with --x-field and --y-field."),
                options=("x_field", "y_field", "wkt_field"),
                gui_fix=_("In {place}, choose the coordinate columns.").format(
                    place=_("Project > Add layer with options...")
                ),
                path=str(path),
            )
    facts: dict[str, Any] = {
        "path": str(path),
        "driver": driver,
        "encoding": encoding,
        "bad_lines": bad_lines,
        "x_field": x_field,
        "y_field": y_field,
        "wkt_field": wkt_field,
    }
    if x_field and y_field:
        xs = to_numbers(df[x_field], delimiter).to_numpy(dtype=float)
        ys = to_numbers(df[y_field], delimiter).to_numpy(dtype=float)
        ok = np.isfinite(xs) & np.isfinite(ys)
        geoms = np.full(len(df), None, dtype=object)
        geoms[ok] = shapely.points(xs[ok], ys[ok])
        df = df.drop(columns=[x_field, y_field]).assign(**{x_field: xs, y_field: ys})
        lonlat_named = _norm(x_field) in _LONLAT_NAMES or _norm(y_field) in _LONLAT_NAMES
        within_degrees = ok.any() and np.abs(xs[ok]).max() <= 180 and np.abs(ys[ok]).max() <= 90
        if crs is None and (lonlat_named or within_degrees):
            crs = "EPSG:4326"
            facts["crs_assumed"] = True
    elif wkt_field:
        text = df[wkt_field].fillna("").to_numpy(dtype=object)
        geoms = shapely.from_wkt(np.where(text == "", None, text), on_invalid="ignore")
        ok = ~shapely.is_missing(geoms)
        df = df.drop(columns=[wkt_field])
    else:
        raise NeedsReadOptions(
            _("no coordinate columns were found (columns: {value0})").format(
                value0=", ".join(df.columns)
            ),
            _("Name them with --x-field and --y-field, or --wkt-field for a WKT column."),
            options=("x_field", "y_field", "wkt_field"),
            gui_fix=_("In {place}, choose the coordinate columns.").format(
                place=_("Project > Add layer with options...")
            ),
            path=str(path),
        )
    facts["rows_without_coordinates"] = int((~ok).sum())
    df = _numeric_where_possible(df, {x_field, y_field}, delimiter)
    frame = gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, index=df.index), crs=crs)
    feedback.set_progress(100)
    return frame, facts


def _numeric_where_possible(
    df: pd.DataFrame, exclude: set[str | None], delimiter: str
) -> pd.DataFrame:
    """Columns that are entirely numeric (ignoring blanks) become numbers; ids like '02139'
    keep their leading zeros because a column with a leading-zero value stays text."""
    out = {}
    for col in df.columns:
        series = df[col]
        if col in exclude or series.dtype.kind in "fiu":
            out[col] = series
            continue
        text = series.dropna().astype(str)
        if len(text) and not text.str.match(r"^0\d").any():
            converted = to_numbers(series, delimiter)
            if converted.notna().sum() == len(text):
                out[col] = converted
                continue
        out[col] = series
    return pd.DataFrame(out, index=df.index)
