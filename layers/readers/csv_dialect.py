"""How a CSV export writes itself: its delimiter and its decimal mark.

A city's exports come from Excel and from systems set up for the local language. Where the
decimal mark is a comma (most of continental Europe, and Excel in those locales) the list
separator is ``;`` and a coordinate reads ``60,1704``. Read as a comma file, every column
runs into one; read with ``;`` but numbers parsed the English way, every coordinate is lost
and each row is kept without a place: a map with nothing on it and no error. Both the layer
reader (:mod:`.csv_points`) and the case import (``citydesk.incidents.import_csv``) read
their files through these functions, so a file means the same to both.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd

#: the delimiters exports use: comma, semicolon (decimal-comma locales), tab, pipe
DELIMITERS = (",", ";", "\t", "|")

#: a number written with a decimal comma and no thousands mark: -60,1704 or 24,9
_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d+,\d+\s*$")


def sniff_delimiter(header: str) -> str:
    """The delimiter the header line uses most (comma when it has none of them: a one-column
    file)."""
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def header_line(text: str, look: int = 10) -> tuple[int, str]:
    """Which of the first ``look`` lines is the header, and the delimiter it uses.

    Some systems write a title or the export's date above the column names ("Service
    requests export", "Generated 2026-11-01", a blank line). The header is the first line
    with at least half the fields of the widest of them, the rule the spreadsheet reader
    uses for a title row (:func:`.spreadsheet.header_row`). Each line's fields are counted
    as a CSV reader splits it with the delimiter it uses most, so a quoted description full
    of commas does not look wider than the header; the file's delimiter is the header's (a
    row of decimal commas, ``Kamppi;0,8125``, has as many commas as semicolons). A file of
    one column has its header on the first line."""
    lines = re.split(r"\r\n|\r|\n", text)[:look]  # the line ends pandas' reader knows
    widths = []
    for line in lines:
        delimiter = sniff_delimiter(line)
        try:
            fields = next(csv.reader([line], delimiter=delimiter), [])
        except csv.Error:  # a stray NUL or quote: counted plainly
            fields = line.split(delimiter)
        widths.append((len(fields) if any(f.strip() for f in fields) else 0, delimiter))
    widest = max((w for w, _d in widths), default=0)
    if widest <= 1:
        return 0, ","
    header = next(k for k, (w, _d) in enumerate(widths) if w >= 0.5 * widest)
    return header, widths[header][1]


def file_header(path: str | Path, encoding: str) -> tuple[int, str]:
    """:func:`header_line` of the file's first lines: the lines of title to skip, and the
    delimiter."""
    with open(path, encoding=encoding, errors="replace") as fh:
        return header_line("".join(line for _k, line in zip(range(10), fh, strict=False)))


def to_numbers(values: pd.Series, delimiter: str) -> pd.Series:
    """A text column as numbers (NaN where a value is not a number; integers stay integers
    when every value is one, as :func:`pandas.to_numeric` keeps them).

    In a file not separated by commas, a value written with a decimal comma (``60,1704``) is
    the number 60.1704. In a comma-separated file a comma inside a number can only be a
    thousands mark (``"1,234"``, quoted), so there it is left unread rather than guessed.
    """
    numbers = pd.to_numeric(values, errors="coerce")
    if delimiter == "," or values.dtype.kind in "fiu":
        return numbers
    text = values.astype("string")
    comma = text.str.match(_DECIMAL_COMMA.pattern).fillna(False).astype(bool) & numbers.isna()
    if comma.any():
        numbers = numbers.astype(float)
        numbers[comma] = pd.to_numeric(text[comma].str.replace(",", ".", regex=False))
    return numbers
