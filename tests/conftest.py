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
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Keep the user's real data/config folders out of the tests."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
