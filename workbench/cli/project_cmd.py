"""``citydesk project new|add|info``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from citydesk.layers.i18n import _, ngettext
from citydesk.layers.roles import LayerRole

from .layers_cmd import read_from_args
from .progress import TqdmFeedback


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("project", help=_("create and inspect CityDesk projects (.gpkg)"))
    psub = cmd.add_subparsers(dest="project_command", metavar="ACTION", required=True)

    new = psub.add_parser("new", help=_("create a new, empty project"))
    new.add_argument("project", help=_("the project file to create (.gpkg)"))
    new.add_argument("--name", help=_("project title"))
    new.add_argument(
        "--crs",
        help=_(
            "project CRS, e.g. EPSG:4490 or EPSG:2249 (default: that of --from's data, "
            "else EPSG:4326)"
        ),
    )
    new.add_argument(
        "--from",
        dest="from_file",
        metavar="FILE",
        help=_("start from every layer of a GeoPackage, File Geodatabase or CAD drawing"),
    )
    new.add_argument("--force", action="store_true", help=_("overwrite an existing file"))
    new.set_defaults(func=cmd_new)

    add = psub.add_parser("add", help=_("add a data file as a layer"))
    add.add_argument("project", help=_("the project file (.gpkg)"))
    add.add_argument("file", help=_("the data file to add"))
    add.add_argument("--layer", help=_("layer name inside a multi-layer file"))
    add.add_argument("--name", help=_("display name of the new layer"))
    add.add_argument("--role", choices=[r.value for r in LayerRole], help=_("layer role"))
    add.add_argument("--group", help=_("layer tree group to put it in"))
    add.add_argument("--assign-crs", help=_("CRS for data whose file has none"))
    add.add_argument("--encoding", help=_("attribute encoding, e.g. gb18030"))
    add.add_argument("--x-field", help=_("CSV column with x / longitude"))
    add.add_argument("--y-field", help=_("CSV column with y / latitude"))
    add.set_defaults(func=cmd_add)

    export = psub.add_parser("export-map", help=_("export the project map to PDF or PNG"))
    export.add_argument("project", help=_("the project file (.gpkg)"))
    export.add_argument("output", help=_("output .pdf or .png"))
    export.add_argument(
        "--dpi", type=_dpi, default=200, help=_("resolution, 50 to 1200 (default 200)")
    )
    export.add_argument("--title", help=_("map title (default: the project name)"))
    export.add_argument("--layers", help=_("comma-separated layer ids (default: visible)"))
    export.set_defaults(func=cmd_export_map)

    info = psub.add_parser("info", help=_("show a project's layers, tree and CRS"))
    info.add_argument("project", help=_("the project file (.gpkg)"))
    info.add_argument("--json", action="store_true", help=_("print JSON"))
    info.set_defaults(func=cmd_info)


def _dpi(text: str) -> int:
    """A print resolution: 100,000 dpi asked for terabytes and ended in bad_alloc."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("'{v}' is not a whole number").format(v=text)) from None
    if not 50 <= value <= 1200:
        raise argparse.ArgumentTypeError(
            _("{v} dpi is outside 50 to 1200 (print quality is 300)").format(v=value)
        )
    return value


def cmd_new(args: argparse.Namespace) -> int:
    from citydesk.layers.errors import CityDeskError
    from citydesk.layers.io import read_layer
    from citydesk.layers.project import Project
    from citydesk.layers.project_store import save_project
    from citydesk.layers.readers.vector import data_layer_names

    path = Path(args.project)
    if path.exists() and not args.force:
        raise CityDeskError(
            _("the file already exists"), _("choose another name or add --force"), path=str(path)
        )
    project = Project(args.name or path.stem, crs=args.crs or "EPSG:4326")
    if args.from_file:
        with TqdmFeedback(_("importing")) as fb:
            names = data_layer_names(args.from_file)
            layers = []
            for i, name in enumerate(names):
                layers.append(read_layer(args.from_file, name, style_index=i))
                fb.set_progress(100 * (i + 1) / max(1, len(names)))
        own = next((lay.crs for lay in layers if lay.crs is not None), None)
        if not args.crs and own is not None:
            project.crs = own  # the data's own CRS, not lon/lat, where it has one
        project.add_in_drawing_order(layers)
        _settle_or_refuse(project, layers, given=bool(args.crs))
    save_project(project, path)
    count = len(project.layers)
    print(
        ngettext(
            "created {path} ({n} layer, {crs})", "created {path} ({n} layers, {crs})", count
        ).format(path=path, n=count, crs=project.crs.to_string())
    )
    return 0


