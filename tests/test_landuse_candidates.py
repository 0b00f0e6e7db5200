"""A land-use front or plan over the parcels a filter picks (``--where``, the front
dialog's candidate filter): only they change, the plan layer still covers every parcel, and
the figures are those of the whole city's plan, the parcels outside counting as neighbours
with their use today."""

from __future__ import annotations

import json

import numpy as np
import pytest

from citydesk.layers.project_store import read_project_layer
from citydesk.optimization.landuse import plan_totals
from citydesk.planning.landuse_inputs import plan_from_column, project_landuse_problem
from citydesk.workbench.cli.main import main

UNDERUSED = "improvement_value_usd < 0.5 * land_value_usd"  # the scenario docs' example


@pytest.mark.slow  # over 10 s: started early, so it does not end the run
def test_a_front_over_the_underused_parcels_changes_only_them(demo_copy, capsys):
    args = ["optimize", "landuse", str(demo_copy), "--objectives", "economic,social,compatibility"]
    args += ["--points", "3", "--housing", "800", "--budget", "1e8", "--max-changed", "250"]
    assert main([*args, "--where", UNDERUSED, "--time-limit", "120", "--json"]) == 0
    plans = json.loads(capsys.readouterr().out)["plans"]
    assert len(plans) >= 2
    layer = read_project_layer(demo_copy, "landuse_plan")
    parcels = read_project_layer(demo_copy, "parcels")
    assert len(layer) == len(parcels) == 13_116  # every parcel, the others kept
    picked = (parcels["improvement_value_usd"] < 0.5 * parcels["land_value_usd"]).to_numpy()
    assert 1_000 < picked.sum() < 3_000
    whole = project_landuse_problem(
        demo_copy, targets={"housing": 800.0}, budget=1e8, max_changed=250, compatibility=True
    )
    for row in plans:
        plan = plan_from_column(layer, row["plan"])
        assert (plan != 0).any() and not (plan[~picked] != 0).any()
        totals = plan_totals(whole, plan)  # the same plan judged over the whole city
        assert totals["housing"] >= 800 - 1e-6 and totals["cost"] <= 1e8 + 1e-3
        assert row["changed"] == totals["changed"] <= 250
        for name in ("economic", "social", "compatibility"):
            assert np.isclose(row[name], totals[name], rtol=1e-9, atol=1e-6), name
    conflicts = [row["compatibility"] for row in plans]
    assert max(conflicts) > min(conflicts)


def test_a_weighted_plan_over_some_parcels_is_written_over_all(demo_copy, capsys):
    args = ["optimize", "landuse", str(demo_copy), "--weights", "economic=1", "--housing", "300"]
    args += ["--where", "land_use = 'commercial'", "--output", "shops"]
    assert main(args) == 0
    assert "shops_plan" in capsys.readouterr().out
    layer = read_project_layer(demo_copy, "shops_plan")
    parcels = read_project_layer(demo_copy, "parcels")
    assert len(layer) == len(parcels)
    changed = layer["plan_1"] != "keep"
    assert changed.any() and (parcels.loc[changed, "land_use"] == "commercial").all()


def test_a_filter_naming_no_field_or_matching_nothing_is_refused(demo_copy, capsys):
    args = ["optimize", "landuse", str(demo_copy), "--objectives", "economic,social"]
    assert main([*args, "--where", "land_valu > 1"]) == 2
    err = capsys.readouterr().err
    assert "The candidate filter: there is no field 'land_valu'" in err and "land_value_usd" in err
    assert main([*args, "--where", "land_value_usd < 0"]) == 2
    assert "No parcel matches the candidate filter 'land_value_usd < 0'" in (
        capsys.readouterr().err
    )


def test_a_city_whose_data_lets_one_objective_vary_is_told_what_to_map(tmp_path, capsys):
    """Plots with no field but their shape, no facilities, no floodplain: only the cost can
    vary. A front was refused with "choose two objectives that can vary: cost" (one); now
    the refusal says why each objective is flat and where to look."""
    import geopandas as gpd
    import shapely

    side = 0.0004
    plots = [shapely.box(36.8 + i * side * 1.2, -1.29 + j * side * 1.2,
                         36.8 + i * side * 1.2 + side, -1.29 + j * side * 1.2 + side)
             for i in range(4) for j in range(4)]  # fmt: skip
    gpd.GeoDataFrame(geometry=plots, crs=4326).to_file(tmp_path / "plots.geojson")
    project = tmp_path / "city.gpkg"
    assert main(["city", "init", str(tmp_path), "--project", str(project), "--name", "Plots",
                 "--timezone", "Africa/Nairobi", "--store"]) == 0  # fmt: skip
    capsys.readouterr()
    args = ["optimize", "landuse", str(project), "--housing", "10", "--points", "3"]
    assert main([*args, "--objectives", "social,cost"]) == 2
    err = capsys.readouterr().err
    assert "the objective 'social' is the same for every plan" in err
    assert "no schools or parks to reach" in err
    assert "this city's data gives 1 (cost)" in err and "citydesk city check" in err
