"""A city system's status, channel and last-update time (issue 19): kept on the case, read
through a [statuses] value map, and a later export that changes the status or the source's
own due time appends a ``source_update`` event (the case's state unchanged, history never
rewritten); on both backends."""

from __future__ import annotations

import pandas as pd
import pytest

from citydesk.incidents.desk import source_summary
from citydesk.incidents.import_csv import CaseImportError, import_csv

MAPPING = """
source = "city311"
[columns]
source_id = "id"
reported_at = "opened"
closed_at = "closed"
due_at = "due"
status = "state"
channel = "via"
updated_at = "touched"
lat = "lat"
lon = "lon"
category = "type"
[dates]
formats = ["%Y-%m-%d %H:%M"]
timezone = "America/New_York"
[categories]
"bin" = "component:0302"
[statuses]
"Open" = "open"
"Assigned" = "open"
"In Progress" = "open"
"Closed" = "closed"
"""
COLUMNS = ["id", "opened", "closed", "due", "state", "via", "touched"]


@pytest.fixture()
def store(store_target):
    with store_target.open() as s:
        yield s


def _export(tmp_path, name, rows):
    path = tmp_path / name
    frame = pd.DataFrame(rows, columns=COLUMNS).assign(lat=42.37, lon=-71.1, type="bin")
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("lookup", ["by index", "joined"])
def test_status_channel_and_updates_are_kept_and_changes_are_events(
    store, tmp_path, monkeypatch, lookup
):
    """``joined``: the stored cases are found through the temporary table an import of
    10,000 rows or more uses, here for three."""
    if lookup == "joined":
        from citydesk.incidents import case_store

        monkeypatch.setattr(case_store, "_JOINED_LOOKUP", 1)
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    monday = _export(
        tmp_path,
        "monday.csv",
        [
            ["1", "2026-03-02 09:00", "", "2026-03-04 17:00", "Open", "Phone", "2026-03-02 09:00"],
            [
                "2",
                "2026-03-02 09:30",
                "",
                "2026-03-05 17:00",
                "Assigned",
                "App",
                "2026-03-02 10:00",
            ],
            # closed at the source with no close date: closed at its last update
            ["3", "2026-03-02 10:00", "", "", "Closed", "Web", "2026-03-02 15:00"],
        ],
    )
    summary = import_csv(store, monday, mapping)
    assert summary["added"] == 3 and summary["closed"] == 1
    cases = store.query().set_index("source_id")
    assert cases.loc["1", "source_status"] == "Open" and cases.loc["2", "channel"] == "App"
    three = store.get(cases.loc["3", "case_id"])
    assert three.status == "closed" and three.closed_at.hour == 15
    assert three.source_updated_at.hour == 15

    tuesday = _export(
        tmp_path,
        "tuesday.csv",
        [
            # the agency moved it on and gave itself a day more
            ["1", "2026-03-02 09:00", "", "2026-03-05 17:00", "In Progress", "Phone", "2026-03-03 08:00"],  # noqa: E501
            ["2", "2026-03-02 09:30", "", "2026-03-05 17:00", "Assigned", "App", "2026-03-02 10:00"],  # noqa: E501
            ["3", "2026-03-02 10:00", "", "", "Closed", "Web", "2026-03-02 15:00"],
        ],
    )  # fmt: skip
    again = import_csv(store, tuesday, mapping)
    assert again["added"] == 0 and again["updated"] == 1 and again["unchanged"] == 2
    one = store.get(cases.loc["1", "case_id"])
    assert one.status == "reported"  # the source's word is recorded; the state is its own
    assert one.source_status == "In Progress" and one.due_at.day == 5
    history = store.history(one.case_id)
    assert [e.action for e in history] == ["report", "source_update"]
    assert "Open -> In Progress" in history[-1].note and "due time" in history[-1].note
    assert import_csv(store, tuesday, mapping)["updated"] == 0  # idempotent
    assert store.verify_all() == []
    # what the desk's card and `cases show` quote to a caller
    line = source_summary(store.get(one.case_id))
    assert line is not None
    for part in ("city311 #1", "status there: In Progress", "Phone", "2026-03-03", "source"):
        assert part in line, (part, line)


