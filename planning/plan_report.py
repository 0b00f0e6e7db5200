"""The planning report: scenarios side by side, as one HTML page and one PDF.

Both are written by the one report engine, :mod:`citydesk.layers.report` (HTML through
Jinja2, PDF through ReportLab with real tables), from one list of sections, so the two
formats cannot drift apart.

Contents: the scenarios and how each was run; the indicator table (city-wide, best values
starred) and its bar charts; small-multiple maps of the plans; indicators by
neighbourhood; phasing by period; suitability weights with the AHP consistency ratio; the
Pareto chart when a front is compared; the decisions recorded; the assumptions; the data
credits.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from citydesk.layers.i18n import _
from citydesk.layers.report import Report, ReportPaths, Section, Table, write_report, written_line

from .comparison import (
    comparison_table,
    format_value,
    formatted_table,
    indicator_chart,
    scenario_maps,
)
from .indicators import INDICATORS, indicator_label, unit_label

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _section(
    heading: str,
    paragraphs: Sequence[str] = (),
    tables: Sequence[tuple[str, pd.DataFrame]] = (),
    figures: Sequence[tuple[str, Figure]] = (),
) -> Section:
    """A report section from captioned DataFrames and (file stem, Figure) pairs."""
    return Section(
        heading,
        list(paragraphs),
        tables=[Table.from_frame(frame, caption) for caption, frame in tables],
        figures=list(figures),
    )


def build_sections(
    results,
    inputs,
    decisions=(),
    front: tuple[dict, pd.DataFrame] | None = None,
    credits: str = "",
    currency: str = "",
) -> list[Section]:
    """The report's sections from scenario results (and evaluated front plans)."""
    long = pd.concat([r.indicators.assign(scenario=r.scenario.name) for r in results])
    states = {r.scenario.name: r.state for r in results}
    titles = {r.scenario.name: r.scenario.display_title() for r in results}
    if front is not None:
        front_states, front_long = front
        long = pd.concat([long, front_long], ignore_index=True)
        states.update(front_states)
    table = comparison_table(long)
    sections = [_scenarios_section(results)]
    sections.append(
        _section(
            _("Indicators, city-wide"),
            [_("Best value per indicator marked *. Formulas and units: docs/PLANNING.md.")],
            [(_("Indicators by scenario"), formatted_table(table, currency))],
            [("indicators", indicator_chart(table, currency=currency))],
        )
    )
    areas = inputs.layer_names.get("neighborhoods")
    boundary = inputs.layer(areas, "layers.neighborhoods") if areas else None
    shown = _map_selection(states, [r.scenario.name for r in results])
    sections.append(
        _section(
            _("Plans"),
            [_("Parcels that change use, coloured by the new use; the rest keep theirs.")]
            + (
                [_("Pareto plans shown: the two ends of the front and its middle.")]
                if len(shown) < len(states)
                else []
            ),
            figures=[("plans", scenario_maps(inputs.parcels, shown, titles, boundary))],
        )
    )
    sections.append(_neighbourhood_section(long, currency))
    phasing = _phasing_section(results)
    if phasing:
        sections.append(phasing)
    suit = _suitability_section(results, inputs, boundary)
    if suit:
        sections.append(suit)
    if front is not None:
        sections.append(_front_section(long, results, front[0], currency))
    sections.append(_decisions_section(decisions))
    sections.append(_assumptions_section(results, inputs))
    sections.append(
        _section(
            _("Data credits"),
            [credits or _("The project records no data credits (project settings: credits).")],
        )
    )
    return sections


