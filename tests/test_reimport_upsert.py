"""Re-import is an upsert (issue 19): a later export of the same source adds the new cases,
appends the events for what changed (closed, reopened at the source), never duplicates a
case or rewrites history, refuses to close a case that moved on here, and counts it all;
on both backends."""

from __future__ import annotations

import pandas as pd
import pytest

from citydesk.incidents.import_csv import import_csv

MAPPING = """
source = "city311"
[columns]
source_id = "id"
reported_at = "opened"
closed_at = "closed"
lat = "lat"
lon = "lon"
category = "type"
[dates]
formats = ["%Y-%m-%d %H:%M"]
timezone = "America/New_York"
[categories]
"bin" = "component:0302"
"""


@pytest.fixture()
def store(store_target):
    with store_target.open() as s:
        yield s


def _export(tmp_path, name, rows):
    path = tmp_path / name
    frame = pd.DataFrame(rows, columns=["id", "opened", "closed"])
    frame = frame.assign(lat=42.37, lon=-71.1, type="bin")
    frame.to_csv(path, index=False)
    return path


def test_a_later_export_updates_what_changed(store, tmp_path):
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    first = _export(
        tmp_path,
        "monday.csv",
        [
            ["1", "2026-03-02 09:00", ""],  # open
            ["2", "2026-03-02 09:30", ""],  # open; will be accepted here
            ["3", "2026-03-02 10:00", "2026-03-02 11:00"],  # closed
            ["4", "2026-03-02 10:30", ""],
        ],
    )
    assert import_csv(store, first, mapping)["added"] == 4
    ids = store.query().set_index("source_id")["case_id"]
    case2 = store.get(ids["2"])
    store.transition(case2.case_id, "accept", "ann", "intake_clerk", case2.version)
    history_before = {i: len(store.history(ids[i])) for i in ids.index}
    later = _export(
        tmp_path,
        "wednesday.csv",
        [
            ["1", "2026-03-02 09:00", "2026-03-03 15:00"],  # closed at the source since
            ["2", "2026-03-02 09:30", "2026-03-03 16:00"],  # closed there, accepted here
            ["3", "2026-03-02 10:00", ""],  # reopened at the source
            ["4", "2026-03-02 10:30", ""],  # unchanged
            ["5", "2026-03-04 08:00", ""],  # new
        ],
    )
    result = import_csv(store, later, mapping)
    assert (result["added"], result["updated"], result["unchanged"], result["refused"]) == (
        1,
        2,
        1,
        1,
    )
    cases = store.query().set_index("source_id")
    assert len(cases) == 5  # never a duplicate
    assert cases.loc["1", "status"] == "closed"
    assert cases.loc["1", "closed_at"].startswith("2026-03-03T20:00")  # 15:00 EST, as given
    assert cases.loc["2", "status"] == "accepted"  # moved on here: not closed behind the desk
    assert cases.loc["3", "status"] == "registered"  # reopened
    for source_id, added in (("1", 1), ("2", 0), ("3", 1), ("4", 0)):
        history = store.history(ids[source_id])
        assert len(history) == history_before[source_id] + added  # appended, not rewritten
    assert [e.action for e in store.history(ids["3"])][-1] == "reopen"
    assert store.verify_all() == []
    again = import_csv(store, later, mapping)  # the same file twice: nothing more happens
    assert (again["added"], again["updated"]) == (0, 0)
