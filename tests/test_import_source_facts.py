"""An import keeps what the source system knew: its own target (due) time and its own
department, instead of recomputing them; and a file with problems says so instead of
importing something else."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from citydesk.incidents.import_csv import CaseImportError, import_csv
from citydesk.incidents.stores import open_project_store

MAPPING = """
source = "city311"
[columns]
source_id = "Id"
reported_at = "Opened"
closed_at = "Closed"
due_at = "Due"
department = "Agency"
category = "Type"
lat = "Lat"
lon = "Lon"
[dates]
formats = ["%Y-%m-%d %H:%M"]
timezone = "America/New_York"
[categories]
"Pothole" = "event:0401"
"Graffiti" = "event:0104"
"""


def _export(tmp_path, **changes) -> tuple:
    rows = pd.DataFrame(
        {
            "Id": ["A1", "A2", "A3"],
            "Opened": ["2024-03-04 09:00", "2024-03-04 10:30", "2024-03-05 16:00"],
            "Closed": ["2024-03-05 11:00", "", "2024-03-06 09:00"],
            "Due": ["2024-03-11 09:00", "2024-03-06 10:30", ""],
            "Agency": ["DOT", "DSNY", ""],
            "Type": ["Pothole", "Graffiti", "Pothole"],
            "Lat": ["42.373", "42.365", "42.380"],
            "Lon": ["-71.110", "-71.104", "-71.120"],
        }
    )
    for column, (row, value) in changes.items():
        rows.loc[row, column] = value
    csv = tmp_path / "export.csv"
    rows.to_csv(csv, index=False)
    mapping = tmp_path / "city311.toml"
    mapping.write_text(MAPPING)
    return csv, mapping


def test_the_source_due_time_and_department_are_kept(demo_copy, tmp_path):
    csv, mapping = _export(tmp_path)
    with open_project_store(demo_copy) as store:
        summary = import_csv(store, csv, mapping)
        assert summary["added"] == 3
        cases = store.query().set_index("source_id")
        ny = store.calendar.zone
        a1 = store.get(cases.loc["A1", "case_id"])
        a3 = store.get(cases.loc["A3", "case_id"])
        category = store.catalogue.get("event", "0401")
    assert a1.due_at == dt.datetime(2024, 3, 11, 9, 0, tzinfo=ny)  # the source's, not computed
    assert a1.department == "DOT"
    assert cases.loc["A2", "department"] == "DSNY"
    # no source due time or agency: the catalogue's limit on the city's calendar, and its
    # department
    assert a3.due_at == store.calendar.due(
        dt.datetime(2024, 3, 5, 16, 0, tzinfo=ny), category.limit, category.unit
    )
    assert a3.department == category.department


def test_an_unreadable_close_date_stops_the_import(demo_copy, tmp_path):
    csv, mapping = _export(tmp_path, Closed=(1, "sometime tuesday"))
    with open_project_store(demo_copy) as store:
        with pytest.raises(
            CaseImportError,
            match=r"1 row has an unreadable Closed: 'sometime tuesday' \(file line 3",
        ):
            import_csv(store, csv, mapping)
        assert store.count() == 0


def test_a_category_without_its_kind_is_named(demo_copy, tmp_path):
    csv, mapping = _export(tmp_path)
    mapping.write_text(MAPPING.replace('"Pothole" = "event:0401"', '"Pothole" = "0401"'))
    with open_project_store(demo_copy) as store:
        with pytest.raises(CaseImportError, match="is not kind:code") as err:
            import_csv(store, csv, mapping)
        assert "'0401'" in err.value.message
        assert store.count() == 0


def test_the_categories_a_fix_hint_names_can_be_listed(capsys):
    """Error messages say "Pick one from 'citydesk cases categories'": that command exists."""
    from citydesk.workbench.cli.main import main

    assert main(["--lang", "zh_CN", "cases", "categories", "--search", "0101"]) == 0
    out = capsys.readouterr().out
    assert "event:0101\t私搭乱建" in out
