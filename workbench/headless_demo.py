"""The headless demo: what `citydesk demo` does on a machine without a display.

It opens the embedded Cambridge project, validates every layer, draws the maps and writes an
HTML + Markdown report with the timings and the data credits. Later features (planning
scenarios, the case loop, KPIs) add their sections here. No Qt is imported.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from citydesk.layers.city_layers import project_layers
from citydesk.layers.demo import SHIPPED_DEMO, SHIPPED_SF_DEM
from citydesk.layers.feedback import Feedback, NullFeedback
from citydesk.layers.i18n import _, pgettext
from citydesk.layers.layer import VectorLayer
from citydesk.layers.project_store import load_project, read_project_layer
from citydesk.layers.report import Report, Section, Table, write_report, written_line
from citydesk.layers.validation import ValidationReport, validate_frame
from citydesk.planning.scenario import DEMO_SCENARIOS


@dataclass
class DemoResult:
    out_dir: Path
    project_path: Path
    report_html: Path
    report_md: Path
    maps: list[Path] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    validation: dict[str, ValidationReport] = field(default_factory=dict)
    desk: list[list[str]] = field(default_factory=list)  # the dispatch desk replay summary
    siting: list[list[str]] = field(default_factory=list)  # two more fire stations
    front: list[list[str]] = field(default_factory=list)  # land-use plans on the front
    evaluation_pdf: Path | None = None
    scenarios: list[list[str]] = field(default_factory=list)  # indicators by scenario
    planning_report: Path | None = None


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run_headless_demo(out_dir: str | Path, feedback: Feedback | None = None) -> DemoResult:
    from citydesk.layers.mapplot import render_map

    feedback = feedback or NullFeedback()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}

    project_path = out / "cambridge_demo.gpkg"
    shutil.copyfile(SHIPPED_DEMO, project_path)
    t0 = time.perf_counter()
    project = load_project(project_path)
    timings["load project"] = time.perf_counter() - t0
    feedback.set_progress(15)

    t0 = time.perf_counter()
    reports = {}
    roles = project_layers(project_path)
    for layer_id in project.layer_order():
        layer = project.layers[layer_id]
        if isinstance(layer, VectorLayer):
            id_field = roles.id_field(layer_id) if roles is not None else None
            reports[layer_id] = validate_frame(
                layer.data, path=layer.name, layer=layer_id, id_field=id_field
            )
    timings["validate all layers"] = time.perf_counter() - t0
    feedback.set_progress(30)

    maps = []
    t0 = time.perf_counter()
    maps.append(
        _save(
            render_map(project, title=_("{city}: all layers").format(city=project.name)),
            out / "map_overview.png",
        )
    )
    feedback.set_progress(50)

    def played_by(*names: str) -> list[str]:
        """The project's layers playing these roles in its city profile."""
        ids = [roles.layer_id(name) if roles is not None else None for name in names]
        return [i for i in ids if i and i in project.layers]

    land, incidents = played_by("parcels"), played_by("incidents")
    if land:
        maps.append(
            _save(
                render_map(
                    project,
                    land + played_by("neighborhoods", "boundary"),
                    title=_("{layer} by land use").format(layer=project.layers[land[0]].name),
                ),
                out / "map_land_use.png",
            )
        )
    feedback.set_progress(65)
    if incidents:
        maps.append(
            _save(
                render_map(
                    project,
                    incidents + played_by("streets", "boundary"),
                    title=_("{layer} on the street network").format(
                        layer=project.layers[incidents[0]].name
                    ),
                ),
                out / "map_crashes.png",
            )
        )
    feedback.set_progress(80)
    dem_project = load_project(SHIPPED_SF_DEM)
    maps.append(
        _save(
            render_map(
                dem_project,
                title=_("{name}: elevation in metres").format(name=dem_project.name),
                figsize=(7, 9),
            ),
            out / "map_sf_dem.png",
        )
    )
    timings["draw maps"] = time.perf_counter() - t0
    feedback.set_progress(85)

    t0 = time.perf_counter()
    desk_summary, evaluation_pdf = _dispatch_desk(project_path, out, maps)
    timings["replay the crash history through the dispatch desk"] = time.perf_counter() - t0
    feedback.set_progress(92)

    t0 = time.perf_counter()
    siting_summary = _station_siting(project_path, out, maps)
    timings["site two more fire stations (p-median over the case history)"] = (
        time.perf_counter() - t0
    )
    feedback.set_progress(95)

    t0 = time.perf_counter()
    front_rows = _landuse_front(project_path, out, maps)
    timings["land-use Pareto front over 13k parcels"] = time.perf_counter() - t0
    feedback.set_progress(98)

    t0 = time.perf_counter()
    scenario_rows, planning_report = _planning_scenarios(project_path, out)
    timings["three planning scenarios, compared, with the report"] = time.perf_counter() - t0
    feedback.set_progress(99)

    result = DemoResult(
        out, project_path, out / "report.html", out / "report.md", maps, timings, reports
    )
    result.scenarios = scenario_rows
    result.planning_report = planning_report
    result.desk = desk_summary
    result.evaluation_pdf = evaluation_pdf
    result.siting = siting_summary
    result.front = front_rows
    _write_reports(result, project)
    feedback.set_progress(100)
    return result


