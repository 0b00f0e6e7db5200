"""``citydesk cases import|list|show|move``: the case store from the command line."""

from __future__ import annotations

import argparse
from pathlib import Path

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _, ngettext

from . import case_store_cmd
from .arg_types import moment, positive


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("cases", help=_("city-management cases (grid-based management)"))
    csub = cmd.add_subparsers(dest="cases_command", metavar="ACTION", required=True)

    cat = csub.add_parser("categories", help=_("list the case categories (部件 and 事件)"))
    cat.add_argument("--search", help=_("only categories whose code or name contains this"))
    cat.add_argument("--lang", dest="names_lang", help=_("names in en or zh_CN"))
    cat.add_argument("--project", help=_("the project (.gpkg): its city's own categories too"))
    cat.set_defaults(func=cmd_categories)

    imp = csub.add_parser(
        "import", help=_("import a 311-style CSV through a column mapping, or Open311 JSON/XML")
    )
    imp.add_argument(
        "file", help=_("the CSV or spreadsheet (.xlsx .xls .ods) export, or Open311 .json/.xml")
    )
    imp.add_argument(
        "--mapping",
        help=_(
            "mapping TOML, or a shipped one: nyc311, cambridge_crashes; for Open311 only "
            "when its service codes are another system's"
        ),
    )
    imp.add_argument("--project", required=True, help=_("the project (.gpkg) holding the cases"))
    imp.set_defaults(func=cmd_import)

    draft = csub.add_parser(
        "mapping", help=_("draft a column mapping from a case export, to check and import with")
    )
    draft.add_argument("file", help=_("the CSV or spreadsheet (.xlsx .xls .ods) export"))
    draft.add_argument("--project", help=_("the project (.gpkg): its time zone, categories, area"))
    draft.add_argument("--out", help=_("where to write the mapping (default: FILE_mapping.toml)"))
    draft.add_argument("--timezone", help=_("the zone of the file's times (default: the city's)"))
    draft.set_defaults(func=cmd_mapping)

    exp = csub.add_parser("export", help=_("export cases: .csv .xlsx .gpkg, or Open311 .json .xml"))
    exp.add_argument("output", help=_("output file"))
    exp.add_argument("--project", required=True, help=_("the project (.gpkg)"))
    _case_filters(exp)
    exp.add_argument(
        "--include-personal-data",
        action="store_true",
        help=_("keep reporters' names, phones and e-mails (masked by default)"),
    )
    exp.add_argument(
        "--history",
        action="store_true",
        help=_("write every step of the cases instead (who, in which role, when): .csv or .xlsx"),
    )
    exp.set_defaults(func=cmd_export)

    lst = csub.add_parser("list", help=_("list cases"))
    lst.add_argument("--project", required=True, help=_("the project (.gpkg)"))
    _case_filters(lst)
    lst.add_argument(
        "--asking-for-time",
        action="store_true",
        help=_("only cases whose department asked for more time, not yet answered (延期申请)"),
    )
    lst.add_argument(
        "--urged",
        action="store_true",
        help=_("only cases the command centre urged the department on (督办)"),
    )
    lst.add_argument("--limit", type=int, default=20, help=_("rows to show (default 20)"))
    lst.set_defaults(func=cmd_list)

    show = csub.add_parser("show", help=_("a case and its full history"))
    show.add_argument("case_id")
    show.add_argument("--project", required=True, help=_("the project (.gpkg)"))
    show.set_defaults(func=cmd_show)

    kpi = csub.add_parser("kpi", help=_("performance indicators and A-E grades"))
    kpi.add_argument("--project", required=True, help=_("the project (.gpkg)"))
    kpi.add_argument(
        "--by",
        default="department",
        choices=["department", "grid", "community", "category", "role"],
        help=_("group by (role = the dispatcher)"),
    )
    kpi.add_argument("--from", dest="start", type=moment, help=_("registered on or after"))
    kpi.add_argument("--to", dest="end", type=moment, help=_("registered before"))
    kpi.add_argument(
        "--measure",
        choices=["digital", "311"],
        default="digital",
        help=_(
            "on-time close rate: digital (数字城管: among cases due to close, the default) or "
            "311 (closed by the target, among closed cases with a target)"
        ),
    )
    kpi.add_argument("--csv", help=_("also write the table to this file (.csv or .xlsx)"))
    kpi.set_defaults(func=cmd_kpi)

    hot = csub.add_parser(
        "hotspots", help=_("case counts, Gi* hotspots and early warnings per cell")
    )
    hot.add_argument("--project", required=True, help=_("the project (.gpkg) with a unit grid"))
    hot.add_argument(
        "--from",
        dest="start",
        type=moment,
        required=True,
        help=_("period start (reported on or after)"),
    )
    hot.add_argument(
        "--to", dest="end", type=moment, required=True, help=_("period end (reported before)")
    )
    hot.add_argument("--out", help=_("write the cells with their statistics to this .gpkg"))
    hot.set_defaults(func=cmd_hotspots)

    fc = csub.add_parser(
        "forecast",
        help=_("expected cases per cell, community or street next week, with intervals"),
        description=_(
            "Forecast case counts per unit and category for the week (or each day) after "
            "the history, with 80% and 95% prediction intervals; --backtest first measures "
            "the model on the store's own history against seasonal naive and a moving "
            "average (MAE, MASE, RMSE, interval coverage)."
        ),
    )
    fc.add_argument("--project", required=True, help=_("the project (.gpkg) with a unit grid"))
    fc.add_argument(
        "--level", choices=["cell", "community", "street"], default="cell", help=_("the units")
    )
    fc.add_argument(
        "--horizon", choices=["week", "day"], default="week", help=_("one week, or each day")
    )
    fc.add_argument(
        "--all", action="store_true", help=_("all categories together, not per category")
    )
    fc.add_argument(
        "--at",
        type=moment,
        help=_("forecast from this date (default: today); the history before it is used"),
    )
    fc.add_argument(
        "--backtest", action="store_true", help=_("measure the forecast on past weeks first")
    )
    fc.add_argument(
        "--test-from",
        type=moment,
        help=_("backtest from this date (default: the last year of the history)"),
    )
    fc.add_argument("--test-to", type=moment, help=_("backtest until this date"))
    fc.add_argument("--top", type=int, default=15, help=_("rows to print (default 15)"))
    fc.add_argument("--csv", help=_("write every unit's forecast to this file (.csv or .xlsx)"))
    fc.set_defaults(func=cmd_forecast)

    new = csub.add_parser("report", help=_("report one case (intake), duplicates checked"))
    new.add_argument("--project", required=True, help=_("the project (.gpkg)"))
    new.add_argument("--category", required=True, help=_("kind:code, e.g. event:0401"))
    where = new.add_mutually_exclusive_group(required=True)
    where.add_argument("--at", dest="lonlat", help=_("LON,LAT in degrees (write --at=-71.1,42.37)"))
    where.add_argument("--address", help=_("an address on the streets layer"))
    new.add_argument("--description", default="", help=_("what the reporter said"))
    new.add_argument("--as", dest="role", default="supervisor", help=_("your role"))
    new.add_argument("--actor", required=True, help=_("your user name"))
    new.add_argument(
        "--even-if-duplicate",
        action="store_true",
        help=_("report although open cases of the category are near"),
    )
    new.set_defaults(func=cmd_report)

    case_store_cmd.register(csub)
    move = csub.add_parser(
        "move",
        help=_("take an action on a case, or on every case a filter picks (accept, register, ...)"),
        description=_(
            "citydesk cases move CASE_ID ACTION, or citydesk cases move ACTION --where FILTER "
            "(e.g. \"status = 'reported' AND department = 'sanitation'\"): every picked "
            "case in one transaction, with the same role checks; all move or none does."
        ),
    )
    move.add_argument(
        "target", nargs="+", metavar="CASE_ID ACTION", help=_("the case, then the action")
    )
    move.add_argument(
        "--where", help=_("move every case this filter picks (then give only ACTION)")
    )
    move.add_argument("--project", required=True, help=_("the project (.gpkg)"))
    move.add_argument("--as", dest="role", required=True, help=_("your role"))
    move.add_argument("--actor", required=True, help=_("your user name"))
    move.add_argument("--version", type=int, help=_("the case version you saw (default: current)"))
    move.add_argument("--note", default="", help=_("reason or remark"))
    move.add_argument(
        "--hours",
        type=positive,
        help=_("with extend: the working hours added to the due time (延期)"),
    )
    move.set_defaults(func=cmd_move)


