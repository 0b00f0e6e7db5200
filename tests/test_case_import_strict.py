"""Imports read dates strictly and refuse mapping mistakes in one line (issue 19): day/month
ambiguity, cases closed before they were reported, category mistakes."""

from __future__ import annotations

import pandas as pd
import pytest

from citydesk.incidents.import_csv import CaseImportError, ColumnMapping, import_csv
from citydesk.incidents.store import SqliteCaseStore
from citydesk.layers.project import Project
from citydesk.layers.project_store import save_project

MAPPING = """
source = "city"
[columns]
source_id = "id"
reported_at = "opened"
closed_at = "closed"
lat = "lat"
lon = "lon"
category = "type"
[dates]
timezone = "Europe/Helsinki"
{dates}
[categories]
"bin" = "component:0302"
"""


@pytest.fixture()
def store(tmp_path):
    path = tmp_path / "city.gpkg"
    save_project(Project("city", crs="EPSG:3067"), path)
    with SqliteCaseStore(path) as s:
        yield s


def _files(tmp_path, rows, dates=""):
    csv = tmp_path / "cases.csv"
    pd.DataFrame(rows, columns=["id", "opened", "closed", "lat", "lon", "type"]).to_csv(
        csv, index=False
    )
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING.format(dates=dates), encoding="utf-8")
    return csv, mapping


def test_day_month_ambiguity_is_refused_unless_the_mapping_says(store, tmp_path):
    rows = [
        ["a", "05.02.2015 10:00", "", 60.17, 24.94, "bin"],
        ["b", "25.02.2015 10:00", "", 60.17, 24.94, "bin"],  # 25 can only be a day
    ]
    csv, mapping = _files(tmp_path, rows)
    with pytest.raises(CaseImportError) as err:
        import_csv(store, csv, mapping)
    assert "day-first or month-first (file line 2)" in err.value.message
    assert "dayfirst" in err.value.fix
    csv, mapping = _files(tmp_path, rows, "dayfirst = true")
    assert import_csv(store, csv, mapping)["added"] == 2
    first = store.query().set_index("source_id").loc["a", "reported_at"]
    assert first.startswith("2015-02-05T08:00")  # 10:00 in Helsinki (UTC+2)


def test_cases_closed_before_they_were_reported_follow_the_mapping(store, tmp_path):
    rows = [
        ["a", "2026-03-02 10:00", "2026-03-02 09:59", 60.17, 24.94, "bin"],
        ["b", "2026-03-02 10:00", "2026-03-02 12:00", 60.17, 24.94, "bin"],
    ]
    csv, mapping = _files(tmp_path, rows)
    with pytest.raises(CaseImportError) as err:
        import_csv(store, csv, mapping)
    assert "closes before it was reported (file line 2)" in err.value.message
    assert store.query().empty  # nothing was written
    csv, mapping = _files(tmp_path, rows, 'backwards = "clamp"')
    result = import_csv(store, csv, mapping)
    assert result["added"] == 2 and result["backwards"] == 1
    cases = store.query().set_index("source_id")
    assert cases.loc["a", "closed_at"] == cases.loc["a", "reported_at"]
    assert store.verify_all() == []


def test_kept_backwards_rows_are_counted(store, tmp_path):
    rows = [["a", "2026-03-02 10:00", "2026-03-02 09:59", 60.17, 24.94, "bin"]]
    csv, mapping = _files(tmp_path, rows, 'backwards = "keep"')
    result = import_csv(store, csv, mapping)
    assert result["backwards"] == 1 and result["backwards_policy"] == "keep"
    case = store.query().iloc[0]
    assert case["closed_at"] < case["reported_at"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('category = "type"\n', ""), "no columns.category and no defaults.category"),
        (('"bin" = "component:0302"', '"bin" = "0302"'), "is not kind:code"),
        (("[dates]", "[dates]\ndayfrist = true"), "did you mean 'dayfirst'"),
        (("[dates]", '[dates]\nbackwards = "skip"'), "Use one of: refuse, clamp, keep"),
    ],
)
def test_mapping_mistakes_are_one_line_errors(tmp_path, edit, message):
    path = tmp_path / "m.toml"
    path.write_text(MAPPING.format(dates="").replace(*edit), encoding="utf-8")
    with pytest.raises(CaseImportError) as err:
        ColumnMapping.load(path)
    assert message in err.value.message + " " + err.value.fix


