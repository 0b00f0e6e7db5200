"""A city's layers and a first city profile from an OpenStreetMap extract.

What ``citydesk city from-osm`` builds, so a city with no municipal GIS at hand starts from
the map everyone can download:

- ``streets``: every way with a ``highway`` class CityDesk knows, **split at the nodes it
  shares with other ways** (OSM ways run across junctions; unsplit, a third of central
  Helsinki's nodes were reachable), with ``walk`` and ``drive`` flags and a speed per class
  (``layers/data/osm_highways.toml``), ``oneway`` as 1 / -1 / 0 (implied on motorways and
  roundabouts) and ``maxspeed_kmh`` from the tag (mph converted);
- ``buildings`` and ``landuse`` (the land where a city has no parcels), with areas measured
  in the working CRS and floor area only where ``building:levels`` is tagged;
- ``facilities``: every feature with an ``amenity`` tag, polygons at a point inside them,
  the tag as ``kind`` (``fire_station``, ``school``, ...);
- ``boundary``: the administrative boundaries in the extract, or the outline of the streets
  when the extract has none (said in the notes).

Splitting at shared nodes, not at every crossing: bridges and tunnels cross without a shared
node and must stay apart. GDAL's OSM driver gives no node ids, but a shared node is the same
coordinate in both ways, exactly, so the split points are the coordinates that occur more
than once.
"""

from __future__ import annotations

import itertools
import logging
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .crs import suggest_projected_crs, to_lonlat_bounds
from .errors import CityDeskError
from .feedback import Feedback, NullFeedback, check_canceled
from .i18n import _, ngettext
from .readers.osm import OsmExtract, read_osm
from .toml_schema import parse_toml, read_table

log = logging.getLogger(__name__)

OSM_CREDITS = "Map data (c) OpenStreetMap contributors, ODbL 1.0 (openstreetmap.org/copyright)."


class OsmCityError(CityDeskError):
    """An OpenStreetMap extract that cannot become a city."""


@dataclass
class HighwayClass:
    walk: bool
    drive: bool
    speed_kmh: float


@dataclass
class ImpliedOneway:
    highway: list[str] = field(default_factory=list)
    junction: list[str] = field(default_factory=list)


@dataclass
class HighwayTable:
    classes: dict[str, HighwayClass]
    implied_oneway: ImpliedOneway = field(default_factory=ImpliedOneway)


def highway_table(path: str | Path | None = None) -> HighwayTable:
    """The highway classes (shipped ``osm_highways.toml``, or a city's own copy)."""
    if path is None:
        text = (
            resources.files("citydesk.layers")
            .joinpath("data/osm_highways.toml")
            .read_text(encoding="utf-8")
        )
        source = "osm_highways.toml"
    else:
        text, source = Path(path).read_text(encoding="utf-8"), str(path)
    table = parse_toml(text, OsmCityError, _("highway table"), source)
    return read_table(HighwayTable, table, OsmCityError, source)


_SPEED = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$", re.IGNORECASE)


def parse_maxspeed(value: object) -> float:
    """km/h of an OSM ``maxspeed`` value ("30", "30 mph", "50 km/h"); NaN for what is not
    a number (``FI:urban``, ``none``, ``signals``): the class speed then applies."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    match = _SPEED.match(str(value).split(";")[0])
    if not match:
        return math.nan
    speed = float(match.group(1))
    return speed * 1.609344 if (match.group(2) or "").lower() == "mph" else speed


def parse_oneway(value: object, implied: bool) -> int:
    """1 along the way, -1 against it, 0 both ways (OSM ``oneway`` values)."""
    text = "" if value is None else str(value).strip().lower()
    if text in ("yes", "true", "1"):
        return 1
    if text in ("-1", "reverse"):
        return -1
    if text in ("no", "false", "0"):
        return 0
    return 1 if implied else 0


def split_at_shared_nodes(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each line cut at its inner vertices that other lines (or itself) also pass through.
    Returns (segments, index of the source line of each segment)."""
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    _u, inverse, counts = np.unique(coords, axis=0, return_inverse=True, return_counts=True)
    shared = counts[inverse.ravel()] > 1
    starts = np.r_[0, np.flatnonzero(np.diff(owner)) + 1]
    ends = np.r_[starts[1:], len(owner)]
    segments: list[shapely.LineString] = []
    sources: list[int] = []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        cuts = [start] + [i for i in range(start + 1, end - 1) if shared[i]] + [end - 1]
        for a, b in itertools.pairwise(cuts):
            if b > a:
                segments.append(shapely.LineString(coords[a : b + 1]))
                sources.append(int(owner[start]))
    return np.asarray(segments, dtype=object), np.asarray(sources, dtype=np.int64)


