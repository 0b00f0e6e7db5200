"""Build a style from the choices a styling dialog offers (also usable from scripts/CLI).

Keeping this out of the dialog means the GUI, the CLI and plugins produce identical styles from
the same parameters, and the dialog itself stays a thin form.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import CityDeskError
from .i18n import _
from .layer import VectorLayer
from .style import CLASSIFIERS, Style, Symbol, categorized, graduated


@dataclass
class StyleRequest:
    kind: str = "single"  # single, categorized, graduated
    field: str | None = None
    method: str = "quantile"
    classes: int = 5
    ramp: str = "viridis"
    palette: str = "tab20"
    fill: str = "#a6cee3"
    stroke: str | None = None
    stroke_width: float | None = None
    label_field: str | None = None
    opacity: float = 1.0
    # upper bounds already computed by class_breaks (the workbench computes an exact Jenks
    # in a worker process, where its C code cannot hold up the window)
    breaks: tuple[float, ...] | None = None


def numeric_fields(layer: VectorLayer) -> list[str]:
    return [c for c in layer.fields if layer.attributes[c].dtype.kind in "fiu"]


def build_style(layer: VectorLayer, req: StyleRequest) -> Style:
    """The style ``req`` describes, keeping the layer's current stroke unless overridden."""
    base = Symbol(
        fill=req.fill,
        stroke=req.stroke or layer.style.symbol.stroke,
        stroke_width=layer.style.symbol.stroke_width
        if req.stroke_width is None
        else req.stroke_width,
        size=layer.style.symbol.size,
    )
    if req.kind == "categorized":
        if not req.field:
            raise CityDeskError(
                _("a categorized style needs a field"), _("Choose the field to categorize by.")
            )
        style = categorized(layer.column(req.field), req.field, req.palette, base)
    elif req.kind == "graduated":
        if req.field not in numeric_fields(layer):
            raise CityDeskError(
                _("a graduated style needs a numeric field, not '{field}'").format(field=req.field),
                _("Choose a field of numbers: {fields}.").format(
                    fields=", ".join(numeric_fields(layer)) or "-"
                ),
            )
        if req.method not in CLASSIFIERS:
            raise CityDeskError(
                _("unknown classification '{method}'").format(method=req.method),
                _("Use one of: {methods}.").format(methods=", ".join(sorted(CLASSIFIERS))),
            )
        style = graduated(
            layer.column(req.field),
            req.field,
            req.method,
            req.classes,
            req.ramp,
            base,
            uppers=list(req.breaks) if req.breaks is not None else None,
        )
    else:
        style = Style(kind="single", symbol=base)
    style.label_field = req.label_field or None
    return style


def histogram(layer: VectorLayer, field: str, bins: int = 40) -> tuple[np.ndarray, np.ndarray]:
    values = np.asarray(layer.column(field), dtype=float)
    values = values[np.isfinite(values)]
    return np.histogram(values, bins=bins)
