"""A land-use Pareto front for a project: inputs from its layers, the front, plans as a layer.

What the CLI's ``optimize landuse`` and the workbench's Optimize menu both run, so the two
give the same plans. Qt-free; the chart is matplotlib.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from citydesk.layers.errors import CityDeskError
from citydesk.layers.feedback import Feedback
from citydesk.layers.i18n import N_, _, ngettext
from citydesk.layers.project_store import read_project_layer
from citydesk.optimization.landuse import build_landuse_model, objectives_for, plan_totals
from citydesk.optimization.pareto import ParetoFront, augmecon2
from citydesk.optimization.pareto_large import epsilon_front
from citydesk.optimization.solve import SolveOptions

from .landuse_inputs import plan_over_layer, plans_frame, project_landuse_problem


@dataclass(frozen=True)
class FrontSpec:
    """Two or three objectives, how many points, and the scenario's targets and caps."""

    objectives: tuple[str, str] = ("economic", "social")
    points: int = 22
    targets: dict = field(default_factory=lambda: {"housing": 2000.0})
    budget: float | None = 3e8
    max_changed: int | None = 600
    target_gap: float = 0.001
    exact: bool = False  # AUGMECON2 with a full MIP per point (small models)
    #: the candidate parcels, a filter in the attribute-table language (blank: every parcel)
    where: str = ""
    #: the solver and time limit; without ``exact`` the front runs on HiGHS (warm-started
    #: LPs) and ``options.time_limit`` is the whole front's budget
    options: SolveOptions = field(default_factory=SolveOptions)


@dataclass
class FrontRun:
    front: ParetoFront
    #: a use per modelled parcel: with ``FrontSpec.where`` only the candidates (the layer
    #: written, ``layer_id``, has every parcel)
    plans: dict[str, np.ndarray]
    table: pd.DataFrame  # one row per plan: status, gap, every objective and target total
    layer_id: str | None


def run_landuse_front(
    project, spec: FrontSpec | None = None, feedback: Feedback | None = None, name="landuse"
) -> FrontRun:
    """The front over the project's parcels (every one, or those ``spec.where`` matches),
    written as ``<name>_plan``."""
    spec = spec or FrontSpec()
    started = time.perf_counter()  # the time limit counts reading and building too
    notes: list[str] = []
    neighbours = "compatibility" in spec.objectives
    inputs = project_landuse_problem(
        project,
        notes=notes,
        where=spec.where,
        targets=spec.targets,
        budget=spec.budget,
        max_changed=spec.max_changed,
        compatibility=neighbours,
    )
    model = build_landuse_model(inputs, compatibility=neighbours)
    objectives = objectives_for(model, list(spec.objectives))
    for o in objectives:
        if not any(abs(c) > 0 for c in o.expression.values()):
            varying = _varying(model)
            raise CityDeskError(
                _(
                    "the objective '{name}' is the same for every plan in this city ({notes})"
                ).format(
                    name=o.name,
                    notes="; ".join(n for n in notes if o.name in n)
                    or _(NEEDS.get(o.name, N_("no coefficients"))),
                ),
                _("Choose two objectives that can vary: {names}.").format(names=", ".join(varying))
                if len(varying) >= 2
                else _(
                    "A front needs two objectives that vary, and this city's data gives {n}"
                    " ({names}): 'citydesk city check PROJECT' says which layers and fields"
                    " to map for the others."
                ).format(n=len(varying), names=", ".join(varying) or "-"),
            )
    if spec.exact:
        front = augmecon2(
            model.problem,
            objectives,
            grid=spec.points,
            options=spec.options,
            feedback=feedback,
            budget=_left(spec.options.time_limit, started),  # the whole front's, as below
        )
    else:
        front = epsilon_front(
            model.problem,
            model.groups(),
            objectives,
            points=spec.points,
            target_gap=spec.target_gap,
            feedback=feedback,
            time_limit=_left(spec.options.time_limit, started),  # the whole front's budget
        )
    front.notes[:0] = notes  # what the city's data leaves out, where the front is read
    plans = {f"plan_{k}": model.plan_from(p.solution) for k, p in enumerate(front.points, 1)}
    rows = []
    for (key, plan), point in zip(plans.items(), front.points, strict=True):
        rows.append(
            {
                "plan": key,
                "status": point.outcome.status.value,
                "gap": point.outcome.gap,
                **plan_totals(inputs, plan),
            }
        )
    layer_id = save_plans(project, plans, name, inputs.layer_rows) if plans else None
    return FrontRun(front, plans, pd.DataFrame(rows), layer_id)


def _left(limit: float | None, started: float) -> float | None:
    """What is left of ``limit`` seconds since ``started`` (None: no limit)."""
    return None if limit is None else max(0.0, limit - (time.perf_counter() - started))