@pytest.mark.parametrize("closes", ["one statement each", "in bulk"])
def test_a_later_export_closes_many_reported_cases_at_once(store, tmp_path, monkeypatch, closes):
    """``in bulk``: the closes a PostGIS re-import writes through a copied table (from
    1,000 cases), here for three; the GeoPackage writes one statement each both ways."""
    if closes == "in bulk":
        from citydesk.incidents import postgis_store

        monkeypatch.setattr(postgis_store, "_COPY_ROWS", 1)
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    open_rows = [
        [str(i), f"2026-03-02 0{i}:00", "", "2026-03-06 17:00", "Open", "Phone", ""]
        for i in range(1, 5)
    ]
    assert import_csv(store, _export(tmp_path, "monday.csv", open_rows), mapping)["added"] == 4
    ids = store.query().set_index("source_id")["case_id"]
    later = _export(
        tmp_path,
        "tuesday.csv",
        [
            # closed with a new status and a new due time of the source's own
            ["1", "2026-03-02 01:00", "2026-03-03 12:00", "2026-03-09 17:00", "Closed", "Phone", "2026-03-03 12:00"],  # noqa: E501
            # closed, the source's due time unchanged: the stored one kept
            ["2", "2026-03-02 02:00", "2026-03-03 13:00", "2026-03-06 17:00", "Closed", "Phone", ""],  # noqa: E501
            ["3", "2026-03-02 03:00", "2026-03-03 14:00", "2026-03-06 17:00", "Closed", "Phone", "2026-03-03 14:00"],  # noqa: E501
            ["4", "2026-03-02 04:00", "", "2026-03-06 17:00", "Open", "Phone", ""],  # still open
        ],
    )  # fmt: skip
    result = import_csv(store, later, mapping)
    assert (result["added"], result["updated"], result["unchanged"]) == (0, 3, 1)
    one, two, four = (store.get(ids[i]) for i in ("1", "2", "4"))
    assert one.status == two.status == "closed" and four.status == "reported"
    assert (one.version, two.version, four.version) == (2, 2, 1)
    assert one.closed_at.hour == 12 and two.closed_at.hour == 13  # as given, local time
    assert one.source_status == "Closed" and one.due_at.day == 9
    assert two.source_status == "Closed" and two.due_at.day == 6  # kept
    assert [e.action for e in store.history(one.case_id)] == ["report", "close_imported"]
    assert "Open -> Closed" in store.history(one.case_id)[-1].note
    assert store.verify_all() == []
    assert import_csv(store, later, mapping)["updated"] == 0  # idempotent


def test_a_status_the_mapping_does_not_explain_is_refused_with_its_lines(store, tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    odd = _export(
        tmp_path,
        "odd.csv",
        [
            ["1", "2026-03-02 09:00", "", "", "Open", "Phone", ""],
            ["2", "2026-03-02 09:30", "", "", "Pending Review", "App", ""],
            ["3", "2026-03-02 10:00", "", "", "Closed", "Web", ""],
        ],
    )
    with pytest.raises(CaseImportError, match=r"Pending Review \(file lines 3\)"):
        import_csv(store, odd, mapping)
    without_time = _export(
        tmp_path, "no_time.csv", [["3", "2026-03-02 10:00", "", "", "Closed", "Web", ""]]
    )
    with pytest.raises(CaseImportError, match=r"no close or update time \(file line 2\)"):
        import_csv(store, without_time, mapping)
    assert store.count() == 0


def test_cases_show_and_list_quote_the_source_system(tmp_path, demo_copy, capsys):
    from citydesk.workbench.cli.main import main

    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    export = _export(
        tmp_path,
        "x.csv",
        [
            [
                "77",
                "2026-03-02 09:00",
                "",
                "2026-03-04 17:00",
                "Assigned",
                "Phone",
                "2026-03-02 09:05",
            ]
        ],
    )
    project = str(demo_copy)
    assert (
        main(
            ["cases", "import", export.as_posix(), "--mapping", str(mapping), "--project", project]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["cases", "list", "--project", project, "--limit", "1000000"]) == 0
    listed = capsys.readouterr().out
    assert "source_status" in listed and "Assigned" in listed
    row = next(line for line in listed.splitlines() if "Assigned" in line)
    case_id = row.split()[0]
    assert main(["cases", "show", case_id, "--project", project]) == 0
    shown = capsys.readouterr().out
    assert "city311 #77" in shown and "status there: Assigned" in shown
