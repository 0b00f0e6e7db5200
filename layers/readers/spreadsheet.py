"""Excel workbooks (.xlsx): the first sheet as a table of text, for the layer reader (a list of
facilities with coordinate columns) and the case import (a city system's export) alike.

Every cell is read as text, as a CSV's are, so the same column detection, number reading and
date parsing apply: a date cell comes as ISO text (``2024-03-05 09:30:00``), a number as its
decimal text. openpyxl is the library pandas reads .xlsx with.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd

from ..errors import CityDeskError
from ..i18n import _

SPREADSHEETS = (".xlsx", ".xlsm")


def is_spreadsheet(path: str | Path) -> bool:
    return Path(path).suffix.lower() in SPREADSHEETS


def read_sheet(path: str | Path, error: type[CityDeskError]) -> pd.DataFrame:
    """The first sheet, every cell as text and blank cells missing; a damaged workbook or
    one with no rows raises ``error``."""
    path = Path(path)
    try:
        frame = pd.read_excel(
            path, sheet_name=0, dtype=str, keep_default_na=False, na_values=[""], engine="openpyxl"
        )
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise error(
            _("cannot read the Excel workbook ({err})").format(err=exc),
            _("Check that it is a complete .xlsx file; an old .xls must be saved as .xlsx."),
            path=str(path),
        ) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise error(
            _("the file has its header but no rows"),
            _("There is nothing to read in it; export it again if rows were expected."),
            path=str(path),
        )
    return frame
