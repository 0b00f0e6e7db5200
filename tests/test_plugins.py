"""The plugin host with real plugins from tests/plugins/: discovery without imports, every
broken case reported and survived, algorithms run headless with history and re-run,
indicators joining scenario comparison, and the built-in analyses through the same path."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from citydesk import __version__
from citydesk.plugins.algorithms import algorithm_specs, run_algorithm
from citydesk.plugins.api import Context
from citydesk.plugins.host import PluginError, PluginHost, set_enabled
from citydesk.plugins.parameters import ParameterError
from citydesk.workbench.cli.main import main

HERE = Path(__file__).parent / "plugins"
PACKAGES = ("good_plugin_pkg", "raises_on_load_pkg", "raises_on_run_pkg")


@pytest.fixture()
def host(monkeypatch):
    for name in PACKAGES:  # each test starts with no plugin code imported
        for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            monkeypatch.delitem(sys.modules, module)
    monkeypatch.setattr("citydesk.plugins.host.user_plugins_dir", lambda: HERE)
    return PluginHost(entry_points=False)


def test_every_case_gets_its_status(host):
    status = {r.name: (r.status, " ".join(r.problems)) for r in host.plugins()}
    assert status["citydesk"][0] == "ok"
    assert status["good-plugin"][0] == "ok"
    assert status["bad_manifest"][0] == "invalid"
    assert "homepage" in status["bad_manifest"][1]
    assert status["too-new"] == ("incompatible", f"needs CityDesk >=99; this is {__version__}")
    assert status["missing-dependency"][0] == "missing-dependency"
    assert "citydesk-test-package-that-does-not-exist" in status["missing-dependency"][1]
    assert "numpy" not in status["missing-dependency"][1]  # installed: not listed
    # broken code is not found out until it is used
    assert status["raises-on-load"][0] == status["raises-on-run"][0] == "ok"
    ids = set(algorithm_specs(host))
    assert {"citydesk:buffer", "good:count", "load:thing", "run:thing"} <= ids
    assert not ids & {"new:thing", "missing:thing", "bad:thing"}


def test_nothing_is_imported_until_used(host, demo_copy):
    specs = algorithm_specs(host)  # dialogs and CLI help come from the manifests
    assert specs["good:count"].parameters["field"].parent == "layer"
    assert host.imported_modules() == set()
    assert "good_plugin_pkg" not in sys.modules
    run_algorithm(host, "good:count", {"layer": "all_facilities"}, demo_copy)
    assert host.imported_modules() == {"good_plugin_pkg"}


def test_algorithm_runs_with_typed_parameters_and_history(host, demo_copy):
    from citydesk.layers.io import read_frame
    from citydesk.plugins.history import entry, history

    raw = {"layer": "parcels", "field": "res_units_est", "above": "10", "points": "big_homes"}
    result = run_algorithm(host, "good:count", raw, demo_copy)
    assert result.outputs["count"] > 100
    assert result.layers == ["big_homes"]
    assert read_frame(demo_copy, "big_homes")[0]["n"].iloc[0] == result.outputs["count"]
    assert ("info", f"{result.outputs['count']} features") in result.messages
    row = entry(demo_copy, result.history_id)
    assert row.parameters == {
        "layer": "parcels",
        "field": "res_units_est",
        "above": 10.0,
        "points": "big_homes",
    }
    assert row.plugin_version == "1.2.0" and row.status == "ok"
    # bad values are refused before any plugin code runs, naming the parameter
    with pytest.raises(ParameterError, match="'above'"):
        run_algorithm(host, "good:count", {"layer": "parcels", "above": "-1"}, demo_copy)
    with pytest.raises(ParameterError, match="no field 'nope'"):
        run_algorithm(host, "good:count", {"layer": "parcels", "field": "nope"}, demo_copy)
    with pytest.raises(ParameterError, match="unknown parameter"):
        run_algorithm(host, "good:count", {"layer": "parcels", "colour": "red"}, demo_copy)
    assert len(history(demo_copy)) == 1  # refused runs are not runs


def test_a_plugin_that_raises_is_disabled_and_the_rest_keeps_working(host, demo_copy):
    from citydesk.plugins.history import history

    with pytest.raises(PluginError, match="raises-on-load failed to load"):
        run_algorithm(host, "load:thing", {}, demo_copy)
    assert host.plugin("raises-on-load").status == "failed"
    assert "broken at import time" in " ".join(host.plugin("raises-on-load").problems)
    with pytest.raises(PluginError, match=r"division by zero"):
        run_algorithm(host, "run:thing", {}, demo_copy)
    record = host.plugin("raises-on-run")
    assert record.status == "failed" and "algorithms.py" in record.problems[-1]
    with pytest.raises(PluginError, match="raises-on-run, which is failed"):
        run_algorithm(host, "run:thing", {}, demo_copy)
    runs = history(demo_copy)
    assert list(runs["status"]) == ["failed", "failed"]
    assert "ZeroDivisionError" in runs["message"].iloc[-1]
    # the host and the other plugins carry on
    assert (
        run_algorithm(host, "good:count", {"layer": "crashes"}, demo_copy).outputs["count"] == 9110
    )


def test_disabled_plugins_stay_out(host, monkeypatch):
    set_enabled("good-plugin", False)
    monkeypatch.setattr("citydesk.plugins.host.user_plugins_dir", lambda: HERE)
    again = PluginHost(entry_points=False)
    assert again.plugin("good-plugin").status == "disabled"
    assert "good:count" not in algorithm_specs(again)
    set_enabled("good-plugin", True)
    assert PluginHost(entry_points=False).plugin("good-plugin").status == "ok"


def test_entry_point_discovery_reads_the_manifest_without_importing(tmp_path, monkeypatch):
    """An installed distribution declaring citydesk.plugins = {ep_plugin = ep_pkg}."""
    package = tmp_path / "ep_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("raise RuntimeError('imported!')\n")
    (package / "citydesk_plugin.toml").write_text(
        (HERE / "good_plugin" / "citydesk_plugin.toml")
        .read_text()
        .replace('name = "good-plugin"', 'name = "ep-plugin"')
        .replace("good:", "ep:")
    )
    info = tmp_path / "ep_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ep-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[citydesk.plugins]\nep_plugin = ep_pkg\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr("citydesk.plugins.host.user_plugins_dir", lambda: tmp_path / "none")
    host = PluginHost()
    record = host.plugin("ep-plugin")
    assert record.status == "ok" and record.source == "entry point ep_plugin"
    assert "ep:count" in algorithm_specs(host)
    assert "ep_pkg" not in sys.modules


@pytest.mark.slow  # over 10 s: started early, so it does not end the run
def test_plugin_indicator_joins_scenario_comparison(host, demo_copy):
    from citydesk.planning.indicators import INDICATORS
    from citydesk.planning.scenario_run import run_stored_scenarios
    from citydesk.planning.scenario_store import save_demo_scenarios
    from citydesk.plugins.indicators import install, uninstall

    keys = install(host)
    try:
        assert {"good:mean_parcel_area", "run:broken_indicator"} <= set(keys)
        assert "good_plugin_pkg" not in sys.modules  # registered, not imported
        save_demo_scenarios(demo_copy)
        (result,), _inputs = run_stored_scenarios(demo_copy, ["balanced"], save=False)
        table = result.indicators
        city = table[(table["area"] == "city")].set_index("indicator")
        assert city.loc["good:mean_parcel_area", "unit"] == "m²"
        assert city.loc["good:mean_parcel_area", "value"] > 0
        assert "run:broken_indicator" not in set(table["indicator"])
        assert any("run:broken_indicator" in p for p in result.problems)
        assert host.plugin("raises-on-run").status == "failed"
    finally:
        uninstall(keys)
    assert "good:mean_parcel_area" not in INDICATORS


def test_commands_get_the_host_api(host):
    from citydesk.plugins.commands import run_command

    context = Context()
    run_command(host, "good:hello", context)
    assert context.messages == [("info", "hello from good-plugin")]


def test_builtin_analyses_run_through_the_host(host, demo_copy):
    from citydesk.layers.io import read_frame

    zonal = run_algorithm(
        host,
        "citydesk:nearest_facility",
        {
            "places": "parcels",
            "facilities": "all_facilities",
            "facility_filter": "category = 'fire_station'",
            "streets": "street_centerlines",
            "mode": "drive",
            "output": "fire_drive",
        },
        demo_copy,
    )
    frame = read_frame(demo_copy, "fire_drive")[0]
    assert frame["drive_s"].median() == pytest.approx(zonal.outputs["median"])
    assert 30 < zonal.outputs["median"] < 300
    areas = run_algorithm(
        host,
        "citydesk:service_areas",
        {"facilities": "all_facilities", "facility_filter": "category = 'public_library'",
         "streets": "street_centerlines", "thresholds": "400,800", "output": "library_walk"},
        demo_copy,
    )  # fmt: skip
    assert areas.outputs["areas_km2"][0] < areas.outputs["areas_km2"][1]
    with pytest.raises(ParameterError, match="Point"):
        run_algorithm(
            host, "citydesk:zonal_statistics", {"polygons": "crashes", "raster": "x.tif"}, demo_copy
        )


def test_cli_plugins_run_batch_and_rerun(host, demo_copy, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("citydesk.workbench.cli.plugins_cmd._host", lambda: host)
    assert main(["plugins", "list", "--json"]) == 0
    listed = {p["name"]: p for p in json.loads(capsys.readouterr().out)}
    assert listed["too-new"]["status"] == "incompatible"
    assert main(["run", "citydesk:buffer", "--help-params"]) == 0
    assert "--distance" in capsys.readouterr().out
    assert main(["run", "citydesk:buffer", "--help"]) == 0  # was "unknown parameter(s) help"
    assert "--distance" in capsys.readouterr().out
    args = ["run", "citydesk:buffer", "--project", str(demo_copy), "--input", "all_facilities",
            "--distance", "150", "--dissolve", "--output", "near_facilities"]  # fmt: skip
    assert main(args) == 0
    assert "wrote layer near_facilities" in capsys.readouterr().out
    batch = tmp_path / "jobs.jsonl"
    lines = [
        {"algorithm": "good:count", "project": str(demo_copy), "params": {"layer": "crashes"}},
        {"algorithm": "good:count", "project": str(demo_copy), "params": {"layer": "nope"}},
        {"algorithm": "citydesk:buffer", "project": str(demo_copy),
         "params": {"input": "city_boundary", "distance": 50, "output": "edge"}},
    ]  # fmt: skip
    batch.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    assert main(["run", "--batch", str(batch)]) == 1  # one line failed, the others ran
    out, err = capsys.readouterr()
    assert "count: 9110" in out and "line 2:" in err and "wrote layer edge" in out
    assert main(["history", "list", str(demo_copy)]) == 0
    assert "citydesk:buffer" in capsys.readouterr().out
    assert main(["history", "rerun", str(demo_copy), "1"]) == 0
    assert "re-running citydesk:buffer" in capsys.readouterr().out
    assert main(["history", "rerun", str(demo_copy), "99"]) != 0
    assert main(["run", "new:thing", "--project", str(demo_copy)]) != 0
    assert "too-new, which is incompatible" in capsys.readouterr().err


def test_plugin_formats_through_layers_io(host, monkeypatch, tmp_path):
    """A plugin's reader and writer serve the extensions CityDesk does not know; a reader
    that raises gives a clear read error and marks its plugin failed."""
    from citydesk.layers.errors import LayerReadError
    from citydesk.layers.io import read_frame, write_frame

    monkeypatch.setattr("citydesk.plugins.host.user_plugins_dir", lambda: HERE)
    from conftest import ROOT

    stations = read_frame(ROOT / "layers/demo_data/cambridge_demo.gpkg", "all_facilities")[0]
    stations = stations[stations["category"] == "fire_station"]
    target = write_frame(stations, tmp_path / "stations.wktl")
    assert target.read_text().startswith("POINT")
    again, facts = read_frame(target)
    assert len(again) == 8 and facts["driver"] == "plugin good-plugin"
    assert again.geom_equals_exact(
        stations.to_crs(4326).geometry.reset_index(drop=True), 1e-9
    ).all()
    broken = tmp_path / "x.broken"
    broken.write_text("anything")
    with pytest.raises(LayerReadError, match="raises-on-run plugin could not read"):
        read_frame(broken)
    with pytest.raises(LayerReadError, match="not a format CityDesk reads"):
        read_frame(tmp_path / "stations.nothing")


@pytest.mark.slow  # over 10 s: started early, so it does not end the run
def test_builtin_grid_kpi_zonal_and_suitability(host, demo_copy):
    """The rest of the built-in analyses through the host: a unit grid into the project, KPIs
    over the replayed case history, zonal statistics of a GeoTIFF, a scenario's suitability."""
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    from citydesk.incidents.demo_desk import run_demo_desk
    from citydesk.layers.io import read_frame
    from citydesk.planning.scenario_store import save_demo_scenarios

    grid = run_algorithm(
        host,
        "citydesk:unit_grid",
        {"boundary": "city_boundary", "streets": "neighborhoods", "street_code_field": "N_HOOD",
         "county": "250170", "cell_size": 200},
        demo_copy,
    )  # fmt: skip
    assert 300 < grid.outputs["cells"] < 600
    assert grid.outputs["first_code"].startswith("250170")
    run_demo_desk(demo_copy)
    kpi = run_algorithm(host, "citydesk:kpi", {"by": "department"}, demo_copy)
    assert (
        kpi.outputs["groups"] >= 1 and sum(kpi.outputs["grades"].values()) == kpi.outputs["groups"]
    )
    parcels = read_frame(demo_copy, "parcels")[0].to_crs(26986)
    minx, miny, maxx, maxy = parcels.total_bounds
    with rasterio.open(
        demo_copy.parent / "ramp.tif", "w", driver="GTiff", width=100, height=100, count=1,
        dtype="float32", crs="EPSG:26986",
        transform=from_origin(minx, maxy, (maxx - minx) / 100, (maxy - miny) / 100),
    ) as dst:  # fmt: skip
        dst.write(np.tile(np.arange(100, dtype="float32"), (100, 1)), 1)  # grows to the east
    zonal = run_algorithm(
        host,
        "citydesk:zonal_statistics",
        {"polygons": "neighborhoods", "raster": "ramp.tif", "statistic": "mean", "output": "ramp"},
        demo_copy,
    )
    assert zonal.outputs["without_pixels"] == 0
    frame = read_frame(demo_copy, "ramp")[0].to_crs(26986)
    assert len(frame) == zonal.outputs["polygons"]
    east = frame.geometry.centroid.x
    assert np.corrcoef(east, frame["mean"])[0, 1] > 0.9  # eastern neighbourhoods score higher
    save_demo_scenarios(demo_copy)
    suit = run_algorithm(host, "citydesk:suitability", {"scenario": "balanced"}, demo_copy)
    assert suit.outputs["layer"] == "suitability_balanced"
    assert suit.outputs["consistency_ratio"] < 0.1


