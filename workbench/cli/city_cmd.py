"""``citydesk city``: the city profile (time zone, working calendar, CRS, currency, credits).

citydesk city template chengdu > my_city.toml     # start from a shipped profile
citydesk city set PROJECT my_city.toml            # check it and store it in the project
citydesk city show PROJECT                        # the stored profile
citydesk city calendar PROJECT --from 2026-02-09 --to 2026-03-01   # working days
citydesk city due PROJECT --at "2026-02-13 17:00" --limit 4 --unit working_hours
citydesk city from-osm Helsinki.osm.pbf helsinki.gpkg --name Helsinki --timezone Europe/Helsinki
citydesk city network PROJECT --mode walk             # how routable the streets are
citydesk city init DATA_FOLDER --project city.gpkg --name 成都 --timezone Asia/Shanghai \
    --out city.toml                               # propose roles and fields, to edit
citydesk city check PROJECT                           # what each feature has and lacks
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from pathlib import Path

from citydesk.layers.i18n import _

from .arg_types import moment, positive
from .progress import TqdmFeedback

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("city", help=_("the city profile: time zone, calendar, CRS, currency"))
    csub = cmd.add_subparsers(dest="city_command", metavar="ACTION", required=True)
    tpl = csub.add_parser("template", help=_("print a shipped profile to start from"))
    tpl.add_argument("name", help=_("cambridge, helsinki or chengdu"))
    tpl.set_defaults(func=cmd_template)
    put = csub.add_parser("set", help=_("check a profile and store it in a project"))
    put.add_argument("project", help=_("the project (.gpkg)"))
    put.add_argument("profile", help=_("the profile (.toml), or a shipped name"))
    put.set_defaults(func=cmd_set)
    show = csub.add_parser("show", help=_("print the project's profile"))
    show.add_argument("project", help=_("the project (.gpkg)"))
    show.set_defaults(func=cmd_show)
    cal = csub.add_parser("calendar", help=_("working days and holidays of the project's city"))
    cal.add_argument("project", help=_("the project (.gpkg), or a profile (.toml)"))
    cal.add_argument("--from", dest="start", required=True, help=_("first day (YYYY-MM-DD)"))
    cal.add_argument("--to", dest="end", required=True, help=_("last day (YYYY-MM-DD)"))
    cal.set_defaults(func=cmd_calendar)
    due = csub.add_parser("due", help=_("when a time limit ends on the city's calendar"))
    due.add_argument("project", help=_("the project (.gpkg), or a profile (.toml)"))
    due.add_argument(
        "--at", required=True, type=moment, help=_("report time, local (YYYY-MM-DD HH:MM)")
    )
    due.add_argument("--limit", type=positive, required=True, help=_("the time limit"))
    due.add_argument("--unit", choices=["working_hours", "working_days"], default="working_hours")
    due.set_defaults(func=cmd_due)
    osm = csub.add_parser(
        "from-osm", help=_("build a project and its city profile from an OpenStreetMap extract")
    )
    osm.add_argument("extract", help=_("the OpenStreetMap extract (.osm.pbf, or .osm XML)"))
    osm.add_argument("project", help=_("the project file to create (.gpkg)"))
    osm.add_argument("--name", required=True, help=_("the city's name"))
    osm.add_argument(
        "--timezone", required=True, help=_("the city's time zone, e.g. Europe/Helsinki")
    )
    osm.add_argument(
        "--currency", default="", help=_("ISO 4217 code, e.g. EUR (default: the country's)")
    )
    osm.add_argument(
        "--holidays",
        default=None,
        help=_("ISO country of the public holidays (default: the time zone's; none: '')"),
    )
    osm.add_argument("--crs", help=_("the projected working CRS (default: the UTM zone)"))
    osm.add_argument(
        "--admin-code", default="", help=_("6-digit administrative code (for the unit grid)")
    )
    osm.add_argument("--highways", help=_("your own copy of the highway class table (.toml)"))
    osm.set_defaults(func=cmd_from_osm)
    net = csub.add_parser("network", help=_("build the road network and report how routable it is"))
    net.add_argument("project", help=_("the project (.gpkg)"))
    net.add_argument("--streets", default=None, help=_("the streets layer id"))
    net.add_argument("--mode", choices=["drive", "walk"], default="drive")
    net.set_defaults(func=cmd_network)
    init = csub.add_parser(
        "init",
        help=_("propose a city profile from a project's layers, or from a folder of data"),
    )
    init.add_argument("source", help=_("a CityDesk project, or a folder (or file) of layers"))
    init.add_argument("--project", help=_("the project to create from a folder (.gpkg)"))
    init.add_argument("--name", required=True, help=_("the city's name"))
    init.add_argument("--timezone", required=True, help=_("IANA time zone, e.g. Asia/Shanghai"))
    init.add_argument(
        "--currency", default="", help=_("ISO 4217 code, e.g. CNY (default: the country's)")
    )
    init.add_argument("--crs", help=_("the projected working CRS (default: the data's, or UTM)"))
    init.add_argument(
        "--area-unit",
        choices=["m2", "sqft"],
        default="",
        help=_("the unit of the floor-area fields (default: as their names or the country say)"),
    )
    init.add_argument("--admin-code", default="", help=_("6-digit administrative code"))
    init.add_argument(
        "--holidays",
        default=None,
        help=_("ISO country of the public holidays (default: the time zone's; none: '')"),
    )
    init.add_argument("--out", help=_("write the proposal here to edit (default: print it)"))
    init.add_argument(
        "--store", action="store_true", help=_("store the proposal in the project as it is")
    )
    init.set_defaults(func=cmd_init)
    chk = csub.add_parser(
        "check", help=_("which features the city's data is ready for, and what is missing")
    )
    chk.add_argument("project", help=_("the project (.gpkg)"))
    chk.add_argument("--json", action="store_true", help=_("print the checks as JSON"))
    chk.set_defaults(func=cmd_check)


def _read_text(profile: str) -> str:
    """A profile file's text, or a shipped profile's by name."""
    from citydesk.layers.city_profile import PROFILES, ProfileError
    from citydesk.layers.toml_schema import read_text_file

    path = Path(profile)
    if not path.exists() and (PROFILES / f"{path.name}.toml").exists():
        path = PROFILES / f"{path.name}.toml"
    return read_text_file(path, ProfileError, _("city profile"))


def _calendar(place: str):
    from citydesk.incidents.calendar import calendar_from_profile, project_calendar
    from citydesk.layers.city_profile import read_profile

    if place.lower().endswith(".toml") or not Path(place).exists():
        return calendar_from_profile(read_profile(place))
    return project_calendar(place)


def cmd_template(args: argparse.Namespace) -> int:
    from citydesk.layers.city_profile import profile_text

    sys.stdout.write(profile_text(args.name))
    return 0


def cmd_set(args: argparse.Namespace) -> int:
    from citydesk.layers.city_profile import store_profile

    profile = store_profile(args.project, _read_text(args.profile))
    print(
        _("stored the profile of {name} in {project}").format(
            name=profile.name, project=args.project
        )
    )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from citydesk.layers.city_profile import ProfileError, project_profile_text

    text = project_profile_text(args.project)
    if text is None:
        raise ProfileError(
            _("the project has no city profile yet"),
            _("Store one: citydesk city set {project} PROFILE.toml").format(project=args.project),
            path=args.project,
        )
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def _day(text: str) -> dt.date:
    from citydesk.layers.errors import CityDeskError

    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CityDeskError(
            _("'{v}' is not a date").format(v=text), _("Write YYYY-MM-DD.")
        ) from exc


def cmd_calendar(args: argparse.Namespace) -> int:
    from citydesk.incidents.calendar_days import calendar_days, weekday_names

    cal = _calendar(args.project)
    names = weekday_names(width="abbreviated")
    for day in calendar_days(cal, _day(args.start), _day(args.end)):
        print(f"{day.day.isoformat()} {names[day.day.weekday()]}  {day.label()}")
    return 0


def cmd_due(args: argparse.Namespace) -> int:
    cal = _calendar(args.project)
    due = cal.due(cal.localize(args.at), args.limit, args.unit)
    print(due.isoformat())
    return 0


def _check_timezone(name: str) -> None:
    """Refuse a time zone that is not one before anything is read or written."""
    from citydesk.layers.city_locale import timezone_fix
    from citydesk.layers.errors import CityDeskError

    fix = timezone_fix(name)
    if fix is not None:
        raise CityDeskError(_("--timezone '{tz}' is not a time zone").format(tz=name), fix)


def cmd_from_osm(args: argparse.Namespace) -> int:
    from citydesk.layers.osm_city import city_from_osm, write_city_project

    from .progress import TqdmFeedback

    _check_timezone(args.timezone)

    with TqdmFeedback(_("reading")) as fb:
        city = city_from_osm(
            args.extract,
            name=args.name,
            timezone=args.timezone,
            currency=args.currency,
            crs=args.crs,
            highways=args.highways,
            feedback=fb,
            holidays=args.holidays,
            admin_code=args.admin_code,
        )
    path = write_city_project(city, args.project, args.name)
    for layer_id, frame in city.layers.items():
        print(_("{layer}: {n} features").format(layer=layer_id, n=len(frame)))
    for note in city.notes:
        print(_("note: {note}").format(note=note))
    print(_("created {path} with its city profile (citydesk city show {path})").format(path=path))
    return 0


def cmd_network(args: argparse.Namespace) -> int:
    from citydesk.layers.city_profile import profile_or_none
    from citydesk.layers.project_store import read_project_layer, read_project_meta
    from citydesk.layers.road_network import LOW_CONNECTIVITY, build_network, network_spec
    from citydesk.layers.roles import LayerRole

    streets = args.streets
    profile = profile_or_none(args.project)
    if streets is None and profile is not None:
        streets = profile.layers.layer_id("streets")
    if streets is None:
        records = read_project_meta(args.project).get("layers") or []
        found = [r["id"] for r in records if r.get("role") == LayerRole.INFRASTRUCTURE.value]
        if not found:
            from citydesk.layers.errors import CityDeskError

            raise CityDeskError(
                _("the project has no streets layer (no layer with the role 'infrastructure')"),
                _("Name it: --streets LAYER_ID."),
                path=args.project,
            )
        streets = found[0]
    network = build_network(
        read_project_layer(args.project, streets),
        network_spec(profile, args.mode),
    )
    report = network.report
    assert report is not None
    for line in report.lines():
        print(line)
    if report.largest_share < LOW_CONNECTIVITY:
        print(
            _(
                "warning: only {share:.1%} of the nodes can reach each other; points elsewhere "
                "are routed from the nearest node of the main part"
            ).format(share=report.largest_share)
        )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Every feature's status; exit 0 whatever they are (a city lacks some data by nature:
    the list is the answer, and a missing feature refuses with the same words when run)."""
    import json

    from citydesk.layers.city_check import check_project

    checks = check_project(args.project)
    if args.json:
        rows = [{"feature": c.feature, "status": c.status, "missing": c.missing} for c in checks]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for check in checks:
            print(check.line())
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from citydesk.layers.city_init import (
        profile_toml,
        project_from_folder,
        project_samples,
        propose,
        working_crs,
    )
    from citydesk.layers.city_profile import parse_profile, store_profile
    from citydesk.layers.errors import CityDeskError
    from citydesk.layers.readers.vector import is_citydesk_file

    _check_timezone(args.timezone)  # before a project is made from the folder
    source = Path(args.source)
    if source.is_file() and is_citydesk_file(source):
        project = source
    elif args.project:
        with TqdmFeedback(_("importing")) as fb:
            project = project_from_folder(source, Path(args.project), fb, crs=args.crs)
        print(_("created {path} from {source}").format(path=project, source=source))
    else:
        raise CityDeskError(
            _("{source} is not a CityDesk project").format(source=source),
            _("Give --project NEW.gpkg to build one from the folder's layers."),
        )
    proposal = propose(project_samples(project))
    text = profile_toml(
        proposal,
        name=args.name,
        timezone=args.timezone,
        crs=args.crs or working_crs(project),
        currency=args.currency,
        area_unit=args.area_unit,
        admin_code=args.admin_code,
        holidays=args.holidays,
    )
    parse_profile(text)  # the proposal is itself a valid profile (names the problem if not)
    for reason in proposal.reasons:
        log.info(reason)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(
            _(
                "wrote the proposal to {out}: check it, then citydesk city set {project} {out}"
            ).format(out=args.out, project=project)
        )
    elif not args.store:
        print(text)
    if args.store:
        store_profile(project, text)
        print(_("stored the proposed profile in {project}").format(project=project))
    return 0
