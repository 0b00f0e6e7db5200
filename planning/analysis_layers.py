"""Layers the planning analyses leave in the project besides scenario plans: a suitability
surface over the parcels and the service areas (isochrones) of a facility kind."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from citydesk.layers.i18n import _

from .network_access import service_areas
from .scenario import Scenario, ScenarioError
from .scenario_run import prepare_inputs
from .suitability_run import run_suitability, suitability_frame


def save_suitability(project: str | Path, scenario: Scenario) -> tuple[str, pd.DataFrame]:
    """Score every parcel with the scenario's factors; writes ``suitability_<name>``,
    graduated in five equal 0..1 classes (red low, green high)."""
    from citydesk.layers.layer import LayerRole, VectorLayer
    from citydesk.layers.project_store import put_layers
    from citydesk.layers.style import Symbol, graduated

    if not scenario.suitability.factors:
        raise ScenarioError(
            _("scenario '{name}' has no suitability factors").format(name=scenario.name),
            _("Add [suitability.factors.NAME] tables to it."),
        )
    inputs = prepare_inputs(project, scenario)
    result = run_suitability(inputs, scenario)
    frame = suitability_frame(inputs, result)
    symbol = Symbol(stroke="#999999", stroke_width=0.05)
    layer = VectorLayer(
        name=_("Suitability: {title}").format(title=scenario.display_title()),
        data=frame,
        role=LayerRole.LAND,
        id=f"suitability_{scenario.name}",
        style=graduated(frame["suitability"], "suitability", "equal_interval", 5, "RdYlGn", symbol),
    )
    put_layers(project, [layer], group=_("Planning"))
    return layer.id, result


def save_service_areas(
    project: str | Path, scenario: Scenario, kind: str, thresholds: list[float]
) -> str:
    """Isochrones of the scenario's facility ``kind``, one polygon per threshold, written as
    ``service_areas_<kind>`` (largest drawn first so the smaller ones stay visible)."""
    from citydesk.layers.layer import LayerRole, VectorLayer
    from citydesk.layers.project_store import put_layers
    from citydesk.layers.style import Symbol, graduated

    if kind not in scenario.facilities:
        raise ScenarioError(
            _("scenario '{name}' has no facility kind '{kind}'").format(
                name=scenario.name, kind=kind
            ),
            _("Kinds: {names}.").format(names=", ".join(scenario.facilities)),
        )
    inputs = prepare_inputs(project, scenario)
    facility = scenario.facilities[kind]
    costs = inputs.walk if facility.mode == "walk" else inputs.drive
    areas = service_areas(costs, inputs.facilities(kind, facility).geometry, thresholds)
    areas = areas.sort_values("threshold", ascending=False).reset_index(drop=True)
    layer = VectorLayer(
        name=_("Service areas: {kind}").format(kind=facility.label or kind),
        data=areas,
        role=LayerRole.OTHER,
        id=f"service_areas_{kind}",
        style=graduated(
            areas["threshold"],
            "threshold",
            "equal_interval",
            max(2, min(5, len(areas))),
            "Blues_r",
            Symbol(stroke="#08306b", stroke_width=0.2),
        ),
    )
    layer.opacity = 0.6
    put_layers(project, [layer], group=_("Planning"))
    return layer.id
