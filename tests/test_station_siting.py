"""Siting fire stations on the real Cambridge network, weighted by the real crash history.

The demo scenario of the optimization issue: existing stations pre-sited, two more added,
demand-weighted response time before and after. Checked through Python and the CLI, and
against an independent evaluation of the chosen sites on the same cost matrix.
"""

from __future__ import annotations

import json
import shutil

import geopandas as gpd
import numpy as np
import pytest

from citydesk.layers.city_profile import read_profile
from citydesk.layers.road_network import build_network, network_spec
from citydesk.optimization.network_costs import travel_cost_matrix
from citydesk.optimization.solve import SolveStatus
from citydesk.planning.station_siting import (
    SitingSpec,
    candidate_nodes,
    demand_by_node,
    site_facilities,
)
from citydesk.workbench.cli.main import main

DEMO = "layers/demo_data/cambridge_demo.gpkg"


@pytest.fixture(scope="module")
def cambridge():
    from conftest import ROOT

    path = ROOT / DEMO
    network = build_network(
        gpd.read_file(path, layer="street_centerlines"), network_spec(read_profile("cambridge"))
    )
    crashes = gpd.read_file(path, layer="crashes").to_crs(4326)
    facilities = gpd.read_file(path, layer="all_facilities")
    stations = facilities[facilities["category"] == "fire_station"]
    demand = demand_by_node(network, crashes.geometry.x, crashes.geometry.y)
    return network, demand, stations


def test_two_more_stations_cut_crash_weighted_response_time(cambridge):
    network, demand, stations = cambridge
    assert demand.sum() == 9110  # every crash lands on a node
    result = site_facilities(network, demand, stations, SitingSpec(add=2))
    assert result.facility.outcome.status is SolveStatus.OPTIMAL
    assert len(result.new_sites) == 2
    assert result.after_mean_s < result.before_mean_s
    assert result.after_p90_s <= result.before_p90_s
    # the eight stations stay open: the "before" is exactly the pre-sited assignment
    assert len(result.facility.open_sites) == len(stations) + 2
    assert (result.demand["after_s"] <= result.demand["before_s"] + 1e-9).all()
    text = " ".join(result.summary())
    assert "mean" in text and "90th percentile" in text


def test_chosen_pair_beats_every_other_pair_on_a_sample(cambridge):
    """Independent check of optimality: no pair from 40 random candidates does better."""
    network, demand, stations = cambridge
    result = site_facilities(network, demand, stations, SitingSpec(add=2))
    points = stations.to_crs(4326)
    held, access = network.snap(points.geometry.x.to_numpy(), points.geometry.y.to_numpy())
    cands = candidate_nodes(network, 400.0)
    rng = np.random.default_rng(0)
    sample = list(rng.choice(cands, 40, replace=False))
    costs = travel_cost_matrix(network.graph, sample, list(demand.index))
    existing = travel_cost_matrix(network.graph, [int(n) for n in held], list(demand.index))
    base = (existing + access[None, :]).min(axis=1)
    w = demand.to_numpy(dtype=float)
    best = min(
        float(w @ np.minimum(base, np.minimum(costs[:, i], costs[:, j])))
        for i in range(len(sample))
        for j in range(i + 1, len(sample))
    )
    assert result.facility.objective <= best + 1e-6


def test_other_models_on_the_same_network(cambridge):
    network, demand, stations = cambridge
    center = site_facilities(network, demand, stations, SitingSpec(model="pcenter"))
    assert center.facility.outcome.status is SolveStatus.OPTIMAL
    assert center.facility.objective == pytest.approx(np.nanmax(center.demand["after_s"]))
    cover = site_facilities(network, demand, stations, SitingSpec(model="mclp", radius_s=60))
    within = cover.demand["after_s"] <= 60
    assert cover.facility.objective == pytest.approx(cover.demand["weight"][within].sum())
    fewest = site_facilities(network, demand, stations, SitingSpec(model="lscp", radius_s=150))
    assert (fewest.demand["after_s"] <= 150 + 1e-9).all()


