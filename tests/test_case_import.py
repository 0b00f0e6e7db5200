"""Importing real 311 and crash exports through column mappings, and the cases CLI."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from conftest import CRASHES_CSV, NYC311

from citydesk.incidents.import_csv import (
    MAPPINGS,
    CaseImportError,
    ColumnMapping,
    import_csv,
    parse_dates,
)
from citydesk.incidents.lifecycle import State
from citydesk.incidents.store import SqliteCaseStore

EXE = str(Path(sys.executable).parent / "citydesk")


@pytest.fixture()
def store(store_target):
    with store_target.open() as s:
        yield s


@pytest.mark.shared_data
def test_nyc311_import_keeps_everything_and_is_idempotent(store):
    result = import_csv(store, NYC311, "nyc311")
    # the types the shipped mapping does not list, filed under its default: said, with rows
    raw = pd.read_csv(NYC311, dtype=str)
    listed = tomllib.loads((MAPPINGS / "nyc311.toml").read_text(encoding="utf-8"))["categories"]
    unlisted = raw["Complaint Type"].str.strip()
    assert result.pop("defaulted") == unlisted[~unlisted.isin(listed)].value_counts().to_dict()
    assert result.pop("default_category") == "event:0699"
    assert result == {
        "rows": 924,
        "added": 924,
        "skipped": 0,
        "needs_location": 11,
        "closed": 480,
        "bad_lines": [],
        "backwards": 0,
        "backwards_policy": "keep",
        "updated": 0,
        "unchanged": 0,
        "refused": 0,
        "step_gaps": 0,
    }
    assert import_csv(store, NYC311, "nyc311")["added"] == 0
    cases = store.query()
    raw = pd.read_csv(NYC311, dtype=str)
    assert len(cases) == 924
    assert set(cases["source_id"]) == set(raw["Unique Key"])
    # 12:00:03 AM Eastern daylight time is 04:00:03 UTC
    first = cases[cases["source_id"] == "54049402"].iloc[0]
    assert first["reported_at"] == "2022-05-01T04:00:03.000Z"
    assert first["status"] == "reported"  # open at the source: an empty Closed Date
    closed = cases[cases["status"] == "closed"]
    assert len(closed) == 480
    history = store.history(closed["case_id"].iloc[0])
    assert [e.action for e in history] == ["report", "close_imported"]
    assert (cases["lon"].isna().sum()) == 11
    # the department is the source's agency, through the mapping's value map
    by_id = cases.set_index("source_id")["department"]
    agencies = raw.set_index("Unique Key")["Agency"]
    assert (by_id[agencies.index[agencies == "NYPD"]] == "police").all()
    assert (by_id[agencies.index[agencies == "TLC"]] == "TLC").all()  # kept as given
    assert store.verify_all() == []


@pytest.mark.shared_data
def test_crash_history_with_the_dst_fall_back_hour(store):
    result = import_csv(store, CRASHES_CSV, "cambridge_crashes")
    assert result["added"] == 10335 and result["needs_location"] == 1225
    case = store.query().set_index("source_id").loc["26757"]  # 11/06/2011 01:24:00 AM
    assert case["reported_at"] == "2011-11-06T05:24:00.000Z"  # 01:24 EDT, the first occurrence


def test_dates_in_several_formats_and_zones():
    values = pd.Series(
        [
            "05/01/2022 12:00:03 AM",
            "2022-05-01T13:15:00",
            "2022-05-01 13:15:00",
            "2022-05-01T17:15:00+00:00",
            "",
            None,
            "not a date",
        ]
    )
    parsed = parse_dates(values, ["%m/%d/%Y %I:%M:%S %p"], "America/New_York")
    assert parsed.iloc[0] == pd.Timestamp("2022-05-01 04:00:03", tz="UTC")
    assert parsed.iloc[1] == parsed.iloc[2] == parsed.iloc[3]
    assert parsed.iloc[4:].isna().all()


def test_chinese_date_text_and_unix_times_are_read_without_a_format():
    """数字城管 and Excel exports in China write 年月日 and 上午/下午; ArcGIS services and
    many APIs export Unix seconds or milliseconds. Both used to come out unreadable."""
    values = pd.Series(
        [
            "2024年12月05日 10时30分15秒",
            "2024年12月5日 下午3:04",
            "2024年12月5日下午3时4分",
            "2024年12月5日 上午9点",
            "2024年12月5日 星期四 10:00",
            "1733365800",  # 2024-12-05 02:30:00 UTC
            "1733365800000",
            "20241205103000",  # a compact local time, not Unix time
            "2024年13月5日",  # no such month
        ]
    )
    parsed = parse_dates(values, [], "Asia/Shanghai")
    utc = [None if pd.isna(v) else v.strftime("%Y-%m-%d %H:%M:%S") for v in parsed]
    assert utc == [
        "2024-12-05 02:30:15",
        "2024-12-05 07:04:00",
        "2024-12-05 07:04:00",
        "2024-12-05 01:00:00",
        "2024-12-05 02:00:00",
        "2024-12-05 02:30:00",
        "2024-12-05 02:30:00",
        "2024-12-05 02:30:00",
        None,
    ]
    # a format given in the mapping still comes first, markers and all
    own = parse_dates(pd.Series(["2024年12月05日"]), ["%Y年%m月%d日"], "Asia/Shanghai")
    assert own.iloc[0] == pd.Timestamp("2024-12-04 16:00", tz="UTC")


@pytest.mark.shared_data
def test_mapping_problems_stop_the_batch_and_say_why(store, tmp_path):
    no_default = ColumnMapping.load("nyc311")
    no_default.default_category = None
    with pytest.raises(CaseImportError, match="no category: Encampment"):
        import_csv(store, NYC311, no_default)
    wrong = ColumnMapping.load("nyc311")
    wrong.columns = {**wrong.columns, "lat": "Lat"}
    with pytest.raises(CaseImportError, match="no column"):
        import_csv(store, NYC311, wrong)
    raw = pd.read_csv(NYC311, dtype=str, nrows=30)
    raw.loc[7, "Created Date"] = "sometime last week"
    bad = tmp_path / "bad.csv"
    raw.to_csv(bad, index=False)
    with pytest.raises(CaseImportError, match=r"1 row has no readable report date \(file line 9"):
        import_csv(store, bad, "nyc311")
    assert store.count() == 0  # nothing from any failed batch


@pytest.mark.shared_data
@pytest.mark.slow  # over 10 s: started early, so it does not end the run
def test_cases_cli_import_list_show_move(demo_copy):
    def run(*args):
        return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, timeout=300)

    out = run("cases", "import", NYC311, "--mapping", "nyc311", "--project", demo_copy)
    assert out.returncode == 0, out.stderr
    assert "924 added" in out.stdout and "11 need a location" in out.stdout
    listing = run("cases", "list", "--project", demo_copy, "--status", "reported")
    assert "444 cases" in listing.stdout
    with SqliteCaseStore(demo_copy) as store:
        case_id = store.query(status=["reported"])["case_id"].iloc[0]
    moved = run(
        "cases",
        "move",
        case_id,
        "accept",
        "--as",
        "intake_clerk",
        "--actor",
        "ben",
        "--project",
        demo_copy,
    )
    assert moved.returncode == 0 and "accepted" in moved.stdout
    refused = run(
        "cases",
        "move",
        case_id,
        "dispatch",
        "--as",
        "inspector",
        "--actor",
        "x",
        "--project",
        demo_copy,
    )
    assert refused.returncode == 2 and "“Dispatch” is not possible" in refused.stderr
    stale = run(
        "cases",
        "move",
        case_id,
        "register",
        "--as",
        "shift_chief",
        "--actor",
        "c",
        "--version",
        "1",
        "--project",
        demo_copy,
    )
    assert stale.returncode == 2 and "someone else" in stale.stderr
    shown = run("cases", "show", case_id, "--project", demo_copy)
    assert "accept" in shown.stdout and "噪声扰民" in shown.stdout
    with SqliteCaseStore(demo_copy) as store:
        assert store.get(case_id).status == State.ACCEPTED


@pytest.mark.shared_data
def test_cases_kpi_cli(demo_copy, tmp_path):
    subprocess.run(
        [EXE, "cases", "import", str(NYC311), "--mapping", "nyc311", "--project", str(demo_copy)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    with SqliteCaseStore(demo_copy) as store:
        ids = store.query(status=["reported"])["case_id"].iloc[:3]
        for case_id in ids:
            c = store.get(case_id)
            c = store.transition(case_id, "accept", "ben", "intake_clerk", c.version)
            store.transition(case_id, "register", "chen", "shift_chief", c.version)
    out = subprocess.run(
        [
            EXE,
            "cases",
            "kpi",
            "--project",
            str(demo_copy),
            "--by",
            "department",
            "--csv",
            str(tmp_path / "k.csv"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    table = pd.read_csv(tmp_path / "k.csv")
    # the imported cases count at their source report times; the 3 registered here have
    # their steps recorded, the others' dispatch and rework are "not recorded"
    whole = table[table["department"] == "ALL"].iloc[0]
    assert whole["registered"] == 924 and whole["not_recorded"] == 921
    bad = subprocess.run(
        [EXE, "cases", "kpi", "--project", str(demo_copy), "--from", "May 1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2


def test_a_misspelt_mapping_key_is_named_with_the_fix(tmp_path):
    """The mapping is read by the one strict TOML reader: a typo is an error, not a column
    silently left out of the import."""
    mapping = tmp_path / "city.toml"
    mapping.write_text('[columns]\nreported_at = "Opened"\nclosed_att = "Closed"\n')
    with pytest.raises(CaseImportError, match=r"columns\.closed_att: unknown field") as err:
        ColumnMapping.load(mapping)
    assert "did you mean 'closed_at'?" in err.value.message
    mapping.write_text('[columns]\nclosed_at = "Closed"\n')
    with pytest.raises(CaseImportError, match=r"columns\.reported_at: missing"):
        ColumnMapping.load(mapping)
