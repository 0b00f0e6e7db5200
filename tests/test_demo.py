"""The shipped Cambridge demo project and the headless demo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from citydesk.layers import LayerRole, load_project
from citydesk.layers.demo import SHIPPED_DEMO, SHIPPED_SF_DEM, demo_project_path

EXPECTED = {
    "parcels": (LayerRole.LAND, 13116),
    "zoning_districts": (LayerRole.LAND, 261),
    "neighborhoods": (LayerRole.BOUNDARY, 13),
    "city_boundary": (LayerRole.BOUNDARY, 1),
    "street_centerlines": (LayerRole.INFRASTRUCTURE, 2643),
    "all_facilities": (LayerRole.FACILITIES, 236),
    "open_space": (LayerRole.CONSTRAINT, 276),
    "fema_floodplain_100yr": (LayerRole.CONSTRAINT, 21),
    "water_bodies": (LayerRole.CONSTRAINT, 74),
    "crashes": (LayerRole.INCIDENTS, 9110),
}


@pytest.fixture(scope="module")
def demo():
    return load_project(SHIPPED_DEMO)


def test_demo_has_the_layers_of_the_brief(demo):
    assert demo.crs.to_epsg() == 2249
    for lid, (role, count) in EXPECTED.items():
        layer = demo.layers[lid]
        assert layer.role == role, lid
        assert layer.feature_count == count, lid


def test_parcels_carry_land_use_and_housing_units(demo):
    parcels = demo.layers["parcels"].data
    assert {"land_use", "use_code", "res_units_est", "land_value_usd"} <= set(parcels.columns)
    assert parcels["res_units_est"].sum() == pytest.approx(42_800, rel=0.02)
    assert (parcels["land_use"] == "unknown").sum() == 134
    assert demo.layers["parcels"].style.kind == "categorized"


def test_demo_credits_the_sources(demo):
    credits = demo.metadata["credits"]
    assert "City of Cambridge" in credits and "PDDL" in credits


def test_sf_dem_sample_project():
    project = load_project(SHIPPED_SF_DEM)
    dem = project.layers["sf_dem"]
    assert dem.units == "m"
    assert float(dem.masked().max()) == pytest.approx(400.5, abs=0.5)


def test_user_gets_a_private_copy():
    path = demo_project_path()
    assert path != SHIPPED_DEMO and path.exists()
    assert path.read_bytes()[:16] == b"SQLite format 3\x00"


def test_demo_does_not_read_shared_data():
    """The shipped app must not depend on ../shared at run time."""
    root = Path(__file__).resolve().parents[1]
    for pkg in ("layers", "planning", "optimization", "incidents", "plugins", "workbench"):
        for path in (root / pkg).rglob("*.py"):
            assert "shared/data" not in path.read_text(), path


@pytest.mark.slow
def test_headless_demo_writes_maps_and_report(tmp_path):
    exe = Path(sys.executable).parent / "citydesk"
    out = subprocess.run(
        [str(exe), "demo", "--headless", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "report.html" in out.stdout
    for name in (
        "report.html",
        "report.md",
        "map_overview.png",
        "map_land_use.png",
        "map_crashes.png",
        "map_sf_dem.png",
        "cambridge_demo.gpkg",
        "dashboard_grades.png",
        "dashboard_trend.png",
        "dashboard_cells.png",
        "evaluation_report.pdf",
        "map_fire_station_siting.png",
        "landuse_pareto_front.png",
    ):
        assert (tmp_path / name).stat().st_size > 1000, name
    html = (tmp_path / "report.html").read_text()
    assert "invalid_geometry (37)" in html
    assert "City of Cambridge" in html
    assert "evaluation_report.pdf" in html and "simulated" in html
    # the planning scenario: two more fire stations over the case history, proven optimal
    assert "two more fire stations" in html and "optimal (proven)" in html
    assert "land-use Pareto front" in html and "plan_10" in html
    # the weekly forecast, backtested on the crash history's last year (issue 23)
    assert "backtest of the last 52 weeks" in html and "The forecast beats seasonal naive" in html

    # every crash with a time and a point became a case, and every history replays
    import geopandas as gpd
    import pandas as pd

    from citydesk.incidents.store import SqliteCaseStore

    crashes = gpd.read_file(tmp_path / "cambridge_demo.gpkg", layer="crashes")
    when = pd.to_datetime(crashes["date_time"], format="%m/%d/%Y %I:%M:%S %p", errors="coerce")
    expected = int((when.notna() & ~crashes.geometry.is_empty & crashes.geometry.notna()).sum())
    with SqliteCaseStore(tmp_path / "cambridge_demo.gpkg") as store:
        assert store.count() == expected
        assert store.verify_all() == []
        assert store.crews()["available"].all()
