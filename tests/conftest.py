"""Shared fixtures: paths into ../shared/data (real data), and throwaway copies of it.

Tests use the real Cambridge and San Francisco data wherever a real file exists; broken inputs
are made by damaging real files (truncating, dropping the .prj, swapping columns, re-encoding),
not by inventing shapes.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from dataclasses import dataclass
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


#: the real data sets in ../shared/data that some tests read, with their public source. A
#: user's clone has none of them: those tests skip as one group (the ``shared_data`` marker).
DATASETS = {
    "cambridge": "Cambridge, MA open GIS data (City of Cambridge GIS, PDDL 1.0)",
    "helsinki_osm": "central Helsinki OpenStreetMap extract (ODbL, OpenStreetMap contributors)",
    "nyc311_sample": "NYC 311 service requests (NYC Open Data)",
    "sf_dem": "San Francisco USGS 30 m DEM (public domain)",
    "moo_knapsack": "multi-objective knapsack fronts 2kp50/3kp40 (pyaugmecon, MIT)",
    "open311_georeport_v2_schema": "Open311 GeoReport v2 JSON Schemas (Open311 project)",
}


def pytest_report_header(config):
    if SHARED.exists():
        return f"real data: {SHARED}"
    lines = [f"real data not found at {SHARED}: the tests marked shared_data skip as one group"]
    lines += [f"  missing {name}: {source}" for name, source in DATASETS.items()]
    return lines


def pytest_collection_modifyitems(config, items):
    # the long tests first: on two workers a 3-minute test that starts last adds its whole
    # length to the run (stable sort: the order is the same on every xdist worker)
    items.sort(key=lambda item: "slow" not in item.keywords)
    # CITYDESK_RUN_SHARED_MARKED=1 runs the marked tests anyway: on a clone, the ones that
    # pass do not need the data and should lose the marker
    if SHARED.exists() or os.environ.get("CITYDESK_RUN_SHARED_MARKED"):
        return
    skip = pytest.mark.skip(
        reason="needs the real data sets in ../shared/data (see the header for each one's source)"
    )
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
    from citydesk.layers.demo import SHIPPED_DEMO

    target = tmp_path / "cambridge_demo.gpkg"
    shutil.copyfile(SHIPPED_DEMO, target)
    return target


@pytest.fixture(scope="session")
def _replayed_demo(tmp_path_factory) -> Path:
    """The demo project with its crash history replayed into the case store, made once per
    test worker (the replay takes 10-20 s; five tests start from it)."""
    from citydesk.incidents.demo_desk import run_demo_desk
    from citydesk.layers.demo import SHIPPED_DEMO

    path = tmp_path_factory.mktemp("replayed") / "cambridge_demo.gpkg"
    shutil.copyfile(SHIPPED_DEMO, path)
    run_demo_desk(path)  # 9,110 cases; its stores are closed again (WAL checkpointed)
    return path


@pytest.fixture(scope="session")
def prepared_desk_demo(tmp_path_factory) -> Path:
    """The demo project with its unit grid, crews and routing rules (``prepare_demo_desk``,
    2.5-3 s), made once per test worker in a folder of its own; tests copy it over their
    own project before opening it (``copy_project``), never use it in place."""
    from citydesk.incidents.demo_desk import prepare_demo_desk
    from citydesk.layers.demo import SHIPPED_DEMO

    path = tmp_path_factory.mktemp("prepared_desk") / "cambridge_demo.gpkg"
    shutil.copyfile(SHIPPED_DEMO, path)
    prepare_demo_desk(path)
    return path


@pytest.fixture()
def demo_with_cases(tmp_path, _replayed_demo) -> Path:
    """A private copy of the demo project with the replayed crash history (9,110 cases),
    in its own folder: a test may ask for ``demo_copy`` too, which is another file."""
    folder = tmp_path / "with_cases"
    folder.mkdir()
    return copy_project(_replayed_demo, folder / "cambridge_demo.gpkg")


def copy_project(source: Path, target: Path) -> Path:
    """A project file with its WAL beside it, if any (a copy of the file alone could miss
    the last commits)."""
    for suffix in ("", "-wal", "-shm"):
        part = source.with_name(source.name + suffix)
        if part.exists():
            shutil.copyfile(part, target.with_name(target.name + suffix))
    return target


@pytest.fixture(autouse=True)
def _isolated_indicator_registry():
    """Plugin indicators registered by one test (the CLI and the planning dock install the
    installed plugins' indicators) must not change another test's indicator tables."""
    from citydesk.planning.indicators import INDICATORS

    saved = dict(INDICATORS)
    yield
    INDICATORS.clear()
    INDICATORS.update(saved)


@pytest.fixture(autouse=True)
def _windows_close_without_asking(monkeypatch):
    """A window closed with unsaved changes asks Save/Discard/Cancel in a modal box, which
    would wait forever offscreen when pytest-qt closes the test's windows: tests discard,
    except the one that answers the question itself."""
    module = sys.modules.get("citydesk.workbench.gui.main_window")
    if module is not None:
        monkeypatch.setattr(module.MainWindow, "ask_unsaved", lambda self: "discard")


@pytest.fixture(autouse=True)
def _english_unless_a_test_says_otherwise():
    """Messages are English in every test, whatever ran before on this worker: a CLI call
    with --lang zh_CN switches the process's language and would leak into the next test."""
    from citydesk.layers.errors import use_front_end
    from citydesk.layers.i18n import set_language

    set_language("en")
    use_front_end("cli")  # a window made by an earlier test switched the hints to the GUI's
    yield
    set_language("en")
    use_front_end("cli")


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Keep the user's real data/config folders out of the tests."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    # no test reads or writes the real system keyring (PostGIS passwords)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


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

    from citydesk.incidents.grid import GridSpec, build_unit_grid

    return build_unit_grid(
        gpd.read_file(BOUNDARIES, layer="city_boundary"),
        gpd.read_file(BOUNDARIES, layer="neighborhoods"),
        GridSpec(**CAMBRIDGE_GRID_SPEC),
        gpd.read_file(BOUNDARIES, layer="census2020_tracts"),
    )


# --- the case store on both backends -------------------------------------------------------
@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostgreSQL + PostGIS cluster for the whole run (tools/pg_cluster.py).
    Skipped where PostgreSQL is not installed, unless CITYDESK_REQUIRE_POSTGIS is set (the
    README's test command sets it after installing the packages): then it is a failure."""
    sys.path.insert(0, str(ROOT / "tools"))
    from pg_cluster import Cluster, ClusterUnavailable

    try:
        cluster = Cluster().start()
    except ClusterUnavailable as exc:
        if os.environ.get("CITYDESK_REQUIRE_POSTGIS"):
            pytest.fail(f"PostGIS is required for this run: {exc}")
        pytest.skip(str(exc))
    yield cluster
    cluster.stop()


@pytest.fixture()
def pg_url(pg_cluster) -> str:
    """A URL to a fresh, empty schema of the test cluster (one per test: no cleanup)."""
    return f"{pg_cluster.url}?schema=t_{uuid.uuid4().hex[:12]}"


def pg_sql(url: str, text: str, args: tuple = ()) -> list[tuple]:
    """One statement (``%s`` parameters), committed, in the schema of a test store's URL,
    as the URL's user: what a hand-typed psql session would do."""
    import psycopg

    from citydesk.layers.pg_url import StoreUrl

    parsed = StoreUrl.parse(url)
    with psycopg.connect(parsed.text, autocommit=True) as con:
        con.execute(f"SET search_path TO {parsed.schema}, public")
        cur = con.execute(text, args)
        return cur.fetchall() if cur.description else []


def shared_staff(pg_cluster, url: str, staff: dict[str, str]) -> dict[str, str]:
    """The shared-layer departments of ``url``'s schema and who is in them, as a city's
    administrator sets them up (docs/SHARED_DATA.md). ``staff`` maps a login to its
    department ("" is the URL's own user, the database owner); each department is added
    once, each other login created. Returns {login: the URL signing in as it}. Roles are
    cluster-wide: callers give the names a random suffix."""
    from citydesk.layers.shared_catalogue import add_department, grant_department
    from citydesk.layers.shared_db import shared_database

    admin = shared_database(url)
    for department in dict.fromkeys(staff.values()):
        add_department(admin, department, department.title())
    urls = {}
    for login, department in staff.items():
        if login:
            pg_cluster.psql(f"CREATE ROLE {login} LOGIN")
        grant_department(admin, login or admin.url.user, department)
        urls[login] = url.replace("citydesk_dba@", f"{login}@") if login else url
    return urls


@dataclass
class StoreTarget:
    """Where a test's cases live: opens stores (several desks) and runs raw SQL there. Both
    backends keep the cases of the same demo project, so due times follow its city profile
    (a desk opens a PostGIS store through its project, which gives the calendar)."""

    backend: str
    place: str  # the GeoPackage path or the PostgreSQL URL
    project: str = ""  # the demo project the cases belong to

    def open(self, grid=None):
        from citydesk.incidents.calendar import project_calendar
        from citydesk.incidents.grid_index import GridIndex
        from citydesk.incidents.stores import open_store

        calendar = project_calendar(self.project) if self.project else None
        return open_store(
            self.place, GridIndex(grid) if grid is not None else None, calendar=calendar
        )

    def sql(self, text: str, args: tuple = ()) -> list[tuple]:
        """One statement, committed, as the database owner (``?`` parameters)."""
        if self.backend == "postgis":
            return pg_sql(self.place, text.replace("?", "%s"), args)
        import sqlite3

        con = sqlite3.connect(self.place)
        try:
            with con:
                return con.execute(text, args).fetchall()
        finally:
            con.close()


@pytest.fixture(params=["geopackage", "postgis"])
def store_target(request, tmp_path) -> StoreTarget:
    """The case store's place on each backend: the demo project's GeoPackage, or a fresh
    PostGIS schema. Store tests that take this fixture run once per backend."""
    demo = str(request.getfixturevalue("demo_copy"))
    if request.param == "postgis":
        return StoreTarget("postgis", request.getfixturevalue("pg_url"), demo)
    return StoreTarget("geopackage", demo, demo)