def _case_filters(parser: argparse.ArgumentParser) -> None:
    """The filters ``cases list`` and ``cases export`` share (:func:`query_filters`)."""
    parser.add_argument("--status", action="append", help=_("only this status (repeatable)"))
    parser.add_argument("--department", help=_("only this department"))
    parser.add_argument(
        "--category", help=_("only this category: CODE, or KIND:CODE as cases categories lists")
    )
    parser.add_argument("--grid", help=_("only grid codes starting with this"))
    parser.add_argument(
        "--from", dest="start", type=moment, help=_("only cases reported on or after (city time)")
    )
    parser.add_argument("--to", dest="end", type=moment, help=_("only cases reported before"))


def query_filters(store, args: argparse.Namespace) -> dict:
    """``store.query``'s keywords for :func:`_case_filters`' options; the dates are the city's
    (``--from 2024-03-01`` starts at its midnight)."""
    from citydesk.incidents.categories import split_key

    kind, code = split_key(args.category) if args.category else (None, None)
    return {
        "status": args.status,
        "department": args.department,
        "category_code": code,
        "kind": kind,
        "grid_prefix": args.grid,
        "since": local(store, args.start),
        "until": local(store, args.end),
    }


def local(store, value):
    """A --from/--to/--at value in the store's city time zone (naive means local)."""
    return None if value is None else store.calendar.localize(value)


