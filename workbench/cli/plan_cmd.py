"""``citydesk plan``: planning scenarios kept in a project, run, compared, decided, reported.

Each action is one call into ``planning`` (scenario_store, scenario_run, comparison,
plan_report); the workbench's planning dock calls the same functions.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _, ngettext

from .optimize_cmd import solve_options, solver_arguments
from .progress import TqdmFeedback


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("plan", help=_("planning scenarios: run, compare, decide, report"))
    psub = cmd.add_subparsers(dest="plan_command", metavar="ACTION", required=True)

    p = psub.add_parser(
        "save", help=_("store scenario TOML files in the project (a new revision each)")
    )
    p.add_argument("project", help=_("the project (.gpkg)"))
    p.add_argument("files", nargs="*", help=_("scenario .toml files"))
    p.add_argument(
        "--demo", action="store_true", help=_("store the three Cambridge demo scenarios")
    )
    p.add_argument("--author", default="", help=_("who saves them"))
    p.set_defaults(func=cmd_save)

    p = psub.add_parser(
        "new", help=_("write a new scenario for the project's city, to edit and then save")
    )
    p.add_argument("project", help=_("the project (.gpkg)"))
    p.add_argument("name", help=_("scenario name (letters, digits, - and _)"))
    p.add_argument("--output", help=_("the TOML file to write (default: NAME.toml)"))
    p.set_defaults(func=cmd_new)

    p = psub.add_parser("list", help=_("the scenarios in the project"))
    p.add_argument("project", help=_("the project (.gpkg)"))
    p.set_defaults(func=cmd_list)

    p = psub.add_parser("show", help=_("print a scenario's TOML (latest or a revision)"))
    p.add_argument("project", help=_("the project (.gpkg)"))
    p.add_argument("name", help=_("scenario name"))
    p.add_argument("--revision", type=int, help=_("revision number (default: latest)"))
    p.add_argument("--history", action="store_true", help=_("list the revisions instead"))
    p.set_defaults(func=cmd_show)

    p = psub.add_parser("diff", help=_("what changed between two revisions of a scenario"))
    p.add_argument("project", help=_("the project (.gpkg)"))
    p.add_argument("name", help=_("scenario name"))
    p.add_argument("--from", dest="old", type=int, help=_("older revision (default: previous)"))
    p.add_argument("--to", dest="new", type=int, help=_("newer revision (default: latest)"))
    p.set_defaults(func=cmd_diff)

    p = psub.add_parser("validate", help=_("check a scenario file, and against a project"))
    p.add_argument("file", help=_("scenario .toml file"))
    p.add_argument("--project", help=_("also check its layers and filters in this project"))
    p.set_defaults(func=cmd_validate)

    p = psub.add_parser("run", help=_("run scenarios; results go into the project"))
    p.add_argument("project", help=_("the project (.gpkg)"))
    p.add_argument("names", nargs="+", help=_("scenario names"))
    p.add_argument("--json", action="store_true", help=_("print the indicators as JSON"))
    solver_arguments(p)
    p.set_defaults(func=cmd_run)

    p = psub.add_parser("compare", help=_("indicators of run scenarios side by side"))
    p.add_argument("project", help=_("the project (.gpkg)"))
    p.add_argument("names", nargs="+", help=_("scenario names (run first)"))
    p.add_argument("--area", default="city", help=_("'city' or a neighbourhood name"))
    p.add_argument("--front", help=_("a Pareto plan layer to add (from 'optimize landuse')"))
    p.add_argument("--csv", help=_("also write the table to this file (.csv or .xlsx)"))
    p.set_defaults(func=cmd_compare)

    p = psub.add_parser("prefer", help=_("record the preferred scenario and why"))
    p.add_argument("project", help=_("the project (.gpkg)"))
    p.add_argument("name", help=_("the preferred scenario"))
    p.add_argument("--reason", required=True, help=_("why it is preferred"))
    p.add_argument("--compared", help=_("the scenarios compared, comma-separated (default: all)"))
    p.add_argument("--author", default="", help=_("who decides"))
    p.set_defaults(func=cmd_prefer)

    p = psub.add_parser("report", help=_("write the planning report (HTML and PDF)"))
    p.add_argument("project", help=_("the project (.gpkg)"))
    p.add_argument("names", nargs="+", help=_("scenario names"))
    p.add_argument("--output", default="planning_report", help=_("output folder"))
    p.add_argument("--front", help=_("a Pareto plan layer to add (from 'optimize landuse')"))
    solver_arguments(p)
    p.set_defaults(func=cmd_report)

    p = psub.add_parser(
        "suitability", help=_("score parcels with a scenario's suitability factors")
    )
    p.add_argument("project", help=_("the project (.gpkg)"))
    p.add_argument("name", help=_("scenario name"))
    p.set_defaults(func=cmd_suitability)

    p = psub.add_parser("service-areas", help=_("walking or driving isochrones of a facility kind"))
    p.add_argument("project", help=_("the project (.gpkg)"))
    p.add_argument("name", help=_("scenario name (for its facility kinds)"))
    p.add_argument("kind", help=_("facility kind, e.g. school"))
    p.add_argument(
        "--thresholds",
        default="400,800,1200",
        help=_("metres when walking, seconds when driving (default 400,800,1200)"),
    )
    p.set_defaults(func=cmd_service_areas)


def cmd_save(args: argparse.Namespace) -> int:
    from citydesk.layers.toml_schema import read_text_file
    from citydesk.planning.scenario import DEMO_SCENARIOS, ScenarioError, shipped_scenario
    from citydesk.planning.scenario_store import save_scenario

    texts = [(Path(f).name, read_text_file(f, ScenarioError, _("scenario"))) for f in args.files]
    if args.demo:
        from citydesk.planning.scenario_starter import check_demo_fits

        check_demo_fits(args.project)
        texts += [(f"{n}.toml", shipped_scenario(n)) for n in DEMO_SCENARIOS]
    if not texts:
        raise CityDeskError(_("no scenario given"), _("Name .toml files, or use --demo."))
    for source, text in texts:
        from citydesk.planning.scenario import parse_scenario

        name = parse_scenario(text, source).name
        revision = save_scenario(args.project, text, args.author)
        print(_("saved {name} revision {rev}").format(name=name, rev=revision))
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    from citydesk.planning.scenario_starter import starter_text

    out = Path(args.output or f"{args.name}.toml")
    text = starter_text(args.project, args.name)
    try:
        with out.open("x", encoding="utf-8") as fh:  # never over a planner's own file
            fh.write(text)
    except FileExistsError:
        raise CityDeskError(
            _("{path} exists already").format(path=out),
            _("Give another --output, or edit that file and save it with citydesk plan save."),
        ) from None
    print(
        _("wrote {path}: edit it, then store it with: citydesk plan save {project} {path}").format(
            path=out, project=args.project
        )
    )
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from citydesk.planning.scenario_store import list_scenarios

    table = list_scenarios(args.project)
    print(table.to_string(index=False) if len(table) else _("no scenarios yet"))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from citydesk.planning.scenario_store import scenario_history, scenario_text

    if args.history:
        print(scenario_history(args.project, args.name).to_string(index=False))
    else:
        print(scenario_text(args.project, args.name, args.revision)[0])
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    from citydesk.planning.scenario_store import scenario_diff

    text = scenario_diff(args.project, args.name, args.old, args.new)
    print(text or _("no earlier revision to compare with"))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from citydesk.planning.scenario import read_scenario
    from citydesk.planning.scenario_check import check_in_project

    scenario = read_scenario(args.file)
    notes = check_in_project(args.project, scenario) if args.project else []
    print(_("{name}: valid").format(name=scenario.name))
    for note in notes:
        print("  " + note)
    return 0


def _city_table(indicators, project, area: str = "city"):
    from citydesk.layers.city_profile import project_currency
    from citydesk.planning.comparison import comparison_table, formatted_table

    return formatted_table(comparison_table(indicators, area), project_currency(project))


def _with_plugin_indicators() -> None:
    """Plugins' indicators join the built-in ones (registered lazily; no plugin import)."""
    from citydesk.plugins.indicators import install

    install()


