"""Two things a city's staff meet on their own machines: a TOML file saved by Windows Notepad
with a byte-order mark (refused as "Invalid statement at line 1, column 1"), and a misspelt
time zone (an internal error deep inside an import, or a half-made project)."""

from __future__ import annotations

import subprocess
import sys

import geopandas as gpd
import pytest
import shapely

from citydesk.incidents.import_csv import CaseImportError, ColumnMapping
from citydesk.layers.city_locale import timezone_fix
from citydesk.layers.toml_schema import parse_toml

MAPPING = """source = "city"
[columns]
reported_at = "time"
[defaults]
category = "event:0590"
[dates]
timezone = "{tz}"
"""


def test_a_byte_order_mark_is_not_part_of_the_toml(tmp_path):
    assert parse_toml("\ufeffname = 'x'\n", ValueError, "file") == {"name": "x"}  # type: ignore[arg-type]
    toml = tmp_path / "mapping.toml"
    toml.write_bytes(b"\xef\xbb\xbf" + MAPPING.format(tz="Europe/Helsinki").encode())
    assert ColumnMapping.load(toml).timezone == "Europe/Helsinki"


def test_a_misspelt_time_zone_is_named_with_the_nearest(tmp_path):
    assert timezone_fix("Europe/Helsinki") is None
    assert '"Europe/Helsinki"' in (timezone_fix("Europe/Helsinky") or "")
    toml = tmp_path / "mapping.toml"
    toml.write_text(MAPPING.format(tz="Europe/Helsinky"), encoding="utf-8")
    with pytest.raises(CaseImportError) as err:
        ColumnMapping.load(toml)
    assert "dates.timezone = 'Europe/Helsinky' is not a time zone" in err.value.message
    assert '"Europe/Helsinki"' in err.value.fix


def test_city_init_refuses_it_before_making_the_project(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    gpd.GeoDataFrame(
        {"name": ["a"]}, geometry=[shapely.box(0, 0, 100, 100)], crs="EPSG:3067"
    ).to_file(data / "parcels.gpkg")
    project = tmp_path / "city.gpkg"
    done = subprocess.run(
        [sys.executable, "-m", "citydesk", "city", "init", str(data), "--project", str(project),
         "--name", "X", "--timezone", "Asia/Shanghi"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 2 and '"Asia/Shanghai"' in done.stderr
    assert not project.exists()  # nothing half made


def test_a_project_without_a_profile_is_warned_about_once(tmp_path, caplog):
    from citydesk.incidents.calendar import project_calendar
    from citydesk.layers.project import Project
    from citydesk.layers.project_store import save_project

    project = tmp_path / "bare.gpkg"
    save_project(Project("bare", crs="EPSG:3067"), project)
    with caplog.at_level("WARNING"):
        project_calendar(project)
        project_calendar(project)  # an import opens it twice: check, then write
    assert sum("has no city profile" in r.getMessage() for r in caplog.records) == 1
