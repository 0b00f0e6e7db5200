"""The workbench's analyses as module-level functions ``job(project, ..., feedback)``.

They are what the planning dock and the Optimize menu run, written so an analysis process
can import them by name (``citydesk.workbench.analysis_process``): a closure cannot cross a
process boundary, a ``functools.partial`` of these can. Each job makes plugins' indicators
known first, as ``citydesk plan run`` does, since the child process starts without them.
No Qt here: each is the same call the command line makes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from citydesk.layers.feedback import Feedback


def _with_plugin_indicators() -> None:
    from citydesk.plugins.indicators import install

    install()


def run_scenarios(project: str, names: list[str], *, feedback: Feedback) -> tuple[list, Any]:
    """Run the stored scenarios ``names`` (their results are saved in the project); returns
    the results and their comparison view (``planning.comparison.comparison_view``), drawn
    here because matplotlib's first chart in the window's process held its lock 0.13 s."""
    from citydesk.planning.comparison import comparison_view
    from citydesk.planning.scenario_run import run_stored_scenarios

    _with_plugin_indicators()
    results, _inputs = run_stored_scenarios(project, names, feedback=feedback)
    view = comparison_view(project, [r.scenario.name for r in results])
    # the parcels' shapes stay here: the window has them in the result layer already, and
    # unpickling 13k geometries would hold its interpreter lock
    return [_without_shapes(r) for r in results], view


def _without_shapes(result: Any) -> Any:
    import dataclasses

    import pandas as pd

    state = result.state
    if hasattr(state, "geometry"):
        plain = pd.DataFrame(state.drop(columns=state.geometry.name))
        plain.attrs = dict(state.attrs)
        return dataclasses.replace(result, state=plain)
    return result


def front_comparison(project: str, names: list[str], layer: str, *, feedback: Feedback) -> Any:
    """The comparison view of scenarios ``names`` and the Pareto plans of ``layer``, every
    plan measured with the first scenario's facilities and assumptions."""
    from citydesk.planning.comparison import comparison_view, evaluate_plans, front_plans
    from citydesk.planning.scenario_defaults import runnable_scenario
    from citydesk.planning.scenario_run import prepare_inputs

    _with_plugin_indicators()
    reference = runnable_scenario(project, names[0])
    inputs = prepare_inputs(project, reference, feedback)
    plans = evaluate_plans(inputs, reference, front_plans(project, layer))[1]
    return comparison_view(project, names, plans)


def plan_report(project: str, names: list[str], folder: str, *, feedback: Feedback) -> Any:
    from citydesk.planning.plan_report import plan_report as write_report

    _with_plugin_indicators()
    return write_report(project, names, folder, feedback=feedback)


def suitability(project: str, name: str, *, feedback: Feedback) -> Any:
    from citydesk.planning.analysis_layers import save_suitability
    from citydesk.planning.scenario_defaults import runnable_scenario

    return save_suitability(project, runnable_scenario(project, name))


def service_areas(
    project: str, name: str, kind: str, thresholds: list[float], *, feedback: Feedback
) -> str:
    from citydesk.planning.analysis_layers import save_service_areas
    from citydesk.planning.scenario_defaults import runnable_scenario

    return save_service_areas(project, runnable_scenario(project, name), kind, thresholds)


def site_stations(project: str, spec: Any, *, feedback: Feedback) -> Any:
    from citydesk.planning.station_siting import fire_station_scenario

    return fire_station_scenario(project, spec, feedback)


def landuse_front(project: str, spec: Any, *, feedback: Feedback) -> Any:
    from citydesk.planning.landuse_front import run_landuse_front

    return run_landuse_front(project, spec, feedback)


def processing(
    project: str,
    algorithm_id: str,
    raw: dict[str, Any],
    context: Any,
    overwrite: bool,
    *,
    feedback: Feedback,
) -> Any:
    """One Processing algorithm, as ``citydesk processing run`` runs it. The plugin host is
    discovered here, in the analysis process, from the same plugin folders and the same
    enabled/disabled settings as the window's; a plugin that crashes ends this process only."""
    from citydesk.plugins.algorithms import run_algorithm
    from citydesk.plugins.host import PluginHost

    return run_algorithm(
        PluginHost(), algorithm_id, raw, project, feedback, context, overwrite=overwrite
    )


def with_layers_written(
    project: str, job: Callable[..., Any], since: str, *, feedback: Feedback
) -> tuple[Any, Any]:
    """``job``'s result and the layers it wrote into the project (``since`` its start), read
    here in the analysis process: parsing 13k result parcels in the window's process held
    its interpreter lock for 0.18 s (issue 20)."""
    from citydesk.layers.project_store import layers_written_since

    result = job(project, feedback=feedback)
    return result, layers_written_since(project, since)