def _dispatch_desk(project_path: Path, out: Path, maps: list[Path]) -> tuple[list, Path]:
    """Replay the crash history through the desk; the dashboard charts join the maps and the
    evaluation report is written as a PDF. Returns the summary rows and the PDF's path."""
    import numpy as np

    from citydesk.incidents.dashboard import cell_maps, kpi_chart, trend_chart, write_pdf
    from citydesk.incidents.demo_desk import run_demo_desk
    from citydesk.incidents.kpi import rate_text

    desk, replay, board = run_demo_desk(project_path)
    maps.append(_save(kpi_chart(board), out / "dashboard_grades.png"))
    maps.append(_save(trend_chart(board), out / "dashboard_trend.png"))
    maps.append(_save(cell_maps(board), out / "dashboard_cells.png"))
    from citydesk.layers.city_profile import credits_of
    from citydesk.layers.project_store import read_project_meta

    credits = credits_of(read_project_meta(project_path).get("metadata"))
    pdf = write_pdf(board, out / "evaluation_report.pdf", credits=credits)
    whole = board.kpis[board.kpis["department"] == "ALL"].iloc[0]
    response = np.asarray(replay.response_min, dtype=float)
    summary = [
        [_("older crash reports migrated (simulated handling)"), f"{replay.migrated:,}"],
        [
            _("crash reports replayed live, {start} to {end}").format(
                start=f"{replay.start:%Y-%m-%d}", end=f"{replay.end:%Y-%m-%d}"
            ),
            f"{replay.live:,}",
        ],
        [_("dispatched to the nearest free fire crew by road"), f"{replay.dispatched:,}"],
        [_("left in the manual queue (no crew free)"), f"{replay.manual:,}"],
        [_("flagged as possible duplicates at intake"), f"{replay.duplicates_flagged:,}"],
        [_("failed the check and were reworked"), f"{replay.reworked:,}"],
        [_("mean drive to the scene (minutes)"), f"{np.nanmean(response):.1f}"],
        [_("90th percentile drive (minutes)"), f"{np.nanpercentile(response, 90):.1f}"],
        [_("on-time close rate"), rate_text(whole["on_time_close_rate"])],
        [_("score and grade"), f"{whole['score']:.1f} {whole['grade']}"],
        [_("early-warning cells"), f"{len(board.warnings)}"],
        *_forecast_rows(desk),
    ]
    return summary, pdf


def _forecast_rows(desk) -> list[list[str]]:
    """The weekly forecast per community, backtested on the history's last 52 weeks."""
    from citydesk.incidents.forecast import ForecastSpec
    from citydesk.incidents.forecast_run import run_backtest
    from citydesk.incidents.stores import open_project_store

    with open_project_store(desk.project, desk.grid) as store:
        result = run_backtest(store, desk.grid, ForecastSpec(level="community"))
    table = result.table.set_index("method")
    return [
        [
            _("weekly forecast per community, backtest of the last 52 weeks: MAE (seasonal naive)"),
            f"{table.loc['model', 'mae']:.3f} ({table.loc['seasonal_naive', 'mae']:.3f})",
        ],
        [_("verdict"), result.verdict()],
    ]


