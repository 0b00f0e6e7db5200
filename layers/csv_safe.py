"""CSV cells a spreadsheet will not run as formulas (OWASP "CSV injection").

A case description typed by a member of the public, such as ``=HYPERLINK("http://x", "y")``
or ``=cmd|' /C calc'!A0``, becomes a live formula when a clerk opens an export in Excel or
LibreOffice. Every CSV CityDesk writes passes its text cells through :func:`defused`: a cell
that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
apostrophe, which spreadsheets show as text and do not evaluate. Numbers are left alone (a
negative number is a number, not a formula).
"""

from __future__ import annotations

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


def write_csv(frame: pd.DataFrame, path, **kwargs) -> None:
    """``frame.to_csv`` with formulas defused: the one way CityDesk writes a CSV.

    UTF-8 with a byte-order mark: Excel opens a CSV without one in the machine's code page
    (GBK on a Chinese Windows), which turns every Chinese category, street and description
    into mojibake; with it Excel, LibreOffice, QGIS, pandas and CityDesk's own readers all
    read UTF-8 (the mark is skipped)."""
    kwargs.setdefault("encoding", "utf-8-sig")
    defused(frame).to_csv(path, **kwargs)