def test_manifest_checks_name_the_key():
    from citydesk.plugins.manifest import ManifestError, parse_manifest

    good = (HERE / "good_plugin" / "citydesk_plugin.toml").read_text()
    assert parse_manifest(good).name == "good-plugin"
    cases = {
        'author = "CityDesk tests"\n': "plugin.author: missing",
        'requires-citydesk = ">=0.1"': "Invalid specifier: 'newest'",
        'type = "number"': "did you mean 'number'?",
        'parent = "layer"': "names no layer parameter as parent",
        'version = "1.2.0"': "bad version",
    }
    edits = {
        'author = "CityDesk tests"\n': "",
        'requires-citydesk = ">=0.1"': 'requires-citydesk = "newest"',
        'type = "number"': 'type = "numbr"',
        'parent = "layer"': 'parent = "nothing"',
        'version = "1.2.0"': 'version = "one point two"',
    }
    cases['run = "good_plugin_pkg.algorithms:count"'] = "is not module:attribute"
    edits['run = "good_plugin_pkg.algorithms:count"'] = 'run = "good_plugin_pkg.algorithms.count"'
    cases['label = "Layer"'] = "did you mean 'label'?"
    edits['label = "Layer"'] = 'lable = "Layer"'
    for old, expected in cases.items():
        with pytest.raises(ManifestError) as err:
            parse_manifest(good.replace(old, edits[old], 1), "x.toml")
        assert expected in err.value.message, (old, err.value.message)


