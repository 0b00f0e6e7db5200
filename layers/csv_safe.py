"""Tables for spreadsheets (CSV and Excel) whose cells will not run as formulas (OWASP
"CSV injection").

A case description typed by a member of the public, such as ``=HYPERLINK("http://x", "y")``
or ``=cmd|' /C calc'!A0``, becomes a live formula when a clerk opens an export in Excel or
LibreOffice. Every CSV CityDesk writes passes its text cells through :func:`defused`: a cell
that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
apostrophe, which spreadsheets show as text and do not evaluate. Numbers are left alone (a
negative number is a number, not a formula).
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import pandas as pd

from .errors import CityDeskError
from .i18n import _

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: rows an Excel sheet holds under its header row (Excel and LibreOffice stop at 1,048,576)
EXCEL_ROWS = 1_048_575


def defuse(value: object) -> object:
    if isinstance(value, str) and value.startswith(TRIGGERS):
        return "'" + value
    return value


def defused(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot be read as formulas (index labels included)."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(defuse)
    if out.index.dtype == object:
        out.index = out.index.map(defuse)
    return out


def write_csv(frame: pd.DataFrame, path, dialect=None, **kwargs) -> None:
    """``frame.to_csv`` with formulas defused: the one way CityDesk writes a CSV.

    UTF-8 with a byte-order mark: Excel opens a CSV without one in the machine's code page
    (GBK on a Chinese Windows), which turns every Chinese category, street and description
    into mojibake; with it Excel, LibreOffice, QGIS, pandas and CityDesk's own readers all
    read UTF-8 (the mark is skipped). ``dialect`` (:class:`.city_locale.CsvDialect`, the
    city's: :func:`.city_profile.project_csv_dialect`) sets the separator and decimal mark
    a spreadsheet there expects; CityDesk's readers read either back."""
    kwargs.setdefault("encoding", "utf-8-sig")
    if dialect is not None:
        kwargs.setdefault("sep", dialect.delimiter)
        kwargs.setdefault("decimal", dialect.decimal)
    defused(frame).to_csv(path, **kwargs)


#: characters an .xlsx cell cannot hold (XML 1.0 forbids them)
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def write_xlsx(frame: pd.DataFrame, path, sheet: str = "Sheet1") -> Path:
    """An Excel workbook of ``frame`` (its index left out), written atomically.

    Excel is what a city clerk opens, and a CSV there depends on the machine's code page and
    list separator (a Finnish Excel splits on ``;`` and reads ``60.17`` as text). In a
    workbook every value keeps its type; text that looks like a formula, a number or a link
    is stored as text (no apostrophe needed), and control characters a description may
    carry are dropped (XML cannot hold them).

    Written with XlsxWriter, row by row (``constant_memory``): openpyxl, which reads the
    city systems' workbooks, wrote the demo's 74,344 history rows in 37.6 s, a cell object
    at a time (XlsxWriter: docs/BENCHMARKS.md)."""
    import xlsxwriter

    if len(frame) > EXCEL_ROWS:  # Excel would drop the rest when opening it, and say little
        raise CityDeskError(
            _("{n:,} rows do not fit in an Excel sheet (at most {most:,})").format(
                n=len(frame), most=EXCEL_ROWS
            ),
            _("Export as .csv, which has no row limit."),
        )
    path = Path(path)
    part = path.with_name(path.name + ".part")
    book = xlsxwriter.Workbook(
        str(part),
        {
            "constant_memory": True,
            "strings_to_formulas": False,  # "=HYPERLINK(...)" typed by the public stays text
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "default_date_format": "yyyy-mm-dd hh:mm:ss",
            "remove_timezone": True,
        },
    )
    try:
        try:
            table = book.add_worksheet(sheet[:31])
            table.write_row(0, 0, [str(c) for c in frame.columns])
            for r, row in enumerate(frame.itertuples(index=False, name=None), start=1):
                table.write_row(r, 0, [_cell(v) for v in row])
        finally:
            book.close()
        os.replace(part, path)
    except BaseException:  # a failed or interrupted write leaves no half workbook behind
        part.unlink(missing_ok=True)
        raise
    return path


def _cell(value: object) -> object:
    """A value as XlsxWriter writes it: None (an empty cell) for missing values, text
    without the characters XML forbids, numpy scalars as Python ones."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return _NOT_IN_XML.sub("", value)
    return value.item() if hasattr(value, "item") else value


def write_table(
    frame: pd.DataFrame, path, *, index: bool = False, sheet: str = "Sheet1", dialect=None
) -> Path:
    """A table for people: an Excel workbook when ``path`` ends in ``.xlsx``, else a CSV
    in the city's ``dialect`` (both defused). The one place every table output (KPIs,
    forecasts, fronts, the attribute table's selection) chooses its format."""
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        return write_xlsx(frame.reset_index() if index else frame, path, sheet=sheet)
    write_csv(frame, path, dialect=dialect, index=index)
    return path