def _osm_ids(frame: pd.DataFrame) -> pd.Series:
    ids = (
        frame["osm_id"] if "osm_id" in frame else pd.Series([None] * len(frame), index=frame.index)
    )
    if "osm_way_id" in frame:
        ids = ids.fillna(frame["osm_way_id"])
    return ids.astype(object).where(ids.notna(), None).astype(str)


def osm_streets(extract: OsmExtract, crs, table: HighwayTable) -> tuple[gpd.GeoDataFrame, int]:
    """The street segments (see the module's docstring), and how many ways were left out
    because their highway class is not in the table."""
    lines = extract.layers["lines"]
    highway = extract.tag("lines", "highway")
    known = highway.isin(list(table.classes)).to_numpy()
    left_out = int((highway.notna().to_numpy() & ~known).sum())
    ways = lines[known].reset_index(drop=True)
    classes = highway[known].reset_index(drop=True)
    sub = OsmExtract(extract.path, {"lines": ways})
    oneway_tag, junction = sub.tag("lines", "oneway"), sub.tag("lines", "junction")
    implied = classes.isin(table.implied_oneway.highway) | junction.isin(
        table.implied_oneway.junction
    )
    oneway = [parse_oneway(v, bool(i)) for v, i in zip(oneway_tag, implied, strict=True)]
    maxspeed = [parse_maxspeed(v) for v in sub.tag("lines", "maxspeed")]
    segments, source = split_at_shared_nodes(ways.geometry.values)
    frame = gpd.GeoDataFrame(
        {
            "osm_id": _osm_ids(ways).to_numpy()[source],
            "name": ways["name"].to_numpy()[source] if "name" in ways else None,
            "highway": classes.to_numpy()[source],
            "oneway": np.asarray(oneway, dtype=np.int64)[source],
            "maxspeed_kmh": np.asarray(maxspeed, dtype=float)[source],
            "walk": [table.classes[c].walk for c in classes.to_numpy()[source]],
            "drive": [table.classes[c].drive for c in classes.to_numpy()[source]],
        },
        geometry=gpd.GeoSeries(segments, crs="EPSG:4326"),
    ).to_crs(crs)
    frame["length_m"] = frame.geometry.length.round(2)
    return frame, left_out


