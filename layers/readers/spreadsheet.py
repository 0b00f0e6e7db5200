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
    one with no rows raises ``error``."""
    from python_calamine import CalamineError

    path = Path(path)
    engine = "openpyxl" if path.suffix.lower() in _OPENPYXL else "calamine"
    try:
        frame = pd.read_excel(
            path, sheet_name=0, dtype=str, keep_default_na=False, na_values=[""], engine=engine
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
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise error(
            _("the file has its header but no rows"),
            _("There is nothing to read in it; export it again if rows were expected."),
            path=str(path),
        )
    return frame
