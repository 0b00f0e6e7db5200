"""``citydesk optimize``: facility location on a project's road network and exact Pareto fronts.

Every action maps onto a Qt-free function (``citydesk.planning.station_siting``,
``citydesk.optimization.pareto``), so the GUI and Python scripts get the same answers.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _

from .arg_types import count, non_negative, positive, weights
from .progress import TqdmFeedback, stop_on_interrupt

SITING_MODELS = {
    "pmedian": _("add sites minimising the demand-weighted mean travel time"),
    "pcenter": _("add sites minimising the worst travel time"),
    "mclp": _("add sites maximising the demand within a service standard"),
    "lscp": _("fewest added sites bringing all demand within a service standard"),
}


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("optimize", help=_("facility location and Pareto fronts"))
    osub = cmd.add_subparsers(dest="optimize_command", metavar="MODEL", required=True)
    for model, text in SITING_MODELS.items():
        p = osub.add_parser(model, help=text, description=text)
        p.add_argument("project", help=_("the project (.gpkg)"))
        p.add_argument(
            "--demand",
            default="cases",
            help=_(
                "demand points: 'cases' (the case store's history; 'cases:CATEGORY' for one"
                " category) or a layer id, optionally ':WEIGHT_FIELD' (default: cases)"
            ),
        )
        p.add_argument("--existing", help=_("layer id of the existing facilities"))
        p.add_argument(
            "--kind",
            help=_("or a facility kind of the city profile: fire, school, clinic, ..."),
        )
        p.add_argument(
            "--where", help=_("filter the existing facilities, e.g. \"category = 'fire_station'\"")
        )
        p.add_argument("--add", type=int, default=2, help=_("facilities to add (default 2)"))
        p.add_argument(
            "--radius",
            type=positive,
            default=120.0,
            help=_("service standard in seconds, for mclp and lscp (default 120)"),
        )
        p.add_argument(
            "--spacing", type=positive, default=400.0, help=_("candidate spacing in metres (400)")
        )
        p.add_argument(
            "--streets", help=_("the streets layer id (default: the city profile's streets)")
        )
        solver_arguments(p)
        p.add_argument("--output", help=_("layer id prefix for the results (default: the model)"))
        p.add_argument("--json", action="store_true", help=_("print the result as JSON"))
        p.set_defaults(func=cmd_siting, model=model)
    landuse = osub.add_parser(
        "landuse",
        help=_("allocate uses to parcels: a Pareto front or one weighted plan"),
        description=_(
            "Every parcel of the project's parcels layer (or those --where picks) is a"
            " candidate; parcels, zoning,"
            " floodplain, open space, water and schools are the layers and fields the city"
            " profile maps (see docs/CITY.md and docs/OPTIMIZATION.md)."
        ),
    )
    landuse.add_argument("project", help=_("the project (.gpkg)"))
    landuse.add_argument(
        "--objectives",
        default="economic,social",
        help=_(
            "two or three objectives for the front: economic, social, environment, compatibility,"
            " cost (default economic,social)"
        ),
    )
    landuse.add_argument("--points", type=int, default=10, help=_("grid points of the front (10)"))
    landuse.add_argument(
        "--weights",
        type=weights,
        help=_("one weighted plan instead of a front, e.g. economic=1,social=1000"),
    )
    landuse.add_argument(
        "--normalise",
        action="store_true",
        help=_(
            "with --weights: divide each objective by its range first, as scenarios do, so"
            " weight 1 each means equal importance"
        ),
    )
    landuse.add_argument(
        "--exact",
        action="store_true",
        help=_("AUGMECON2 with a full MIP per point (small models) instead of LP + marginal MIP"),
    )
    _landuse_arguments(landuse)
    landuse.add_argument("--output", default="landuse", help=_("layer id prefix (landuse)"))
    landuse.add_argument("--json", action="store_true", help=_("print the result as JSON"))
    solver_arguments(landuse)
    landuse.set_defaults(func=cmd_landuse)

    phasing = osub.add_parser("phasing", help=_("schedule a plan's changes over periods"))
    phasing.add_argument("project", help=_("the project (.gpkg)"))
    phasing.add_argument("--plan", default="landuse_plan", help=_("plan layer id (landuse_plan)"))
    phasing.add_argument("--column", default="plan_1", help=_("the plan column (plan_1)"))
    phasing.add_argument(
        "--budgets",
        required=True,
        help=_("budget per period in the city's currency, comma-separated"),
    )
    phasing.add_argument(
        "--housing-by-period", help=_("cumulative housing units by period, comma-separated")
    )
    phasing.add_argument("--years", type=positive, default=5.0, help=_("years per period (5)"))
    phasing.add_argument("--output", default="phasing", help=_("layer id (phasing)"))
    solver_arguments(phasing)
    phasing.set_defaults(func=cmd_phasing)

    pareto = osub.add_parser(
        "pareto", help=_("exact Pareto front of a multi-objective 0/1 knapsack (CSV files)")
    )
    pareto.add_argument(
        "folder", help=_("folder with c.csv (objectives), a.csv and b.csv (A x <= b)")
    )
    pareto.add_argument("--grid", type=int, help=_("grid points per objective (default: exact)"))
    pareto.add_argument("--output", help=_("write the front here (.csv or .xlsx)"))
    solver_arguments(pareto)
    pareto.set_defaults(func=cmd_pareto)


def _landuse_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--housing", type=non_negative, help=_("housing units to add (target)"))
    p.add_argument("--jobs", type=non_negative, help=_("job floor area to add, m² (target)"))
    p.add_argument("--school-seats", type=non_negative, help=_("school seats to add (target)"))
    p.add_argument("--park-area", type=non_negative, help=_("park area to add, m² (target)"))
    p.add_argument(
        "--budget", type=positive, help=_("public and infrastructure budget (city's currency)")
    )
    p.add_argument("--max-changed", type=count, help=_("most parcels that may change"))
    p.add_argument(
        "--where",
        help=_(
            "only the parcels this filter matches are candidates, e.g."
            ' "improvement_value_usd < 0.5 * land_value_usd"; the others keep their use'
        ),
    )


def _targets(args: argparse.Namespace) -> dict[str, float]:
    pairs = (
        ("housing", args.housing),
        ("jobs", args.jobs),
        ("school_seats", args.school_seats),
        ("park_area", args.park_area),
    )
    return {name: value for name, value in pairs if value}


def _landuse_inputs(args: argparse.Namespace, project: Path):
    from citydesk.planning.landuse_inputs import project_landuse_problem

    return project_landuse_problem(
        project,
        where=args.where,
        targets=_targets(args),
        budget=args.budget,
        max_changed=args.max_changed,
    )


def solver_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--solver", choices=("cbc", "highs"), help=_("MILP solver (default cbc)"))
    p.add_argument(
        "--time-limit",
        type=non_negative,
        help=_("seconds the optimization may take (default 600; 0 for no limit)"),
    )
    p.add_argument("--gap", type=non_negative, default=0.0, help=_("relative MIP gap (default 0)"))


def solve_options(args: argparse.Namespace):
    from citydesk.optimization.solve import DEFAULT_TIME_LIMIT_S, SolveOptions

    limit = DEFAULT_TIME_LIMIT_S if args.time_limit is None else args.time_limit or None
    return SolveOptions(
        solver=args.solver or "cbc",
        time_limit=limit,
        mip_gap=args.gap,
        highs_after_cbc=args.solver is None,  # a CBC the user named is CBC alone
    )


def cmd_siting(args: argparse.Namespace) -> int:
    from citydesk.layers.expressions import filter_mask
    from citydesk.planning.station_siting import SitingSpec, site_in_project

    project = Path(args.project)
    spec = SitingSpec(
        add=args.add,
        candidate_spacing_m=args.spacing,
        model=args.model,
        radius_s=args.radius,
        options=solve_options(args),
    )
    if args.existing:
        existing = _read_layer(project, args.existing)
    elif args.kind:
        from citydesk.layers.city_layers import read_kind

        existing = read_kind(project, args.kind, _("Facility siting"))
    else:
        raise CityDeskError(
            _("which facilities are there already?"),
            _("Give --existing LAYER_ID (with --where) or --kind KIND (e.g. fire)."),
        )
    if args.where:
        existing = existing[filter_mask(existing, args.where)]
    lon, lat, weights = _demand_points(project, args.demand)
    with TqdmFeedback(_("optimizing")) as fb:
        result, ids = site_in_project(
            project,
            existing,
            lon,
            lat,
            weights,
            spec,
            fb,
            name=args.output or f"optimize_{args.model}",
            streets=args.streets,
        )
    if args.json:
        print(json.dumps(_siting_json(result, ids), ensure_ascii=False, indent=2))
    else:
        print("\n".join(result.summary()))
        for row in result.new_sites.itertuples():
            print(
                _("new site {rank}: {lon:.5f}, {lat:.5f}").format(
                    rank=row.rank, lon=row.geometry.x, lat=row.geometry.y
                )
            )
        if ids:
            print(_("written to the project as layers: {ids}").format(ids=", ".join(ids)))
    return 0 if ids else 1


def _siting_json(result, ids: list[str]) -> dict:
    outcome = result.facility.outcome
    return {
        "model": result.facility.model,
        "status": outcome.status.value,
        "objective": outcome.objective,
        "bound": outcome.bound,
        "seconds": round(outcome.seconds, 3),
        "new_sites": [[round(g.x, 6), round(g.y, 6)] for g in result.new_sites.geometry],
        # None where there was no facility before (JSON has no NaN)
        "before_mean_s": None if result.existing.empty else result.before_mean_s,
        "before_p90_s": None if result.existing.empty else result.before_p90_s,
        "after_mean_s": result.after_mean_s,
        "after_p90_s": result.after_p90_s,
        "layers": ids,
    }


def _read_layer(project: Path, layer_id: str):
    from citydesk.layers.io import read_frame

    return read_frame(project, layer_id)[0]


def _demand_points(project: Path, text: str):
    """(lon, lat, weights) of ``cases[:CATEGORY]`` or ``LAYER[:WEIGHT_FIELD]``."""
    source, _sep, detail = text.partition(":")
    if source == "cases":
        from citydesk.planning.station_siting import case_points

        return (*case_points(project, detail or None), None)
    frame = _read_layer(project, source).to_crs(4326)
    if detail and detail not in frame.columns:
        raise CityDeskError(
            _("Layer {layer!r} has no field {field!r}.").format(layer=source, field=detail),
            _("Give a numeric field of the layer after the colon, or none."),
        )
    points = frame.geometry.representative_point()
    weights = frame[detail].fillna(0).to_numpy(dtype=float) if detail else None
    return points.x.to_numpy(), points.y.to_numpy(), weights


def cmd_pareto(args: argparse.Namespace) -> int:
    import pandas as pd

    from citydesk.optimization.knapsack import knapsack_model, read_knapsack
    from citydesk.optimization.pareto import augmecon2

    model, objectives = knapsack_model(*read_knapsack(args.folder))
    options = solve_options(args)
    with TqdmFeedback(_("Pareto front")) as fb, stop_on_interrupt(fb):
        # --time-limit bounds the whole front; a front stopped by it or by Ctrl+C is
        # printed and saved with what it proved, and says it is incomplete (issue 25)
        front = augmecon2(
            model,
            objectives,
            grid=args.grid,
            options=options,
            feedback=fb,
            budget=options.time_limit,
        )
    table = pd.DataFrame(front.values(), columns=list(front.objectives))
    table["proven"] = [p.proven for p in front.points]
    print(
        _(
            "{n} non-dominated points ({proven} proven optimal), {solves} solves, {skipped} "
            "grid points bypassed, {s:.1f} s"
        ).format(
            n=len(front.points),
            proven=front.proven_points,
            solves=front.solves,
            skipped=front.skipped,
            s=front.seconds,
        )
    )
    for note in front.notes:
        print(note)
    if args.output:
        from citydesk.layers.csv_safe import write_table

        write_table(table, args.output)
    else:
        print(table.to_string(index=False))
    return 0


def cmd_landuse(args: argparse.Namespace) -> int:
    from citydesk.optimization.landuse import OBJECTIVES

    project = Path(args.project)
    front = None
    with TqdmFeedback(_("optimizing")) as fb:
        if args.weights:
            rows, layer_id = _weighted_plan(args, project, fb)
        else:
            from citydesk.planning.landuse_front import FrontSpec, run_landuse_front

            names = [n.strip() for n in args.objectives.split(",") if n.strip()]
            if (
                len(names) not in (2, 3)
                or len(set(names)) != len(names)
                or any(n not in OBJECTIVES for n in names)
            ):
                raise CityDeskError(
                    _("Give two or three different objectives, not {names}.").format(
                        names=", ".join(names)
                    ),
                    _("Choose from: {names}.").format(names=", ".join(OBJECTIVES)),
                )
            if args.normalise:
                raise CityDeskError(  # refused, not ignored
                    _("--normalise weighs a plan's objectives; a front has no weights."),
                    _("Give --weights with it, or leave it out."),
                )
            if not args.exact and args.solver == "cbc":
                raise CityDeskError(  # refused, not ignored (issue 25)
                    _(
                        "The city-scale front runs on HiGHS, not CBC: it re-solves one LP from"
                        " the previous basis at every point."
                    ),
                    _("Leave out --solver, or add --exact for AUGMECON2 with CBC (small models)."),
                )
            spec = FrontSpec(
                objectives=tuple(names),
                points=args.points,
                targets=_targets(args),
                budget=args.budget,
                max_changed=args.max_changed,
                where=args.where or "",
                target_gap=args.gap or 0.001,
                exact=args.exact,
                options=solve_options(args),
            )
            run = run_landuse_front(project, spec, fb, name=args.output)
            rows, layer_id = run.table.to_dict("records"), run.layer_id
            front = run.front
    if args.json:
        out: dict = {"layer": layer_id, "plans": rows}
        if front is not None:
            out |= {"unexplored": front.unexplored, "notes": front.notes}
        print(json.dumps(out, indent=2, default=float))
    else:
        from citydesk.layers.city_profile import project_currency
        from citydesk.planning.comparison import format_value

        currency = project_currency(project)
        for row in rows:
            gap = "-" if row["gap"] is None else f"{row['gap']:.3%}"
            conflicts = (
                _("; neighbour conflicts {value:,.1f}").format(value=row["compatibility"])
                if "compatibility" in row
                else ""
            )
            print(
                _(
                    "{plan}: {status} (gap {gap}); economic {economic}, social {social:,.1f},"
                    " environment {environment:,.0f} m², cost {cost}, housing {housing:,.0f},"
                    " {changed} parcels changed"
                ).format(
                    **{
                        **row,
                        "gap": gap,
                        "economic": format_value(row["economic"], "money", currency),
                        "cost": format_value(row["cost"], "money", currency),
                    }
                )
                + conflicts
            )
        if front is not None:
            if not rows:
                print(
                    _("No plan in {s:.0f} s: give the front more time (--time-limit).").format(
                        s=front.seconds
                    )
                )
            for note in front.notes:
                print("  " + note)
        if layer_id:
            print(_("written to the project as layers: {ids}").format(ids=layer_id))
    return 0 if rows else 1


def _weighted_plan(args: argparse.Namespace, project: Path, feedback):
    """One plan for ``--weights``, written as ``<output>_plan`` with a ``plan_1`` column."""
    from citydesk.optimization.landuse import plan_totals, solve_landuse
    from citydesk.planning.landuse_front import save_plans

    started = time.perf_counter()  # the limit counts reading and building too (issue 25)
    inputs = _landuse_inputs(args, project)
    options = solve_options(args).left_after(started)
    outcome, plan = solve_landuse(inputs, args.weights, options, feedback, normalise=args.normalise)
    if plan is None:
        return [], None
    row = {"plan": "plan_1", "status": outcome.status.value, "gap": outcome.gap}
    row |= plan_totals(inputs, plan)
    layer_id = save_plans(project, {"plan_1": plan}, args.output, inputs.layer_rows)
    return [row], layer_id


def cmd_phasing(args: argparse.Namespace) -> int:
    import geopandas as gpd

    from citydesk.layers.layer import LayerRole, VectorLayer
    from citydesk.layers.project_store import put_layers
    from citydesk.optimization.phasing import phasing_from_plan, solve_phasing
    from citydesk.planning.landuse_inputs import plan_from_column

    project = Path(args.project)
    started = time.perf_counter()  # the limit counts reading and building too (issue 25)
    plan_layer = _read_layer(project, args.plan)
    plan = plan_from_column(plan_layer, args.column)
    budgets = [float(b) for b in args.budgets.split(",")]
    targets = {}
    if args.housing_by_period:
        targets["housing"] = [float(v) for v in args.housing_by_period.split(",")]
    from citydesk.planning.landuse_inputs import project_landuse_problem

    inputs = project_landuse_problem(project)
    if len(plan) != inputs.n_parcels:
        raise CityDeskError(
            _("The plan has {n} parcels; the project has {m}.").format(
                n=len(plan), m=inputs.n_parcels
            ),
            _("Use a plan layer written by 'citydesk optimize landuse' on this project."),
        )
    problem = phasing_from_plan(inputs, plan, budgets, targets, years_per_period=args.years)
    with TqdmFeedback(_("phasing")) as fb:
        result = solve_phasing(problem, solve_options(args).left_after(started), fb)
    print(result.outcome.describe())
    for note in result.notes:
        print(note)
    print(result.by_period.to_string(index=False))
    changed = plan != 0
    frame = plan_layer[changed].copy()
    frame["period"] = result.period
    layer = VectorLayer(
        name=_("{name}: development period").format(name=args.output),
        data=gpd.GeoDataFrame(frame, geometry="geometry", crs=plan_layer.crs),
        role=LayerRole.LAND,
        id=args.output,
    )
    put_layers(project, [layer], group=_("Optimization"))
    print(_("written to the project as layers: {ids}").format(ids=args.output))
    return 0
