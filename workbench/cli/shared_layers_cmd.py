"""``citydesk layers publish|add-shared|catalogue|edit|department``: layers departments share
in one PostGIS database (docs/SHARED_DATA.md)."""

from __future__ import annotations

import argparse
import json
import sys

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _, ngettext

from .progress import TqdmFeedback


def register(lsub: argparse._SubParsersAction) -> None:
    url_help = _("the shared database: postgresql://USER@HOST:PORT/DATABASE[?schema=NAME]")
    pub = lsub.add_parser(
        "publish", help=_("publish a project layer to the shared PostGIS database")
    )
    pub.add_argument("project", help=_("the project (.gpkg)"))
    pub.add_argument("layer", help=_("the layer's id in the project"))
    pub.add_argument("url", help=url_help)
    pub.add_argument("--department", required=True, help=_("the owner department"))
    pub.add_argument("--table", help=_("the table's name (default: the layer's id)"))
    pub.add_argument("--title", help=_("the catalogue title (default: the layer's name)"))
    pub.add_argument("--description", default="", help=_("what the layer holds"))
    pub.add_argument("--licence", default="", help=_("the licence, e.g. CC-BY-4.0"))
    pub.add_argument(
        "--restricted", action="store_true", help=_("only the --reader departments may read it")
    )
    pub.add_argument(
        "--reader", action="append", default=[], help=_("a department that may read it")
    )
    pub.add_argument("--replace", action="store_true", help=_("replace a table of that name"))
    pub.add_argument(
        "--keep-local",
        action="store_true",
        help=_("keep the project's own copy (default: the project uses the shared table)"),
    )
    pub.set_defaults(func=cmd_publish)

    add = lsub.add_parser("add-shared", help=_("add a PostGIS table or view to a project"))
    add.add_argument("project", help=_("the project (.gpkg)"))
    add.add_argument("url", help=url_help)
    add.add_argument("table", help=_("the table or view"))
    add.add_argument("--schema", help=_("its schema (default: the URL's)"))
    add.add_argument("--name", help=_("the layer name (default: its catalogue title)"))
    add.add_argument("--geometry-column", help=_("for a table with several"))
    add.add_argument("--key", help=_("the column naming a feature (a view has no primary key)"))
    add.set_defaults(func=cmd_add_shared)

    cat = lsub.add_parser("catalogue", help=_("list and search the shared layers"))
    cat.add_argument("url", help=url_help)
    cat.add_argument("--search", help=_("words the entries must contain"))
    cat.add_argument("--json", action="store_true", help=_("print JSON"))
    cat.set_defaults(func=cmd_catalogue)

    edit = lsub.add_parser("edit", help=_("change one feature of a shared layer"))
    edit.add_argument("url", help=url_help)
    edit.add_argument("table", help=_("the shared table"))
    edit.add_argument("key", help=_("the feature's key (fid)"))
    edit.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help=_("a new value (repeat for several fields)"),
    )
    edit.add_argument(
        "--version",
        type=int,
        help=_("the version you read (default: the current one); refused if it changed"),
    )
    edit.set_defaults(func=cmd_edit)

    dep = lsub.add_parser("department", help=_("the departments that own shared layers"))
    dsub = dep.add_subparsers(dest="department_command", required=True)
    dadd = dsub.add_parser("add", help=_("add a department (database administrator)"))
    dadd.add_argument("url", help=url_help)
    dadd.add_argument("name", help=_("lower-case name, e.g. planning"))
    dadd.add_argument("--title", default="", help=_("its full name"))
    dadd.set_defaults(func=cmd_department_add)
    grant = dsub.add_parser("grant", help=_("put a database user in a department"))
    grant.add_argument("url", help=url_help)
    grant.add_argument("user", help=_("the database user"))
    grant.add_argument("name", help=_("the department"))
    grant.set_defaults(func=cmd_department_grant)
    dlist = dsub.add_parser("list", help=_("list the departments"))
    dlist.add_argument("url", help=url_help)
    dlist.set_defaults(func=cmd_department_list)