def _map_selection(states: dict, scenarios: list[str]) -> dict:
    """Every scenario, and of the front's plans only the two ends and the middle: fifteen
    small maps are too small to read."""
    extra = [n for n in states if n not in scenarios]
    if len(extra) > 3:
        extra = [extra[0], extra[len(extra) // 2], extra[-1]]
    return {n: states[n] for n in [*scenarios, *extra]}


def _scenarios_section(results) -> Section:
    rows = []
    notes = []
    for r in results:
        s = r.scenario
        rows.append(
            {
                _("Scenario"): s.name,
                _("Title"): s.display_title(),
                _("Revision"): r.revision or "-",
                _("Kind"): s.kind,
                _("Candidates"): r.candidates,
                _("Solve"): r.outcome.describe() if r.outcome else "-",
                _("Run time (s)"): f"{r.seconds:.1f}",
            }
        )
        if s.description:
            notes.append(f"{s.name}: {s.description}")
        notes += [f"{s.name}: {p}" for p in r.problems]
    return _section(_("Scenarios"), notes, [(_("Scenarios compared"), pd.DataFrame(rows))])


def _neighbourhood_section(long: pd.DataFrame, currency: str = "") -> Section:
    tables = []
    for key in ("housing_units_added", "residents_near_school", "mean_fire_response_s"):
        part = long[(long["indicator"] == key) & (long["area"] != "city")]
        if part.empty:
            continue
        wide = part.pivot_table(index="area", columns="scenario", values="value", sort=False)
        unit = INDICATORS[key].unit
        wide = wide.map(lambda v, u=unit: format_value(v, u, currency))
        tables.append(
            (
                f"{indicator_label(key)} ({unit_label(unit, currency)})",
                wide.reset_index(names=_("Neighbourhood")),
            )
        )
    return _section(_("By neighbourhood"), [], tables)


def _phasing_section(results) -> Section | None:
    tables = []
    for r in results:
        if r.phasing is None:
            continue
        periods = r.scenario.phasing.periods
        frame = r.phasing.by_period.copy()
        frame.insert(0, _("Period"), [periods[int(p) - 1] for p in frame["period"]])
        frame = frame.drop(columns=["period"])
        tables.append(
            (
                _("{name}: phasing ({status})").format(
                    name=r.scenario.name, status=r.phasing.outcome.describe()
                ),
                frame.round(0),
            )
        )
    if not tables:
        return None
    return _section(
        _("Phasing"),
        [
            _(
                "Spending per period and cumulative amounts reached;"
                " each changed parcel is built in one period."
            )
        ],
        tables,
    )


def _suitability_section(results, inputs, boundary) -> Section | None:
    from .comparison import suitability_map

    tables, notes, figures = [], [], []
    for r in results:
        if r.suitability is None:
            continue
        weights = r.suitability.attrs.get("weights", {})
        tables.append(
            (
                _("{name}: factor weights").format(name=r.scenario.name),
                pd.DataFrame(
                    {
                        _("Factor"): list(weights),
                        _("Weight"): [round(w, 3) for w in weights.values()],
                    }
                ),
            )
        )
        ahp = r.suitability.attrs.get("ahp")
        if ahp is not None:
            verdict = (
                _("consistent") if ahp.consistent else _("inconsistent: revisit the comparisons")
            )
            notes.append(
                _(
                    "{name}: weights from pairwise comparisons (AHP),"
                    " consistency ratio {cr:.3f} ({verdict})."
                ).format(name=r.scenario.name, cr=ahp.consistency_ratio, verdict=verdict)
            )
        changed = r.state["changed"].to_numpy(bool)
        score = r.suitability["suitability"].to_numpy(float)
        title = _("{name}: suitability, changed parcels outlined").format(name=r.scenario.name)
        figures.append(
            (
                f"suitability_{r.scenario.name}",
                suitability_map(inputs.parcels, score, changed, title, boundary),
            )
        )
        notes.append(
            _(
                "{name}: mean suitability {all:.2f} over all parcels,"
                " {chg:.2f} over the parcels the plan changes."
            ).format(
                name=r.scenario.name,
                all=np.nanmean(score),
                chg=np.nanmean(score[changed]) if changed.any() else float("nan"),
            )
        )
    if not tables:
        return None
    return _section(_("Suitability"), notes, tables, figures)


def _front_section(long: pd.DataFrame, results, front_states: dict, currency: str = "") -> Section:
    from citydesk.layers.mpl_fonts import figure

    city = long[long["area"] == "city"].pivot_table(
        index="scenario", columns="indicator", values="value", sort=False
    )
    x_key, y_key = "land_value_captured_usd", "housing_units_added"
    if x_key not in city.columns or not city[x_key].notna().any():
        x_key = "plan_cost_usd"  # a city with no land values: homes against cost
    fig = figure(figsize=(7, 4.5))
    ax = fig.subplots()
    front = city.loc[[n for n in front_states if n in city.index]].sort_values(x_key)
    ax.plot(front[x_key] / 1e6, front[y_key], "o-", color="#1f77b4", label=_("Pareto plans"))
    for r in results:
        name = r.scenario.name
        if name in city.index:
            ax.plot(
                city.loc[name, x_key] / 1e6, city.loc[name, y_key], "s", markersize=8, label=name
            )
    ax.set_xlabel(
        _("{indicator} (millions, {currency})").format(
            indicator=indicator_label(x_key), currency=currency or "-"
        )
    )
    ax.set_ylabel(_("Housing units added"))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return _section(
        _("Pareto plans"),
        [_("The optimizer's Pareto plans measured with the same indicators as the scenarios.")],
        figures=[("pareto", fig)],
    )


def _decisions_section(decisions) -> Section:
    if not decisions:
        return _section(_("Decision"), [_("No preferred scenario has been recorded yet.")])
    rows = pd.DataFrame(
        [
            {
                _("Decided"): d.decided_at,
                _("By"): d.author or "-",
                _("Preferred"): d.preferred,
                _("Reason"): d.reason,
                _("Compared"): ", ".join(d.compared),
            }
            for d in decisions
        ]
    )
    latest = decisions[-1]
    return _section(
        _("Decision"),
        [
            _("Preferred: {name}. Reason: {reason}").format(
                name=latest.preferred, reason=latest.reason
            )
        ],
        [(_("Decisions recorded"), rows)],
    )


def _assumptions_section(results, inputs) -> Section:
    from dataclasses import asdict

    paragraphs = [_("Street network: {lines}").format(lines="; ".join(inputs.network_lines))]
    rows = []
    for r in results:
        row = {_("Scenario"): r.scenario.name}
        row.update(asdict(r.scenario.assumptions))
        c = r.scenario.constraints
        row.update(
            {
                "max_changed_share": c.max_changed_share,
                "budget": c.budget,
                "protected": ", ".join(c.exclude),
                "candidates": r.scenario.candidates.description
                or r.scenario.candidates.where
                or "-",
            }
        )
        rows.append(row)
    from citydesk.optimization.landuse import USES

    from .landuse_inputs import assumptions_for

    rules = assumptions_for(inputs.profile)
    money = inputs.profile.currency if inputs.profile is not None else ""

    uses = pd.DataFrame(
        {
            _("Use"): USES,
            _("Homes per ha"): rules.density_units_per_ha,
            _("Job floor ratio"): rules.job_floor_ratio,
            _("Cost per m² ({currency})").format(currency=money or "-"): rules.cost_per_m2,
            _("Land value factor"): rules.value_factor,
        }
    )
    paragraphs.append(
        _(
            "Walking distances run on the street network in both directions of every street; "
            "fire response drives from the station along one-way streets. Accessibility to "
            "school seats is the two-step floating catchment area (2SFCA) within the walk "
            "radius. Residents are housing units times persons per unit. The densities, costs "
            "and value factors below are round assumptions, not calibrated figures."
        )
    )
    return _section(
        _("Assumptions"),
        paragraphs,
        [
            (_("Scenario assumptions"), _by_scenario(rows)),
            (_("Per-use assumptions"), uses),
        ],
    )


def _by_scenario(rows: list[dict]) -> pd.DataFrame:
    """One row per assumption, one column per scenario (narrow enough for a page)."""
    frame = pd.DataFrame(rows).set_index(_("Scenario")).T
    frame = frame.map(lambda v: f"{v:g}" if isinstance(v, float) else ("-" if v is None else v))
    return frame.reset_index(names=_("Assumption"))


def plan_report(
    project: str | Path,
    names: list[str],
    output: str | Path,
    front_layer: str | None = None,
    options=None,
    feedback=None,
) -> ReportPaths:
    """Run the named scenarios of a project (saving their results), evaluate a front's
    plans if given, and write the report."""
    from citydesk.layers.project_store import read_project_meta

    from .comparison import evaluate_plans, front_plans
    from .scenario_run import run_stored_scenarios
    from .scenario_store import decisions

    results, inputs = run_stored_scenarios(project, names, options, feedback)
    front = None
    if front_layer:
        front = evaluate_plans(inputs, results[0].scenario, front_plans(project, front_layer))
    from citydesk.layers.city_profile import credits_of, currency_of

    meta = read_project_meta(project)
    settings = meta.get("metadata")
    sections = build_sections(
        results, inputs, decisions(project), front, credits_of(settings), currency_of(settings)
    )
    title = _("Planning scenarios: {project}").format(
        project=meta.get("name") or Path(project).stem
    )
    report = Report(title, sections, subtitle=[written_line()])
    return write_report(report, output, formats=("html", "pdf", "md"))
