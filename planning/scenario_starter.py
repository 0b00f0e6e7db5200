"""The scenario a planner starts from: the demo's on the demo project, else one that takes
everything from the city profile.

The shipped demo scenarios belong to the demo city: they name its layers, its fields and its
facility categories (:func:`demo_layers_missing` reads which). Stored in another city's project
they failed at run time on the first layer they named, and the planning dock's *New* started
every scenario from them. A new city starts instead from a scenario that names nothing of a
city, so the profile's ``[layers.ROLE]`` and facility kinds fill it in
(:mod:`.scenario_defaults`).
"""

from __future__ import annotations

from pathlib import Path

from citydesk.layers.city_profile import profile_or_none
from citydesk.layers.i18n import _
from citydesk.layers.project_store import read_project_meta

from .scenario import DEMO_SCENARIOS, Scenario, ScenarioError, parse_scenario, shipped_scenario


def demo_layers_missing(project: str | Path) -> list[str]:
    """The layers the shipped demo scenarios name that ``project`` does not have."""
    ids = {layer.get("id") for layer in read_project_meta(project).get("layers", [])}
    named: set[str] = set()
    for name in DEMO_SCENARIOS:
        scenario = parse_scenario(shipped_scenario(name))
        named |= set(scenario.layers.values())
        named |= {kind.layer for kind in scenario.facilities.values() if kind.layer}
    return sorted(named - ids)


def check_demo_fits(project: str | Path) -> None:
    """Refuse the demo scenarios for a project that lacks their layers, naming them."""
    missing = demo_layers_missing(project)
    if missing:
        raise ScenarioError(
            _("the demo scenarios name layers this project does not have: {layers}").format(
                layers=", ".join(repr(name) for name in missing[:6])
            ),
            _("Start from a scenario for this city: citydesk plan new PROJECT NAME."),
            gui_fix=_("Start from a scenario for this city: New."),
        )


def starter_text(project: str | Path, name: str) -> str:
    """TOML of a new scenario ``name`` for the project's city, commented for its planner."""
    profile = profile_or_none(project)
    city = profile.name if profile is not None and profile.name else Path(project).stem
    text = shipped_scenario("starter").replace("{city}", city).replace("{name}", name)
    parse_scenario(text, f"{name}.toml")  # a name TOML or the scenario rules refuse
    return text


def starter_scenario(project: str | Path, name: str) -> Scenario:
    """A new scenario ``name``: the demo baseline on the demo project, else
    :func:`starter_text`'s."""
    if not demo_layers_missing(project):
        scenario = parse_scenario(shipped_scenario("baseline"))
        scenario.name, scenario.title = name, ""
        return scenario
    return parse_scenario(starter_text(project, name), f"{name}.toml")