def _station_siting(project_path: Path, out: Path, maps: list[Path]) -> list[list[str]]:
    """Two more fire stations for the replayed crash cases; a map and the summary rows."""

    from citydesk.planning.station_siting import fire_station_scenario, siting_map

    result = fire_station_scenario(project_path)
    streets = read_project_layer(project_path, "street_centerlines")
    maps.append(_save(siting_map(result, streets), out / "map_fire_station_siting.png"))
    outcome = result.facility.outcome
    return [
        [_("solver verdict"), outcome.describe()],
        [
            _("crash cases weighed (road nodes)"),
            f"{int(result.demand['weight'].sum()):,} ({len(result.demand):,})",
        ],
        [_("candidate sites (one road node per 400 m square)"), f"{result.n_candidates:,}"],
        [
            _("mean response time, seconds: before -> after"),
            f"{result.before_mean_s:.0f} -> {result.after_mean_s:.0f}",
        ],
        [
            _("90th percentile, seconds: before -> after"),
            f"{result.before_p90_s:.0f} -> {result.after_p90_s:.0f}",
        ],
        *[
            [
                _("new station {rank} (lon, lat)").format(rank=r.rank),
                f"{r.geometry.x:.5f}, {r.geometry.y:.5f}",
            ]
            for r in result.new_sites.itertuples()
        ],
    ]


def _landuse_front(project_path: Path, out: Path, maps: list[Path]) -> list[list[str]]:
    """Economic value against social benefit over every parcel; chart and one row per plan."""
    from citydesk.planning.landuse_front import FrontSpec, pareto_chart, run_landuse_front

    run = run_landuse_front(project_path, FrontSpec(points=12))
    maps.append(_save(pareto_chart(run), out / "landuse_pareto_front.png"))
    return [
        [
            row["plan"],
            f"{row['economic'] / 1e6:,.1f}",
            f"{row['social']:,.0f}",
            f"{row['housing']:,.0f}",
            f"{row['changed']:,}",
            "-" if row["gap"] is None else f"{row['gap']:.3%}",
        ]
        for row in run.table.to_dict("records")
    ]


def _planning_scenarios(project_path: Path, out: Path) -> tuple[list[list[str]], Path]:
    """The three shipped scenarios stored in the project, run, compared with the Pareto
    plans of the front step, and reported (planning_report/report.html and .pdf)."""
    from citydesk.planning.comparison import comparison_table, formatted_table
    from citydesk.planning.plan_report import plan_report
    from citydesk.planning.scenario_store import (
        record_decision,
        save_demo_scenarios,
        stored_indicators,
    )

    save_demo_scenarios(project_path, "demo")
    record_decision(
        project_path,
        "balanced",
        _("Meets every target, changes the fewest parcels and keeps floodplain exposure flat."),
        list(DEMO_SCENARIOS),
        "demo",
    )
    paths = plan_report(project_path, list(DEMO_SCENARIOS), out / "planning_report", "landuse_plan")
    from citydesk.layers.city_profile import project_currency

    table = formatted_table(
        comparison_table(stored_indicators(project_path, list(DEMO_SCENARIOS))),
        project_currency(project_path),
    )
    return table.to_numpy().tolist(), paths.html


def _front_headers() -> list[str]:
    return [
        _("Plan"),
        _("Land value uplift (M USD)"),
        _("Social benefit"),
        _("Housing units added"),
        _("Parcels changed"),
        _("Proven gap"),
    ]


def _front_note() -> str:
    return _(
        "Every parcel may keep its use or become low or high density housing, mixed use, "
        "commercial, park or school where zoning allows; floodplain, open space and water are "
        "protected. Targets: 2,000 new homes, a USD 300 M budget, at most 600 parcels changed. "
        "Each plan is optimal for its level of social benefit within the proven gap. The "
        "coefficients are planning assumptions (docs/OPTIMIZATION.md)."
    )