def cmd_run(args: argparse.Namespace) -> int:
    import pandas as pd

    from citydesk.planning.scenario_run import run_stored_scenarios

    _with_plugin_indicators()

    with TqdmFeedback(_("planning")) as fb:
        results, _inputs = run_stored_scenarios(args.project, args.names, solve_options(args), fb)
    long = pd.concat([r.indicators.assign(scenario=r.scenario.name) for r in results])
    if args.json:
        city = long[long["area"] == "city"]
        print(
            json.dumps(
                {
                    s: dict(zip(g["indicator"], g["value"], strict=True))
                    for s, g in city.groupby("scenario", sort=False)
                },
                indent=1,
            )
        )
        return 0
    for r in results:
        status = r.outcome.describe() if r.outcome else _("no optimization (baseline)")
        changed = int(r.state["changed"].sum())
        print(
            ngettext(
                "{name}: {status}; {n} parcel changed; {s:.1f} s",
                "{name}: {status}; {n} parcels changed; {s:.1f} s",
                changed,
            ).format(name=r.scenario.name, status=status, n=changed, s=r.seconds)
        )
        for problem in r.problems:
            print("  " + problem)
    print(_city_table(long, args.project).to_string(index=False))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    import pandas as pd

    from citydesk.planning.comparison import (
        comparison_table,
        evaluate_plans,
        formatted_table,
        front_plans,
    )
    from citydesk.planning.scenario_defaults import runnable_scenario
    from citydesk.planning.scenario_store import stored_indicators

    long = stored_indicators(args.project, args.names)
    if args.front:
        _with_plugin_indicators()
        from citydesk.planning.scenario_run import prepare_inputs

        reference = runnable_scenario(args.project, args.names[0])
        inputs = prepare_inputs(args.project, reference)
        _states, front = evaluate_plans(inputs, reference, front_plans(args.project, args.front))
        long = pd.concat([long, front], ignore_index=True)
    table = comparison_table(long, args.area)
    if table.empty:
        raise CityDeskError(
            _("no indicators for area '{area}'").format(area=args.area),
            _("Use 'city' or a neighbourhood name: {names}.").format(
                names=", ".join(sorted(set(long["area"])))
            ),
        )
    from citydesk.layers.city_profile import project_currency

    print(formatted_table(table, project_currency(args.project)).to_string(index=False))
    if args.csv:
        from citydesk.layers.city_profile import project_csv_dialect
        from citydesk.layers.csv_safe import write_table

        write_table(table, args.csv, index=True, dialect=project_csv_dialect(args.project))
    return 0


