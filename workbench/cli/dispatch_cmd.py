"""``citydesk dispatch crews|run|due|duplicates|merge|geocode``: the dispatch desk headless."""

from __future__ import annotations

import argparse
import datetime as dt

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _, ngettext

from .arg_types import moment, non_negative, positive
from .cases_cmd import kpi_text, local, open_store


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("dispatch", help=_("dispatch desk: crews, routing, time limits"))
    dsub = cmd.add_subparsers(dest="dispatch_command", metavar="ACTION", required=True)

    def project(p: argparse.ArgumentParser) -> None:
        p.add_argument("--project", required=True, help=_("the project (.gpkg)"))

    crews = dsub.add_parser(
        "crews",
        help=_("place crews at points (default: the city profile's crews, e.g. fire stations)"),
    )
    project(crews)
    crews.add_argument("points", nargs="?", help=_("point layer: FILE or FILE::LAYER"))
    crews.add_argument("--department", help=_("the department the crews belong to"))
    crews.add_argument("--name-field", help=_("field with the crew name (default: numbered)"))
    crews.add_argument(
        "--from-profile",
        action="store_true",
        help=_("place the crews the city profile names ([layers.crews])"),
    )
    crews.add_argument("--where", help=_("filter the points, e.g. \"category = 'fire_station'\""))
    crews.set_defaults(func=cmd_crews)

    run = dsub.add_parser("run", help=_("dispatch registered cases to the nearest crews"))
    project(run)
    run.add_argument("--case", action="append", help=_("only this case (repeatable)"))
    run.add_argument(
        "--rules",
        help=_("routing rules TOML, or a shipped one: cambridge (default: the project's own)"),
    )
    run.add_argument(
        "--streets", help=_("the streets layer id (default: the city profile's streets)")
    )
    run.add_argument("--actor", required=True, help=_("your user name"))
    run.add_argument("--dry-run", action="store_true", help=_("show the plan, change nothing"))
    run.set_defaults(func=cmd_run)

    due = dsub.add_parser("due", help=_("overdue cases and those due soon, by time left"))
    project(due)
    due.add_argument(
        "--within", type=non_negative, default=4.0, help=_("working hours (default 4)")
    )
    due.add_argument("--at", type=moment, help=_("as of this moment (default: now)"))
    due.set_defaults(func=cmd_due)

    dup = dsub.add_parser("duplicates", help=_("possible duplicates of a case"))
    project(dup)
    dup.add_argument("case_id")
    dup.add_argument("--radius", type=positive, default=50.0, help=_("metres (default 50)"))
    dup.add_argument("--hours", type=positive, default=72.0, help=_("time window (default 72 h)"))
    dup.set_defaults(func=cmd_duplicates)

    merge = dsub.add_parser("merge", help=_("cancel a case as a duplicate of another"))
    project(merge)
    merge.add_argument("duplicate_id")
    merge.add_argument("original_id")
    merge.add_argument("--as", dest="role", required=True, help=_("your role"))
    merge.add_argument("--actor", required=True, help=_("your user name"))
    merge.set_defaults(func=cmd_merge)

    geo = dsub.add_parser("geocode", help=_("place an address on the streets layer"))
    project(geo)
    geo.add_argument("address")
    geo.add_argument(
        "--streets", help=_("the streets layer id (default: the city profile's streets)")
    )
    geo.set_defaults(func=cmd_geocode)

    rep = dsub.add_parser("report", help=_("the KPI dashboard as a PDF evaluation report"))
    project(rep)
    rep.add_argument("--from", dest="start", type=moment, help=_("period start (registered)"))
    rep.add_argument("--to", dest="end", type=moment, help=_("period end (default: now)"))
    rep.add_argument("--out", required=True, help=_("the PDF to write"))
    rep.add_argument("--weeks", type=int, default=12, help=_("weeks in the trend (default 12)"))
    rep.set_defaults(func=cmd_report)

    rpl = dsub.add_parser(
        "replay",
        help=_("the demo desk: grid, crews, and the project's incident history replayed"),
    )
    project(rpl)
    rpl.add_argument("--days", type=int, default=7, help=_("days replayed live (default 7)"))
    rpl.add_argument(
        "--until",
        type=_until,
        default="now",
        help=_(
            "the history ends at this moment (moved in time), with the last days' cases "
            "still open: 'now' (default), a time (the city's when it has no offset), or "
            "'recorded' for the dates as recorded"
        ),
    )
    rpl.set_defaults(func=cmd_replay)


def cmd_report(args: argparse.Namespace) -> int:
    from citydesk.incidents.dashboard import DashboardSpec, build_dashboard, write_pdf
    from citydesk.incidents.project_grid import read_project_grid

    grid = read_project_grid(args.project)
    with open_store(args.project) as store:
        spec = DashboardSpec(local(store, args.start), local(store, args.end), args.weeks)
        board = build_dashboard(store, grid, spec)
    from citydesk.layers.city_profile import credits_of
    from citydesk.layers.project_store import read_project_meta

    write_pdf(board, args.out, credits=credits_of(read_project_meta(args.project).get("metadata")))
    print(kpi_text(board.kpis))
    print(_("Early-warning cells: {n}").format(n=len(board.warnings)))
    print(_("wrote {path}").format(path=args.out))
    return 0


def _until(text: str) -> str | dt.datetime:
    """--until: now, recorded, or a time read as --from/--to are (naive = the city's)."""
    return text if text in ("now", "recorded") else moment(text)


