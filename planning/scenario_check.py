"""Checking a scenario against a project before running it: do its layers, fields and
filters exist? Reads only the layer schemas, so it is instant."""

from __future__ import annotations

from pathlib import Path

from citydesk.layers.expressions import compile_filter
from citydesk.layers.i18n import _

from .scenario import Scenario, ScenarioError


def check_in_project(project: str | Path, scenario: Scenario) -> list[str]:
    """Raise :class:`ScenarioError` naming the first field that does not fit the project;
    return notes on what will be left out (e.g. no neighbourhood layer)."""
    path = Path(project)
    from citydesk.layers.project_store import project_layer_fields, read_project_meta

    schemas = project_layer_fields(path)
    layers = set(schemas)

    rasters = {
        r["id"] for r in read_project_meta(path).get("layers") or [] if r.get("kind") == "raster"
    }

    def fields_of(layer: str, where: str) -> list[str]:
        if layer not in layers:
            raise ScenarioError(
                _("{where}: the project has no layer '{layer}'").format(where=where, layer=layer),
                _("Layers in the project: {names}.").format(names=", ".join(sorted(layers))),
                path=str(path),
            )
        return schemas[layer]

    def check_filter(text: str, columns: list[str], where: str) -> None:
        if text.strip():
            try:
                compile_filter(text, columns)
            except Exception as exc:
                raise ScenarioError(
                    _("{where}: {value1}").format(where=where, value1=getattr(exc, "problem", exc)),
                    getattr(exc, "fix", ""),
                ) from exc

    for role, layer in scenario.layers.items():
        columns = fields_of(layer, f"layers.{role}")
        if role == "parcels":
            check_filter(scenario.candidates.where, columns, "candidates.where")
            check_filter(
                scenario.constraints.protected_where, columns, "constraints.protected_where"
            )
    for key, kind in scenario.facilities.items():
        columns = fields_of(kind.layer, f"facilities.{key}.layer")
        check_filter(kind.where, columns, f"facilities.{key}.where")
        if kind.capacity_field and kind.capacity_field not in columns:
            raise ScenarioError(
                _("facilities.{key}.capacity_field: no field '{f}'").format(
                    key=key, f=kind.capacity_field
                ),
                _("Fields: {names}.").format(names=", ".join(columns)),
            )
    for name, factor in scenario.suitability.factors.items():
        where = f"suitability.factors.{name}.layer"
        if factor.source in ("distance", "overlay"):
            fields_of(factor.layer, where)
        elif factor.source == "raster" and factor.layer not in rasters:
            tif = Path(factor.layer)
            tif = tif if tif.is_absolute() else path.parent / tif
            if not (factor.layer.lower().endswith((".tif", ".tiff")) and tif.exists()):
                raise ScenarioError(
                    _("{where}: no raster layer or GeoTIFF '{layer}'").format(
                        where=where, layer=factor.layer
                    ),
                    _("Raster layers in the project: {names}.").format(
                        names=", ".join(sorted(rasters)) or "-"
                    ),
                )
    notes = []
    if "neighborhoods" not in scenario.layers:
        notes.append(_("no neighbourhood layer: indicators are city-wide only"))
    for key in ("school", "park", "clinic", "fire"):
        if key not in scenario.facilities:
            notes.append(_("no facility kind '{key}': its indicator is left out").format(key=key))
    return notes
