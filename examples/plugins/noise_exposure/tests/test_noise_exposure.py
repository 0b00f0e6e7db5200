"""The example plugin's own tests, written with CityDesk's pytest fixtures
(citydesk_host, citydesk_project, citydesk_context, citydesk_feedback)."""

from __future__ import annotations

import pytest


def test_the_plugin_is_found_through_its_entry_point(citydesk_host):
    record = citydesk_host.plugin("noise-exposure")
    assert record.status == "ok", record.problems
    assert record.source == "entry point noise-exposure"


def test_exposure_on_the_cambridge_demo(citydesk_host, citydesk_project, citydesk_feedback):
    from citydesk.layers.io import read_frame
    from citydesk.plugins.algorithms import run_algorithm

    params = {"roads": "street_centerlines", "parcels": "parcels", "distance": 50}
    result = run_algorithm(
        citydesk_host, "noise:exposure", params, citydesk_project, citydesk_feedback
    )
    assert 1000 < result.outputs["parcels"] < 13116
    assert 0 < result.outputs["share_of_units"] < 1
    assert citydesk_feedback.progress[-1] == 80
    layer = read_frame(citydesk_project, "noise_exposed_parcels")[0]
    assert len(layer) == result.outputs["parcels"]
    wider = run_algorithm(
        citydesk_host,
        "noise:exposure",
        {**params, "distance": 150, "output": "wide"},
        citydesk_project,
    )
    assert wider.outputs["housing_units"] > result.outputs["housing_units"]


@pytest.mark.slow  # over 10 s: started early, so it does not end the run
def test_indicator_in_scenario_comparison(citydesk_host, citydesk_project):
    from citydesk.planning.scenario_run import run_stored_scenarios
    from citydesk.planning.scenario_store import save_demo_scenarios
    from citydesk.plugins.indicators import install, uninstall

    keys = install(citydesk_host)
    try:
        save_demo_scenarios(citydesk_project)
        results, _inputs = run_stored_scenarios(
            citydesk_project, ["baseline", "housing_first"], save=False
        )
        values = {
            r.scenario.name: r.indicators.set_index(["indicator", "area"]).loc[
                ("noise:homes_near_major_roads", "city"), "value"
            ]
            for r in results
        }
        assert values["baseline"] > 1000
        assert values["housing_first"] >= values["baseline"]  # more homes, some near roads
    finally:
        uninstall(keys)


def test_bad_parameters_are_refused(citydesk_host, citydesk_project):
    from citydesk.plugins.algorithms import run_algorithm
    from citydesk.plugins.parameters import ParameterError

    with pytest.raises(ParameterError, match="distance"):
        run_algorithm(
            citydesk_host,
            "noise:exposure",
            {"roads": "street_centerlines", "parcels": "parcels", "distance": 5000},
            citydesk_project,
        )
    with pytest.raises(ParameterError, match="Point"):
        run_algorithm(
            citydesk_host,
            "noise:exposure",
            {"roads": "crashes", "parcels": "parcels"},
            citydesk_project,
        )
