"""Messages name the file's own lines: a description with a line break inside quotes, a blank
line or a malformed row skipped before a bad row used to shift every line number given."""

from __future__ import annotations

import csv
import io
import warnings

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citydesk.incidents.csv_lines import CsvLines
from citydesk.incidents.import_csv import CaseImportError, ColumnMapping, import_csv
from citydesk.incidents.store import SqliteCaseStore

HEADER = "id,opened,lat,lon,type,text\n"
GOOD = "{i},2024-03-0{d} 09:00,42.37,-71.1,crash,{text}\n"


def test_lines_of_rows_and_records_skip_what_pandas_skips(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(
        "a,b,c\n"  # 1: header (record 1)
        '1,"two\nlines",3\n'  # 2-3: row 0 (record 2)
        "\n"  # 4: blank (record 3, not a row)
        "4,5,6,7\n"  # 5: too long, skipped (record 4)
        "8,9\n"  # 6: too short, kept with a gap (row 1)
        '"x\r\ny",1,2\n',  # 7-8: row 2
        encoding="utf-8",
        newline="",
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = pd.read_csv(path, dtype=str, on_bad_lines="warn", index_col=False)
    assert len(frame) == 3 and "line 4" in str(caught[0].message)  # pandas counts records
    lines = CsvLines(path, "utf-8")
    assert lines.of_rows([0, 1, 2]) == [2, 6, 7]
    assert lines.of_records([4]) == [5]
    assert lines.of_rows([]) == [] and lines.of_records([]) == []


fields = st.text(alphabet='ab,"\n ', max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["row", "blank", "long"]), st.lists(fields, min_size=3, max_size=3)
        ),
        min_size=1,
        max_size=25,
    )
)
def test_every_kept_row_is_placed_on_its_first_line(tmp_path_factory, records):
    """Whatever quotes, commas and line breaks the fields hold, the k-th row pandas keeps is
    placed on the line its record starts on."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["a", "b", "c"])
    starts: list[int] = []
    wide = False  # pandas takes the first row's width when it is wider than the header
    for kind, values in records:
        line = out.getvalue().count("\n") + 1
        if kind == "blank":
            out.write("\n")
        elif kind == "long":
            writer.writerow([*values, "extra"])
            if not starts or wide:
                wide = True
                starts.append(line)
        else:
            if all(v.strip() == "" and "\n" not in v for v in values):
                values = ["v", *values[1:]]  # pandas reads an all-blank row as a blank line
            writer.writerow(values)
            starts.append(line)
    path = tmp_path_factory.mktemp("csv") / "f.csv"
    path.write_text(out.getvalue(), encoding="utf-8", newline="")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = pd.read_csv(path, dtype=str, on_bad_lines="warn", index_col=False)
    assert len(frame) == len(starts)
    assert CsvLines(path, "utf-8").of_rows(range(len(starts))) == starts


@pytest.fixture()
def mapping() -> ColumnMapping:
    return ColumnMapping(
        source="city311",
        columns={
            "source_id": "id",
            "reported_at": "opened",
            "lat": "lat",
            "lon": "lon",
            "category": "type",
            "description": "text",
        },
        date_formats=["%Y-%m-%d %H:%M"],
        timezone="UTC",
        categories={"crash": "event:0490"},
    )


def test_a_bad_row_is_named_by_its_file_line(tmp_path, mapping):
    text = (
        HEADER
        + GOOD.format(i=1, d=1, text='"fell over,\nthen the kerb"')  # lines 2-3
        + "2,2024-03-02 09:00,42.37,-71.1,crash,x,surplus\n"  # line 4: skipped by pandas
        + "\n"  # line 5
        + GOOD.format(i=3, d=3, text="ok")  # line 6
        + "4,last Tuesday,42.37,-71.1,crash,ok\n"  # line 7: the bad date
    )
    path = tmp_path / "cases.csv"
    path.write_text(text, encoding="utf-8", newline="")
    with SqliteCaseStore(tmp_path / "s.gpkg") as store:
        with pytest.raises(CaseImportError, match=r"no readable report date \(file line 7\)"):
            import_csv(store, path, mapping)
        path.write_text(text.replace("last Tuesday", "2024-03-04 09:00"), encoding="utf-8")
        done = import_csv(store, path, mapping)
    assert done["added"] == 3
    assert done["bad_lines"] == [4]  # the skipped row, by its file line


def test_lines_of_a_file_with_a_title_above_its_header(tmp_path, mapping):
    """A title, the export's date and a blank line above the column names: the header is
    found below them, and a bad row is still named by its own file line (pandas counts the
    title's lines in its record numbers)."""
    text = (
        "Service requests export\n"  # 1
        "Generated 2026-11-01\n"  # 2
        "\n"  # 3
        + HEADER  # 4
        + GOOD.format(i=1, d=1, text="ok")  # 5
        + "2,2024-03-02 09:00,42.37,-71.1,crash,x,surplus\n"  # 6: skipped by pandas
        + GOOD.format(i=3, d=3, text="ok")  # 7
        + "4,last Tuesday,42.37,-71.1,crash,ok\n"  # 8: the bad date
    )
    path = tmp_path / "cases.csv"
    path.write_text(text, encoding="utf-8", newline="")
    lines = CsvLines(path, "utf-8", ",", skip=3)
    assert lines.of_rows([0, 1, 2]) == [5, 7, 8]
    assert lines.of_records([6]) == [6]
    with SqliteCaseStore(tmp_path / "s.gpkg") as store:
        with pytest.raises(CaseImportError, match=r"no readable report date \(file line 8\)"):
            import_csv(store, path, mapping)
        path.write_text(text.replace("last Tuesday", "2024-03-04 09:00"), encoding="utf-8")
        summary = import_csv(store, path, mapping)
    assert summary["added"] == 3 and summary["bad_lines"] == [6]
