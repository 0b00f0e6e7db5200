"""Hardening (issue 21): numbers that mean nothing are refused in one line, a case is never
merged into itself, and CSV exports cannot carry spreadsheet formulas."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from citydesk.layers.csv_safe import defuse, defused, write_csv
from citydesk.planning.scenario import ScenarioError, parse_scenario
from citydesk.workbench.cli.main import main

BROKEN = Path(__file__).parent / "data" / "broken"

SCENARIO = """
name = "x"
[layers]
parcels = "parcels"
[targets]
housing_units = {housing}
[assumptions]
persons_per_unit = {persons}
"""


@pytest.mark.parametrize(("housing", "persons"), [("100.0", "nan"), ("inf", "2.0"), ("-inf", "2")])
def test_toml_refuses_nan_and_inf(housing, persons):
    with pytest.raises(ScenarioError) as err:
        parse_scenario(SCENARIO.format(housing=housing, persons=persons))
    assert "finite number" in err.value.message


@pytest.mark.parametrize(
    "args",
    [
        ["optimize", "mclp", "p.gpkg", "--kind", "fire", "--radius", "-100"],
        ["optimize", "pmedian", "p.gpkg", "--kind", "fire", "--spacing", "nan"],
        ["optimize", "landuse", "p.gpkg", "--housing", "inf"],
        ["dispatch", "duplicates", "X", "--project", "p.gpkg", "--radius", "0"],
        ["city", "due", "p.gpkg", "--at", "2026-01-05 09:00", "--limit", "nan"],
        ["optimize", "landuse", "p.gpkg", "--weights", "economic=nan"],
        ["optimize", "landuse", "p.gpkg", "--max-changed", "-5"],
        [
            "cases",
            "move",
            "X",
            "extend",
            "--project",
            "p.gpkg",
            "--as",
            "shift_chief",
            "--actor",
            "li",
            "--hours",
            "nan",
        ],
    ],
)
def test_cli_numbers_must_be_finite_and_sensible(args, capsys):
    with pytest.raises(SystemExit) as stop:
        main(args)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "finite" in err or "greater than 0" in err or "negative" in err


@pytest.mark.parametrize(
    "args",
    [
        ["cases", "hotspots", "--project", "p.gpkg", "--from", "2016-01-01", "--to", "9999-01-01"],
        ["city", "due", "p.gpkg", "--at", "9999-12-31T10:00", "--limit", "4"],
        ["dispatch", "report", "--project", "p.gpkg", "--out", "r.pdf", "--from", "1500-01-01"],
        ["cases", "export", "x.csv", "--project", "p.gpkg", "--to", "3000-01-01"],
    ],
)
def test_cli_dates_must_be_in_the_years_a_case_is_counted_in(args, capsys):
    """A year 9999 typed for "until whenever" was an internal error (OverflowError,
    OutOfBoundsDatetime) deep in the calendar; now the option is refused in one line."""
    with pytest.raises(SystemExit) as stop:
        main(args)
    assert stop.value.code == 2
    assert "is outside the years 1900-2199" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("weights", "said"),
    [
        ("economic=abc", "'abc' is not a number"),
        ("=1", "'=1' names no objective: write name=weight"),
        ("economic=1,economic=2", "the objective 'economic' is weighted twice"),
    ],
)
def test_land_use_weights_are_read_or_refused_in_one_line(weights, said, capsys):
    """``--weights economic=abc`` and ``economic=nan`` were internal errors."""
    with pytest.raises(SystemExit) as stop:
        main(["optimize", "landuse", "p.gpkg", "--weights", weights])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert said in err and len(err.strip().splitlines()[-1]) < 200


def test_a_weight_without_a_value_weighs_one():
    from citydesk.workbench.cli.arg_types import weights

    assert weights("economic, social=1000") == {"economic": 1.0, "social": 1000.0}


def test_a_case_is_not_merged_into_itself(demo_copy, capsys):
    from citydesk.incidents.new_cases import NewCase
    from citydesk.incidents.stores import open_project_store

    with open_project_store(demo_copy) as store:
        case = store.report(NewCase("event", "0102", lon=-71.1, lat=42.37), "ann")
    args = ["dispatch", "merge", case.case_id, case.case_id, "--project", str(demo_copy)]
    assert main([*args, "--as", "shift_chief", "--actor", "sam"]) == 2
    assert "duplicate of itself" in capsys.readouterr().err
    with open_project_store(demo_copy) as store:
        assert store.get(case.case_id).status == "reported"


@given(st.text(max_size=30))
def test_no_csv_cell_starts_a_formula(text):
    out = defuse(text)
    assert not (isinstance(out, str) and out.startswith(("=", "+", "-", "@", "\t", "\r")))
    assert out == text or out == "'" + text


def test_exported_descriptions_stay_text(tmp_path):
    frame = pd.DataFrame(
        {"description": ['=HYPERLINK("http://evil","x")', "+1", "plain", "@SUM(A1)"],
         "value": [-1.5, 2.0, math.pi, 0.0]}
    )  # fmt: skip
    path = tmp_path / "out.csv"
    write_csv(frame, path, index=False)
    back = pd.read_csv(path)
    assert back["description"].tolist() == [
        "'=HYPERLINK(\"http://evil\",\"x\")", "'+1", "plain", "'@SUM(A1)"
    ]  # fmt: skip
    assert back["value"].tolist() == frame["value"].tolist()  # numbers untouched
    assert defused(frame)["value"].equals(frame["value"])


def test_csv_exports_open_in_excel_with_chinese_intact(tmp_path):
    """Excel reads a CSV without a byte-order mark in the machine's code page: on a Chinese
    Windows (GBK) every category and street name of an export came out as mojibake."""
    path = tmp_path / "cases.csv"
    write_csv(pd.DataFrame({"category": ["暴露垃圾"], "street": ["华兴街道"]}), path, index=False)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8's mark: Excel then reads UTF-8
    back = pd.read_csv(path)  # and every other reader skips it
    assert list(back.columns) == ["category", "street"] and back.iloc[0, 0] == "暴露垃圾"


def test_case_ids_of_a_batch_are_distinct_by_construction():
    """A million cases reported on one day: every id distinct (40 random bits each used to
    collide in 37 % of such imports)."""
    import numpy as np

    from citydesk.incidents.calendar import WorkingCalendar
    from citydesk.incidents.new_cases import _case_ids

    day = np.full(1_000_000, np.datetime64("2026-03-02T10:00", "ns").astype(np.int64))
    ids = _case_ids(day, WorkingCalendar())
    assert len(set(ids)) == len(ids) and all(i.startswith("20260302-") for i in ids[:5])


def test_convert_onto_a_geopackage_keeps_its_other_layers(tmp_path, capsys):
    """issue 21: `layers convert b.gpkg b.gpkg --layer two` left 1 of 3 layers."""
    import geopandas as gpd
    import pyogrio
    import shapely

    frame = gpd.GeoDataFrame(
        {"name": ["a", "b"]}, geometry=[shapely.Point(0, 0), shapely.Point(1, 1)], crs=4326
    )
    gpkg = tmp_path / "b.gpkg"
    for name in ("one", "two", "three"):
        frame.to_file(gpkg, layer=name)
    assert main(["layers", "convert", str(gpkg), str(gpkg), "--layer", "two"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["layers", "convert", str(gpkg), str(gpkg), "--layer", "two", "--overwrite"]) == 0
    source = tmp_path / "c.geojson"
    frame.to_file(source)
    assert main(["layers", "convert", str(source), str(gpkg)]) == 0  # a new layer is added
    assert {n for n, _t in pyogrio.list_layers(gpkg)} == {"one", "two", "three", "c"}
    assert main(["layers", "convert", str(source), str(tmp_path / "c.geojson")]) == 2


@pytest.mark.parametrize(
    ("damage", "message"),
    [("cut", "s.dbf is truncated: it holds 6 of its 13 records"), ("remove", ".dbf) is missing")],
)
def test_a_damaged_shapefile_table_is_an_error(tmp_path, damage, message):
    """issue 21: a .dbf cut in half read 6 of 13 features, and a missing .dbf dropped every
    attribute, both as "no problems found"."""
    import geopandas as gpd
    import shapely

    from citydesk.layers.errors import LayerReadError
    from citydesk.layers.readers.vector import read_vector

    frame = gpd.GeoDataFrame(
        {"name": [f"n{i}" for i in range(13)], "v": list(range(13))},
        geometry=[shapely.Point(i, i) for i in range(13)],
        crs=4326,
    )
    shp = tmp_path / "s.shp"
    frame.to_file(shp)
    dbf = shp.with_suffix(".dbf")
    if damage == "cut":
        dbf.write_bytes(dbf.read_bytes()[: dbf.stat().st_size // 2])
    else:
        dbf.unlink()
    with pytest.raises(LayerReadError) as err:
        read_vector(shp)
    assert message in err.value.message
    assert main(["layers", "validate", str(shp)]) == 1


def test_nothing_writes_into_a_newer_format_project(demo_copy, tmp_path, capsys):
    """issue 21: plan save wrote into a project every other command refuses."""
    import sqlite3

    with sqlite3.connect(demo_copy) as con:
        con.execute("UPDATE citydesk_project SET value = '99' WHERE key = 'format_version'")
    scenario = tmp_path / "s.toml"
    scenario.write_text('name = "s"\n[layers]\nparcels = "parcels"\n', encoding="utf-8")
    assert main(["plan", "save", str(demo_copy), str(scenario)]) == 2
    assert "format 99" in capsys.readouterr().err
    with sqlite3.connect(demo_copy) as con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    assert "citydesk_scenarios" not in tables


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "save", "{project}", "{tmp}/missing.toml"],
        ["cases", "import", "{tmp}/missing.csv", "--mapping", "nyc311", "--project", "{project}"],
        ["cases", "import", "{tmp}", "--mapping", "nyc311", "--project", "{project}"],
    ],
)
def test_a_missing_or_unusable_file_is_a_clear_error(args, demo_copy, tmp_path, capsys):
    """issue 21: a missing input ended in 'internal error' (exit 3)."""
    filled = [a.format(project=demo_copy, tmp=tmp_path) for a in args]
    assert main(filled) == 2
    err = capsys.readouterr().err
    assert "internal error" not in err and "Fix:" in err


def test_an_absurd_dpi_is_refused_before_any_work(demo_copy, tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["project", "export-map", str(demo_copy), str(tmp_path / "m.png"), "--dpi", "100000"])
    assert stop.value.code == 2 and "50 to 1200" in capsys.readouterr().err


def test_a_write_lock_held_elsewhere_is_waited_for_then_a_clear_error(
    demo_copy, monkeypatch, capsys
):
    """Another desk holding the write lock past the wait ended as "internal error: database
    is locked" (issue 21). The wait says so as it goes, then one line; nothing changes."""
    import sqlite3

    from citydesk.incidents.stores import open_project_store

    with open_project_store(demo_copy):
        pass  # the project has its case store
    monkeypatch.setattr("citydesk.layers.gpkg.WRITE_WAIT_S", 6.0)
    other = sqlite3.connect(demo_copy, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        code = main(
            [
                "-v",
                "cases",
                "import",
                str(BROKEN / "cases_ok.csv"),
                "--mapping",
                str(BROKEN / "mapping_ok.toml"),
                "--project",
                str(demo_copy),
            ]
        )
    finally:
        other.execute("ROLLBACK")
        other.close()
    err = capsys.readouterr().err
    assert code == 2, err
    assert "writing to this file for over 6 s" in err and "nothing was changed" in err
    assert "waiting for another program's write (5 s)" in err
    with open_project_store(demo_copy) as store:
        assert store.count() == 0
    assert (
        main(
            [
                "cases",
                "import",
                str(BROKEN / "cases_ok.csv"),
                "--mapping",
                str(BROKEN / "mapping_ok.toml"),
                "--project",
                str(demo_copy),
            ]
        )
        == 0
    )


def test_a_disk_that_fills_during_an_import_is_a_clear_error_and_loses_nothing(demo_copy, tmp_path):
    """The disk fills in the middle of an import (here: a file-size limit on the process,
    so SQLite's writes fail partway as on a full disk). One line, exit 2, the project file
    intact and without a single case of the failed import (issue 21)."""
    import resource
    import sqlite3
    import subprocess
    import sys

    from citydesk.incidents.stores import open_project_store

    rows = 20_000
    csv = tmp_path / "many.csv"
    frame = pd.DataFrame({"id": range(rows), "opened": "2024-03-01 08:00", "closed": ""})
    frame.assign(type="pothole", lat=42.37, lon=-71.11).to_csv(csv, index=False)
    with open_project_store(demo_copy):
        pass  # the case store exists; its tables are small
    limit = 1_000_000  # bytes any one file may grow to: the write-ahead log fills first

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    run = subprocess.run(
        [sys.executable, "-P", "-m", "citydesk.workbench.cli.main", "cases", "import",
         str(csv), "--mapping", str(BROKEN / "mapping_ok.toml"), "--project", str(demo_copy)],
        capture_output=True, text=True, preexec_fn=small_disk, timeout=300,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert "the change was rolled back" in run.stderr
    assert "internal error" not in run.stderr
    with sqlite3.connect(demo_copy) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with open_project_store(demo_copy) as store:
        assert store.count() == 0


def test_sqlite_s_full_disk_message_is_translated_into_a_fix():
    import sqlite3

    from citydesk.workbench.cli.main import _sqlite_problem

    said = _sqlite_problem(sqlite3.OperationalError("database or disk is full"))
    assert said is not None and "Free some space" in said and "as it was" in said
    assert _sqlite_problem(sqlite3.OperationalError("no such table: x")) is None


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("persons_per_household = 1.8", "persons_per_household = 1e308"),
        ("persons_per_household = 1.8", "persons_per_household = 0"),
    ],
)
def test_city_profile_numbers_have_sensible_ranges(line, value):
    """A profile number far outside anything a city has is refused with its range, not
    planned with (issue 21: every numeric input has a finite range)."""
    from citydesk.layers.city_profile import ProfileError, parse_profile, profile_text

    text = profile_text("helsinki")
    assert line in text
    with pytest.raises(ProfileError, match=r"is outside 0\.1 to 50"):
        parse_profile(text.replace(line, value), "helsinki.toml")
