"""A scenario completed by the city profile: its layers and facility kinds.

A scenario file says what the city must add and what may not change; which layer holds the
parcels or the fire stations is a fact about the city, in its profile. So a scenario may
leave out ``[layers]`` and ``[facilities.*]``: each role it does not name comes from the
profile's ``[layers.ROLE]``, and each facility kind from ``[layers.facilities] kinds``. What
the scenario names itself wins, so the shipped Cambridge scenarios run unchanged.
"""

from __future__ import annotations

from dataclasses import replace

from citydesk.layers.city_layers import DRIVEN_FROM
from citydesk.layers.city_profile import PERSONS_PER_HOUSEHOLD, CityProfile

from .scenario import LAYER_ROLES, FacilityKind, Scenario


def _quoted_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _quoted_field(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def profile_facilities(profile: CityProfile) -> dict[str, FacilityKind]:
    """The facility kinds the profile maps, as scenario facility kinds; parks default to the
    open space layer when the profile gives no ``park`` kind."""
    out: dict[str, FacilityKind] = {}
    spec = profile.layers.facilities
    if spec is not None and spec.kind:
        for kind, values in spec.kinds.items():
            if not values:
                continue
            listed = ", ".join(_quoted_text(v) for v in values)
            driven = kind in DRIVEN_FROM
            out[kind] = FacilityKind(
                layer=spec.layer,
                where=f"{_quoted_field(spec.kind)} IN ({listed})",
                mode="drive" if driven else "walk",
                from_facility=driven,
                label=kind,
            )
    park = profile.layers.layer_id("open_space")
    if "park" not in out and park:
        out["park"] = FacilityKind(layer=park, label="park")
    return out


def with_city_defaults(scenario: Scenario, profile: CityProfile | None) -> Scenario:
    """The scenario with the roles, facility kinds and household size it leaves out taken
    from ``profile``."""
    if scenario.assumptions.persons_per_unit is None:
        persons = profile.persons_per_household if profile is not None else PERSONS_PER_HOUSEHOLD
        scenario = replace(
            scenario, assumptions=replace(scenario.assumptions, persons_per_unit=persons)
        )
    if profile is None:
        return scenario
    layers = {
        role: layer
        for role in LAYER_ROLES
        if (layer := profile.layers.layer_id(role)) and role not in scenario.layers
    }
    facilities = {
        key: kind
        for key, kind in profile_facilities(profile).items()
        if key not in scenario.facilities
    }
    if not layers and not facilities:
        return scenario
    return replace(
        scenario,
        layers={**layers, **scenario.layers},
        facilities={**facilities, **scenario.facilities},
    )


def runnable_scenario(project, name: str, revision: int | None = None) -> Scenario:
    """A stored scenario as it runs on ``project``: completed by the project's city profile
    (what every analysis of it uses; the stored text itself is left as the planner wrote)."""
    from citydesk.layers.city_profile import profile_or_none

    from .scenario_store import load_scenario

    return with_city_defaults(load_scenario(project, name, revision), profile_or_none(project))
