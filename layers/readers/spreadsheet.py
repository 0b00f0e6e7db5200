"""Spreadsheets: the first sheet as a table of text, for the layer reader (a list of
facilities with coordinate columns) and the case import (a city system's export) alike.

Every cell is read as text, as a CSV's are, so the same column detection, number reading and
date parsing apply: a date cell comes as ISO text (``2024-03-05 09:30:00``), a number as its
decimal text. openpyxl is the library pandas reads .xlsx with; the old Excel format (.xls,
what many 数字城管 systems still export) and OpenDocument (.ods, LibreOffice's, common in
European administrations) are read by calamine (python-calamine, a Rust reader pandas
supports as an engine), which reads both without a library per format.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd

from ..errors import CityDeskError
from ..i18n import _

SPREADSHEETS = (".xlsx", ".xlsm", ".xls", ".ods")
_OPENPYXL = (".xlsx", ".xlsm")  # the rest through calamine


def is_spreadsheet(path: str | Path) -> bool:
    return Path(path).suffix.lower() in SPREADSHEETS


def read_sheet(path: str | Path, error: type[CityDeskError]) -> pd.DataFrame:
    """The first sheet, every cell as text and blank cells missing; a damaged workbook or
    one with no rows raises ``error``.

    The header is the first row that looks like one (:func:`header_row`): many exports,
    数字城管 case lists among them, put a title across the first row ("XX区案卷统计表",
    merged cells) and the column names under it. Which sheet row it was is kept in
    ``frame.attrs["header_row"]`` (1-based), so messages name the rows Excel shows."""
    from python_calamine import CalamineError

    path = Path(path)
    engine = "openpyxl" if path.suffix.lower() in _OPENPYXL else "calamine"
    try:
        raw = pd.read_excel(
            path,
            sheet_name=0,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            engine=engine,
            header=None,
        )
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, CalamineError) as exc:
        raise error(
            _("cannot read the spreadsheet ({err})").format(err=exc),
            _(
                "Check that it is a complete file, saved by Excel or LibreOffice; a workbook "
                "with a password must be saved without one."
            ),
            path=str(path),
        ) from exc
    top = header_row(raw)
    names = (
        [str(c).strip() if isinstance(c, str) else "" for c in raw.iloc[top]] if len(raw) else []
    )
    frame = raw.iloc[top + 1 :].reset_index(drop=True)
    frame.columns = _unique([n or f"Unnamed: {k}" for k, n in enumerate(names)])
    # a column with neither a name nor a value (Excel's used range ran past the table) goes;
    # a named one stays, empty or not (a mapping may name it)
    blank = frame.columns.str.startswith("Unnamed: ") & frame.isna().all().to_numpy()
    frame = frame.loc[:, ~blank]
    frame.attrs["header_row"] = top + 1
    if frame.empty:
        raise error(
            _("the file has its header but no rows"),
            _("There is nothing to read in it; export it again if rows were expected."),
            path=str(path),
        )
    return frame


def header_row(raw: pd.DataFrame, look: int = 10) -> int:
    """The first of the top ``look`` rows filled at least half as much as the fullest of
    them: a title row (one merged cell) or a blank one above the column names is skipped."""
    head = raw.head(look)
    if head.empty:
        return 0
    filled = head.notna().sum(axis=1).to_numpy()
    return int((filled >= 0.5 * filled.max()).argmax())


def _unique(names: list[str]) -> list[str]:
    """Column names as pandas makes them unique when it reads a header (a, a.1, a.2)."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            out.append(f"{name}.{seen[name]}")
        else:
            seen[name] = 0
            out.append(name)
    return out