def cmd_publish(args: argparse.Namespace) -> int:
    from citydesk.layers.layer import VectorLayer
    from citydesk.layers.project_store import load_project, save_project
    from citydesk.layers.shared_layer import shared_in_place_of
    from citydesk.layers.shared_publish import PublishOptions, publish

    project = load_project(args.project)
    layer = project.layers.get(args.layer)
    if not isinstance(layer, VectorLayer) or layer.kind == "shared":
        raise CityDeskError(
            _("the project has no file vector layer {id}").format(id=args.layer),
            _("Give one of: {ids}").format(
                ids=", ".join(
                    i
                    for i, lay in project.layers.items()
                    if isinstance(lay, VectorLayer) and lay.kind != "shared"
                )
            ),
        )
    options = PublishOptions(
        department=args.department,
        table=args.table,
        title=args.title,
        description=args.description,
        licence=args.licence,
        restricted=args.restricted,
        readers=tuple(args.reader),
        replace=args.replace,
    )
    with TqdmFeedback(_("publishing")) as fb:
        entry = publish(layer, args.url, options, fb)
    print(
        ngettext(
            "published {name} as {table}: {n} feature, department {department}",
            "published {name} as {table}: {n} features, department {department}",
            entry.feature_count,
        ).format(
            name=layer.name, table=entry.table, n=entry.feature_count, department=entry.department
        )
    )
    if not args.keep_local:
        project.layers[layer.id] = shared_in_place_of(layer, args.url, entry.table)
        save_project(project, args.project)
        print(_("the project now uses the shared table"))
    return 0


def cmd_add_shared(args: argparse.Namespace) -> int:
    from citydesk.layers.project_store import load_project, save_project
    from citydesk.layers.shared_layer import open_shared_layer

    project = load_project(args.project)
    layer = open_shared_layer(
        args.url,
        args.table,
        schema=args.schema,
        name=args.name,
        geometry_column=args.geometry_column,
        key=args.key,
    )
    project.add_layer(layer)
    save_project(project, args.project)
    print(
        ngettext(
            "added layer '{name}' (id {id}, {n} feature in {table}) to {path}",
            "added layer '{name}' (id {id}, {n} features in {table}) to {path}",
            layer.feature_count,
        ).format(
            name=layer.name,
            id=layer.id,
            n=layer.feature_count,
            table=layer.table.label,
            path=args.project,
        )
    )
    return 0


def cmd_catalogue(args: argparse.Namespace) -> int:
    from citydesk.layers.shared_catalogue import catalogue
    from citydesk.layers.shared_db import shared_database

    entries = catalogue(shared_database(args.url), args.search)
    if args.json:
        print(json.dumps([e.to_dict() for e in entries], ensure_ascii=False, indent=2))
        return 0
    if not entries:
        print(_("no shared layers match"), file=sys.stderr)
        return 0
    for e in entries:
        access = _("read and write") if e.can_write else _("read") if e.can_read else _("none")
        print(f"{e.table}  {e.title}  [{e.department}]")
        print(
            "  "
            + _(
                "{n} features, {geometry}, {crs}; updated {updated}; licence {licence}; "
                "your access: {access}{restricted}"
            ).format(
                n=e.feature_count,
                geometry=e.geometry_type,
                crs=e.crs,
                updated=e.updated_at.strftime("%Y-%m-%d %H:%M"),
                licence=e.licence or "-",
                access=access,
                restricted=_("; restricted to {names}").format(
                    names=", ".join([e.department, *e.readers])
                )
                if e.restricted
                else "",
            )
        )
        if e.description:
            print(f"  {e.description}")
    return 0


def cmd_edit(args: argparse.Namespace) -> int:
    from citydesk.layers.shared_edits import feature_gone, read_feature, update_feature
    from citydesk.layers.shared_layer import open_shared_layer

    layer = open_shared_layer(args.url, args.table)
    key: object = int(args.key) if args.key.lstrip("-").isdigit() else args.key
    values = {}
    for item in args.set:
        field, sep, value = item.partition("=")
        if not sep:
            raise CityDeskError(
                _("{item!r} is not FIELD=VALUE").format(item=item),
                _("Write each change as --set FIELD=VALUE."),
            )
        values[field] = None if value == "" else value
    version = args.version
    if version is None:
        current = read_feature(layer, key)
        if current is None:
            raise feature_gone(layer, key)
        version = current.version
    saved = update_feature(layer, key, version, values)
    print(
        _("saved feature {key} of {table}: version {version}").format(
            key=key, table=layer.table.label, version=saved.version
        )
    )
    return 0


def cmd_department_add(args: argparse.Namespace) -> int:
    from citydesk.layers.shared_catalogue import add_department
    from citydesk.layers.shared_db import shared_database

    department = add_department(shared_database(args.url), args.name, args.title)
    print(
        _("department {name} added (database role {role})").format(
            name=department.name, role=department.role
        )
    )
    return 0


def cmd_department_grant(args: argparse.Namespace) -> int:
    from citydesk.layers.shared_catalogue import grant_department
    from citydesk.layers.shared_db import shared_database

    grant_department(shared_database(args.url), args.user, args.name)
    print(_("{user} is now in department {name}").format(user=args.user, name=args.name))
    return 0


def cmd_department_list(args: argparse.Namespace) -> int:
    from citydesk.layers.shared_catalogue import departments
    from citydesk.layers.shared_db import shared_database

    for d in departments(shared_database(args.url)):
        mark = " *" if d.member else ""
        print(f"{d.name}{mark}  {d.title}  ({d.role})")
    return 0
