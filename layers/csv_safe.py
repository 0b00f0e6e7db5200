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

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


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


#: characters an .xlsx cell cannot hold (XML 1.0 forbids them); openpyxl refuses them
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def write_xlsx(frame: pd.DataFrame, path, sheet: str = "Sheet1") -> Path:
    """An Excel workbook of ``frame`` (its index left out), written atomically.

    Excel is what a city clerk opens, and a CSV there depends on the machine's code page and
    list separator (a Finnish Excel splits on ``;`` and reads ``60.17`` as text). In a
    workbook every value keeps its type; text that looks like a formula is stored as text
    (no apostrophe needed, openpyxl would otherwise write it as a formula), and control
    characters a description may carry are dropped (XML cannot hold them)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    path = Path(path)
    book = Workbook(write_only=True)
    table = book.create_sheet(title=sheet[:31])
    table.append([str(c) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        cells: list[object] = []
        for value in row:
            if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
                cells.append(None)
            elif isinstance(value, str):
                cell = WriteOnlyCell(table, value=_NOT_IN_XML.sub("", value))
                cell.data_type = "s"  # text, even "=HYPERLINK(...)"
                cells.append(cell)
            else:
                cells.append(value.item() if hasattr(value, "item") else value)
        table.append(cells)
    part = path.with_name(path.name + ".part")
    book.save(part)
    os.replace(part, path)
    return path


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