def cmd_replay(args: argparse.Namespace) -> int:
    from citydesk.incidents.calendar import project_calendar
    from citydesk.incidents.demo_desk import run_demo_desk
    from citydesk.incidents.kpi import rate_text
    from citydesk.incidents.replay import ReplaySpec

    from .progress import TqdmFeedback

    until = None  # recorded
    if args.until == "now":
        until = dt.datetime.now(dt.UTC)
    elif isinstance(args.until, dt.datetime):
        until = project_calendar(args.project).localize(args.until)
    with TqdmFeedback(_("replaying")) as fb:
        _desk, result, board = run_demo_desk(
            args.project, ReplaySpec(live_days=args.days, until=until), feedback=fb
        )
    whole = board.kpis.iloc[-1]
    print(
        _(
            "{migrated} older reports migrated, {live} replayed live ({dispatched} "
            "dispatched); on-time close rate {rate}, grade {grade}"
        ).format(
            migrated=result.migrated,
            live=result.live,
            dispatched=result.dispatched,
            rate=rate_text(whole["on_time_close_rate"]),  # "-": nothing was due
            grade=whole["grade"],
        )
    )
    return 0


def cmd_crews(args: argparse.Namespace) -> int:
    from citydesk.incidents.dispatch import crews_from_points
    from citydesk.layers.expressions import filter_mask

    with open_store(args.project) as store:
        if args.points:
            from citydesk.layers.io import read_frame

            path, _sep, layer = args.points.partition("::")
            points, _facts = read_frame(path, layer or None)
            if args.where:
                points = points[filter_mask(points, args.where)]
            if not args.department:
                raise CityDeskError(
                    _("crews need a department"), _("Give --department with the point layer.")
                )
            store.save_crews(crews_from_points(points, args.department, args.name_field))
        elif args.from_profile:
            from citydesk.layers.city_layers import read_crews

            points, name, department = read_crews(args.project, _("Placing crews"))
            store.save_crews(crews_from_points(points, department, args.name_field or name))
        table = store.crews()
    print(table.to_string(index=False) if len(table) else _("no crews"))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """What the desk's *Dispatch selected* does, for all registered cases (or --case)."""
    from citydesk.incidents.desk import open_desk
    from citydesk.incidents.lifecycle import Role

    desk = open_desk(
        args.project, args.actor, Role.DISPATCHER, streets=args.streets, rules=args.rules
    )
    with desk.store:
        ids = args.case or list(desk.store.query(status=["registered"])["case_id"])
        if not ids:
            waiting = len(desk.store.query(status=["reported", "verified", "accepted"]))
            print(
                _(
                    "no registered case to dispatch; {n} cases wait to be accepted or "
                    "registered (citydesk cases move accept / register)"
                ).format(n=waiting)
            )
            return 0
        plans = desk.plan(ids)
        for p in plans:
            who = p.crew_name or _("manual queue")
            print(f"{p.case_id}  {p.department or '-':<22} {who:<22} {p.reason}")
        if args.dry_run:
            to_crews = sum(1 for p in plans if p.crew_name)
            print(
                _(
                    "{n} cases planned: {crews} to a crew, {manual} to the manual queue "
                    "(dry run: nothing was changed)"
                ).format(n=len(plans), crews=to_crews, manual=len(plans) - to_crews)
            )
        else:
            sent, manual = desk.send(plans)
            print(
                _("{sent} dispatched, {manual} left for manual dispatch").format(
                    sent=len(sent), manual=len(manual)
                )
            )
    return 0


def cmd_due(args: argparse.Namespace) -> int:
    from citydesk.incidents.deadlines import due_within, time_left

    with open_store(args.project) as store:
        at = local(store, args.at)
        table = due_within(time_left(store.query(), store.calendar, at), args.within)
    for r in table.itertuples():
        print(f"{r.case_id}  {r.level:<6} {r.hours_left:7.1f} h  {r.status:<11} {r.department}")
    print(
        ngettext(
            "{n} case overdue or due within {h} working hours",
            "{n} cases overdue or due within {h} working hours",
            len(table),
        ).format(n=len(table), h=args.within)
    )
    return 0


def cmd_duplicates(args: argparse.Namespace) -> int:
    from citydesk.incidents.duplicates import DuplicateRule, possible_duplicates

    with open_store(args.project) as store:
        case = store.get(args.case_id)
        near = possible_duplicates(
            store,
            case.kind,
            case.category_code,
            case.lon,
            case.lat,
            case.reported_at,
            DuplicateRule(args.radius, args.hours),
            exclude=case.case_id,
        )
    for r in near.itertuples():
        print(f"{r.case_id}  {r.distance_m:6.0f} m  {r.hours_apart:5.1f} h  {r.status}")
    print(_("{n} possible duplicates").format(n=len(near)))
    return 0


def cmd_merge(args: argparse.Namespace) -> int:
    from citydesk.incidents.duplicates import merge_duplicate

    with open_store(args.project) as store:
        dup = store.get(args.duplicate_id)
        merged = merge_duplicate(
            store, dup.case_id, args.original_id, args.actor, args.role, dup.version
        )
    print(
        _("{id} cancelled as a duplicate of {original}").format(
            id=merged.case_id, original=merged.duplicate_of
        )
    )
    return 0


def cmd_geocode(args: argparse.Namespace) -> int:
    from citydesk.incidents.geocode import Geocoder, RangeFields
    from citydesk.layers.city_layers import read_role
    from citydesk.layers.city_profile import profile_or_none

    fields = RangeFields.from_profile(profile_or_none(args.project))
    streets = read_role(args.project, "streets", _("The address geocoder"), args.streets)
    hit = Geocoder(streets, fields).geocode(args.address)
    note = "" if hit.exact else " " + _("(nearest numbered segment)")
    print(f"{hit.label}: {hit.lon:.6f}, {hit.lat:.6f}{note}")
    return 0
