"""``citydesk cases connect|migrate|backup|restore``: where a project's cases live.

A project keeps its cases in its own GeoPackage until ``connect`` points it at PostgreSQL
+ PostGIS (many desks on one city) or ``migrate --to postgis`` moves them there. Backup and
restore work for either: a consistent copy of the project file, or a verified logical copy
of the database into a GeoPackage.
"""

from __future__ import annotations

import argparse
import getpass

from citydesk.layers.i18n import _


def register(csub: argparse._SubParsersAction) -> None:
    con = csub.add_parser(
        "connect", help=_("keep the project's cases in a PostGIS database (or back in the file)")
    )
    con.add_argument("project", help=_("the project (.gpkg)"))
    _database_arguments(con, optional=True)
    con.add_argument(
        "--embedded", action="store_true", help=_("use the cases in the project file again")
    )
    con.set_defaults(func=cmd_connect)

    mig = csub.add_parser(
        "migrate", help=_("move the project's cases, with every event, into PostGIS")
    )
    mig.add_argument("project", help=_("the project (.gpkg)"))
    mig.add_argument("--to", required=True, choices=["postgis"], help=_("the target backend"))
    _database_arguments(mig, optional=False)
    mig.set_defaults(func=cmd_migrate)

    grant = csub.add_parser(
        "grant", help=_("let a database user act in a role (PostGIS; the owner runs it)")
    )
    grant.add_argument("project", help=_("the project (.gpkg), connected to PostGIS"))
    grant.add_argument("login", help=_("the database user (CREATE ROLE ... LOGIN)"))
    grant.add_argument(
        "role",
        help=_("intake_clerk, supervisor, shift_chief, dispatcher, department, inspector or admin"),
    )
    grant.add_argument(
        "--department",
        action="append",
        default=[],
        help=_("a department whose cases a department user sees (repeatable)"),
    )
    grant.set_defaults(func=cmd_grant)

    backup = csub.add_parser(
        "backup", help=_("a consistent, checked copy of the cases (desks may keep working)")
    )
    backup.add_argument("project", help=_("the project (.gpkg)"))
    backup.add_argument("target", help=_("the backup file (.gpkg)"))
    backup.set_defaults(func=cmd_backup)
    restore = csub.add_parser(
        "restore", help=_("replace the cases with a checked backup (close the desks first)")
    )
    restore.add_argument("backup", help=_("the backup file (.gpkg)"))
    restore.add_argument("project", help=_("the project (.gpkg) whose cases are replaced"))
    restore.set_defaults(func=cmd_restore)


def _database_arguments(parser: argparse.ArgumentParser, optional: bool) -> None:
    parser.add_argument(
        "url",
        nargs="?" if optional else None,
        help=_("postgresql://USER@HOST:PORT/DATABASE[?schema=NAME]"),
    )
    parser.add_argument(
        "--save-password",
        action="store_true",
        help=_("ask for the password and keep it in the system keyring"),
    )


def _remember_password(url_text: str, save_password: bool) -> None:
    from citydesk.incidents.stores import checked_url
    from citydesk.layers.pg_url import save_password as keep

    if save_password:
        url = checked_url(url_text)
        keep(url, getpass.getpass(_("Password for {url}: ").format(url=url.redacted())))


def cmd_connect(args: argparse.Namespace) -> int:
    from citydesk.incidents.stores import connect_project, use_project_file
    from citydesk.layers.errors import CityDeskError

    if args.embedded == bool(args.url):
        raise CityDeskError(
            _("give either a PostgreSQL URL or --embedded"),
            _("citydesk cases connect PROJECT postgresql://USER@HOST/DATABASE"),
        )
    if args.embedded:
        use_project_file(args.project)
        print(_("{project} keeps its cases in the project file again").format(project=args.project))
        return 0
    _remember_password(args.url, args.save_password)
    n, where = connect_project(args.project, args.url)
    print(_("{project} now keeps its cases in {where}: {n} cases").format(
        project=args.project, where=where, n=n))  # fmt: skip
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from citydesk.incidents.stores import migrate_project
    from citydesk.workbench.cli.progress import TqdmFeedback

    _remember_password(args.url, args.save_password)
    with TqdmFeedback(_("Moving the cases")) as feedback:
        summary, where = migrate_project(args.project, args.url, feedback)
    print(
        _(
            "moved {cases} cases and {events} events to {where}; counts and checksum "
            "{sum} verified. The project now uses the database; its own copy of the cases "
            "is kept unchanged but no longer used."
        ).format(cases=summary.cases, events=summary.events, where=where, sum=summary.checksum[:12])
    )
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from citydesk.incidents.backup import backup_cases, counted

    summary = backup_cases(args.project, args.target)
    print(
        _("backed up {cases} and {events} to {path} (checksum {sum})").format(
            **counted(summary), path=args.target, sum=summary.checksum[:12]
        )
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from citydesk.incidents.backup import counted, restore_cases

    summary, where, kept = restore_cases(args.backup, args.project)
    if kept:
        print(_("the replaced cases are kept in schema {schema}").format(schema=kept))
    print(
        _("restored {cases} and {events} into {path} (checksum {sum})").format(
            **counted(summary), path=where, sum=summary.checksum[:12]
        )
    )
    return 0


def cmd_grant(args: argparse.Namespace) -> int:
    from citydesk.incidents.lifecycle import Role
    from citydesk.incidents.postgis_store import PostgisCaseStore
    from citydesk.incidents.stores import is_url, store_place
    from citydesk.layers.errors import CityDeskError

    place = store_place(args.project)
    if not is_url(place):
        raise CityDeskError(
            _("the project's cases are in the project file, which has no database users"),
            _("Connect the project to PostGIS first: citydesk cases connect PROJECT URL"),
        )
    try:
        role = Role(args.role)
    except ValueError:
        raise CityDeskError(
            _("{role!r} is not a role").format(role=args.role),
            _("Use one of: {roles}").format(roles=", ".join(r.value for r in Role)),
        ) from None
    with PostgisCaseStore(place) as store:
        store.grant(args.login, role, args.department)
    print(_("{login} may now act as {role}").format(login=args.login, role=role.value))
    return 0