def test_cli_sites_stations_and_writes_layers(tmp_path, capsys):
    from conftest import ROOT

    project = tmp_path / "demo.gpkg"
    shutil.copy(ROOT / DEMO, project)
    code = main(
        [
            "optimize",
            "pmedian",
            str(project),
            "--demand",
            "crashes",
            "--existing",
            "all_facilities",
            "--where",
            "category = 'fire_station'",
            "--json",
        ]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["status"] == "optimal"
    assert out["after_mean_s"] < out["before_mean_s"]
    sites = gpd.read_file(project, layer="optimize_pmedian_sites")
    assert len(sites) == 2
    demand = gpd.read_file(project, layer="optimize_pmedian_demand")
    assert {"before_s", "after_s", "weight"} <= set(demand.columns)


def test_a_city_with_none_of_the_kind_gets_sites_from_scratch(tmp_path, capsys):
    """A city whose data has no fire station (an OSM extract without amenity=fire_station)
    was refused ("no existing facilities to keep"); the sites are now chosen from scratch,
    and the summary says there was no facility before instead of printing nan."""
    from conftest import ROOT

    project = tmp_path / "demo.gpkg"
    shutil.copy(ROOT / DEMO, project)
    args = ["optimize", "pmedian", str(project), "--demand", "crashes", "--existing"]
    args += ["all_facilities", "--where", "category = 'no_such_kind'", "--add", "2"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "no facility before" in out and "nan" not in out
    assert "new site 2:" in out
    assert main([*args, "--json"]) == 0
    text = capsys.readouterr().out
    result = json.loads(text, parse_constant=pytest.fail)  # strict JSON: NaN would fail
    assert result["before_mean_s"] is None and result["after_mean_s"] > 0
    assert len(result["new_sites"]) == 2


def test_cli_explains_a_missing_layer(tmp_path, capsys):
    from conftest import ROOT

    project = tmp_path / "demo.gpkg"
    shutil.copy(ROOT / DEMO, project)
    code = main(["optimize", "pcenter", str(project), "--existing", "stations"])
    assert code == 2
    assert "no layer 'stations'" in capsys.readouterr().err


def _knapsack_instance(folder, n: int = 14, seed: int = 5):
    """A 2-objective knapsack in the published instances' layout (a.csv weights, b.csv
    capacity, c.csv profits), and its exact front by enumerating every subset."""
    import itertools

    import pandas as pd

    rng = np.random.default_rng(seed)
    weights = rng.integers(10, 100, n)
    capacity = int(weights.sum() // 2)
    profits = rng.integers(10, 100, (2, n))
    cols = [str(i + 1) for i in range(n)]
    folder.mkdir()
    pd.DataFrame([weights], index=[1], columns=cols).to_csv(folder / "a.csv")
    pd.DataFrame({"1": [capacity]}, index=[1]).to_csv(folder / "b.csv")
    pd.DataFrame(profits, index=[1, 2], columns=cols).to_csv(folder / "c.csv")
    values = set()
    for take in itertools.product((0, 1), repeat=n):
        x = np.array(take)
        if weights @ x <= capacity:
            values.add(tuple(int(v) for v in profits @ x))
    front = {v for v in values if not any(o != v and o[0] >= v[0] and o[1] >= v[1] for o in values)}
    return front


def test_cli_pareto_front_of_a_knapsack(tmp_path, capsys):
    """citydesk optimize pareto on an instance folder finds exactly the enumerated front."""
    import pandas as pd

    exact = _knapsack_instance(tmp_path / "kp14")
    out = tmp_path / "front.csv"
    code = main(["optimize", "pareto", str(tmp_path / "kp14"), "--output", str(out)])
    assert code == 0
    assert f"{len(exact)} non-dominated points" in capsys.readouterr().out
    found = pd.read_csv(out)
    values = {(round(f1), round(f2)) for f1, f2 in zip(found["f1"], found["f2"], strict=True)}
    assert values == exact


def _demo_copy(tmp_path):
    from conftest import ROOT

    project = tmp_path / "demo.gpkg"
    shutil.copy(ROOT / DEMO, project)
    return project


@pytest.mark.slow
def test_cli_landuse_plan_then_phasing(tmp_path, capsys):
    """A weighted plan over the 1,776 underused Cambridge parcels (``--where``; the plan
    layer still has all 13k), then its schedule over three periods."""
    project = _demo_copy(tmp_path)
    weights, targets = ["--weights", "economic=1,social=1000"], ["--housing", "800"]
    caps = ["--max-changed", "250", "--budget", "1e8", "--gap", "0.001"]
    caps += ["--where", "improvement_value_usd < 0.5 * land_value_usd"]
    code = main(["optimize", "landuse", str(project), *weights, *targets, *caps, "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    (plan,) = out["plans"]
    assert plan["housing"] >= 800 and plan["changed"] <= 250 and plan["cost"] <= 1e8
    assert plan["gap"] <= 0.001
    layer = gpd.read_file(project, layer="landuse_plan")
    assert len(layer) == 13_116 and (layer["plan_1"] != "keep").sum() == plan["changed"]
    schedule = ["--budgets", "4e7,3e7,3e7", "--housing-by-period", "400,800,1200"]
    code = main(["optimize", "phasing", str(project), *schedule])
    text = capsys.readouterr().out
    assert code == 0, text
    phased = gpd.read_file(project, layer="phasing")
    assert len(phased) == plan["changed"]
    assert set(phased["period"]) <= {0, 1, 2, 3}


@pytest.mark.slow
def test_cli_infeasible_landuse_targets_are_explained(tmp_path, capsys):
    project = _demo_copy(tmp_path)
    targets = ["--housing", "200000", "--max-changed", "600"]
    code = main(["optimize", "landuse", str(project), "--weights", "economic=1", *targets])
    assert code == 2
    err = capsys.readouterr().err
    assert "housing target 200,000 units; at most" in err and "change cap" in err
