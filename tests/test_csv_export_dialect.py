"""CSV exports separated as the city's spreadsheets expect: a Helsinki clerk's Excel splits a
CSV on ';' and reads decimal commas (a comma CSV opened as one column of text), Cambridge's
on ','. The dialect comes from the profile's country (CLDR), or its csv_delimiter."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from citydesk.layers.city_locale import CsvDialect, csv_dialect
from citydesk.layers.city_profile import parse_profile, profile_text, project_csv_dialect
from citydesk.layers.csv_safe import write_table
from citydesk.layers.readers.csv_dialect import file_header, to_numbers
from citydesk.workbench.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "layers" / "demo_data" / "cambridge_demo.gpkg"


@pytest.mark.parametrize(
    ("city", "dialect"),
    [("helsinki", CsvDialect(";", ",")), ("cambridge", CsvDialect(",", "."))],
)
def test_the_dialect_follows_the_country(city, dialect):
    assert csv_dialect(parse_profile(profile_text(city))) == dialect


def test_the_profile_may_say_otherwise():
    text = profile_text("helsinki").replace(
        'currency = "EUR"', 'currency = "EUR"\ncsv_delimiter = ","'
    )
    assert csv_dialect(parse_profile(text)) == CsvDialect(",", ".")  # never "," for both
    bad = profile_text("helsinki").replace(
        'currency = "EUR"', 'currency = "EUR"\ncsv_delimiter = ":"'
    )
    with pytest.raises(Exception, match="csv_delimiter"):
        parse_profile(bad)


def test_a_table_in_the_helsinki_dialect_reads_back_as_numbers(tmp_path):
    frame = pd.DataFrame({"area": ["Kamppi", "Kallio"], "on_time": [0.8125, 0.5]})
    path = write_table(frame, tmp_path / "kpi.csv", dialect=CsvDialect(";", ","))
    text = path.read_text(encoding="utf-8-sig")
    assert text.splitlines()[1] == "Kamppi;0,8125"
    assert file_header(path, "utf-8-sig") == (0, ";")
    back = pd.read_csv(path, sep=";", dtype=str, encoding="utf-8-sig")
    assert to_numbers(back["on_time"], ";").tolist() == [0.8125, 0.5]


def test_cambridge_case_exports_stay_comma_separated(tmp_path, capsys):
    project = Path(shutil.copy(DEMO, tmp_path / "cambridge.gpkg"))
    assert project_csv_dialect(project) == CsvDialect(",", ".")
    out = tmp_path / "cases.csv"
    assert main(["cases", "export", str(out), "--project", str(project)]) == 0
    assert file_header(out, "utf-8-sig") == (0, ",")