def test_history_of_a_missing_project_is_an_error_not_a_new_file(tmp_path):
    from citydesk.layers.errors import CityDeskError
    from citydesk.plugins.history import history

    missing = tmp_path / "typo.gpkg"
    with pytest.raises(CityDeskError, match="does not exist"):
        history(missing)
    assert not missing.exists()


def test_an_output_never_replaces_a_layer_without_a_yes(host, demo_copy, capsys, monkeypatch):
    """Buffer with output 'parcels' once replaced the 13,116 parcels with 236 buffers: an
    existing name is refused unless confirmed, and unnamed outputs get new ids."""
    from citydesk.layers.io import read_frame
    from citydesk.plugins.algorithms import LayerExists

    parcels = len(read_frame(demo_copy, "parcels")[0])
    buffer = {"input": "all_facilities", "distance": 50}
    with pytest.raises(LayerExists, match="already has a layer 'parcels'"):
        run_algorithm(host, "citydesk:buffer", {**buffer, "output": "parcels"}, demo_copy)
    assert len(read_frame(demo_copy, "parcels")[0]) == parcels
    first = run_algorithm(host, "citydesk:buffer", buffer, demo_copy)
    second = run_algorithm(host, "citydesk:buffer", {**buffer, "distance": 80}, demo_copy)
    assert first.layers == ["buffer_output"] and second.layers == ["buffer_output_2"]
    again = run_algorithm(
        host, "citydesk:buffer", {**buffer, "output": "buffer_output"}, demo_copy, overwrite=True
    )
    assert again.layers == ["buffer_output"]
    monkeypatch.setattr("citydesk.workbench.cli.plugins_cmd._host", lambda: host)
    args = ["run", "citydesk:buffer", "--project", str(demo_copy), "--input", "all_facilities",
            "--distance", "50", "--output", "parcels"]  # fmt: skip
    assert main(args) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert len(read_frame(demo_copy, "parcels")[0]) == parcels
    assert main([*args, "--overwrite"]) == 0
    assert len(read_frame(demo_copy, "parcels")[0]) < parcels  # replaced, as confirmed


