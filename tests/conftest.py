"""Shared fixtures: paths into ../shared/data (real data), and throwaway copies of it.

Tests use the real Cambridge and San Francisco data wherever a real file exists; broken inputs
are made by damaging real files (truncating, dropping the .prj, swapping columns, re-encoding),
not by inventing shapes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
CAMBRIDGE = SHARED / "cambridge"

PARCELS = CAMBRIDGE / "parcels_fy2014" / "cambridge_parcels_fy2014.gpkg"
BOUNDARIES = CAMBRIDGE / "boundaries" / "cambridge_boundaries.gpkg"
STREETS = CAMBRIDGE / "streets" / "cambridge_streets.gpkg"
FACILITIES = CAMBRIDGE / "facilities" / "cambridge_facilities.gpkg"
INFRA = CAMBRIDGE / "infrastructure" / "cambridge_infrastructure.gpkg"
CRASHES_GPKG = CAMBRIDGE / "crashes_2010_2014" / "cambridge_crashes_2010_2014.gpkg"
CRASHES_CSV = CAMBRIDGE / "crashes_2010_2014" / "Police_Department_Crash_Data_-_Historical_raw.csv"
NYC311 = SHARED / "nyc311_sample" / "nyc_311_2022-05-01_sample.csv"
SF_DEM_TIF = SHARED / "sf_dem" / "sf_dem_usgs_30m_m.tif"
SF_DEM_NORTH = SHARED / "sf_dem" / "San_Fran_North.dem"
SF_DEM_SOUTH = SHARED / "sf_dem" / "sanfranciscos.dem"


def pytest_collection_modifyitems(config, items):
    if not SHARED.exists():
        skip = pytest.mark.skip(reason=f"real data not found at {SHARED}")
        for item in items:
            if "shared_data" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def neighborhoods():
    import geopandas as gpd

    return gpd.read_file(BOUNDARIES, layer="neighborhoods")


@pytest.fixture()
def demo_copy(tmp_path) -> Path:
    """A private copy of the shipped Cambridge demo project."""
    from layers.demo import SHIPPED_DEMO

    target = tmp_path / "cambridge_demo.gpkg"
    shutil.copyfile(SHIPPED_DEMO, target)
    return target


@pytest.fixture(autouse=True)
def _isolated_indicator_registry():
    """Plugin indicators registered by one test (the CLI and the planning dock install the
    installed plugins' indicators) must not change another test's indicator tables."""
    from planning.indicators import INDICATORS

    saved = dict(INDICATORS)
    yield
    INDICATORS.clear()
    INDICATORS.update(saved)


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Keep the user's real data/config folders out of the tests."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))


#: the Cambridge unit grid as the tests build it: neighborhoods as streets, tracts as communities
CAMBRIDGE_GRID_SPEC = dict(
    county_code="250170",
    street_code_field="N_HOOD",
    street_name_field="NAME",
    community_id_field="GEOID20",
)


def cambridge_grid_cli_args(out) -> list[str]:
    """``citydesk grid build`` arguments for the Cambridge grid, written into ``out``."""
    return [
        "grid",
        "build",
        "--boundary",
        f"{BOUNDARIES}::city_boundary",
        "--streets",
        f"{BOUNDARIES}::neighborhoods",
        "--street-code-field",
        "N_HOOD",
        "--street-name-field",
        "NAME",
        "--communities",
        f"{BOUNDARIES}::census2020_tracts",
        "--community-id-field",
        "GEOID20",
        "--county",
        "250170",
        "--out",
        str(out),
    ]


@pytest.fixture(scope="session")
def cambridge_grid():
    import geopandas as gpd

    from incidents.grid import GridSpec, build_unit_grid

    return build_unit_grid(
        gpd.read_file(BOUNDARIES, layer="city_boundary"),
        gpd.read_file(BOUNDARIES, layer="neighborhoods"),
        GridSpec(**CAMBRIDGE_GRID_SPEC),
        gpd.read_file(BOUNDARIES, layer="census2020_tracts"),
    )