def _settle_or_refuse(project, layers, given: bool) -> None:
    """Layers that came without a CRS (a CAD drawing, a shapefile without .prj) get the
    project's when their coordinates fit it (``--crs``), or lon/lat; otherwise the project is
    not written: drawn in a wrong CRS it would look right and measure wrong."""
    from citydesk.layers.errors import CityDeskError
    from citydesk.layers.placement import settle_missing_crs

    for layer in layers:
        line = settle_missing_crs(project, layer)
        if layer.crs is None:
            raise CityDeskError(
                _("layer '{name}' has no CRS, and nothing tells which it is in").format(
                    name=layer.name
                ),
                _("Give the CRS the data was made in with --crs (e.g. EPSG:4547)")
                if not given
                else _("Its coordinates do not fit --crs: give the CRS the data was made in."),
            )
        if line:
            print(_("citydesk: warning: {msg}").format(msg=line), file=sys.stderr)


def cmd_add(args: argparse.Namespace) -> int:
    from citydesk.layers.project_store import load_project, save_project

    project = load_project(args.project)
    _refuse_unnamed_layer(Path(args.file), args.layer)
    with TqdmFeedback(_("reading")) as fb:
        layer = read_from_args(
            args,
            fb,
            name=args.name,
            role=args.role,
            assign_crs=args.assign_crs,
            style_index=len(project.layers),
        )
    from citydesk.layers.placement import placement_warning, settle_missing_crs

    labelled = settle_missing_crs(project, layer)
    warning = placement_warning(project, layer)
    project.add_layer(layer, group=args.group)
    save_project(project, args.project)
    for line in (labelled, warning):
        if line:
            print(_("citydesk: warning: {msg}").format(msg=line), file=sys.stderr)
    print(
        _("added layer '{name}' (id {id}) to {path}").format(
            name=layer.name, id=layer.id, path=args.project
        )
    )
    return 0


def _refuse_unnamed_layer(path: Path, layer: str | None) -> None:
    """A file of several layers needs --layer (the workbench asks which): taking the first
    without a word added the wrong one."""
    from citydesk.layers.errors import CityDeskError
    from citydesk.layers.io import layers_to_choose

    names = [] if layer is not None else layers_to_choose(path)
    if names:
        raise CityDeskError(
            _("the file holds {n} layers: {names}").format(n=len(names), names=", ".join(names)),
            _(
                "name one with --layer, or make a project of them all with "
                "citydesk project new --from FILE"
            ),
            path=str(path),
        )


def cmd_info(args: argparse.Namespace) -> int:
    from citydesk.layers.project_store import load_project

    from .main import print_json

    project = load_project(args.project)
    info = project.describe()
    for layer_id, why in project.unreadable.items():
        print(
            _("citydesk: warning: layer '{id}' cannot be read and is left out: {why}").format(
                id=layer_id, why=why
            ),
            file=sys.stderr,
        )
    if args.json:
        print_json(info)
        return 0
    print(_("project: {name}").format(name=info["name"]))
    print(_("CRS: {crs}").format(crs=info["crs"]))
    print(_("extent: {ext}").format(ext=info["extent"]))
    print(_("layers (top to bottom):"))

    def show(node: dict, depth: int) -> None:
        for child in node["children"]:
            pad = "  " * depth
            if child["type"] == "group":
                print(f"{pad}[{child['name']}]")
                show(child, depth + 1)
            else:
                layer = project.layers[child["id"]]
                d = layer.describe()
                size = d.get("features", d.get("size"))
                mark = "x" if layer.visible else " "
                print(
                    f"{pad}[{mark}] {layer.name} ({layer.id}, {layer.kind}, {layer.role}, {size})"
                )

    show(info["tree"], 1)
    return 0


def cmd_export_map(args: argparse.Namespace) -> int:
    from citydesk.layers.mapplot import export_map
    from citydesk.layers.project_store import load_project

    project = load_project(args.project)
    ids = [i.strip() for i in args.layers.split(",")] if args.layers else None
    for layer_id in ids or []:
        project.layer(layer_id)  # clear error for an unknown id
    export_map(project, args.output, dpi=args.dpi, title=args.title, layer_ids=ids)
    print(_("wrote {path}").format(path=args.output))
    return 0
