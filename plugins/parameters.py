"""Typed algorithm parameters, declared in the manifest (QGIS Processing's idea).

A parameter turns what a user typed (a CLI string, a JSON value from history or a batch
file, a dialog widget's value) into what the algorithm receives, or refuses it with a
message that names the parameter. Layers are resolved against the project: a ``layer``
parameter gives the algorithm a GeoDataFrame, checked for its geometry type; a ``field``
gives a column name checked against its parent layer.

The raw value is what history records, so a run can be repeated exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _

GEOMETRY_TYPES = {
    "point": ("Point", "MultiPoint"),
    "line": ("LineString", "MultiLineString"),
    "polygon": ("Polygon", "MultiPolygon"),
}


class ParameterError(CityDeskError):
    """A parameter value cannot be used; the message names the parameter."""


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    label: str = ""
    description: str = ""
    default: Any = None
    optional: bool = False
    geometry: str = "any"
    parent: str = ""
    minimum: float | None = None
    maximum: float | None = None
    options: tuple[str, ...] = ()
    extensions: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_manifest(cls, name: str, spec: dict) -> Parameter:
        data = dict(spec)
        for key in ("options", "extensions"):
            if key in data:
                data[key] = tuple(data[key])
        return cls(name=name, **data)

    @property
    def title(self) -> str:
        return self.label or self.name

    def fail(self, problem: str, fix: str = "") -> ParameterError:
        return ParameterError(
            _("parameter '{name}': {problem}").format(name=self.name, problem=problem), fix
        )


def parse_values(parameters: dict[str, Parameter], raw: dict[str, Any]) -> dict[str, Any]:
    """Check the raw values (types, ranges, options) without touching the project; fills in
    defaults. Returns the JSON-able raw values that history records."""
    unknown = sorted(set(raw) - set(parameters))
    if unknown:
        raise ParameterError(
            _("unknown parameter(s) {names}").format(names=", ".join(unknown)),
            _("Parameters: {names}.").format(names=", ".join(parameters) or "-"),
        )
    values = {}
    for name, p in parameters.items():
        value = raw.get(name, p.default)
        if value is None or value == "":
            if p.optional or p.type == "output_layer":
                values[name] = None
                continue
            raise p.fail(_("a value is required"), _("Give --{name} VALUE.").format(name=name))
        values[name] = _coerce(p, value)
    return values


def _coerce(p: Parameter, value: Any) -> Any:
    if p.type in ("number", "integer"):
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise p.fail(_("'{v}' is not a number").format(v=value)) from None
        if not math.isfinite(number):
            raise p.fail(_("'{v}' is not a finite number").format(v=value))
        if p.type == "integer":
            if number != int(number):
                raise p.fail(_("'{v}' is not a whole number").format(v=value))
            number = int(number)
        if p.minimum is not None and number < p.minimum:
            raise p.fail(_("{v} is below the minimum {m}").format(v=value, m=p.minimum))
        if p.maximum is not None and number > p.maximum:
            raise p.fail(_("{v} is above the maximum {m}").format(v=value, m=p.maximum))
        return number
    if p.type == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "yes", "1", "on"):
            return True
        if text in ("false", "no", "0", "off"):
            return False
        raise p.fail(_("'{v}' is not true or false").format(v=value))
    if p.type == "enum":
        if str(value) not in p.options:
            raise p.fail(
                _("'{v}' is not one of the options").format(v=value),
                _("Options: {names}.").format(names=", ".join(p.options)),
            )
        return str(value)
    if p.type == "extent":
        parts = value if isinstance(value, list | tuple) else str(value).split(",")
        try:
            box = [float(x) for x in parts]
        except ValueError:
            box = []
        if len(box) != 4 or box[0] >= box[2] or box[1] >= box[3]:
            raise p.fail(
                _("'{v}' is not an extent").format(v=value),
                _("Give xmin,ymin,xmax,ymax in the project CRS."),
            )
        return box
    if p.type == "crs":
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            CRS.from_user_input(value)
        except CRSError:
            raise p.fail(
                _("'{v}' is not a coordinate reference system").format(v=value),
                _("Give an EPSG code, e.g. EPSG:4490."),
            ) from None
        return str(value)
    if p.type in ("file", "output_file"):
        path = Path(str(value))
        if p.extensions and path.suffix.lower() not in {e.lower() for e in p.extensions}:
            raise p.fail(
                _("'{v}' is not a {exts} file").format(v=value, exts="/".join(p.extensions))
            )
        return str(path)
    return str(value)  # layer, field, string, output_layer: checked against the project


def resolve(parameters: dict[str, Parameter], values: dict[str, Any], context) -> dict[str, Any]:
    """What the algorithm receives: layers read from the project (geometry type checked),
    fields checked against their layer, files checked to exist; other values as parsed."""
    out = dict(values)
    for name, p in parameters.items():
        value = values.get(name)
        if value is None:
            continue
        if p.type == "layer":
            frame = context.read_layer(value)
            kinds = GEOMETRY_TYPES.get(p.geometry)
            present = set(frame.geometry.geom_type.dropna())
            if kinds and present and not present <= set(kinds):
                raise p.fail(
                    _("layer '{layer}' has {found} geometries, not {want}").format(
                        layer=value, found="/".join(sorted(present)), want=p.geometry
                    )
                )
            out[name] = frame
        elif p.type == "file" and not Path(value).exists():
            raise p.fail(_("no file {v}").format(v=value), _("Check the path."))
        elif p.type == "output_file" and not Path(value).parent.is_dir():
            raise p.fail(
                _("no folder {v} to write into").format(v=Path(value).parent),
                _("Create the folder, or choose a file in an existing one."),
            )
    for name, p in parameters.items():
        if p.type == "field" and values.get(name) is not None:
            frame = out[p.parent]
            if values[name] not in frame.columns:
                raise p.fail(
                    _("layer '{layer}' has no field '{field}'").format(
                        layer=values[p.parent], field=values[name]
                    ),
                    _("Fields: {names}.").format(
                        names=", ".join(c for c in frame.columns if c != "geometry")
                    ),
                )
    return out
