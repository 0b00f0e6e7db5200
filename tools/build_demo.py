"""Build the shipped Cambridge demo project from ../shared/data/cambridge.

This is a developer tool: the app never reads ../shared at run time. Re-run it when the demo's
layers or styles change, and commit the resulting layers/demo_data/cambridge_demo.gpkg.

    .venv/bin/python tools/build_demo.py [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from citydesk.layers import LayerRole, Project, read_layer, save_project  # noqa: E402
from citydesk.layers.city_profile import profile_text  # noqa: E402
from citydesk.layers.land_use import LAND_USE_CLASSES, classify_codes, load_system  # noqa: E402
from citydesk.layers.style import Symbol, categorized  # noqa: E402

OUT = ROOT / "layers" / "demo_data" / "cambridge_demo.gpkg"
OUT_DEM = ROOT / "layers" / "demo_data" / "sf_dem_demo.gpkg"

LAND_USE_COLORS = {
    "residential": "#f6d36b",
    "mixed": "#f39c4a",
    "commercial": "#e0474c",
    "industrial": "#9b6fb0",
    "institutional": "#5b8fd6",
    "vacant": "#c7e9a4",
    "parking": "#9e9e9e",
    "unknown": "#eeeeee",
}


def build(shared: Path) -> Project:
    cam = shared / "cambridge"
    project = Project("Cambridge, MA (demo)", crs="EPSG:2249")
    project.metadata = {
        "description": "Real open data of Cambridge, Massachusetts, for the CityDesk demo.",
        "credits": (
            "City of Cambridge GIS (cambridgegis_data, PDDL 1.0): parcels FY2014 with assessor "
            "data, zoning, boundaries, street centerlines, facilities, open space, water bodies, "
            "FEMA floodplain. Cambridge Police Department crash data 2010-2014 "
            "(data.cambridgema.gov, via acmeyer/cambridge-street-safety, MIT)."
        ),
        "license": "PDDL 1.0 (City of Cambridge GIS data); city open-data terms (crashes)",
        # the city profile (time zone, working calendar, currency...): docs/CITY.md
        "city_profile": profile_text("cambridge"),
    }

    def add(path: Path, layer: str, name: str, role: LayerRole, group: str, **style_kw):
        lyr = read_layer(path, layer, name=name, role=role)
        lyr.id = layer if layer not in project.layers else name
        lyr.metadata["source_file"] = f"{path.parent.name}/{path.name}|layername={layer}"
        lyr.source = f"demo:{path.parent.name}/{path.name}|layername={layer}"
        for key, value in style_kw.items():
            setattr(lyr.style.symbol, key, value)
        project.add_layer(lyr, group=group, index=len(project.group(group, create=True).children))
        return lyr

    # top of the layer tree first
    add(
        cam / "crashes_2010_2014/cambridge_crashes_2010_2014.gpkg",
        "crashes",
        "Crashes 2010-2014",
        LayerRole.INCIDENTS,
        "Incidents",
        fill="#d7301f",
        stroke="#7f0000",
        size=1.2,
        stroke_width=0.1,
    )
    fac = add(
        cam / "facilities/cambridge_facilities.gpkg",
        "all_facilities",
        "Facilities",
        LayerRole.FACILITIES,
        "Facilities",
    )
    fac.style = categorized(
        fac.data["category"],
        "category",
        "tab20",
        Symbol(stroke="#222222", stroke_width=0.2, size=2.4),
    )
    add(
        cam / "streets/cambridge_streets.gpkg",
        "street_centerlines",
        "Street centerlines",
        LayerRole.INFRASTRUCTURE,
        "Infrastructure",
        stroke="#6b6b6b",
        stroke_width=0.3,
    )
    flood = add(
        cam / "infrastructure/cambridge_infrastructure.gpkg",
        "fema_floodplain_100yr",
        "FEMA 100-year floodplain",
        LayerRole.CONSTRAINT,
        "Constraints",
        fill="#6baed6",
        stroke="#2171b5",
        stroke_width=0.2,
    )
    flood.opacity = 0.45
    add(
        cam / "infrastructure/cambridge_infrastructure.gpkg",
        "open_space",
        "Open space",
        LayerRole.CONSTRAINT,
        "Constraints",
        fill="#74c476",
        stroke="#238b45",
        stroke_width=0.1,
    )
    add(
        cam / "infrastructure/cambridge_infrastructure.gpkg",
        "water_bodies",
        "Water bodies",
        LayerRole.CONSTRAINT,
        "Constraints",
        fill="#9ecae1",
        stroke="#4292c6",
        stroke_width=0.1,
    )
    hoods = add(
        cam / "boundaries/cambridge_boundaries.gpkg",
        "neighborhoods",
        "Neighborhoods",
        LayerRole.BOUNDARY,
        "Boundaries",
        fill="none",
        stroke="#3f007d",
        stroke_width=0.6,
    )
    hoods.style.label_field = "NAME"
    add(
        cam / "boundaries/cambridge_boundaries.gpkg",
        "city_boundary",
        "City boundary",
        LayerRole.BOUNDARY,
        "Boundaries",
        fill="none",
        stroke="#000000",
        stroke_width=0.8,
    )
    parcels = add(
        cam / "parcels_fy2014/cambridge_parcels_fy2014.gpkg",
        "parcels",
        "Parcels",
        LayerRole.LAND,
        "Land",
    )
    parcels.data["land_use"] = classify_codes(parcels.data["use_code"], load_system("ma_dor"))
    style = categorized(
        parcels.data["land_use"], "land_use", base=Symbol(stroke="#7a7a7a", stroke_width=0.05)
    )
    for cat in style.categories:
        cat.symbol.fill = LAND_USE_COLORS[cat.value]
        cat.label = f"{LAND_USE_CLASSES[cat.value][0]} / {LAND_USE_CLASSES[cat.value][1]}"
    parcels.style = style
    zoning = add(
        cam / "zoning/cambridge_zoning.gpkg",
        "zoning_districts",
        "Zoning districts",
        LayerRole.LAND,
        "Land",
    )
    zoning.style = categorized(
        zoning.data["ZONE_TYPE"], "ZONE_TYPE", "tab20", Symbol(stroke="#444444", stroke_width=0.2)
    )
    zoning.visible = False
    return project


def build_sf_dem(shared: Path) -> Project:
    """The San Francisco DEM, mosaicked from the two USGS quads (metres and feet)."""
    from citydesk.layers.raster_ops import mosaic

    sf = shared / "sf_dem"
    north = read_layer(sf / "San_Fran_North.dem")
    south = read_layer(sf / "sanfranciscos.dem")
    dem = mosaic([north, south], name="SF DEM 30 m (m)")
    dem.id = "sf_dem"
    dem.role = LayerRole.ELEVATION
    dem.style.hillshade = True
    dem.style.vmin, dem.style.vmax = 0.0, 400.0
    project = Project("San Francisco DEM (raster sample)", crs="EPSG:26710")
    project.metadata = {
        "credits": "USGS 7.5-minute 30 m DEMs SAN FRANCISCO NORTH and SOUTH (public domain), "
        "via dbolty/Math370-project. South quad converted from feet to metres.",
    }
    project.add_layer(dem)
    return project


def shipped_journal(path: Path) -> None:
    """Ship the file in rollback-journal mode: a copy of a WAL-mode file taken without its
    -wal loses data, and a fresh copy must not start with WAL shared memory that GDAL and
    Python's sqlite3 would both map (docs/ARCHITECTURE.md). The case store turns WAL on when
    it opens a project."""
    import sqlite3

    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA journal_mode=DELETE")
    finally:
        con.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    t0 = time.perf_counter()
    project = build(args.shared)
    save_project(project, args.out)
    shipped_journal(args.out)
    size = args.out.stat().st_size / 1e6
    print(
        f"wrote {args.out} ({size:.1f} MB, {len(project.layers)} layers) "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    save_project(build_sf_dem(args.shared), OUT_DEM)
    shipped_journal(OUT_DEM)
    print(f"wrote {OUT_DEM} ({OUT_DEM.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
