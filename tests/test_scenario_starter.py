"""Another city's project starts planning from a scenario of its own: the Cambridge demo
scenarios are refused there with the layers they lack named, and ``plan new`` (the planning
dock's New) writes a scenario that names nothing of a city, so its profile fills it in."""

from __future__ import annotations

import subprocess
import sys

import pytest

from citydesk.layers.project import Project
from citydesk.layers.project_store import save_project
from citydesk.planning.scenario import ScenarioError, parse_scenario
from citydesk.planning.scenario_starter import (
    demo_layers_missing,
    starter_scenario,
    starter_text,
)
from citydesk.planning.scenario_store import list_scenarios, save_demo_scenarios


@pytest.fixture()
def project(tmp_path):
    path = tmp_path / "tampere.gpkg"
    save_project(Project("Tampere", crs="EPSG:3067"), path)
    return path


def test_the_demo_scenarios_are_refused_where_their_layers_are_not(project):
    assert "parcels" in demo_layers_missing(project)
    with pytest.raises(ScenarioError) as err:
        save_demo_scenarios(project)
    assert "'parcels'" in err.value.message and "plan new" in err.value.fix
    assert list_scenarios(project).empty  # nothing stored


def test_a_new_scenario_names_nothing_of_a_city(project):
    text = starter_text(project, "homes")
    scenario = parse_scenario(text)
    assert scenario.name == "homes" and "tampere" in text
    assert scenario.layers == {} and scenario.facilities == {} and not scenario.candidates.where
    assert starter_scenario(project, "homes") == scenario
    with pytest.raises(ScenarioError):
        starter_text(project, "two words")  # the scenario's name rules still hold


def test_the_demo_project_keeps_its_demo_baseline(demo_copy):
    assert demo_layers_missing(demo_copy) == []
    scenario = starter_scenario(demo_copy, "mine")
    assert scenario.name == "mine" and scenario.layers["parcels"] == "parcels"


def test_plan_new_and_demo_from_the_command_line(project, tmp_path):
    run = [sys.executable, "-m", "citydesk", "plan"]
    demo = subprocess.run([*run, "save", str(project), "--demo"], capture_output=True, text=True)
    assert demo.returncode == 2 and len(demo.stderr.strip().splitlines()) == 1
    out = tmp_path / "homes.toml"
    new = [*run, "new", str(project), "homes", "--output", str(out)]
    done = subprocess.run(new, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert parse_scenario(out.read_text(encoding="utf-8")).name == "homes"
    out.write_text("my own edits", encoding="utf-8")
    again = subprocess.run(new, capture_output=True, text=True)
    assert again.returncode == 2 and "exists already" in again.stderr
    assert out.read_text(encoding="utf-8") == "my own edits"  # never written over
    saved = subprocess.run([*run, "save", str(project), str(out)], capture_output=True, text=True)
    assert saved.returncode == 2  # not TOML any more: refused, one line
