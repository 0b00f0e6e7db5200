"""``citydesk grid build``: cut a city into coded unit grids."""

from __future__ import annotations

import argparse
from pathlib import Path

from citydesk.layers.i18n import _, ngettext

from .arg_types import positive
from .progress import TqdmFeedback


def _source(text: str) -> tuple[str, str | None]:
    """``FILE`` or ``FILE::LAYER``."""
    path, _sep, layer = text.partition("::")
    return path, layer or None


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("grid", help=_("unit grids for grid-based city management"))
    gsub = cmd.add_subparsers(dest="grid_command", metavar="ACTION", required=True)
    build = gsub.add_parser(
        "build",
        help=_("cut a boundary into coded square cells"),
        description=_(
            "With a CityDesk project as --out, the boundary, the street-level units, their "
            "fields and the county code default to the city profile's (docs/CITY.md)."
        ),
    )
    build.add_argument(
        "--boundary", metavar="FILE[::LAYER]", help=_("the city boundary (default: profile)")
    )
    build.add_argument(
        "--streets",
        metavar="FILE[::LAYER]",
        help=_("street-level units (街道), e.g. neighborhoods (default: profile)"),
    )
    build.add_argument("--street-code-field", help=_("field with the 3-digit street code"))
    build.add_argument("--street-name-field", help=_("field with the street name"))
    build.add_argument(
        "--communities",
        metavar="FILE[::LAYER]",
        help=_("community-level units (社区), e.g. census tracts"),
    )
    build.add_argument("--community-id-field", help=_("field identifying a community"))
    build.add_argument("--county", help=_("6-digit county code (default: profile)"))
    build.add_argument("--cell-size", type=positive, default=100.0, help=_("cell size in metres"))
    build.add_argument("--crs", help=_("projected CRS for the cells (default: automatic)"))
    build.add_argument("--out", required=True, help=_("output .gpkg (or a CityDesk project)"))
    build.set_defaults(func=cmd_build)


def cmd_build(args: argparse.Namespace) -> int:
    from citydesk.incidents.grid import build_unit_grid
    from citydesk.incidents.project_grid import grid_spec_for
    from citydesk.layers.city_layers import read_role
    from citydesk.layers.city_profile import profile_or_none
    from citydesk.layers.errors import CityDeskError
    from citydesk.layers.io import read_frame, write_frame

    out = Path(args.out)
    project = out if out.exists() and _is_project(out) else None
    profile = profile_or_none(project)
    given = {
        "county_code": args.county,
        "street_code_field": args.street_code_field,
        "street_name_field": args.street_name_field,
        "crs": args.crs,
    }
    spec = grid_spec_for(
        profile,
        cell_size_m=args.cell_size,
        community_id_field=args.community_id_field,
        **{k: v for k, v in given.items() if v},
    )
    feature = _("The unit grid")
    if project is None and not (args.boundary and args.streets):
        raise CityDeskError(
            _("the grid needs a boundary and street-level units"),
            _("Give --boundary and --streets, or a CityDesk project with a profile as --out."),
        )
    boundary = (
        read_frame(*_source(args.boundary))[0]
        if args.boundary
        else read_role(project, "boundary", feature)
    )
    streets = (
        read_frame(*_source(args.streets))[0]
        if args.streets
        else read_role(project, "neighborhoods", feature)
    )
    communities = read_frame(*_source(args.communities))[0] if args.communities else None
    with TqdmFeedback(_("building grid")) as fb:
        grid = build_unit_grid(boundary, streets, spec, communities, feedback=fb)
    if project is not None:
        from citydesk.incidents.project_grid import save_grid_to_project

        save_grid_to_project(grid, out)
    else:
        write_frame(grid, out, "unit_grid")
    print(
        _("{cells}, {area:.3f} km², codes {first} .. {last}; wrote {path}").format(
            cells=ngettext("{n} cell", "{n} cells", len(grid)).format(n=len(grid)),
            area=grid["area_m2"].sum() / 1e6,
            first=grid["code"].min(),
            last=grid["code"].max(),
            path=out,
        )
    )
    return 0


def _is_project(path: Path) -> bool:
    from citydesk.layers.errors import ProjectFormatError
    from citydesk.layers.project_store import read_project_meta

    try:
        read_project_meta(path)
    except ProjectFormatError:
        return False
    return True