@pytest.mark.parametrize(
    ("lat", "lon", "fix"),
    [(999.0, 24.94, "leave their coordinates empty"), (116.4, 39.9, "look swapped"),
     (1e308, 24.9, "leave their coordinates empty")],
)  # fmt: skip
def test_impossible_coordinates_are_refused(store, tmp_path, lat, lon, fix):
    rows = [["a", "2026-03-02 10:00", "", lat, lon, "bin"]]
    csv, mapping = _files(tmp_path, rows, 'formats = ["%Y-%m-%d %H:%M"]')
    with pytest.raises(CaseImportError) as err:
        import_csv(store, csv, mapping)
    assert "no place has (file line 2)" in err.value.message and fix in err.value.fix
    assert store.query().empty


def test_priorities_come_through_their_value_map(store, tmp_path):
    rows = [
        ["a", "2026-03-02 10:00", "", 60.17, 24.94, "bin"],
        ["b", "2026-03-02 10:00", "", 60.17, 24.94, "bin"],
        ["c", "2026-03-02 10:00", "", 60.17, 24.94, "bin"],
        ["d", "2026-03-02 10:00", "", 60.17, 24.94, "bin"],
    ]
    csv, mapping = _files(tmp_path, rows, 'formats = ["%Y-%m-%d %H:%M"]')
    frame = pd.read_csv(csv).assign(urgency=["Urgent", "Low", "2", None])
    frame.to_csv(csv, index=False)
    text = mapping.read_text(encoding="utf-8").replace(
        'category = "type"', 'category = "type"\npriority = "urgency"'
    )
    mapping.write_text(text + '\n[priorities]\n"Urgent" = 1\n"Low" = 5\n', encoding="utf-8")
    assert import_csv(store, csv, mapping)["added"] == 4
    got = store.query().set_index("source_id")["priority"].to_dict()
    assert got == {"a": 1, "b": 5, "c": 2, "d": 3}
    frame.assign(urgency=["Whenever", "Low", "2", None]).to_csv(csv, index=False)
    with pytest.raises(CaseImportError) as err:
        import_csv(store, csv, mapping)
    assert "Whenever" in err.value.message and "file lines 2" in err.value.message


def test_padded_values_find_their_mapping(tmp_path):
    """Exports pad cells ("Pothole ", " Closed"): the mapped category and status are found,
    not the default filed silently."""
    from citydesk.incidents.import_csv import ColumnMapping, read_cases

    mapping = tmp_path / "m.toml"
    mapping.write_text(
        'source = "city"\n[columns]\nreported_at = "opened"\nclosed_at = "closed"\n'
        'category = "type"\nstatus = "state"\n[dates]\ntimezone = "UTC"\n'
        '[categories]\n"Pothole" = "event:0401"\n[defaults]\ncategory = "event:0699"\n'
        '[statuses]\n"Closed" = "closed"\n" Open" = "open"\n',
        encoding="utf-8",
    )
    path = tmp_path / "cases.csv"
    path.write_text(
        "opened,closed,type,state\n"
        "2024-01-01 10:00,2024-01-02 10:00,Pothole , Closed\n"
        "2024-01-01 11:00,, Pothole,Open \n",
        encoding="utf-8",
    )
    cases = read_cases(path, ColumnMapping.load(mapping)).cases
    assert cases["category_code"].tolist() == ["0401", "0401"]
    assert cases["closed_at"].notna().tolist() == [True, False]