#: what an objective weighs, said when the city's data leaves it the same for every plan
NEEDS = {
    "economic": N_("no land value ([layers.parcels] land_value)"),
    "social": N_(
        "no schools or parks to reach ([layers.facilities] kinds, or [layers.open_space])"
    ),
    "environment": N_("no floodplain ([layers.floodplain])"),
    "compatibility": N_("no touching parcels whose uses could conflict"),
}


def _varying(model) -> list[str]:
    """The objectives some plan can change."""
    from citydesk.optimization.landuse import OBJECTIVES

    return [
        n
        for n in OBJECTIVES
        if n in model.expressions and any(abs(c) > 0 for c in model.expressions[n].values())
    ]


#: colours of the uses on the map; 'keep' draws no fill so the changes stand out
USE_COLOURS = {
    "keep": "none",
    "housing_low": "#fdd49e",
    "housing_high": "#d7301f",
    "mixed_use": "#984ea3",
    "commercial": "#377eb8",
    "park": "#4daf4a",
    "school": "#ff7f00",
}
#: the uses as a legend names them (the ids are for fields and scenario files)
USE_LABELS = {
    "keep": N_("no change"),
    "housing_low": N_("low-density housing"),
    "housing_high": N_("high-density housing"),
    "mixed_use": N_("mixed use"),
    "commercial": N_("commercial"),
    "park": N_("park"),
    "school": N_("school"),
}


def use_label(use: str) -> str:
    """A use's name in the current language (a legend's words, not the field's id)."""
    return _(USE_LABELS[use]) if use in USE_LABELS else use


def save_plans(
    project, plans: dict[str, np.ndarray], name: str, rows: np.ndarray | None = None
) -> str:
    """The parcels with one use column per plan, as ``<name>_plan``, styled by the first.
    ``rows``: the parcels the plans are of when a filter chose them (the others kept)."""
    from citydesk.layers.city_layers import require_layer
    from citydesk.layers.city_profile import profile_or_none
    from citydesk.layers.layer import LayerRole, VectorLayer
    from citydesk.layers.project_store import put_layers
    from citydesk.layers.style import Category, Style, Symbol

    profile = profile_or_none(project)
    parcels = read_project_layer(
        project, require_layer(profile.layers if profile else None, "parcels", _("Land-use plans"))
    )
    layer_id = f"{name}_plan"
    first = next(iter(plans))
    categories = [
        Category(use, use_label(use), Symbol(fill=colour, stroke="#bbbbbb", stroke_width=0.05))
        for use, colour in USE_COLOURS.items()
    ]
    layer = VectorLayer(
        name=_("{name}: land-use plans").format(name=name),
        data=plans_frame(
            parcels, {k: plan_over_layer(v, rows, len(parcels)) for k, v in plans.items()}, profile
        ),
        role=LayerRole.LAND,
        id=layer_id,
        style=Style(
            kind="categorized",
            symbol=Symbol(fill="none", stroke="#bbbbbb", stroke_width=0.05),
            field=first,
            categories=categories,
        ),
    )
    put_layers(project, [layer], group=_("Optimization"))
    return layer_id


#: the objectives as a chart names them (the ids are for the CLI and the plan table)
OBJECTIVE_LABELS = {
    "economic": N_("economic value"),
    "social": N_("social benefit"),
    "environment": N_("floodplain impact"),
    "compatibility": N_("neighbour conflicts"),
    "suitability": N_("suitability"),
    "cost": N_("development cost"),
}


def _axis_label(name: str, sense: str) -> str:
    """An objective's name in the current language, and whether more or less is better."""
    label = _(OBJECTIVE_LABELS[name]) if name in OBJECTIVE_LABELS else name
    return _("{name} ({sense})").format(name=label, sense=sense)


def pareto_chart(run: FrontRun):
    """The front as a scatter of the first two objectives, each point labelled with its
    plan; a third objective colours the points (its scale beside the chart)."""
    from citydesk.layers.mpl_fonts import figure

    fig = figure(figsize=(7, 4.5))
    ax = fig.subplots()
    values = run.front.values()
    names, senses = run.front.objectives, run.front.senses
    if len(values) and len(names) == 3:
        order = np.lexsort((values[:, 1], values[:, 0]))
        shown = ax.scatter(
            values[order, 0], values[order, 1], c=values[order, 2], cmap="viridis_r", zorder=3
        )
        bar = fig.colorbar(shown, ax=ax)
        bar.set_label(_axis_label(names[2], senses[2]))
    elif len(values):
        ax.plot(values[:, 0], values[:, 1], "o-", color="#1f77b4")
    for k, (x, y) in enumerate(values[:, :2] if len(values) else [], 1):
        ax.annotate(str(k), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_xlabel(_axis_label(names[0], senses[0]))
    ax.set_ylabel(_axis_label(names[1], senses[1]))
    ax.set_title(
        ngettext("Pareto front: {n} plan", "Pareto front: {n} plans", len(values)).format(
            n=len(values)
        )
    )
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