def test_an_entry_outside_the_plugin_is_refused_and_nothing_runs(tmp_path, monkeypatch, demo_copy):
    """issue 21: a manifest naming ``runpy:run_path`` made CityDesk run a data file."""
    folder = tmp_path / "plugins" / "sneaky"
    folder.mkdir(parents=True)
    (folder / "citydesk_plugin.toml").write_text(
        """[plugin]
name = "sneaky"
version = "1.0.0"
author = "x"
description = "runs any file"
license = "MIT"
requires-citydesk = ">=0.1"

[[algorithms]]
id = "sneaky:run"
name = "Run"
group = "Tests"
description = "x"
run = "runpy:run_path"
""",
        encoding="utf-8",
    )
    marker = tmp_path / "ran.txt"
    payload = tmp_path / "payload.py"
    payload.write_text(f"open({str(marker)!r}, 'w').write('ran')\n", encoding="utf-8")
    monkeypatch.setattr("citydesk.plugins.host.user_plugins_dir", lambda: tmp_path / "plugins")
    host = PluginHost(entry_points=False)
    with pytest.raises(PluginError, match="not inside the plugin's folder"):
        run_algorithm(host, "sneaky:run", {}, demo_copy)
    assert host.plugin("sneaky").status == "failed"
    assert not marker.exists()


