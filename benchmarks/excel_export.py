"""Writing an Excel workbook of a case history: CityDesk's ``write_xlsx`` against the ways a
Python user would write the same sheet.

    .venv/bin/python benchmarks/excel_export.py [--rows 74344] [--repeat 3]

The sheet is a synthetic history (seeded) shaped like the demo's replayed one: 11 columns,
ids and names as text, a step number, a local date-time, a note on one row in ten that a
member of the public could have typed as a formula (``=HYPERLINK(...)``), and JSON text.
Each method runs in a fresh process (its peak RSS is its own) and writes the same frame:

- ``citydesk``: ``citydesk.layers.csv_safe.write_xlsx`` (XlsxWriter, constant memory);
- ``openpyxl write-only``: the same cells through openpyxl's write-only mode, what
  ``write_xlsx`` did before session 41 (text forced to text cell by cell);
- ``pandas + xlsxwriter``: ``DataFrame.to_excel`` with XlsxWriter told not to read text as
  formulas, numbers or links (the fair peer: the same cells), its sheet in memory (pandas
  writes column by column, which XlsxWriter's constant-memory mode cannot take);
- ``pandas + openpyxl``: ``DataFrame.to_excel`` as a pandas user writes it by default.

Each workbook is read back (python-calamine) and compared cell by cell with CityDesk's; a
method that wrote different cells says which (pandas + openpyxl writes formula-looking text
as formulas: the CSV-injection hole ``csv_safe`` exists to close).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from common import print_results, spread

METHODS = ("citydesk", "openpyxl write-only", "pandas + xlsxwriter", "pandas + openpyxl")
ACTIONS = ["report", "accept", "register", "dispatch", "start", "handle", "check_pass", "close"]


def history(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(41)
    cases = rows // len(ACTIONS) + 1
    seq = np.tile(np.arange(1, len(ACTIONS) + 1), cases)[:rows]
    case = np.repeat(np.arange(cases), len(ACTIONS))[:rows]
    start = dt.datetime(2016, 1, 1)
    minutes = np.cumsum(rng.integers(1, 90, rows))
    notes = np.where(
        rng.random(rows) < 0.1,
        np.where(rng.random(rows) < 0.5, '=HYPERLINK("http://x", "y")', "debris still there"),
        None,
    )
    return pd.DataFrame(
        {
            "case_id": [f"2016{c:06d}-{c * 7919 % 10**10:010x}" for c in case],
            "source_id": [str(20000 + c) for c in case],
            "seq": seq,
            "at (America/New_York)": [start + dt.timedelta(minutes=int(m)) for m in minutes],
            "action": [ACTIONS[s - 1] for s in seq],
            "from_state": [ACTIONS[max(s - 2, 0)] for s in seq],
            "to_state": [ACTIONS[s - 1] for s in seq],
            "actor": [f"crew-{k}" for k in rng.integers(1, 9, rows)],
            "role": rng.choice(["intake_clerk", "dispatcher", "department"], rows),
            "note": notes,
            "detail": [json.dumps({"crew": f"fire-{k}"}) for k in rng.integers(1, 9, rows)],
        }
    )


def _openpyxl_write_only(frame: pd.DataFrame, path: Path) -> None:
    import math

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    table = book.create_sheet(title="history")
    table.append([str(c) for c in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        cells: list[object] = []
        for value in row:
            if value is None or (isinstance(value, float) and math.isnan(value)):
                cells.append(None)
            elif isinstance(value, str):
                cell = WriteOnlyCell(table, value=value)
                cell.data_type = "s"
                cells.append(cell)
            else:
                cells.append(value.item() if hasattr(value, "item") else value)
        table.append(cells)
    book.save(path)


def write(method: str, frame: pd.DataFrame, path: Path) -> None:
    if method == "citydesk":
        from citydesk.layers.csv_safe import write_xlsx

        write_xlsx(frame, path, sheet="history")
    elif method == "openpyxl write-only":
        _openpyxl_write_only(frame, path)
    elif method == "pandas + xlsxwriter":
        # not constant_memory: pandas writes a sheet column by column, and XlsxWriter in
        # that mode keeps only the row being written (a try lost every column but the first)
        options = {"strings_to_formulas": False, "strings_to_numbers": False}
        options |= {"strings_to_urls": False, "default_date_format": "yyyy-mm-dd hh:mm:ss"}
        frame.to_excel(
            path,
            sheet_name="history",
            index=False,
            engine="xlsxwriter",
            engine_kwargs={"options": options},
        )
    else:
        frame.to_excel(path, sheet_name="history", index=False, engine="openpyxl")


def cells(path: Path) -> list[list]:
    from python_calamine import CalamineWorkbook

    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name("history").to_python()


def child(method: str, rows: int, out: str) -> None:
    """One method, in this process: prints its seconds and peak RSS as JSON."""
    frame = history(rows)
    t0 = time.perf_counter()
    write(method, frame, Path(out))
    seconds = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss": rss}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=74_344)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=3, metavar=("METHOD", "ROWS", "OUT"))
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.child[2])
        return
    folder = Path(tempfile.mkdtemp())
    runs: dict[str, list[dict]] = {m: [] for m in METHODS}
    for _ in range(args.repeat):
        for method in METHODS:
            out = folder / f"{method.replace(' ', '_')}.xlsx"
            done = subprocess.run(
                [sys.executable, __file__, "--child", method, str(args.rows), str(out)],
                capture_output=True,
                text=True,
                check=True,
            )
            runs[method].append(json.loads(done.stdout.strip().splitlines()[-1]))
    reference = cells(folder / "citydesk.xlsx")
    rows = []
    base = min(r["seconds"] for r in runs["citydesk"])
    for method in METHODS:
        got = cells(folder / f"{method.replace(' ', '_')}.xlsx")
        differ = sum(
            a != b
            for ra, rb in zip(reference, got, strict=False)
            for a, b in zip(ra, rb, strict=False)
        ) + abs(len(reference) - len(got))
        formulas = 0
        if differ:
            from openpyxl import load_workbook

            sheet = load_workbook(folder / f"{method.replace(' ', '_')}.xlsx", read_only=True)
            formulas = sum(
                1
                for row in sheet["history"].iter_rows(values_only=True)
                for v in row
                if isinstance(v, str) and v.startswith("=")
            )
        seconds = [r["seconds"] for r in runs[method]]
        rows.append(
            [
                method,
                spread(seconds),
                f"{min(seconds) / base:.2f}x",
                f"{max(r['rss'] for r in runs[method]):.0f}",
                "yes" if not differ else f"no: {differ} cells differ ({formulas} formulas)",
            ]
        )
    print_results(
        f"An Excel sheet of {args.rows:,} history rows x 11 columns, {args.repeat} runs",
        ["method", "seconds", "time / CityDesk's", "peak RSS MiB", "same cells as CityDesk's"],
        rows,
    )


if __name__ == "__main__":
    main()
