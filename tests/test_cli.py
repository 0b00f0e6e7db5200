"""The citydesk command line on real data: outputs, exit codes and error messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import broken_inputs as bi
import pytest
from conftest import BOUNDARIES, CRASHES_CSV, PARCELS, SF_DEM_SOUTH

EXE = str(Path(sys.executable).parent / "citydesk")


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [EXE, *map(str, args)], capture_output=True, text=True, timeout=300, cwd=cwd
    )


@pytest.mark.shared_data
def test_layers_info_json():
    out = run("layers", "info", BOUNDARIES, "--json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["features"] == 1  # the first layer of the file: city_boundary
    assert {x["name"] for x in info["layers_in_file"]} >= {"neighborhoods", "census2020_blocks"}


@pytest.mark.shared_data
def test_layers_info_raster():
    out = run("layers", "info", SF_DEM_SOUTH)
    assert out.returncode == 0 and "units: ft" in out.stdout


@pytest.mark.shared_data
def test_validate_exit_codes_and_repair(tmp_path):
    out = run(
        "layers", "validate", PARCELS, "--id-field", "ML", "--repair", tmp_path / "fixed.gpkg"
    )
    assert out.returncode == 1  # errors found
    assert "37 features have invalid geometry" in out.stdout
    assert "134 features have no data" in out.stdout
    assert "repaired 37 geometries" in out.stdout
    again = run("layers", "validate", tmp_path / "fixed.gpkg")
    assert "invalid_geometry" not in again.stdout
    ok = run("layers", "validate", BOUNDARIES, "--layer", "neighborhoods")
    assert ok.returncode == 0 and "result: OK" in ok.stdout


def test_validate_json_report_for_a_corrupt_file(tmp_path):
    out = run("layers", "validate", bi.truncated_gpkg(tmp_path), "--json")
    assert out.returncode == 1
    report = json.loads(out.stdout)
    assert report["issues"][0]["code"] == "unreadable"


@pytest.mark.shared_data
def test_convert_reprojects_and_keeps_features(tmp_path):
    target = tmp_path / "hoods_cgcs.fgb"
    out = run(
        "layers", "convert", BOUNDARIES, target, "--layer", "neighborhoods", "--to-crs", "EPSG:2249"
    )
    assert out.returncode == 0, out.stderr
    info = json.loads(run("layers", "info", target, "--json").stdout)
    assert info["features"] == 13 and "2249" in info["crs"]


@pytest.mark.shared_data
def test_convert_csv_to_geoparquet(tmp_path):
    out = run("layers", "convert", CRASHES_CSV, tmp_path / "crashes.parquet")
    assert out.returncode == 0, out.stderr
    info = json.loads(run("layers", "info", tmp_path / "crashes.parquet", "--json").stdout)
    assert info["features"] == 10335


def test_convert_without_crs_needs_assign(tmp_path):
    src = bi.shapefile_without_prj(tmp_path)
    out = run("layers", "convert", src, tmp_path / "o.gpkg", "--to-crs", "EPSG:4326")
    assert out.returncode == 2
    assert "no CRS" in out.stderr and "--assign-crs" in out.stderr
    out = run(
        "layers",
        "convert",
        src,
        tmp_path / "o.gpkg",
        "--assign-crs",
        "EPSG:2249",
        "--to-crs",
        "EPSG:4326",
    )
    assert out.returncode == 0, out.stderr


@pytest.mark.shared_data
@pytest.mark.slow  # over 10 s: started early, so it does not end the run
def test_project_new_add_info(tmp_path):
    proj = tmp_path / "city.gpkg"
    assert run("project", "new", proj, "--crs", "EPSG:2249", "--name", "City").returncode == 0
    again = run("project", "new", proj)
    assert again.returncode == 2 and "already exists" in again.stderr
    out = run(
        "project",
        "add",
        proj,
        BOUNDARIES,
        "--layer",
        "neighborhoods",
        "--group",
        "Boundaries",
        "--role",
        "boundary",
    )
    assert out.returncode == 0, out.stderr
    out = run("project", "add", proj, CRASHES_CSV, "--name", "Crashes")
    assert out.returncode == 0, out.stderr
    info = json.loads(run("project", "info", proj, "--json").stdout)
    assert [lyr["name"] for lyr in info["layers"]] == ["Crashes", "neighborhoods"]
    assert info["tree"]["children"][1]["name"] == "Boundaries"
    text = run("project", "info", proj).stdout
    assert "[Boundaries]" in text and "EPSG:2249" in text


@pytest.mark.shared_data
def test_project_new_from_a_geopackage(tmp_path):
    out = run("project", "new", tmp_path / "b.gpkg", "--from", BOUNDARIES)
    assert out.returncode == 0, out.stderr
    info = json.loads(run("project", "info", tmp_path / "b.gpkg", "--json").stdout)
    assert len(info["layers"]) == 4


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("layers", "info", "/nonexistent/file.gpkg"), "does not exist"),
        (("layers", "info", "notes.docx"), "not a format"),
        (("project", "info", str(BOUNDARIES)), "not a CityDesk project"),
        (("project", "new", "x.gpkg", "--crs", "EPSG:0"), "not a coordinate reference system"),
    ],
)
def test_bad_input_gives_one_clear_line_and_exit_2(tmp_path, args, needle):
    out = run(*args, cwd=tmp_path)
    assert out.returncode == 2
    assert needle in out.stderr
    assert "Traceback" not in out.stderr
    assert "Fix:" in out.stderr


def test_unknown_command_is_a_usage_error():
    assert run("frobnicate").returncode == 2


@pytest.mark.slow  # over 10 s: started early, so it does not end the run
def test_export_map_pdf_and_png(tmp_path, demo_copy):
    import re

    pdf = tmp_path / "map.pdf"
    out = run(
        "project",
        "export-map",
        demo_copy,
        pdf,
        "--title",
        "Cambridge land use",
        "--layers",
        "parcels,neighborhoods",
    )
    assert out.returncode == 0, out.stderr
    data = pdf.read_bytes()
    assert len(re.findall(rb"/Type\s*/Page[^s]", data)) == 1
    png = tmp_path / "map.png"
    assert run("project", "export-map", demo_copy, png, "--dpi", "100").returncode == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = run("project", "export-map", demo_copy, png, "--layers", "nope")
    assert bad.returncode == 2 and "no layer 'nope'" in bad.stderr