def test_a_plugin_that_calls_sys_exit_is_disabled_not_obeyed(tmp_path, monkeypatch, demo_copy):
    """issue 21: a plugin calling sys.exit ended CityDesk."""
    folder = tmp_path / "plugins" / "quitter"
    (folder / "quitter_pkg").mkdir(parents=True)
    (folder / "quitter_pkg" / "__init__.py").write_text("", encoding="utf-8")
    (folder / "quitter_pkg" / "run.py").write_text(
        "import sys\n\ndef go(params, context, feedback):\n    sys.exit(3)\n", encoding="utf-8"
    )
    (folder / "citydesk_plugin.toml").write_text(
        """[plugin]
name = "quitter"
version = "1.0.0"
author = "x"
description = "exits"
license = "MIT"
requires-citydesk = ">=0.1"

[[algorithms]]
id = "quitter:go"
name = "Go"
group = "Tests"
description = "x"
run = "quitter_pkg.run:go"
""",
        encoding="utf-8",
    )
    monkeypatch.setattr("citydesk.plugins.host.user_plugins_dir", lambda: tmp_path / "plugins")
    host = PluginHost(entry_points=False)
    with pytest.raises(PluginError, match=r"tried to end CityDesk \(sys.exit\(3\)\)"):
        run_algorithm(host, "quitter:go", {}, demo_copy)
    assert host.plugin("quitter").status == "failed"


def test_repair_geometries_is_the_desktop_way_to_the_validation_fix(demo_copy, tmp_path, capsys):
    """The validation report sends GUI users to Processing > Repair geometries: a bow-tie
    parcel comes out valid and still a polygon, the valid ones unchanged."""
    import geopandas as gpd
    import shapely

    from citydesk.layers.project_store import read_project_layer

    bowtie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    square = shapely.box(20, 0, 30, 10)
    path = tmp_path / "lots.geojson"
    gpd.GeoDataFrame({"n": [1, 2]}, geometry=[bowtie, square], crs=2249).to_file(path)
    assert main(["project", "add", str(demo_copy), str(path)]) == 0
    args = ["run", "citydesk:repair_geometries", "--project", str(demo_copy),
            "--input", "lots", "--output", "lots_repaired"]  # fmt: skip
    assert main(args) == 0
    assert "repaired: 1" in capsys.readouterr().out
    fixed = read_project_layer(demo_copy, "lots_repaired")
    assert fixed.geometry.is_valid.all() and set(fixed.geom_type) <= {"Polygon", "MultiPolygon"}
    assert fixed.geometry.iloc[1].equals(square)
