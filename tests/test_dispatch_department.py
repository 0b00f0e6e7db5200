"""A case keeps its department to dispatch too: a case imported with its source's agency (or
given one at intake) goes to that department's crews, as its KPIs count it; a city rule still
decides first, and a case with none goes by its category."""

from __future__ import annotations

import pandas as pd

from citydesk.incidents.categories import Catalogue
from citydesk.incidents.dispatch import plan_dispatch
from citydesk.incidents.routing import Routing, RoutingTable, Rule

CREWS = pd.DataFrame(
    {
        "crew_id": ["water-1", "sanitation-1", "police-1"],
        "name": ["Water 1", "Sanitation 1", "Police 1"],
        "department": ["water", "sanitation", "police"],
        "lon": [24.94, 24.95, 24.93],
        "lat": [60.17, 60.17, 60.16],
        "available": [1, 1, 1],
    }
)


def _cases(departments):
    n = len(departments)
    return pd.DataFrame(
        {
            "case_id": [f"c{k}" for k in range(n)],
            "version": 1,
            "kind": "event",
            "category_code": "0102",  # a catalogue category whose department is sanitation
            "category_standard": None,
            "grid_code": "99900100100101",
            "department": departments,
            "lon": 24.941,
            "lat": 60.171,
        }
    )


def test_the_cases_own_department_is_dispatched_unless_a_rule_says_otherwise():
    catalogue = Catalogue.default()
    assert catalogue.get("event", "0102", None).department == "sanitation"
    cases = _cases(["water", None, "sanitation"])
    plans = plan_dispatch(cases, CREWS, catalogue, RoutingTable([]), None)
    assert [p.department for p in plans] == ["water", "sanitation", "sanitation"]
    assert [p.crew for p in plans] == ["water-1", "sanitation-1", "sanitation-1"]
    assert plans[0].reason != plans[1].reason  # the case's department, the catalogue's
    ruled = RoutingTable([Rule("event:0102", "police")])
    assert {p.department for p in plan_dispatch(cases, CREWS, catalogue, ruled, None)} == {"police"}


def test_a_rule_or_the_default_says_why():
    table = RoutingTable([])
    assert table.route("event", "0102", None, "water", "own") == Routing("water", "own")
    assert table.route("event", "0102", None, "water").reason == "catalogue default"


def test_the_command_line_says_when_nothing_waits_for_dispatch(tmp_path):
    import subprocess
    import sys

    from citydesk.layers.project import Project
    from citydesk.layers.project_store import save_project

    project = tmp_path / "city.gpkg"
    save_project(Project("city", crs="EPSG:3067"), project)
    command = [sys.executable, "-m", "citydesk", "dispatch", "run", "--project", str(project)]
    done = subprocess.run([*command, "--dry-run", "--actor", "ana"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "no registered case to dispatch; 0 cases wait" in done.stdout
