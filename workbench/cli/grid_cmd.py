"""``citydesk grid build``: cut a city into coded unit grids."""

from __future__ import annotations

import argparse
from pathlib import Path

from citydesk.layers.i18n import _

from .progress import TqdmFeedback


def _source(text: str) -> tuple[str, str | None]:
    """``FILE`` or ``FILE::LAYER``."""
    path, _sep, layer = text.partition("::")
    return path, layer or None


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("grid", help=_("unit grids for grid-based city management"))
    gsub = cmd.add_subparsers(dest="grid_command", metavar="ACTION", required=True)
    build = gsub.add_parser("build", help=_("cut a boundary into coded square cells"))
    build.add_argument(
        "--boundary", required=True, metavar="FILE[::LAYER]", help=_("the city boundary")
    )
    build.add_argument(
        "--streets",
        required=True,
        metavar="FILE[::LAYER]",
        help=_("street-level units (街道), e.g. neighborhoods"),
    )
    build.add_argument("--street-code-field", help=_("field with the 3-digit street code"))
    build.add_argument("--street-name-field", help=_("field with the street name"))
    build.add_argument(
        "--communities",
        metavar="FILE[::LAYER]",
        help=_("community-level units (社区), e.g. census tracts"),
    )
    build.add_argument("--community-id-field", help=_("field identifying a community"))
    build.add_argument("--county", required=True, help=_("6-digit county code"))
    build.add_argument("--cell-size", type=float, default=100.0, help=_("cell size in metres"))
    build.add_argument("--crs", help=_("projected CRS for the cells (default: automatic)"))
    build.add_argument("--out", required=True, help=_("output .gpkg (or a CityDesk project)"))
    build.set_defaults(func=cmd_build)


def cmd_build(args: argparse.Namespace) -> int:
    from citydesk.incidents.grid import GridSpec, build_unit_grid
    from citydesk.layers.io import read_frame, write_frame

    spec = GridSpec(
        county_code=args.county,
        cell_size_m=args.cell_size,
        crs=args.crs,
        street_code_field=args.street_code_field,
        street_name_field=args.street_name_field,
        community_id_field=args.community_id_field,
    )
    boundary, _f = read_frame(*_source(args.boundary))
    streets, _f = read_frame(*_source(args.streets))
    communities = read_frame(*_source(args.communities))[0] if args.communities else None
    with TqdmFeedback(_("building grid")) as fb:
        grid = build_unit_grid(boundary, streets, spec, communities, feedback=fb)
    out = Path(args.out)
    if out.exists() and _is_project(out):
        from citydesk.incidents.project_grid import save_grid_to_project

        save_grid_to_project(grid, out)
    else:
        write_frame(grid, out, "unit_grid")
    print(
        _("{n} cells, {area:.3f} km², codes {first} .. {last}; wrote {path}").format(
            n=len(grid),
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