def _scenario_note() -> str:
    return _(
        "Baseline keeps today's city; housing first and balanced growth allocate uses to "
        "underused parcels (buildings worth less than half their land, vacant lots, parking) "
        "under zoning, protected land, a budget and a cap on parcels changed. Walking access "
        "is measured on the street network; best values are starred. The planning report adds "
        "maps, neighbourhood tables, phasing, suitability and the front's Pareto plans."
    )


def _siting_note() -> str:
    return _(
        "The eight existing fire stations stay; the p-median adds two road nodes that minimise "
        "the crash-weighted travel time from the nearest station, over every crash case in "
        "the case store. Travel times are network drive times without turnout time."
    )


def _layer_rows(project) -> list[list[str]]:
    rows = []
    for lid in project.layer_order():
        layer = project.layers[lid]
        d = layer.describe()
        rows.append([layer.name, str(layer.role), str(d.get("features", d.get("size"))), d["crs"]])
    return rows


def _desk_note() -> str:
    return _(
        "Where and when each crash was reported is real (Cambridge Police Department). "
        "What happened next is simulated from a fixed seed: intake, registration, "
        "the dispatcher's delay, time on site, inspection and close. The drive to the "
        "scene is the travel time on the street network from the nearest free crew."
    )


def _section(
    heading: str,
    text: str = "",
    headers: list[str] | None = None,
    rows: list[list[str]] | None = None,
    items: list[str] | None = None,
    images: list[Path] | None = None,
    link: tuple[str, str] | None = None,
) -> Section:
    """A section of the report engine from the demo's text, table rows, items and maps."""
    tables = [Table(headers, [[str(c) for c in r] for r in rows or []])] if headers else []
    return Section(
        heading,
        [text] if text else [],
        items=list(items or []),
        tables=tables,
        images=list(images or []),
        link=link,
    )


def _sections(result: DemoResult, project) -> list[Section]:
    val_rows = []
    for lid, rep in result.validation.items():
        summary = "; ".join(f"{i.code} ({i.count})" if i.count else i.code for i in rep.issues)
        val_rows.append(
            [
                project.layers[lid].name,
                pgettext("validation verdict", "OK") if rep.ok else _("problems"),
                summary or _("no problems found"),
            ]
        )
    measure = [_("Measure"), _("Value")]
    pdf = result.evaluation_pdf
    return [
        _section(
            _("Layers"),
            headers=[_("Layer"), pgettext("layer role", "Role"), _("Features"), _("Source CRS")],
            rows=_layer_rows(project),
        ),
        _section(_("Validation"), headers=[_("Layer"), _("Result"), _("Issues")], rows=val_rows),
        _section(
            _("Dispatch desk: the crash history replayed"),
            _desk_note(),
            measure,
            result.desk,
            link=(_("Evaluation report (PDF)"), pdf.name) if pdf else None,
        ),
        _section(_("Planning: two more fire stations"), _siting_note(), measure, result.siting),
        _section(
            _("Planning: land-use Pareto front"), _front_note(), _front_headers(), result.front
        ),
        _section(
            _("Planning: three scenarios compared"),
            _scenario_note(),
            [_("Indicator"), _("Unit"), *DEMO_SCENARIOS],
            result.scenarios,
            link=(
                _("Planning report (HTML, with the PDF beside it)"),
                "planning_report/report.html",
            )
            if result.planning_report
            else None,
        ),
        _section(_("Timings"), items=[f"{k}: {v:.2f} s" for k, v in result.timings.items()]),
        _section(_("Maps"), images=result.maps),
        _section(_("Data credits"), project.metadata.get("credits", "")),
    ]


def _write_reports(result: DemoResult, project) -> None:
    """report.html and report.md through the report engine (the maps are already PNGs)."""
    title = _("CityDesk demo report") + ": " + project.name
    report = Report(
        title,
        _sections(result, project),
        subtitle=[_("Project CRS: {crs}").format(crs=project.crs.name), written_line()],
    )
    out = result.report_html.parent
    write_report(report, out, stem=result.report_html.stem, formats=("html", "md"))