def cmd_prefer(args: argparse.Namespace) -> int:
    from citydesk.planning.scenario_store import list_scenarios, record_decision

    compared = (
        args.compared.split(",") if args.compared else list(list_scenarios(args.project)["name"])
    )
    decision = record_decision(args.project, args.name, args.reason, compared, args.author)
    print(
        _("recorded: {name} preferred ({when})").format(
            name=decision.preferred, when=decision.decided_at
        )
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from citydesk.planning.plan_report import plan_report

    _with_plugin_indicators()

    with TqdmFeedback(_("report")) as fb:
        paths = plan_report(
            args.project, args.names, args.output, args.front, solve_options(args), fb
        )
    print(_("wrote {html} and {pdf}").format(html=paths.html, pdf=paths.pdf))
    return 0


def cmd_suitability(args: argparse.Namespace) -> int:
    from citydesk.planning.analysis_layers import save_suitability
    from citydesk.planning.scenario_defaults import runnable_scenario

    scenario = runnable_scenario(args.project, args.name)
    layer_id, result = save_suitability(args.project, scenario)
    ahp = result.attrs.get("ahp")
    if ahp is not None:
        print(_("AHP consistency ratio {cr:.3f}").format(cr=ahp.consistency_ratio))
    for factor, weight in result.attrs["weights"].items():
        print(f"  {factor}: {weight:.3f}")
    print(_("wrote layer {layer}").format(layer=layer_id))
    return 0


def cmd_service_areas(args: argparse.Namespace) -> int:
    from citydesk.planning.analysis_layers import save_service_areas
    from citydesk.planning.scenario_defaults import runnable_scenario

    scenario = runnable_scenario(args.project, args.name)
    thresholds = [float(t) for t in args.thresholds.split(",")]
    layer_id = save_service_areas(args.project, scenario, args.kind, thresholds)
    print(_("wrote layer {layer}").format(layer=layer_id))
    return 0
