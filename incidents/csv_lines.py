"""Where each record of a CSV starts in the file, for messages that name file lines.

Why this exists: pandas numbers what it reads, not the file's lines. A row's label counts
the rows pandas kept (a skipped malformed row shifts every later label), and its "Skipping
line N" counts records (a description with a line break inside quotes, common in a city's
export, is one record over two lines). A message saying "file line 9" must send the clerk
to line 9 of the file in an editor, so the lines are found here, by reading the file with
the csv module, and only when a message needs them: an import that has nothing to report
never pays for the scan.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable
from pathlib import Path

import numpy as np


class CsvLines:
    """The file line each record starts on, scanned as far as a question needs.

    Records are numbered as pandas' C parser numbers them in its warnings: 1 is the header
    (or the first line of title above it, see ``skip``), and every record counts, blank lines
    included. Rows are what pandas keeps: the records
    after the header that are neither blank nor wider than the file (``on_bad_lines`` skips
    those), numbered from 0 across every part of a chunked read. The file's width is the
    header's, or the first row's when that is wider: pandas keeps such a row, cut to the
    header, and then takes every row up to that width.
    """

    def __init__(
        self, path: str | Path, encoding: str, delimiter: str = ",", skip: int = 0
    ) -> None:
        self.path = Path(path)
        self.encoding = encoding
        self.delimiter = delimiter
        #: lines of title above the header (pandas' ``skiprows``): its record numbers still
        #: count them, so they are records here too, but neither the header nor rows
        self.skip = skip
        self._starts: list[int] = []  # file line of record n + 1
        self._rows: list[int] = []  # file line of kept row k
        self._fields = 0  # the header's field count
        self._scanned = False  # the whole file has been read

    def of_records(self, numbers: Iterable[int]) -> list[int]:
        """File lines of pandas' record numbers (1 = the header)."""
        numbers = [int(n) for n in numbers]
        if numbers:
            self._scan(lambda: len(self._starts) >= max(numbers))
        return [self._starts[n - 1] if 0 < n <= len(self._starts) else n for n in numbers]

    def of_rows(self, labels: Iterable[int]) -> list[int]:
        """File lines of the rows pandas kept, by their labels (0 = the first row)."""
        labels = [int(k) for k in labels]
        if labels:
            self._scan(lambda: len(self._rows) > max(labels))
        # past the end (a file changed since it was read): the count pandas would give
        return [self._rows[k] if 0 <= k < len(self._rows) else k + 2 for k in labels]

    def _scan(self, enough) -> None:
        if self._scanned or enough():
            return
        self._starts, self._rows = [], []  # a reader cannot resume: read again from the top
        limit = csv.field_size_limit()
        csv.field_size_limit(sys.maxsize)  # a long description is not a broken file here
        try:
            with open(self.path, encoding=self.encoding, errors="replace", newline="") as fh:
                reader = csv.reader(fh, delimiter=self.delimiter)
                line = 0  # the last file line the reader has consumed
                for record in reader:
                    self._starts.append(line + 1)
                    if len(self._starts) <= self.skip:
                        pass  # a title above the header
                    elif len(self._starts) == self.skip + 1:
                        self._fields = len(record)
                    elif record:
                        if not self._rows:
                            self._fields = max(self._fields, len(record))
                        if len(record) <= self._fields:
                            self._rows.append(line + 1)
                    line = reader.line_num
                    if len(self._starts) % 4096 == 0 and enough():
                        return
                self._scanned = True
        except csv.Error:
            self._scanned = True  # what is past a broken quote cannot be placed better
        finally:
            csv.field_size_limit(limit)


class SheetLines:
    """Row numbers of a spreadsheet's first sheet, as a message names them: the header is
    row ``header_row`` (1 unless a title is above it) and every row below it is one case
    (what Excel shows beside it)."""

    def __init__(self, header_row: int = 1) -> None:
        self.header_row = header_row

    def of_records(self, numbers: Iterable[int]) -> list[int]:
        return [int(n) for n in numbers]

    def of_rows(self, labels: Iterable[int]) -> list[int]:
        return [int(k) + self.header_row + 1 for k in labels]


class FeatureLines:
    """Feature numbers of a GIS layer, as a message names them: 1 is the first feature (a
    layer has no header line)."""

    def of_records(self, numbers: Iterable[int]) -> list[int]:
        return [int(n) for n in numbers]

    def of_rows(self, labels: Iterable[int]) -> list[int]:
        return [int(k) + 1 for k in labels]


def first_lines(
    lines: CsvLines | SheetLines | FeatureLines, labels: np.ndarray, most: int = 20
) -> str:
    """The file lines of the rows ``labels``, the first ``most``, as a message lists them."""
    return ", ".join(str(n) for n in lines.of_rows(labels[:most]))
