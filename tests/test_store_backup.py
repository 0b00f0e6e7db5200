"""Backup and restore of the embedded case store, on the demo project with the replayed
Cambridge crash history: a consistent online copy, a restore that brings back exactly what
was saved, and damaged or altered backups refused before the project is touched."""

from __future__ import annotations

import sqlite3

import pytest

from citydesk.incidents.backup import BackupError, backup_project, restore_project, summarize
from citydesk.workbench.cli.main import main


@pytest.fixture()
def project_with_cases(demo_with_cases):
    return demo_with_cases  # the replayed Cambridge crash history: 9,110 cases


@pytest.mark.slow  # over 10 s: started early, so it does not end the run
def test_backup_and_restore_round_trip(project_with_cases, tmp_path, capsys):
    from citydesk.incidents.stores import open_project_store

    project = project_with_cases
    before = summarize(project)
    assert before.cases == 9110 and before.events > before.cases
    backup = tmp_path / "backups" / "monday.gpkg"
    assert main(["cases", "backup", str(project), str(backup)]) == 0
    assert "9110 cases" in capsys.readouterr().out
    assert summarize(backup) == before
    # work goes on after the backup: a new case is reported
    from citydesk.incidents.lifecycle import Role
    from citydesk.incidents.new_cases import NewCase
    from citydesk.incidents.store import CaseNotFound

    with open_project_store(project) as store:
        case = store.report(
            NewCase("event", "0490", lon=-71.1042, lat=42.3672), "ann", Role.SUPERVISOR
        )
    assert summarize(project).cases == 9111
    # and a layer is added to the project after the backup (issue 21: a restore dropped it)
    import geopandas as gpd
    import shapely

    from citydesk.layers.layer import VectorLayer
    from citydesk.layers.project_store import put_layers, read_project_meta

    extra = VectorLayer(
        name="Added after the backup",
        id="added_later",
        data=gpd.GeoDataFrame({"n": [1]}, geometry=[shapely.Point(-71.1, 42.37)], crs=4326),
    )
    put_layers(project, [extra])
    assert main(["cases", "restore", str(backup), str(project)]) == 0
    assert summarize(project) == before
    assert "added_later" in {r["id"] for r in read_project_meta(project)["layers"]}
    with sqlite3.connect(project) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with open_project_store(project) as store:
        with pytest.raises(CaseNotFound):
            store.get(case.case_id)
        assert store.verify_all() == []


@pytest.mark.slow  # over 10 s: started early, so it does not end the run
def test_damaged_or_altered_backups_are_refused(project_with_cases, tmp_path):
    project = project_with_cases
    before = summarize(project)
    backup = tmp_path / "b.gpkg"
    backup_project(project, backup)
    truncated = tmp_path / "truncated.gpkg"
    truncated.write_bytes(backup.read_bytes()[: backup.stat().st_size // 3])
    with pytest.raises(BackupError, match=r"damaged|integrity"):
        restore_project(truncated, project)
    with sqlite3.connect(backup) as con:  # someone edits the backup afterwards
        con.execute("UPDATE cases SET version = version + 1 WHERE rowid = 1")
    with pytest.raises(BackupError, match="does not match its manifest"):
        restore_project(backup, project)
    assert summarize(project) == before  # the project was never touched
    with pytest.raises(BackupError, match="overwrite the project"):
        backup_project(project, project)
    fresh = tmp_path / "fresh.gpkg"
    backup_project(project, fresh)
    (tmp_path / "fresh.gpkg.json").unlink()  # the manifest is gone: nothing to check against
    with pytest.raises(BackupError, match="no manifest"):
        restore_project(fresh, project)
