"""``cases move ACTION --where FILTER`` (issue 19): every picked case in one transaction,
with the same role checks as one move; all move or none does."""

from __future__ import annotations

import pandas as pd
import pytest

from citydesk.incidents.store import SqliteCaseStore
from citydesk.layers.project import Project
from citydesk.layers.project_store import save_project
from citydesk.workbench.cli.main import main

MAPPING = """
source = "city"
[columns]
source_id = "id"
reported_at = "opened"
lat = "lat"
lon = "lon"
category = "type"
[dates]
formats = ["%Y-%m-%d %H:%M"]
timezone = "Europe/Helsinki"
[categories]
"bin" = "component:0302"
"toilet" = "component:0301"
"""


@pytest.fixture()
def project(tmp_path):
    path = tmp_path / "city.gpkg"
    save_project(Project("city", crs="EPSG:3067"), path)
    rows = [
        [f"c{i}", "2026-03-02 10:00", 60.17, 24.94, "bin" if i % 3 else "toilet"]
        for i in range(124)
    ]
    csv = tmp_path / "cases.csv"
    pd.DataFrame(rows, columns=["id", "opened", "lat", "lon", "type"]).to_csv(csv, index=False)
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    assert (
        main(["cases", "import", str(csv), "--mapping", str(mapping), "--project", str(path)]) == 0
    )
    return path


def _statuses(path) -> pd.Series:
    with SqliteCaseStore(path) as store:
        return store.query()["status"].value_counts()


def test_bulk_accept_in_one_transaction(project, capsys):
    capsys.readouterr()
    base = ["--project", str(project), "--actor", "anna"]
    assert (
        main(
            [
                "cases",
                "move",
                "accept",
                "--where",
                "category_code = '0302'",
                "--as",
                "intake_clerk",
                *base,
            ]
        )
        == 0
    )
    assert "82 cases: accept" in capsys.readouterr().out
    counts = _statuses(project)
    assert counts["accepted"] == 82 and counts["reported"] == 42
    # a role that may not take the action: refused, nothing moved
    assert (
        main(
            [
                "cases",
                "move",
                "accept",
                "--where",
                "status = 'reported'",
                "--as",
                "inspector",
                *base,
            ]
        )
        == 2
    )
    assert "inspector" in capsys.readouterr().err
    assert _statuses(project)["reported"] == 42
    # one picked case cannot take the action: none of them moves
    assert (
        main(
            [
                "cases",
                "move",
                "register",
                "--where",
                "status IN ('reported', 'accepted')",
                "--as",
                "shift_chief",
                *base,
            ]
        )
        == 2
    )
    assert _statuses(project)["accepted"] == 82
    with SqliteCaseStore(project) as store:
        assert store.verify_all() == []


def test_bulk_move_mistakes(project, capsys):
    base = ["--project", str(project), "--actor", "anna", "--as", "intake_clerk"]
    assert main(["cases", "move", "accept", "--where", "status = 'closed'", *base]) == 2
    assert "picks no case" in capsys.readouterr().err
    assert main(["cases", "move", "c1", "accept", "--where", "status = 'reported'", *base]) == 2
    assert "give only the action" in capsys.readouterr().err
    assert main(["cases", "move", "accept", *base]) == 2
    assert "CASE_ID ACTION" in capsys.readouterr().err