def _areas(extract: OsmExtract, key: str, crs) -> gpd.GeoDataFrame:
    polygons = extract.layers["multipolygons"]
    value = extract.tag("multipolygons", key)
    chosen = value.notna().to_numpy()
    frame = polygons[chosen].reset_index(drop=True)
    out = gpd.GeoDataFrame(
        {
            "osm_id": _osm_ids(frame).to_numpy(),
            "name": frame["name"].to_numpy() if "name" in frame else None,
            key: value[chosen].to_numpy(),
        },
        geometry=gpd.GeoSeries(shapely.make_valid(frame.geometry.values), crs="EPSG:4326"),
    ).to_crs(crs)
    out = out[out.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index(drop=True)
    out["area_m2"] = out.geometry.area.round(1)
    return out


def osm_buildings(extract: OsmExtract, crs) -> gpd.GeoDataFrame:
    """Building footprints; floor area = footprint x ``building:levels`` where tagged, left
    empty where not (an invented storey count would become a silent housing figure)."""
    buildings = _areas(extract, "building", crs)
    polygons = extract.layers["multipolygons"]
    chosen = extract.tag("multipolygons", "building").notna().to_numpy()
    levels_tag = extract.tag("multipolygons", "building:levels")[chosen].reset_index(drop=True)
    levels = pd.to_numeric(levels_tag, errors="coerce")
    valid = shapely.make_valid(polygons[chosen].geometry.values)
    keep = np.isin(shapely.get_type_id(valid), [3, 6])  # what _areas kept: (multi)polygons
    buildings["levels"] = levels[keep].to_numpy()
    buildings["floor_area_m2"] = (buildings["area_m2"] * buildings["levels"]).round(1)
    return buildings


def _tagged_points(
    extract: OsmExtract, crs, tags: dict[str, str], with_name: bool = False
) -> gpd.GeoDataFrame:
    """Every node and area that has all ``tags`` (column -> OSM key) as a point inside the
    feature, with its ``osm_id``, those columns and, if asked, its ``name``."""
    parts = []
    for layer in ("points", "multipolygons"):
        values = {column: extract.tag(layer, key) for column, key in tags.items()}
        chosen = np.logical_and.reduce([v.notna().to_numpy() for v in values.values()])
        frame = extract.layers[layer][chosen].reset_index(drop=True)
        columns = {"osm_id": _osm_ids(frame).to_numpy()}
        if with_name:
            columns["name"] = frame["name"].to_numpy() if "name" in frame else None
        columns.update({column: v[chosen].to_numpy() for column, v in values.items()})
        parts.append(
            gpd.GeoDataFrame(
                columns,
                geometry=gpd.GeoSeries(
                    shapely.point_on_surface(shapely.make_valid(frame.geometry.values)),
                    crs="EPSG:4326",
                ),
            )
        )
    return pd.concat(parts, ignore_index=True).to_crs(crs)


def osm_facilities(extract: OsmExtract, crs) -> gpd.GeoDataFrame:
    """Every amenity, point or polygon, as a point with its ``kind``."""
    return _tagged_points(extract, crs, {"kind": "amenity"}, with_name=True)


def osm_addresses(extract: OsmExtract, crs) -> gpd.GeoDataFrame:
    """Every address OpenStreetMap has (``addr:street`` and ``addr:housenumber`` on a node,
    a building or another area) as a point: the intake desk's gazetteer, since OSM streets
    carry no house-number ranges."""
    return _tagged_points(
        extract, crs, {"street": "addr:street", "housenumber": "addr:housenumber"}
    )


def osm_boundary(
    extract: OsmExtract, streets: gpd.GeoDataFrame, name: str
) -> tuple[gpd.GeoDataFrame, str | None]:
    """Administrative boundaries, or the streets' outline with a note saying so."""
    boundary = extract.tag("multipolygons", "boundary")
    chosen = (boundary == "administrative").to_numpy()
    if chosen.any():
        frame = extract.layers["multipolygons"][chosen].reset_index(drop=True)
        out = gpd.GeoDataFrame(
            {
                "osm_id": _osm_ids(frame).to_numpy(),
                "name": frame["name"].to_numpy() if "name" in frame else None,
                "admin_level": extract.tag("multipolygons", "admin_level")[chosen].to_numpy(),
            },
            geometry=gpd.GeoSeries(shapely.make_valid(frame.geometry.values), crs="EPSG:4326"),
        ).to_crs(streets.crs)
        return out, None
    hull = shapely.concave_hull(shapely.union_all(streets.geometry.values), ratio=0.3)
    outline = gpd.GeoDataFrame(
        {"osm_id": [""], "name": [name], "admin_level": [None]},
        geometry=[hull.buffer(20)],
        crs=streets.crs,
    )
    return outline, _(
        "the extract has no administrative boundary: 'boundary' is the outline of its streets"
    )


@dataclass
class OsmCity:
    """The layers (id -> frame, in the working CRS) and the first profile of the city."""

    layers: dict[str, gpd.GeoDataFrame]
    roles: dict[str, str]
    profile_text: str
    notes: list[str]


def city_from_osm(
    path: str | Path,
    *,
    name: str,
    timezone: str,
    currency: str = "",
    crs: str | None = None,
    highways: str | Path | None = None,
    feedback: Feedback | None = None,
    holidays: str | None = None,
    admin_code: str = "",
) -> OsmCity:
    """Read an extract and build the city's layers and profile (see the module docstring).
    ``holidays``: the ISO country of the public holidays ("" for none; None: the time
    zone's country). ``admin_code``: the 6 digits the unit grid's codes start with (OSM
    extracts rarely carry one)."""
    from pyproj import CRS

    feedback = feedback or NullFeedback()
    extract = read_osm(path, feedback=feedback)
    check_canceled(feedback)
    table = highway_table(highways)
    lines = extract.layers["lines"]
    if not len(lines):
        raise OsmCityError(
            _("the extract has no ways"),
            _("Download an extract that covers the city's streets."),
            path=str(path),
        )
    bounds = to_lonlat_bounds(tuple(lines.total_bounds), CRS.from_epsg(4326))
    working = (
        CRS.from_user_input(crs) if crs else suggest_projected_crs(bounds, CRS.from_epsg(4326))
    )
    streets, left_out = osm_streets(extract, working, table)
    if not len(streets):
        raise OsmCityError(
            _("the extract has no streets (no way with a known highway class)"),
            _("Download an extract that covers the city's streets."),
            path=str(path),
        )
    buildings = osm_buildings(extract, working)
    landuse = _areas(extract, "landuse", working)
    parks = _areas(extract, "leisure", working)
    parks = parks[parks["leisure"].isin(osm_features().parks.leisure)].reset_index(drop=True)
    water = _areas(extract, "natural", working)
    water = water[water["natural"] == "water"].reset_index(drop=True)
    facilities = osm_facilities(extract, working)
    addresses = osm_addresses(extract, working)
    boundary, boundary_note = osm_boundary(extract, streets, name)
    notes = extract.report()
    if left_out:
        notes.append(
            ngettext(
                "{n} way with a highway class not in the highway table was left out",
                "{n} ways with a highway class not in the highway table were left out",
                left_out,
            ).format(n=left_out)
        )
    if boundary_note:
        notes.append(boundary_note)
    # what an empty layer leaves the city without, said when the extract is read, not when
    # an analysis meets the layer (``city check`` says it again)
    for layer, frame, without in (
        ("landuse", landuse, _("planning has no parcels")),
        ("facilities", facilities, _("no facility access, siting or crews")),
        ("addresses", addresses, _("the desk finds no address")),
        ("buildings", buildings, _("no floor areas")),
    ):
        if frame.empty:
            notes.append(
                _("the extract has no {layer}: {without}").format(layer=layer, without=without)
            )
    layers = {
        "boundary": boundary,
        "landuse": landuse,
        "parks": parks,
        "water": water,
        "buildings": buildings,
        "facilities": facilities,
        "addresses": addresses,
        "streets": streets,
    }
    roles = {
        "boundary": "boundary",
        "landuse": "land",
        "parks": "constraint",
        "water": "constraint",
        "buildings": "housing",
        "facilities": "facilities",
        "addresses": "other",
        "streets": "infrastructure",
    }
    text = profile_for_osm(name, timezone, currency, working, table, holidays, admin_code)
    return OsmCity(layers, roles, text, notes)


def _toml_text(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class OsmParks:
    leisure: list[str] = field(default_factory=list)


@dataclass
class OsmCrews:
    kind: str = "fire"
    department: str = "fire"


@dataclass
class OsmStyle:
    fill: str = "none"
    stroke: str = "#555555"
    stroke_width: float = 0.1
    size: float = 2.0


@dataclass
class OsmFeatures:
    """``layers/data/osm_features.toml``: amenity values per facility kind, park values,
    where the crews start, and how each layer is first drawn."""

    kinds: dict[str, list[str]] = field(default_factory=dict)
    parks: OsmParks = field(default_factory=OsmParks)
    crews: OsmCrews = field(default_factory=OsmCrews)
    styles: dict[str, OsmStyle] = field(default_factory=dict)


def osm_features() -> OsmFeatures:
    text = (resources.files("citydesk.layers") / "data" / "osm_features.toml").read_text(
        encoding="utf-8"
    )
    return read_table(
        OsmFeatures, parse_toml(text, OsmCityError, "osm_features.toml"), OsmCityError
    )


def profile_for_osm(
    name: str,
    timezone: str,
    currency: str,
    crs,
    table: HighwayTable,
    holidays: str | None = None,
    admin_code: str = "",
) -> str:
    """A first city profile for a city built from OSM: the roles of the layers it wrote and
    their fields, the class speeds, OSM's credits, and the public holidays' country and the
    currency (given, else the time zone's: :func:`.city_locale.calendar_lines`). Working
    hours are left for the city to fill in (``citydesk city check`` says what is missing)."""
    from .city_locale import calendar_lines

    money, holiday_lines = calendar_lines(timezone, holidays, currency)
    epsg = crs.to_epsg()
    crs_text = f"EPSG:{epsg}" if epsg else crs.to_wkt()
    speeds = ", ".join(
        f"{_toml_text(k)} = {c.speed_kmh:g}" for k, c in table.classes.items() if c.drive
    )
    features = osm_features()
    kinds = [f"{kind} = [{', '.join(map(_toml_text, v))}]" for kind, v in features.kinds.items()]
    crew_values = ", ".join(
        "'" + v.replace("'", "''") + "'" for v in features.kinds.get(features.crews.kind, [])
    )
    lines = [
        "# City profile made by `citydesk city from-osm` (docs/CITY.md explains every key).",
        "# Check the calendar: working hours, rest days and the public holidays' country;",
        *([] if admin_code else ["# add admin_code (6 digits) for the unit grid's codes."]),
        "schema = 2",
        f"name = {_toml_text(name)}",
        *([f"admin_code = {_toml_text(admin_code)}"] if admin_code else []),
        f"timezone = {_toml_text(timezone)}",
        f"crs = {_toml_text(crs_text)}",
        money,
        'area_unit = "m2"',
        f"credits = {_toml_text(OSM_CREDITS)}",
        'land_use_system = "osm_landuse"  # the landuse layer\'s "landuse" tag',
        "",
        *(["[calendar]", *holiday_lines, ""] if holiday_lines else []),
        "[layers.parcels]               # OSM has no parcels: the landuse areas stand in",
        'layer = "landuse"',
        'id = "osm_id"',
        'land_use = "landuse"',
        "# no housing_units, floor_area or land_value: OSM does not record them",
        "",
        "[layers.buildings]",
        'layer = "buildings"',
        'id = "osm_id"',
        'floor_area = "floor_area_m2"    # footprint x building:levels, where tagged',
        'levels = "levels"',
        'use = "building"',
        "",
        "[layers.streets]               # the ways, split where they share a node",
        'layer = "streets"',
        'name = "name"',
        'road_class = "highway"',
        'major_classes = ["motorway", "trunk", "primary", "secondary"]',
        'direction = "oneway"          # 1 along the way, -1 against, 0 both ways',
        'speed_field = "maxspeed_kmh"  # the maxspeed tag where present',
        'drive_field = "drive"',
        'walk_field = "walk"',
        f"speeds_kmh = {{ {speeds} }}",
        "default_speed_kmh = 30",
        "",
        "[layers.facilities]            # every amenity=*, its value as kind",
        'layer = "facilities"',
        'kind = "kind"',
        'name = "name"',
        "[layers.facilities.kinds]",
        *kinds,
        "",
        "[layers.open_space]",
        'layer = "parks"',
        "",
        "[layers.water]",
        'layer = "water"',
        "",
        "[layers.boundary]",
        'layer = "boundary"',
        "",
        "[layers.addresses]             # addr:street + addr:housenumber: the desk's gazetteer",
        'layer = "addresses"',
        'street = "street"',
        'number = "housenumber"',
        "",
        "[layers.neighborhoods]         # until the city adds its districts (街道/社区)",
        'layer = "boundary"',
        'name = "name"',
        "",
        "[layers.crews]                 # the crews start at these facilities",
        'layer = "facilities"',
        f"where = {_toml_text(f'kind IN ({crew_values})')}",
        'name = "name"',
        f"department = {_toml_text(features.crews.department)}",
        "",
    ]
    return "\n".join(lines)


def write_city_project(city: OsmCity, path: str | Path, name: str) -> Path:
    """A new project holding the city's layers (styled, with their roles) and its profile."""
    from .city_profile import parse_profile, store_profile
    from .layer import VectorLayer
    from .project import Project
    from .project_store import save_project
    from .roles import LayerRole
    from .style import Style, Symbol, default_style

    path = Path(path)
    if path.exists():
        raise OsmCityError(
            _("the file already exists"),
            _("Choose a new project file name (nothing was changed)."),
            path=str(path),
        )
    parse_profile(city.profile_text)  # a profile that cannot be stored refuses before writing
    project = Project(name, crs=city.layers["streets"].crs)
    styles = osm_features().styles
    for i, (layer_id, frame) in enumerate(city.layers.items()):
        layer = VectorLayer(
            name=layer_id,
            id=layer_id,
            role=LayerRole(city.roles[layer_id]),
            data=frame,
            source="OSM",
        )
        look = styles.get(layer_id)
        layer.style = (
            Style(symbol=Symbol(look.fill, look.stroke, look.stroke_width, look.size))
            if look
            else default_style(layer.geometry_type, i)
        )
        project.add_layer(layer)
    save_project(project, path)
    store_profile(path, city.profile_text)
    return path