def open_store(project: str | Path):
    """The project's case store (``citydesk.incidents.stores.open_project_store``)."""
    from citydesk.incidents.stores import open_project_store

    return open_project_store(project)


def cmd_categories(args: argparse.Namespace) -> int:
    """Every category with its kind, code, time limit and department, as intake picks them."""
    from citydesk.incidents.categories import Catalogue, project_catalogue
    from citydesk.layers.i18n import current_language

    lang = args.names_lang or current_language()
    catalogue = project_catalogue(args.project) if args.project else Catalogue.default()
    found = catalogue.search(args.search) if args.search else list(catalogue)
    for c in found:
        print(f"{c.kind}:{c.code}\t{c.name(lang)}\t{c.limit:g} {c.unit}\t{c.department}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from citydesk.incidents.case_files import import_case_file, import_summary

    result = import_case_file(args.project, args.file, args.mapping)
    for line in import_summary(result):
        print(line)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    with open_store(args.project) as store:
        frame = store.query(**query_filters(store, args))
        if args.asking_for_time:
            frame = frame[frame["case_id"].isin(store.extension_requests())]
        if args.urged:
            frame = frame[frame["case_id"].isin(store.cases_with_action("urge"))]
    cols = [
        "case_id",
        "status",
        "category_code",
        "department",
        "grid_code",
        "reported_at",
        "due_at",
    ]
    # what the city's own system says, where the cases came from one
    cols += [c for c in ("source_id", "source_status") if frame[c].notna().any()]
    print(ngettext("{n} case", "{n} cases", len(frame)).format(n=len(frame)))
    if len(frame):
        print(frame[cols].tail(args.limit).to_string(index=False))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from citydesk.incidents.desk import due_moves, source_summary

    with open_store(args.project) as store:
        case = store.get(args.case_id)
        history = store.history(args.case_id)
        category = store.catalogue.stored(case.kind, case.category_code, case.category_standard)
        moved = due_moves(store, args.case_id)
    print(f"{case.case_id}  {case.status.value}  v{case.version}")
    print(f"  {category.label('en')} / {category.name_zh}  -> {case.department}")
    print(
        "  "
        + _("grid {code}  ({lon}, {lat})").format(
            code=case.grid_code or "-", lon=case.lon, lat=case.lat
        )
    )
    print(
        "  "
        + _("reported {at}  due {due}").format(
            at=f"{case.reported_at:%Y-%m-%d %H:%M}", due=f"{case.due_at:%Y-%m-%d %H:%M}"
        )
    )
    if case.description:
        print(f"  {case.description}")
    if (source := source_summary(case)) is not None:
        print(f"  {source}")
    for e in history:
        note = f'  "{e.note}"' if e.note else ""
        print(
            f"  {e.seq:>3} {e.at:%Y-%m-%d %H:%M} {e.action:<18} {e.from_state.value:>10} -> "
            f"{e.to_state.value:<10} {e.actor} ({e.role.value}){note}"
        )
        if e.seq in moved:  # an extension or a resumption: the due time it set
            print("      " + _("due from then: {at}").format(at=f"{moved[e.seq]:%Y-%m-%d %H:%M}"))
    return 0


def cmd_move(args: argparse.Namespace) -> int:
    if args.where:
        return _move_where(args)
    if len(args.target) != 2:
        raise CityDeskError(
            _("give the case and the action: cases move CASE_ID ACTION"),
            _("Or move many: cases move ACTION --where FILTER."),
        )
    case_id, action = args.target
    _check_hours(action, args.hours)
    with open_store(args.project) as store:
        version = args.version if args.version is not None else store.get(case_id).version
        if action == "extend":
            case = store.extend(case_id, args.hours, args.actor, args.role, version, args.note)
        else:
            case = store.transition(case_id, action, args.actor, args.role, version, args.note)
    print(
        _("case {id} is now {status} (version {v})").format(
            id=case.case_id, status=case.status.value, v=case.version
        )
    )
    return 0


def _move_where(args: argparse.Namespace) -> int:
    """Every case the filter picks, moved in one transaction (issue 19: accepting 124 cases
    one call at a time took 269 s)."""
    from citydesk.incidents.case_store import Move
    from citydesk.layers.expressions import filter_mask

    if len(args.target) != 1:
        raise CityDeskError(
            _("with --where, give only the action: cases move ACTION --where FILTER"),
            _("The filter picks the cases."),
        )
    action = args.target[0]
    _check_hours(action, args.hours)
    with open_store(args.project) as store:
        cases = store.query(ordered=False)
        picked = cases[filter_mask(cases, args.where).to_numpy(bool)] if len(cases) else cases
        if picked.empty:
            raise CityDeskError(
                _("the filter picks no case: {where}").format(where=args.where),
                _("Check it with citydesk cases list."),
            )
        moves = [
            Move(
                str(r.case_id),
                action,
                int(r.version),
                args.note,
                # each case's own due time, moved on the calendar (a storm's extension)
                {"due_at": store.extended_due(r.due_at, args.hours)} if args.hours else {},
            )
            for r in picked[["case_id", "version", "due_at"]].itertuples(index=False)
        ]
        store.transition_many(moves, args.actor, args.role)
    print(
        ngettext(
            "{n} case: {action} (one transaction)",
            "{n} cases: {action} (one transaction)",
            len(moves),
        ).format(n=len(moves), action=action)
    )
    return 0


def _check_hours(action: str, hours: float | None) -> None:
    """--hours goes with extend, and extend needs it."""
    if action == "extend" and hours is None:
        raise CityDeskError(
            _("extend needs the working hours to add"),
            _("Give them: --hours 8 (one working day of eight hours)."),
        )
    if action != "extend" and hours is not None:
        raise CityDeskError(
            _("--hours is for the extend action only, not {action}").format(action=action),
            _("Leave --hours out, or use: cases move CASE_ID extend --hours H --note WHY."),
        )


def kpi_text(table) -> str:
    """A KPI table as ``cases kpi`` and ``dispatch report`` print it: rates in per cent,
    hours and scores to one decimal, a dash where there is nothing to measure."""
    import pandas as pd

    from citydesk.incidents.kpi import rate_text

    shown = table.copy()
    for col in [c for c in shown.columns if c.endswith("_rate")]:
        shown[col] = shown[col].map(rate_text)
    for col in ("mean_hours_to_close", "median_hours_to_close", "score"):
        if col in shown:
            shown[col] = shown[col].map(lambda v: "-" if v != v else f"{v:.1f}")
    if "closed_on_time" in shown:  # missing where nothing had a target
        shown["closed_on_time"] = shown["closed_on_time"].map(lambda v: "-" if pd.isna(v) else v)
    return shown.to_string(index=False)


def cmd_kpi(args: argparse.Namespace) -> int:
    from citydesk.incidents.kpi import KpiSpec, kpis_from_store

    with open_store(args.project) as store:
        spec = KpiSpec(
            by=args.by,
            start=local(store, args.start),
            end=local(store, args.end),
            measure=args.measure,
        )
        table = kpis_from_store(store, spec)
    print(kpi_text(table))
    if args.csv:
        from citydesk.layers.city_profile import project_csv_dialect
        from citydesk.layers.csv_safe import write_table

        write_table(table, args.csv, dialect=project_csv_dialect(args.project))
        print(_("wrote {path}").format(path=args.csv))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from citydesk.incidents.export import export_cases
    from citydesk.layers.city_profile import project_csv_dialect
    from citydesk.layers.i18n import current_language

    with open_store(args.project) as store:
        filters = query_filters(store, args)
        out = export_cases(
            store,
            args.output,
            include_personal=args.include_personal_data,
            lang=current_language(),
            dialect=project_csv_dialect(args.project),
            history=args.history,
            **filters,
        )
        n = store.count(**filters)
    cases = ngettext("{n} case", "{n} cases", n).format(n=n)
    print(_("wrote {path} ({cases})").format(path=out, cases=cases))
    if n == 0 and any(filters.values()):
        print(_("no case matches the filters: check them with citydesk cases list"))
    return 0


def cmd_hotspots(args: argparse.Namespace) -> int:
    import pandas as pd

    from citydesk.incidents.dashboard import (
        Dashboard,
        DashboardSpec,
        cell_figures,
        placeholder_lines,
    )
    from citydesk.layers.io import write_frame

    grid = _project_grid(args.project)
    with open_store(args.project) as store:
        spec = DashboardSpec(local(store, args.start), local(store, args.end), permutations=999)
        start, end = spec.period()
        since = start - pd.DateOffset(years=spec.baseline_years)
        facts = store.case_facts(since.to_pydatetime(), end.to_pydatetime())
        board = Dashboard(start, end, pd.DataFrame(), pd.DataFrame(), None)
        cell_figures(board, store.calendar, facts, grid, spec)
    cells = board.cells
    n, busy = int(cells["count"].sum()), int((cells["count"] > 0).sum())
    hot, warn = int(cells["hotspot"].str.startswith("hot").sum()), int(cells["warning"].sum())
    # one plural form per count: "1 case in 1 cell" reads as English, and each count is
    # its own catalogue entry, so a language with other plural rules gets each one right
    print(
        _("{cases} in {cells}; {hot} (95%), {warnings}").format(
            cases=ngettext("{n} case", "{n} cases", n).format(n=n),
            cells=ngettext("{n} cell", "{n} cells", busy).format(n=busy),
            hot=ngettext("{n} hot cell", "{n} hot cells", hot).format(n=hot),
            warnings=ngettext("{n} early warning", "{n} early warnings", warn).format(n=warn),
        )
    )
    for line in placeholder_lines(board):
        print(line)
    if board.warning_note:
        print(board.warning_note)
    for row in board.warnings.itertuples():
        print(f"{row.code}: {row.reason}")
    table = pd.DataFrame(cells.drop(columns="geometry"))
    columns = ["code", "count", "around", "gi_z", "q", "hotspot", "observed", "expected", "warning"]
    shown = table.sort_values("count", ascending=False).head(10)
    print(shown[[c for c in columns if c in shown]].to_string(index=False))
    if args.out:
        write_frame(cells, args.out, "hotspots")
        print(_("wrote {path}").format(path=args.out))
    return 0


def _project_grid(project):
    from citydesk.incidents.project_grid import read_project_grid

    grid = read_project_grid(project)
    if grid is None:
        raise CityDeskError(
            _("the project has no unit grid"),
            _("Build one first: citydesk grid build ... --out PROJECT"),
        )
    return grid


def cmd_forecast(args: argparse.Namespace) -> int:
    import datetime as dt

    from citydesk.incidents.forecast import ForecastSpec, level_name
    from citydesk.incidents.forecast_run import run_backtest, run_forecast

    spec = ForecastSpec(level=args.level, horizon=args.horizon, by_category=not args.all)
    grid = _project_grid(args.project)
    with open_store(args.project) as store:
        until = local(store, args.at)
        until_date = until.date() if until is not None else None
        if args.backtest:
            test_from = local(store, args.test_from)
            test_to = local(store, args.test_to)
            result = run_backtest(
                store,
                grid,
                spec,
                test_from.date() if test_from else None,
                test_to.date() if test_to else until_date,
            )
        table, notes = run_forecast(store, grid, spec, until_date)
    for note in notes:
        print(note)
    if args.backtest:
        from citydesk.incidents.forecast_backtest import method_names

        names = method_names()
        shown = result.table.copy()
        shown["method"] = shown["method"].map(names)
        periods = int(result.table["periods"].iloc[0])
        print(
            _("Backtest: {origins} from {first} to {last}, {forecasts}").format(
                origins=ngettext(
                    "{n} weekly origin", "{n} weekly origins", len(result.origins)
                ).format(n=len(result.origins)),
                first=result.origins[0],
                last=result.origins[-1],
                forecasts=ngettext("{n} forecast", "{n} forecasts", periods).format(n=periods),
            )
        )
        print(shown.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print(_("MASE scale: seasonal naive with a lag of {lag}, in sample").format(
            lag=result.scale_lag))  # fmt: skip
        for note in result.notes:
            print(note)
        print(result.verdict())
    busiest = table.sort_values("expected", ascending=False).head(args.top)
    first = table["start"].min()
    print(
        _("Expected cases from {start} ({level} × {what}), the {n} highest:").format(
            start=first if isinstance(first, dt.date) else "-",
            level=level_name(args.level),
            what=_("category") if spec.by_category else _("all categories"),
            n=len(busiest),
        )
    )
    print(busiest.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    if args.csv:
        from citydesk.layers.city_profile import project_csv_dialect
        from citydesk.layers.csv_safe import write_table

        write_table(table, args.csv, dialect=project_csv_dialect(args.project))
        print(_("wrote {path}").format(path=args.csv))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Intake from the command line, as the desk's intake dialog does it: locate, check for
    duplicates, and refuse to add a probable duplicate unless told to."""
    from citydesk.incidents.categories import split_key
    from citydesk.incidents.desk import open_desk
    from citydesk.incidents.new_cases import NewCase
    from citydesk.layers.errors import CityDeskError

    kind, code = split_key(args.category)
    desk = open_desk(args.project, args.actor, args.role)
    try:
        if args.address:
            hit = desk.locate(args.address)
            lon, lat = hit.lon, hit.lat
            print(_("{label}: {lat:.6f}, {lon:.6f}").format(label=hit.label, lat=lat, lon=lon))
        else:
            try:
                lon, lat = (float(v) for v in args.lonlat.split(","))
            except ValueError as exc:
                raise CityDeskError(
                    _("{text!r} is not LON,LAT").format(text=args.lonlat),
                    _("Write e.g. --at=-71.1042,42.3672"),
                ) from exc
        new = NewCase(kind, code, lon=lon, lat=lat, description=args.description, source="cli")
        desk.store.catalogue.get(kind, code)  # an unknown category is refused here
        near = desk.duplicates_of(new)
        for r in near.itertuples():
            print(
                _("possible duplicate {id}: {m:.0f} m away, {h:.1f} h apart, {status}").format(
                    id=r.case_id, m=r.distance_m, h=r.hours_apart, status=r.status
                )
            )
        if len(near) and not args.even_if_duplicate:
            raise CityDeskError(
                _("{n} open cases of this category are near; nothing was reported").format(
                    n=len(near)
                ),
                _(
                    "Merge into one with 'citydesk dispatch merge', or report anyway with "
                    "--even-if-duplicate."
                ),
            )
        case = desk.report(new)
    finally:
        desk.store.close()
    print(
        _("{id} reported in cell {cell}, {department}, due {due}").format(
            id=case.case_id, cell=case.grid_code, department=case.department, due=case.due_at
        )
    )
    return 0


def cmd_mapping(args: argparse.Namespace) -> int:
    """Draft a column mapping from an export, write it, and say what the import would do."""
    from citydesk.incidents.mapping_draft import write_draft

    _path, _draft, lines = write_draft(args.file, args.out, args.project, args.timezone)
    for line in lines:
        print(line)
    return 0
