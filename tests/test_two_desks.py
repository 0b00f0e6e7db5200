"""Two dispatch desks, as two real processes on one store (the project GeoPackage, or a
PostGIS database), act on the same case at the same moment: exactly one write lands; the
other sees the version conflict."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from citydesk.incidents.lifecycle import Role
from citydesk.incidents.new_cases import NewCase

DESK = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from citydesk.incidents.store import VersionConflict
    from citydesk.incidents.stores import open_store

    place, case_id, crew, folder = sys.argv[1:5]
    folder = Path(folder)
    with open_store(place) as store:
        seen = store.get(case_id)  # what the dispatcher sees on the screen
        (folder / f"ready-{crew}").touch()
        while not (folder / "go").exists():
            time.sleep(0.005)
        try:
            store.transition(
                case_id, "dispatch", f"desk-{crew}", "dispatcher", seen.version, crew=crew
            )
            outcome = {"crew": crew, "result": "written"}
        except VersionConflict as exc:
            outcome = {"crew": crew, "result": "conflict", "message": str(exc)}
            seen = store.get(case_id)  # the reload the desk offers
            outcome["reloaded_crew"] = seen.crew
    print(json.dumps(outcome))
    """
)


def test_two_processes_cannot_lose_an_update(store_target, tmp_path):
    at = dt.datetime(2024, 3, 4, 9, 0, tzinfo=dt.UTC)
    with store_target.open() as store:
        case = store.report(NewCase("event", "0490", lon=-71.1, lat=42.37), "sup", at=at)
        case = store.transition(case.case_id, "accept", "ben", Role.INTAKE, case.version, at=at)
        case = store.transition(
            case.case_id, "register", "chen", Role.SHIFT_CHIEF, case.version, at=at
        )
    root = Path(__file__).resolve().parents[1]
    desks = [
        subprocess.Popen(
            [sys.executable, "-c", DESK, store_target.place, case.case_id, crew, str(tmp_path)],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for crew in ("fire-1", "fire-2")
    ]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready-{c}").exists() for c in ("fire-1", "fire-2")):
        assert time.monotonic() < deadline, [d.stderr.read() for d in desks if d.poll()]
        time.sleep(0.01)
    (tmp_path / "go").touch()  # both desks hold version 3 and press Dispatch now
    outcomes = []
    for desk in desks:
        out, err = desk.communicate(timeout=60)
        assert desk.returncode == 0, err
        outcomes.append(json.loads(out))
    results = sorted(o["result"] for o in outcomes)
    assert results == ["conflict", "written"], outcomes
    winner = next(o for o in outcomes if o["result"] == "written")["crew"]
    loser = next(o for o in outcomes if o["result"] == "conflict")
    assert "changed by someone else" in loser["message"]
    assert loser["reloaded_crew"] == winner  # after the reload the loser sees the winner's crew
    with store_target.open() as store:
        history = store.history(case.case_id)
        assert [e.action for e in history].count("dispatch") == 1
        final = store.get(case.case_id)
        assert final.crew == winner and final.version == case.version + 1
        assert store.verify_all() == []
