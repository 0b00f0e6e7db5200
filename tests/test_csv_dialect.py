"""Exports from decimal-comma locales (';' between fields, '60,1704' as a number) read the same
as comma exports, as layers and as cases; a comma file's '1,234' is never taken for 1.234."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from citydesk.incidents.import_csv import CaseImportError, import_csv
from citydesk.incidents.store import SqliteCaseStore
from citydesk.layers.project import Project
from citydesk.layers.project_store import save_project
from citydesk.layers.readers.csv_dialect import header_line, sniff_delimiter, to_numbers
from citydesk.layers.readers.csv_points import csv_columns, read_csv_points

MAPPING = """
source = "city"
[columns]
source_id = "id"
reported_at = "opened"
lat = "lat"
lon = "lon"
category = "type"
description = ["type", "note"]
[dates]
formats = ["%d.%m.%Y %H:%M"]
timezone = "Europe/Helsinki"
[categories]
"bin" = "component:0302"
"""

SEMICOLON = (
    "id;opened;lat;lon;type;note;count;share\n"
    "a;05.02.2015 10:00;60,1704;24,9384;bin;full;3;0,25\n"
    'b;06.02.2015 11:30;60,1699;24,9412;bin;"two lines;\nof text";12;1,5\n'
    "c;07.02.2015 09:15;;;bin;no place;7;2\n"
)


def test_a_semicolon_file_with_decimal_commas_reads_as_points(tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text(SEMICOLON, encoding="utf-8-sig")  # Excel writes a BOM
    frame, facts = read_csv_points(path)
    assert csv_columns(path)[:3] == ["id", "opened", "lat"]
    assert frame.crs.to_epsg() == 4326
    assert facts["rows_without_coordinates"] == 1
    assert frame.geometry.x.iloc[0] == pytest.approx(24.9384)
    assert frame.geometry.y.iloc[1] == pytest.approx(60.1699)
    assert frame["share"].tolist() == [0.25, 1.5, 2.0]  # an attribute is a number too
    assert frame["count"].dtype.kind == "i"  # and whole numbers stay integers


def test_a_comma_files_thousands_are_not_read_as_decimals(tmp_path):
    path = tmp_path / "assessor.csv"
    path.write_text('id,lat,lon,value\n1,42.37,-71.11,"1,234"\n2,42.38,-71.10,"2,500"\n')
    frame, _facts = read_csv_points(path)
    assert frame["value"].tolist() == ["1,234", "2,500"]  # left as written, never 1.234
    assert to_numbers(pd.Series(["1,234"]), ",").isna().all()


def test_cases_from_a_semicolon_export_keep_their_places(tmp_path):
    project = tmp_path / "city.gpkg"
    save_project(Project("city", crs="EPSG:3067"), project)
    csv = tmp_path / "cases.csv"
    csv.write_text(SEMICOLON, encoding="utf-8-sig")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    with SqliteCaseStore(project) as store:
        assert import_csv(store, csv, mapping)["added"] == 3
        cases = store.query().set_index("source_id")
    assert cases.loc["a", "lat"] == pytest.approx(60.1704)
    assert cases.loc["b", "lon"] == pytest.approx(24.9412)
    assert math.isnan(cases.loc["c", "lat"])
    assert "two lines;\nof text" in cases.loc["b", "description"]


def test_a_bad_row_of_a_semicolon_file_is_named_by_its_file_line(tmp_path):
    project = tmp_path / "city.gpkg"
    save_project(Project("city", crs="EPSG:3067"), project)
    csv = tmp_path / "cases.csv"
    # record 3 starts on file line 5: record 2's note spans two lines, and that note has a
    # comma in it, which only a reader splitting on ';' counts right
    csv.write_text(
        SEMICOLON.replace("07.02.2015", "31.31.2015").replace("two lines;", "two, lines;"),
        encoding="utf-8",
    )
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    with SqliteCaseStore(project) as store, pytest.raises(CaseImportError) as err:
        import_csv(store, csv, mapping)
    assert "(file line 5)" in err.value.message


def test_a_missing_column_is_named_once(tmp_path):
    project = tmp_path / "city.gpkg"
    save_project(Project("city", crs="EPSG:3067"), project)
    csv = tmp_path / "cases.csv"
    csv.write_text(SEMICOLON.replace("type", "kind", 1), encoding="utf-8")
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    with SqliteCaseStore(project) as store, pytest.raises(CaseImportError) as err:
        import_csv(store, csv, mapping)
    assert err.value.message.count("'type'") == 1  # category and description both use it


@pytest.mark.parametrize(
    ("header", "delimiter"),
    [("a,b,c", ","), ("a;b;c", ";"), ("a\tb\tc", "\t"), ("a|b|c", "|"), ("only", ",")],
)
def test_the_delimiter_is_the_one_the_header_uses(header, delimiter):
    assert sniff_delimiter(header) == delimiter


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id,date,text\n1,2026-01-01,x\n", (0, ",")),
        # a quoted text with commas or semicolons does not make a row look wider
        ('id,date,text\n1,2026-01-01,"a, b, c, d, e, f"\n', (0, ",")),
        ('id,date,text\n1,2026-01-01,"a; b; c; d; e"\n', (0, ",")),
        ("Service requests export\nGenerated 2026-11-01\n\nid,date,text\n1,2,3\n", (3, ",")),
        ("Report, Nov 2026\nid;date;type;lat;lon\n1;2;3;4;5\n", (1, ";")),
        ("only\nv1\n", (0, ",")),
        ("", (0, ",")),
    ],
)
def test_the_header_is_found_below_lines_of_title(text, expected):
    assert header_line(text) == expected


def test_a_title_above_the_header_is_skipped_as_a_layer_and_as_cases(tmp_path):
    """The layer reader and the case import find the same header: a file means the same to
    both (the import skipped the title, the layer reader read it as the only column)."""
    path = tmp_path / "cases.csv"
    path.write_text("Palautteet\nHaettu 1.11.2026\n\n" + SEMICOLON, encoding="utf-8-sig")
    frame, facts = read_csv_points(path)
    assert csv_columns(path)[:3] == ["id", "opened", "lat"]
    assert facts["rows_without_coordinates"] == 1
    assert frame.geometry.x.iloc[0] == pytest.approx(24.9384)
    project = tmp_path / "p.gpkg"
    save_project(Project("p", crs="EPSG:3067"), project)
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    with SqliteCaseStore(project) as store:
        assert import_csv(store, path, mapping)["added"] == 3


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda v: round(v, 6)))
def test_a_decimal_comma_number_reads_as_the_number(value):
    text = f"{value:.6f}".replace(".", ",")
    assert to_numbers(pd.Series([text]), ";").iloc[0] == pytest.approx(value, abs=1e-9)


def test_an_excel_table_of_points_reads_as_a_csv_would(tmp_path):
    frame = pd.DataFrame(
        {
            "名称": ["中关村站", "西单站"],
            "东经": [116.31, 116.37],
            "北纬": [39.98, 39.91],
            "座位": [120, 80],
        }
    )
    path = tmp_path / "stations.xlsx"
    frame.to_excel(path, index=False)
    assert csv_columns(path) == ["名称", "东经", "北纬", "座位"]
    points, facts = read_csv_points(path, x_field="东经", y_field="北纬")
    assert facts["driver"] == "XLSX" and points.crs.to_epsg() == 4326
    assert points.geometry.x.tolist() == pytest.approx([116.31, 116.37])
    assert points["座位"].dtype.kind == "i"  # numbers as numbers, as from a CSV


def test_layers_info_counts_the_rows_it_could_not_place(tmp_path, capsys):
    from citydesk.workbench.cli.main import main

    path = tmp_path / "places.csv"
    path.write_text("id,lat,lon\n1,N60,E24\n2,60.1,24.9\n", encoding="utf-8")
    assert main(["layers", "info", str(path)]) == 0
    assert "rows_without_coordinates: 1" in capsys.readouterr().out
