"""Running algorithms: parameters checked, code imported on first use, isolated, recorded.

``run_algorithm`` is what the CLI (``citydesk run``), batch files, the history's re-run and
the workbench's generated dialogs all call. The algorithm is a plain function
``run(params, context, feedback) -> dict of outputs`` that never touches Qt; an output
named after an ``output_layer`` parameter is a GeoDataFrame the host writes into the
project, together with anything queued by ``context.add_layer``, after the run succeeded.

A failure inside plugin code does not take CityDesk down: a :class:`CityDeskError` (bad
input, explained) fails the run; any other exception also marks the plugin ``failed`` for
the session. Either way the run is recorded in the project's history with its message.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from citydesk.layers.errors import CityDeskError
from citydesk.layers.feedback import CanceledError, Feedback, NullFeedback
from citydesk.layers.i18n import _

from .api import Context
from .history import record_run
from .host import PluginError, PluginHost
from .parameters import Parameter, parse_values, resolve


class LayerExists(CityDeskError):
    """An output would replace a layer the project already has, and nobody confirmed it."""


def project_layer_ids(project: str | Path | None) -> set[str]:
    """The ids of the layers a project file holds (none without a project)."""
    if project is None:
        return set()
    from citydesk.layers.project_store import read_project_meta

    return {str(r.get("id")) for r in read_project_meta(project).get("layers") or []}


def unique_layer_id(base: str, taken: set[str]) -> str:
    """``base``, or ``base_2``, ``base_3``... whichever the project does not use yet."""
    if base not in taken:
        return base
    n = 2
    while f"{base}_{n}" in taken:
        n += 1
    return f"{base}_{n}"


def default_output_id(spec: AlgorithmSpec, name: str, taken: set[str]) -> str:
    """The id an output layer gets when the user names none: the parameter's declared
    default, else the algorithm and the output's name, made unique, so that running Buffer
    twice keeps both results."""
    base = spec.parameters[name].default or f"{spec.id.split(':')[-1]}_{name}"
    return unique_layer_id(str(base), taken)


def check_outputs(
    spec: AlgorithmSpec, values: dict[str, Any], given: set[str], taken: set[str], overwrite: bool
) -> None:
    """Refuse, before anything runs, an output the user named like an existing layer unless
    they confirmed replacing it: Buffer with output 'parcels' once replaced 13,116 parcels
    with 236 buffers without a word. ``given``: the parameters the user set."""
    for name, p in spec.parameters.items():
        chosen = values.get(name) if name in given else None
        if p.type == "output_layer" and chosen and chosen in taken and not overwrite:
            raise LayerExists(
                _("the project already has a layer '{layer}': this run would replace it").format(
                    layer=chosen
                ),
                _("Choose another output name, or confirm replacing it (--overwrite)."),
                gui_fix=_("Choose another output name, or confirm replacing it when asked."),
            )


@dataclass(frozen=True)
class AlgorithmSpec:
    id: str
    name: str
    group: str
    description: str
    plugin: str
    parameters: dict[str, Parameter]


@dataclass
class RunResult:
    outputs: dict[str, Any]
    layers: list[str]
    messages: list[tuple[str, str]]
    seconds: float
    history_id: int | None = None
    values: dict[str, Any] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # the output files it wrote


def algorithm_specs(host: PluginHost) -> dict[str, AlgorithmSpec]:
    """Every usable algorithm, from the manifests alone (nothing imported)."""
    specs = {}
    for record, c in host.contributions("algorithms"):
        specs[c.id] = _spec(record.name, c)
    return specs


def _spec(plugin: str, c) -> AlgorithmSpec:
    params = {
        name: Parameter.from_manifest(name, spec)
        for name, spec in c.data.get("parameters", {}).items()
    }
    return AlgorithmSpec(
        c.id, c.title, c.data.get("group", ""), c.data.get("description", ""), plugin, params
    )


def run_algorithm(
    host: PluginHost,
    algorithm_id: str,
    raw: dict[str, Any],
    project: str | Path | None = None,
    feedback: Feedback | None = None,
    context: Context | None = None,
    record: bool = True,
    overwrite: bool = False,
) -> RunResult:
    """Run one algorithm. An output layer named like a layer the project has is refused
    unless ``overwrite`` (the user confirmed replacing it); unnamed outputs get new ids."""
    feedback = feedback or NullFeedback()
    plugin_record, contribution = host.find("algorithms", algorithm_id)
    spec = _spec(plugin_record.name, contribution)
    context = context or Context(project_path=Path(project) if project else None)
    values = parse_values(spec.parameters, raw)  # bad values: refused before any import
    resolved = resolve(spec.parameters, values, context)  # and missing layers or fields
    taken = project_layer_ids(context.project_path)
    given = {name for name in raw if name in spec.parameters}
    check_outputs(spec, values, given, taken, overwrite)
    started = time.perf_counter()

    def log(status: str, message: str = "", outputs: dict | None = None) -> int | None:
        if not (record and context.project_path):
            return None
        return record_run(
            context.project_path,
            algorithm_id,
            plugin_record.name,
            plugin_record.manifest.version,
            values,
            status,
            message,
            time.perf_counter() - started,
            outputs,
        )

    def failed(exc: Exception) -> PluginError:  # the plugin's own code raised
        return PluginError(
            _("algorithm {id} of plugin {name} failed: {err}").format(
                id=algorithm_id, name=plugin_record.name, err=f"{type(exc).__name__}: {exc}"
            ),
            _("The plugin is disabled for this session; report it to its author."),
        )

    try:
        outputs = host.call(plugin_record, contribution, resolved, context, feedback, wrap=failed)
        outputs = {} if outputs is None else outputs
        if not isinstance(outputs, dict):
            error = TypeError(f"{algorithm_id} returned {type(outputs).__name__}, not a dict")
            host.fail(plugin_record, error)
            raise failed(error)
        layers = _write_outputs(spec, values, outputs, context, taken, given)
    except CanceledError:
        log("canceled")
        raise
    except CityDeskError as exc:
        log("failed", exc.message)
        raise
    written = {n for n, p in spec.parameters.items() if p.type == "output_layer"}
    shown = {k: v for k, v in outputs.items() if k not in written}
    fid = log("ok", "", {**_jsonable(shown), "layers": layers})
    files = [
        str(values[n])
        for n, p in spec.parameters.items()
        if p.type == "output_file" and values.get(n) and Path(values[n]).is_file()
    ]
    return RunResult(
        shown, layers, context.messages, time.perf_counter() - started, fid, values, files
    )


def _write_outputs(
    spec: AlgorithmSpec, values, outputs, context: Context, taken: set[str], given: set[str]
) -> list[str]:
    """Output layers (named by their output_layer parameter, or queued with add_layer) go
    into the project in one transaction; nothing is written if the run failed before here.
    A layer a plugin queued under an id the project already uses gets a new id (with a
    message): only a name the user chose and confirmed replaces a layer."""
    import geopandas as gpd

    from citydesk.layers.layer import LayerRole, VectorLayer
    from citydesk.layers.project_store import put_layers

    confirmed = set()
    for name, p in spec.parameters.items():
        if p.type == "output_layer" and isinstance(outputs.get(name), gpd.GeoDataFrame):
            chosen = values.get(name) if name in given else None
            used = taken | {n.layer_id for n in context.new_layers}
            layer_id = chosen or default_output_id(spec, name, used)
            if chosen:
                confirmed.add(chosen)
            context.add_layer(outputs[name], layer_id, f"{spec.name}: {layer_id}", spec.group)
    if not context.new_layers:
        return []
    if context.project_path is None:
        raise CityDeskError(
            _("{id} makes layers, which need a project").format(id=spec.id),
            _("Give --project PROJECT.gpkg."),
            gui_fix=_("Save the project first: the layers are written into it."),
        )
    layers = []
    used: set[str] = set()
    for n in context.new_layers:
        if (n.layer_id in taken and n.layer_id not in confirmed) or n.layer_id in used:
            new_id = unique_layer_id(n.layer_id, taken | used)
            context.push_message(
                _("the project already has a layer '{old}': the result is '{new}'").format(
                    old=n.layer_id, new=new_id
                ),
                "warning",
            )
            n.layer_id = new_id
        used.add(n.layer_id)
        layer = VectorLayer(name=n.name, data=n.frame, role=LayerRole.OTHER, id=n.layer_id)
        layer.opacity = 0.75  # a result drawn over the data it came from should not hide it
        layers.append(layer)
    put_layers(context.project_path, layers, group=_("Processing"))
    return [n.layer_id for n in context.new_layers]


def _jsonable(outputs: dict) -> dict:
    import json

    out = {}
    for key, value in outputs.items():
        try:
            json.dumps(value)
            out[key] = value
        except TypeError:
            out[key] = repr(value)[:200]
    return out
