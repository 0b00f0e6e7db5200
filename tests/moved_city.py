"""Another city's files, made from real data by moving, renaming and recoding it.

No open municipal data set of a Chinese or a Spanish-speaking city ships with CityDesk, so
the fixtures take the real Cambridge layers of the embedded demo (a 1.6 km square of its
centre), move them without distortion to the city in its own projected CRS, and write them
as that city's files would be: file and field names in its language, land use recoded to its
classification, floor areas in m², land values in its currency, facility kinds and district
names in its words. The shapes, the street network, the housing figures and the facilities'
positions relative to each other stay real. :mod:`chinese_city` and :mod:`spanish_city` are
the two specs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from citydesk.layers.demo import SHIPPED_DEMO
from citydesk.layers.project_store import read_project_layer

HALF_SIDE_M = 800.0
SQFT = 0.09290304


@dataclass(frozen=True)
class CitySpec:
    """How one city writes the demo's layers: file names, field names and values."""

    crs: str  # its projected CRS
    centre_lonlat: tuple[float, float]
    money_per_usd: float
    land_use: dict[str, str]  # the demo's planning class -> the city's code
    kinds: dict[str, str]  # the demo's facility category -> the city's kind word
    other_kind: str
    district_names: list[str]
    boundary_name: str
    files: dict[str, str]  # parcels, streets, facilities, districts, boundary -> file name
    parcel_fields: dict[str, str]  # id, land_use, floor_area, housing_units, land_value
    street_fields: dict[str, str]  # name, from_node, to_node, direction, road_class
    facility_fields: dict[str, str]  # name, kind
    area_fields: dict[str, str]  # name, code
    facility_name: Callable[[str, int], str] = field(default=lambda kind, i: f"{kind} {i}")


def build(folder: Path, spec: CitySpec) -> Path:
    """Write the city's files into ``folder`` (created); returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    metric = "EPSG:26986"  # Massachusetts Mainland in metres: shapes kept as they are
    read = lambda layer: read_project_layer(SHIPPED_DEMO, layer).to_crs(metric)  # noqa: E731
    parcels = read("parcels")
    x_min, y_min, x_max, y_max = parcels.total_bounds
    centre = shapely.Point((x_min + x_max) / 2, (y_min + y_max) / 2)
    window = shapely.box(
        centre.x - HALF_SIDE_M,
        centre.y - HALF_SIDE_M,
        centre.x + HALF_SIDE_M,
        centre.y + HALF_SIDE_M,
    )
    lon, lat = spec.centre_lonlat
    x0, y0 = Transformer.from_crs("EPSG:4326", spec.crs, always_xy=True).transform(lon, lat)
    dx, dy = x0 - centre.x, y0 - centre.y

    def moved(frame: gpd.GeoDataFrame, columns: dict) -> gpd.GeoDataFrame:
        offset = np.array([dx, dy])
        shifted = shapely.transform(np.asarray(frame.geometry.array), lambda xy: xy + offset)
        return gpd.GeoDataFrame(columns, geometry=shifted, crs=spec.crs)

    inside = parcels[parcels.geometry.representative_point().within(window)]
    p = spec.parcel_fields
    files = {
        spec.files["parcels"]: moved(
            inside,
            {
                p["id"]: inside["ML"].astype(str).to_numpy(),
                p["land_use"]: inside["land_use"].astype(str).map(spec.land_use).to_numpy(),
                p["floor_area"]: (inside["gross_bldg_area_sqft"] * SQFT).round(1).to_numpy(),
                p["housing_units"]: inside["res_units_est"].to_numpy(),
                p["land_value"]: (inside["land_value_usd"] * spec.money_per_usd)
                .round(0)
                .to_numpy(),
            },
        )
    }
    streets = read("street_centerlines")
    streets = streets[streets.intersects(window)]
    s = spec.street_fields
    files[spec.files["streets"]] = moved(
        streets,
        {
            s["name"]: streets["Street"].to_numpy(),
            s["from_node"]: streets["FromNode"].to_numpy(),
            s["to_node"]: streets["ToNode"].to_numpy(),
            s["direction"]: streets["Direction"].to_numpy(),
            s["road_class"]: streets["MajorRoad"].fillna(0).astype(int).to_numpy(),
        },
    )
    facilities = read("all_facilities")
    facilities = facilities[facilities.within(window.buffer(1500))]
    kinds = facilities["category"].map(spec.kinds)
    files[spec.files["facilities"]] = moved(
        facilities,
        {
            spec.facility_fields["name"]: [
                spec.facility_name(spec.kinds.get(k, spec.other_kind), i + 1)
                for i, k in enumerate(facilities["category"])
            ],
            spec.facility_fields["kind"]: kinds.fillna(spec.other_kind).to_numpy(),
        },
    )
    areas = read("neighborhoods")
    areas = areas[areas.intersects(window)].reset_index(drop=True)
    areas["geometry"] = areas.geometry.intersection(window)
    files[spec.files["districts"]] = moved(
        areas,
        {
            spec.area_fields["name"]: spec.district_names[: len(areas)],
            spec.area_fields["code"]: [f"{i + 1:03d}" for i in range(len(areas))],
        },
    )
    files[spec.files["boundary"]] = moved(
        gpd.GeoDataFrame(geometry=[window], crs=metric),
        {spec.area_fields["name"]: [spec.boundary_name]},
    )
    for name, frame in files.items():
        frame.to_file(folder / f"{name}.gpkg", layer=name, driver="GPKG")
    return folder


def summary(folder: Path) -> pd.DataFrame:
    """Rows per file (for the docs)."""
    return pd.DataFrame(
        {
            "file": [p.name for p in sorted(folder.glob("*.gpkg"))],
            "rows": [len(gpd.read_file(p)) for p in sorted(folder.glob("*.gpkg"))],
        }
    )


def cli(*args) -> int:
    """The citydesk command line with any arguments (paths as they are)."""
    from citydesk.workbench.cli.main import main

    return main([str(a) for a in args])


def init_city(folder: Path, spec: CitySpec, name: str, *options) -> tuple[Path, Path]:
    """The city's files written into ``folder``, a project made from them and the profile
    ``city init`` proposes (``options``: --timezone and the rest); (project, proposal)."""
    data = build(folder / "data", spec)
    project, proposal = folder / "city.gpkg", folder / "proposal.toml"
    args = ["city", "init", data, "--project", project, "--name", name, "--out", proposal]
    assert cli(*args, *options) == 0
    return project, proposal


def run_scenario(project: Path, folder: Path, name: str, text: str, capsys) -> dict:
    """Store a scenario (TOML text without its name) in the project, run it, and return its
    indicator values as ``plan run --json`` prints them."""
    import json

    scenario = folder / f"{name}.toml"
    scenario.write_text(f'name = "{name}"\n{text}', encoding="utf-8")
    assert cli("plan", "save", project, scenario) == 0
    capsys.readouterr()
    assert cli("plan", "run", project, name, "--json") == 0
    return json.loads(capsys.readouterr().out)[name]
