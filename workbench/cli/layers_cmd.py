"""``citydesk layers info|validate|convert|offset``, and the shared layers' commands
(:mod:`.shared_layers_cmd`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from citydesk.layers.i18n import _, ngettext

from . import shared_layers_cmd
from .progress import TqdmFeedback


def _add_read_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help=_("a .gpkg, .shp, .geojson, .fgb, .parquet, .csv, .tif or .dem"))
    p.add_argument("--layer", help=_("layer name inside a multi-layer file"))
    p.add_argument("--encoding", help=_("attribute encoding, e.g. gb18030 (default: detect)"))
    p.add_argument("--x-field", help=_("CSV column with x / longitude"))
    p.add_argument("--y-field", help=_("CSV column with y / latitude"))


def read_from_args(args: argparse.Namespace, feedback=None, **extra):
    """``read_layer`` with the read options every layer-reading command shares."""
    from citydesk.layers.io import read_layer

    return read_layer(
        args.file,
        args.layer,
        encoding=args.encoding,
        x_field=args.x_field,
        y_field=args.y_field,
        feedback=feedback,
        **extra,
    )


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser(
        "layers", help=_("inspect, validate and convert data files; share layers on PostGIS")
    )
    lsub = cmd.add_subparsers(dest="layers_command", metavar="ACTION", required=True)

    info = lsub.add_parser("info", help=_("describe a data file and its layers"))
    _add_read_options(info)
    info.add_argument("--json", action="store_true", help=_("print JSON"))
    info.set_defaults(func=cmd_info)

    val = lsub.add_parser("validate", help=_("check a data file and explain every problem"))
    _add_read_options(val)
    val.add_argument("--id-field", help=_("field that must be a unique feature id"))
    val.add_argument(
        "--require",
        action="append",
        default=[],
        metavar="FIELD",
        help=_("field that must have a value (repeatable)"),
    )
    val.add_argument(
        "--repair",
        metavar="OUT",
        help=_("write a copy with invalid geometries repaired (make_valid)"),
    )
    val.add_argument("--json", action="store_true", help=_("print the report as JSON"))
    val.set_defaults(func=cmd_validate)

    conv = lsub.add_parser("convert", help=_("convert between formats and CRSs"))
    _add_read_options(conv)
    conv.add_argument("output", help=_("output file: .gpkg .geojson .fgb .parquet .shp .tif"))
    conv.add_argument("--to-crs", help=_("reproject to this CRS, e.g. EPSG:4490"))
    conv.add_argument("--assign-crs", help=_("label data that has no CRS (no reprojection)"))
    conv.add_argument("--repair", action="store_true", help=_("repair invalid geometries"))
    conv.add_argument(
        "--overwrite",
        action="store_true",
        help=_("replace an existing output file (a GeoPackage keeps its other layers)"),
    )
    conv.add_argument(
        "--from-offset",
        choices=["gcj02", "bd09"],
        help=_("the lon/lat are Chinese web-map offsets (AMap/Tencent gcj02, Baidu bd09): undo"),
    )
    conv.set_defaults(func=cmd_convert)

    off = lsub.add_parser(
        "offset", help=_("are a layer's lon/lat GCJ-02 or BD-09 offsets? (Chinese web maps)")
    )
    _add_read_options(off)
    off.add_argument("--reference", help=_("a layer in true WGS 84 nearby: FILE or FILE::LAYER"))
    off.add_argument("--json", action="store_true", help=_("print the finding as JSON"))
    off.set_defaults(func=cmd_offset)
    shared_layers_cmd.register(lsub)


def cmd_info(args: argparse.Namespace) -> int:
    from citydesk.layers.io import layer_kind
    from citydesk.layers.readers.vector import list_vector_layers

    from .main import print_json

    path = Path(args.file)
    sublayers = []
    if layer_kind(path) == "vector" and args.layer is None:
        sublayers = list_vector_layers(path)
    with TqdmFeedback(_("reading")) as fb:
        layer = read_from_args(args, fb)
    info = layer.describe()
    if len(sublayers) > 1:
        info["layers_in_file"] = [{"name": n, "geometry": t} for n, t in sublayers]
    unplaced = (
        (getattr(layer, "metadata", {}) or {}).get("read", {}).get("rows_without_coordinates")
    )
    if unplaced:  # a table whose coordinates could not be read says so, not just "Unknown"
        info["rows_without_coordinates"] = unplaced
    if args.json:
        print_json(info)
        return 0
    for key, value in info.items():
        if key == "layers_in_file":
            print(f"{key}:")
            for sub in value:
                print(f"  - {sub['name']} ({sub['geometry']})")
        else:
            print(f"{key}: {value}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from citydesk.layers.io import write_layer
    from citydesk.layers.layer import VectorLayer
    from citydesk.layers.validation import repair, validate_path

    from .main import print_json

    names: list[str | None] = [args.layer]
    if args.layer is None and not args.repair:
        names = _layers_to_validate(Path(args.file))
    reports = []
    with TqdmFeedback(_("validating")) as fb:
        for name in names:
            reports.append(
                validate_path(
                    args.file,
                    name,
                    id_field=args.id_field,
                    required_fields=args.require,
                    encoding=args.encoding,
                    x_field=args.x_field,
                    y_field=args.y_field,
                    feedback=fb,
                )
            )
    if args.json:
        print_json(reports[0].to_dict() if len(reports) == 1 else [r.to_dict() for r in reports])
    else:
        print("\n\n".join(r.to_text() for r in reports))
    report = reports[0]
    if args.repair and report.get("unreadable") is None:
        layer = read_from_args(args, compact=False)
        if isinstance(layer, VectorLayer):
            fixed, count = repair(layer.data)
            layer.set_data(fixed)
            write_layer(layer, args.repair)
            print(
                ngettext(
                    "repaired {n} geometry, wrote {path}",
                    "repaired {n} geometries, wrote {path}",
                    count,
                ).format(n=count, path=args.repair)
            )
    return 0 if all(r.ok for r in reports) else 1


def _layers_to_validate(path: Path) -> list[str | None]:
    """Every data layer of a file that holds several (a city's GeoPackage or File
    Geodatabase delivery), else [None]: the file's one layer."""
    from citydesk.layers.io import layers_to_choose

    return list(layers_to_choose(path)) or [None]


