"""Planning scenarios on the real Cambridge demo project: the TOML schema and its errors,
the versioned store, a run of each demo scenario, indicators, decisions and the report."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from citydesk.planning.scenario import ScenarioError, parse_scenario, read_scenario
from citydesk.planning.scenario_store import (
    decisions,
    list_scenarios,
    load_scenario,
    record_decision,
    save_scenario,
    scenario_history,
    stored_indicators,
)
from citydesk.workbench.cli.main import main

SCENARIOS = "planning/data/scenarios"


def _text(name: str) -> str:
    from conftest import ROOT

    return (ROOT / SCENARIOS / f"{name}.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("edit", "field", "fix"),
    [
        (
            ("[targets]\nhousing_units = 3000.0", "[targets]\nhousing_unit = 3000.0"),
            "targets.housing_unit",
            "housing_units",
        ),
        (
            ("housing_units = 3000.0", "housing_units = -5.0"),
            "targets.housing_units",
            "outside 0 to",
        ),
        (("housing_units = 3000.0", 'housing_units = "many"'), "targets.housing_units", "number"),
        (
            ("max_changed_share = 0.25", "max_changed_share = 1.5"),
            "constraints.max_changed_share",
            "(0, 1]",
        ),
        (('kind = "allocate"', 'kind = "alocate"'), "kind", "allocate"),
        (("economic = 0.2", "economc = 0.2"), "objectives.weights.economc", "economic"),
        (
            ('exclude = ["floodplain", "open_space", "water"]', 'exclude = ["flood"]'),
            "constraints.exclude",
            "floodplain",
        ),
        (
            ("budgets = [5e8, 5e8, 5e8]", "budgets = [5e8]"),
            "phasing.budgets",
            "3 periods",
        ),
        (('mode = "drive"', 'mode = "fly"'), "facilities.fire.mode", "walk"),
    ],
)
def test_bad_scenarios_name_the_field(edit, field, fix):
    text = _text("housing_first")
    old, new = edit
    assert old in text
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text.replace(old, new, 1), "housing_first.toml")
    assert field in err.value.message and fix in err.value.message


def test_invalid_toml_and_unknown_factor_source():
    with pytest.raises(ScenarioError, match="not valid TOML"):
        parse_scenario("name = [unclosed", "x.toml")
    text = _text("balanced").replace('source = "overlay"', 'source = "overlap"')
    with pytest.raises(ScenarioError, match=r"suitability\.factors\.flood\.source.*overlay"):
        parse_scenario(text)
    text = _text("balanced").replace(
        '["school_walk", "library_walk", 3]', '["school_walk", "library_walk", 30]'
    )
    s = parse_scenario(text)  # the scale is checked when the weights are computed
    from citydesk.planning.ahp import AhpError
    from citydesk.planning.suitability_run import factor_weights

    with pytest.raises(AhpError, match=r"1/9\.\.9"):
        factor_weights(s)


def test_demo_scenarios_round_trip_through_toml():
    for name in ("baseline", "housing_first", "balanced"):
        s = read_scenario(f"{SCENARIOS}/{name}.toml")
        again = parse_scenario(s.to_toml())
        assert again == s


def test_schema_1_budgets_open_under_their_new_names():
    """Scenarios written before the money keys lost their "usd" (the money was always the
    city's currency) still open, and are written back with the new names."""
    text = _text("housing_first").replace("schema = 2", "schema = 1")
    old = text.replace("budget = 1.5e9", "budget_usd = 1.5e9").replace(
        "budgets = [5e8, 5e8, 5e8]", "budgets_usd = [5e8, 5e8, 5e8]"
    )
    assert "budget_usd" in old and "budgets_usd" in old
    s = parse_scenario(old, "old.toml")
    assert s.constraints.budget == 1.5e9 and s.phasing.budgets == [5e8] * 3
    written = s.to_toml()
    assert "budget_usd" not in written and "schema = 2" in written
    assert parse_scenario(written) == parse_scenario(_text("housing_first"))
    both = old.replace("budget_usd = 1.5e9", "budget_usd = 1.5e9\nbudget = 1e9")
    with pytest.raises(ScenarioError, match=r"constraints\.budget_usd.*together with budget"):
        parse_scenario(both, "both.toml")


def test_store_keeps_every_revision_and_decision(demo_copy):
    assert save_scenario(demo_copy, _text("baseline"), "ana") == 1
    edited = _text("baseline").replace('title = "Baseline: no change"', 'title = "Today"')
    assert save_scenario(demo_copy, edited, "bo") == 2
    assert load_scenario(demo_copy, "baseline").title == "Today"
    assert load_scenario(demo_copy, "baseline", revision=1).title == "Baseline: no change"
    assert list(scenario_history(demo_copy, "baseline")["author"]) == ["ana", "bo"]
    from citydesk.planning.scenario_store import scenario_diff

    diff = scenario_diff(demo_copy, "baseline")
    assert '-title = "Baseline: no change"' in diff and '+title = "Today"' in diff
    assert scenario_diff(demo_copy, "baseline", old=2, new=2) == ""
    assert main(["plan", "diff", str(demo_copy), "baseline", "--from", "1", "--to", "2"]) == 0
    assert list_scenarios(demo_copy)["revision"].tolist() == [2]
    with pytest.raises(ScenarioError, match="no scenario 'nope'"):
        load_scenario(demo_copy, "nope")
    with pytest.raises(ScenarioError, match="reason"):
        record_decision(demo_copy, "baseline", "  ", ["baseline"])
    with pytest.raises(ScenarioError, match="not among"):
        record_decision(demo_copy, "balanced", "cheaper", ["baseline"])
    record_decision(demo_copy, "baseline", "no money this year", ["baseline"], "council")
    record_decision(demo_copy, "baseline", "still no money", ["baseline"], "council")
    assert [d.reason for d in decisions(demo_copy)] == ["no money this year", "still no money"]
    # the tables open as GeoPackage attribute tables (QGIS lists them)
    import sqlite3

    con = sqlite3.connect(demo_copy)
    kinds = dict(con.execute("SELECT table_name, data_type FROM gpkg_contents").fetchall())
    con.close()
    assert kinds["citydesk_scenarios"] == kinds["citydesk_decisions"] == "attributes"


def test_check_in_project_names_missing_layers_and_fields(demo_copy):
    from citydesk.planning.scenario_check import check_in_project

    ok = parse_scenario(_text("balanced"))
    assert check_in_project(demo_copy, ok) == []
    bad = parse_scenario(
        _text("balanced").replace('zoning = "zoning_districts"', 'zoning = "zones"')
    )
    with pytest.raises(ScenarioError, match=r"layers\.zoning.*no layer 'zones'"):
        check_in_project(demo_copy, bad)
    bad = parse_scenario(
        _text("balanced").replace("improvement_value_usd < 0.5", "improvement_usd < 0.5")
    )
    with pytest.raises(ScenarioError, match=r"candidates\.where"):
        check_in_project(demo_copy, bad)


#: the tests sharing ``demo_runs`` (the three demo scenarios, 15-20 s) run together, first
#: of all and in one xdist worker (scripts/test.sh deals tests out with --dist loadgroup):
#: spread over both workers, or with one of them sorted to the front alone (the "slow" sort
#: in conftest.py), the scenarios ran twice. They also ran twice when pytest 9.2 stopped
#: xdist's grouping (pyproject keeps pytest below 9.2). The fixture is kept for the worker's
#: session, so no test of another group run between two of these can tear it down
SHARES_DEMO_RUNS = (pytest.mark.slow, pytest.mark.xdist_group("demo_runs"))


def _shares_demo_runs(test):
    for mark in SHARES_DEMO_RUNS:
        test = mark(test)
    return test


@pytest.fixture(scope="session")
def demo_runs(tmp_path_factory):
    """The three demo scenarios run once on a copy of the demo project (about 10 s)."""
    import shutil

    from conftest import ROOT

    from citydesk.planning.scenario_run import run_stored_scenarios

    path = tmp_path_factory.mktemp("plan") / "demo.gpkg"
    shutil.copyfile(ROOT / "layers/demo_data/cambridge_demo.gpkg", path)
    for name in ("baseline", "housing_first", "balanced"):
        save_scenario(path, _text(name))
    results, inputs = run_stored_scenarios(path, ["baseline", "housing_first", "balanced"])
    return path, {r.scenario.name: r for r in results}, inputs


def _city(result) -> pd.Series:
    table = result.indicators
    return table[table["area"] == "city"].set_index("indicator")["value"]


@_shares_demo_runs
def test_baseline_describes_todays_city(demo_runs):
    _path, results, inputs = demo_runs
    base = results["baseline"]
    city = _city(base)
    assert city["housing_units_added"] == 0 and city["parcels_changed"] == 0
    units = np.nan_to_num(pd.to_numeric(inputs.parcels["res_units_est"], errors="coerce")).sum()
    people = units * 2.08
    assert base.state["residents"].sum() == pytest.approx(people)
    assert 0 < city["residents_near_school"] < people
    # 2SFCA shares out exactly the seats of the schools someone can reach
    served = city["school_seat_access"] / 1000 * people
    assert served == pytest.approx(400 * 18, rel=0.2)
    assert 60 < city["mean_fire_response_s"] < 200
    # neighbourhood figures add up to the city's (sums) and weight up to it (ratios)
    by_area = base.indicators[base.indicators["area"] != "city"]
    near = by_area[by_area["indicator"] == "residents_near_school"]["value"].sum()
    unassigned = base.state[base.state["neighborhood"] == ""]
    assert near == pytest.approx(city["residents_near_school"], rel=0.02)
    assert len(unassigned) < 200


@_shares_demo_runs
def test_allocations_meet_targets_and_caps(demo_runs):
    _path, results, _inputs = demo_runs
    for name, result in results.items():
        if name == "baseline":
            continue
        s = result.scenario
        city = _city(result)
        assert result.outcome.status.value == "optimal"
        assert city["housing_units_added"] >= s.targets.housing_units - 1e-6
        assert city["parcels_changed"] <= np.floor(
            s.constraints.max_changed_share * result.candidates
        )
        assert city["plan_cost_usd"] <= s.constraints.budget * (1 + 1e-9)
        changed = result.state["changed"].to_numpy(bool)
        assert not (changed & (result.state["use"] == "keep")).any()
        # phasing builds each changed parcel once, within each period's budget
        assert set(np.unique(result.state.loc[changed, "phase"])) <= set(
            range(len(s.phasing.periods) + 1)
        )
        spend = result.phasing.by_period["spending"].to_numpy()
        assert (spend <= np.array(s.phasing.budgets) * (1 + 1e-9)).all()
    balanced = results["balanced"]
    assert _city(balanced)["parcels_changed"] < _city(results["housing_first"])["parcels_changed"]
    assert (balanced.state["use"] == "school").any()  # the 400 seats need a school
    weights = balanced.suitability.attrs["weights"]
    assert sum(weights.values()) == pytest.approx(1)
    assert balanced.suitability.attrs["ahp"].consistent


@_shares_demo_runs
def test_results_are_stored_and_compared(demo_runs):
    path, _results, _inputs = demo_runs
    stored = stored_indicators(path, ["baseline", "balanced"])
    assert set(stored["scenario"]) == {"baseline", "balanced"}
    from citydesk.layers.io import read_frame

    layer = read_frame(path, "scenario_balanced")[0]
    assert {"use", "changed", "walk_school_m", "drive_fire_s", "phase", "suitability"} <= set(
        layer.columns
    )
    # each row says which parcel it is by the fields the city profile names (id, address,
    # land use): Cambridge's map-lot, street address and assessor use code
    assert list(layer.columns[:3]) == ["ML", "address", "use_code"]
    parcels = read_frame(path, "parcels")[0]
    assert layer["ML"].tolist() == parcels["ML"].tolist()
    with pytest.raises(ScenarioError, match="no results"):
        stored_indicators(path, ["never_run"])


@_shares_demo_runs
def test_cli_compare_prefer_and_report(demo_runs, tmp_path, capsys):
    path, _results, _inputs = demo_runs
    assert (
        main(
            [
                "plan",
                "compare",
                str(path),
                "baseline",
                "housing_first",
                "balanced",
                "--csv",
                str(tmp_path / "c.csv"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Housing units added" in out and "*" in out
    assert main(["--lang", "zh_CN", "plan", "compare", str(path), "baseline", "balanced"]) == 0
    chinese = capsys.readouterr().out
    assert "新增住房" in chinese and "学位/千人" in chinese  # labels and units translated
    table = pd.read_csv(tmp_path / "c.csv", index_col=0)
    assert list(table.columns[-3:]) == ["baseline", "housing_first", "balanced"]
    assert (
        main(["plan", "prefer", str(path), "balanced", "--reason", "targets met with 179 parcels"])
        == 0
    )
    out_dir = tmp_path / "report"
    assert (
        main(
            [
                "plan",
                "report",
                str(path),
                "baseline",
                "housing_first",
                "balanced",
                "--output",
                str(out_dir),
            ]
        )
        == 0
    )
    html = (out_dir / "report.html").read_text(encoding="utf-8")
    for needed in (
        "Indicators, city-wide",
        "By neighbourhood",
        "Phasing",
        "Suitability",
        "targets met with 179 parcels",
        "Data credits",
        "consistency ratio",
    ):
        assert needed in html
    assert (out_dir / "plans.png").stat().st_size > 10_000
    # the PDF read as text: the indicator table has its headers, and each scenario's value
    # sits in its own cell (the matplotlib table ran "$631.1M$480.2M" together)
    from pypdf import PdfReader

    pages = PdfReader(out_dir / "report.pdf").pages
    text = "\n".join(p.extract_text(extraction_mode="layout") for p in pages)
    header = next(line.split() for line in text.splitlines() if line.split()[:1] == ["Indicator"])
    assert header[-3:] == ["baseline", "housing_first", "balanced"]
    value_row = next(line for line in text.splitlines() if "Land value captured" in line)
    cells = re.split(r"\s{2,}", value_row.strip())
    assert cells[0] == "Land value captured" and len(cells) == 5, cells
    # money in the city profile's currency, compact (Babel): "$0", "$631.1M"
    assert cells[1] == "USD" and all(re.fullmatch(r"\$[\d,.]+[KMB]?( \*)?", c) for c in cells[2:])
    assert "Data credits" in text and "City of Cambridge GIS" in text


def test_cli_run_json_and_errors(demo_copy, capsys):
    assert main(["plan", "save", str(demo_copy), "--demo"]) == 0
    capsys.readouterr()
    assert main(["plan", "run", str(demo_copy), "baseline", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["baseline"]["parcels_changed"] == 0
    assert main(["plan", "run", str(demo_copy), "nope"]) != 0
    assert "no scenario 'nope'" in capsys.readouterr().err


@_shares_demo_runs
def test_pareto_plans_join_the_comparison(demo_runs):
    """A plan layer's columns (what 'optimize landuse' writes) are measured with the same
    indicators: the balanced scenario's own plan, re-read, gives its own figures."""
    path, results, inputs = demo_runs
    from citydesk.planning.comparison import evaluate_plans, front_plans
    from citydesk.planning.landuse_front import save_plans

    balanced = results["balanced"]
    layer = save_plans(path, {"again": balanced.plan, "none": balanced.plan * 0}, "check")
    plans = front_plans(path, layer)
    assert list(plans) == [f"{layer}:again", f"{layer}:none"]
    _states, table = evaluate_plans(inputs, balanced.scenario, plans)
    again = table[(table["scenario"] == f"{layer}:again") & (table["area"] == "city")]
    mine = _city(balanced)
    for key, value in zip(again["indicator"], again["value"], strict=True):
        assert value == pytest.approx(mine[key], rel=1e-9, nan_ok=True), key
    none = table[(table["scenario"] == f"{layer}:none") & (table["area"] == "city")]
    assert none.set_index("indicator")["value"]["parcels_changed"] == 0


def test_raster_factor_from_a_geotiff_next_to_the_project(demo_copy):
    """A suitability factor read from a raster: a crash-density GeoTIFF made from the real
    crash points, placed beside the project and named by a relative path."""
    import rasterio
    from rasterio.transform import from_origin

    from citydesk.planning.scenario_run import prepare_inputs
    from citydesk.planning.suitability_run import run_suitability

    text = _text("balanced") + (
        "\n[suitability.factors.crash_density]\n"
        'source = "raster"\nlayer = "crash_density.tif"\nstatistic = "mean"\n'
        'transform = "linear"\nbetter = "lower"\n'
    )
    scenario = parse_scenario(
        text.replace(
            '["flood", "library_walk", 3],',
            '["flood", "library_walk", 3],\n  ["flood", "crash_density", 2],',
        )
    )
    inputs = prepare_inputs(demo_copy, scenario)
    crashes = inputs.layer("crashes", "test")
    minx, miny, maxx, maxy = inputs.parcels.total_bounds
    cell = 20.0
    width, height = int((maxx - minx) / cell) + 1, int((maxy - miny) / cell) + 1
    counts = np.zeros((height, width), dtype="float32")
    cols = ((crashes.geometry.x - minx) / cell).astype(int).clip(0, width - 1)
    rows = ((maxy - crashes.geometry.y) / cell).astype(int).clip(0, height - 1)
    np.add.at(counts, (rows.to_numpy(), cols.to_numpy()), 1)
    with rasterio.open(
        demo_copy.parent / "crash_density.tif", "w", driver="GTiff", width=width,
        height=height, count=1, dtype="float32", crs=inputs.crs.to_wkt(),
        transform=from_origin(minx, maxy, cell, cell),
    ) as dst:  # fmt: skip
        dst.write(counts, 1)
    from citydesk.planning.scenario_check import check_in_project

    check_in_project(demo_copy, scenario)  # the relative .tif is found
    result = run_suitability(inputs, scenario)
    raw = result["raw_crash_density"]
    assert raw.notna().mean() > 0.99 and raw.max() > 0
    assert result.attrs["ahp"].consistent
    assert set(result.attrs["weights"]) == {
        "school_walk",
        "library_walk",
        "land_value",
        "flood",
        "crash_density",
    }
    # parcels on crash hot spots score lower on that factor
    hot = raw > raw.quantile(0.95)
    assert result.loc[hot, "s_crash_density"].mean() < result.loc[~hot, "s_crash_density"].mean()
    missing = parse_scenario(text.replace("crash_density.tif", "nowhere.tif"))
    with pytest.raises(ScenarioError, match=r"nowhere\.tif"):
        check_in_project(demo_copy, missing)


def test_a_run_can_be_canceled(demo_copy):
    from citydesk.layers.feedback import CanceledError, RecordingFeedback
    from citydesk.planning.scenario_run import run_stored_scenarios

    save_scenario(demo_copy, _text("housing_first"))
    feedback = RecordingFeedback(cancel_after=3)
    with pytest.raises(CanceledError):
        run_stored_scenarios(demo_copy, ["housing_first"], feedback=feedback)
    # nothing half-written: no plan layer and no indicators for the canceled run
    import pyogrio

    assert "scenario_housing_first" not in [n for n, _k in pyogrio.list_layers(demo_copy)]
    with pytest.raises(ScenarioError, match="no results"):
        stored_indicators(demo_copy, ["housing_first"])


@pytest.mark.slow  # over 10 s: started early, so it does not end the run
def test_impossible_target_density_caps_and_protected_parcels(demo_copy):
    """An impossible target names the scenario fields to change; a district density cap
    lowers what the plan can build; protected parcels never change."""
    from citydesk.planning.scenario_run import prepare_inputs, run_scenario

    base = _text("housing_first")
    vacant_only = base.replace(
        "improvement_value_usd < 0.5 * land_value_usd OR land_use IN ('vacant', 'parking')",
        "land_use = 'vacant'",
    )
    impossible = parse_scenario(
        vacant_only.replace("housing_units = 3000.0", "housing_units = 3e5")
    )
    inputs = prepare_inputs(demo_copy, impossible)
    with pytest.raises(ScenarioError) as err:
        run_scenario(demo_copy, impossible, inputs=inputs)
    message = err.value.message
    assert "targets.housing_units" in message and "constraints.max_changed_share" in message
    free = run_scenario(demo_copy, parse_scenario(base), inputs=inputs)
    capped_text = base.replace(
        "zoning = true", "zoning = true\ndensity_caps = { C = 30.0, B = 30.0, A = 20.0 }"
    ).replace(
        "zoning = true",
        "zoning = true\nprotected_where = \"land_use = 'vacant'\"",
        1,
    )
    capped = run_scenario(demo_copy, parse_scenario(capped_text), inputs=inputs)
    assert _city(capped)["housing_units_added"] < _city(free)["housing_units_added"]
    vacant = inputs.parcels["land_use"].to_numpy() == "vacant"
    assert free.state["changed"].to_numpy(bool)[vacant].any()
    assert not capped.state["changed"].to_numpy(bool)[vacant].any()


def test_a_count_is_shown_without_decimals():
    """The comparison table said "Parcels changed 43.00" for one scenario and "655" for
    another: figures under 100 had two decimals, whole ones too."""
    from citydesk.planning.comparison import format_value

    assert format_value(43.0, "parcels") == "43"
    assert format_value(99.09, "s") == "99.09"
    assert format_value(1234.5, "m") == "1,234"  # hundreds and above: no decimals, as before