def cmd_convert(args: argparse.Namespace) -> int:
    from citydesk.layers.crs import parse_crs
    from citydesk.layers.io import write_layer
    from citydesk.layers.layer import VectorLayer
    from citydesk.layers.validation import repair

    with TqdmFeedback(_("converting")) as fb:
        layer = read_from_args(args, fb, assign_crs=args.assign_crs, compact=False)
    _refuse_existing_output(Path(args.output), layer.id, args.overwrite)
    if isinstance(layer, VectorLayer):
        if args.from_offset:
            from citydesk.layers.chinese_offsets import undo_offset

            layer.set_data(undo_offset(layer.data, args.from_offset))
            print(
                _("undid the {offset} offset: the layer is in WGS 84").format(
                    offset=args.from_offset
                )
            )
        if args.repair:
            fixed, count = repair(layer.data)
            layer.set_data(fixed)
            print(_("repaired {n} geometries").format(n=count))
        if args.to_crs:
            if layer.crs is None:
                from citydesk.layers.crs_guess import in_degrees
                from citydesk.layers.errors import CRSError

                lonlat = in_degrees(layer.extent)
                raise CRSError(
                    _("the input has no CRS, so it cannot be reprojected"),
                    _("its coordinates look like longitude/latitude: give --assign-crs EPSG:4326")
                    if lonlat
                    else _("give --assign-crs with the CRS the data was made in"),
                    path=args.file,
                )
            layer.set_data(layer.data.to_crs(parse_crs(args.to_crs)))
    elif args.to_crs:
        from citydesk.layers.raster_ops import reproject_raster

        layer = reproject_raster(layer, parse_crs(args.to_crs))
    out = write_layer(layer, args.output)
    print(_("wrote {path}").format(path=out))
    return 0


def cmd_offset(args: argparse.Namespace) -> int:
    from citydesk.layers.chinese_offsets import detect_offset
    from citydesk.layers.io import read_frame

    from .main import print_json

    frame = read_from_args(args, compact=False).data
    reference = None
    if args.reference:
        path, _sep, layer = args.reference.partition("::")
        reference = read_frame(path, layer or None)[0]
    finding = detect_offset(frame, reference, name=Path(args.file).name)
    if args.json:
        print_json(
            {
                "offset": finding.offset,
                "median_m": finding.median_m,
                "share_near": finding.share_near,
                "note": finding.note,
            }
        )
    else:
        print(finding.note)
        if finding.offset:
            print(
                _("fix: citydesk layers convert {file} OUT --from-offset {offset}").format(
                    file=args.file, offset=finding.offset
                )
            )
    return 0


def _refuse_existing_output(out: Path, name: str, overwrite: bool) -> None:
    """Never replace what exists without --overwrite: a single-layer file, or a GeoPackage
    layer of the output's name (adding a new layer to a GeoPackage is fine)."""
    if not out.exists() or overwrite:
        return
    from citydesk.layers.errors import LayerWriteError
    from citydesk.layers.readers.vector import list_vector_layers

    if out.suffix.lower() == ".gpkg":
        existing = {n for n, _t in list_vector_layers(out)}
        if str(name) not in existing:
            return
        raise LayerWriteError(
            _("{out} already has a layer '{name}'").format(out=out, name=name),
            _("Give --overwrite to replace that layer (the others are kept)."),
            path=str(out),
        )
    raise LayerWriteError(
        _("{out} already exists").format(out=out),
        _("Give --overwrite to replace it, or choose another name."),
        path=str(out),
    )
