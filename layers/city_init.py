"""``citydesk city init``: propose a city profile from the layers a city brings.

A city's data arrive with its own names: ``地块编号``, ``用地代码``, ``建筑面积`` in a Chinese
city, an assessor's housing estimate and a zoning-type column in a US one. This module looks at
every layer of a project (its name, geometry and fields, and a sample of the values) and proposes
which layer plays each role of the profile (:mod:`citydesk.layers.city_layers`) and which field
holds what. Names are matched in English and Chinese (:data:`layers/data/city_init.toml`, a
data file a city can extend), values settle what names cannot: a land-use column's codes say
which classification system it is, a numeric column is needed for a floor area. Every decision
comes with the reason, so the user can confirm or correct it before the profile is stored;
nothing is guessed silently."""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import pandas as pd

from .city_layers import ROLES
from .errors import CityDeskError
from .i18n import _
from .toml_schema import parse_toml, read_table

log = logging.getLogger(__name__)

SAMPLE_ROWS = 500


class CityInitError(CityDeskError):
    """The layers cannot be inspected."""


@dataclass
class LayerSample:
    """What the proposal reads of one layer."""

    id: str
    name: str
    geometry: str  # "point" | "line" | "polygon" | ""
    values: pd.DataFrame  # the attribute rows (numbers are judged on the first rows)


@dataclass
class RoleHints:
    """Names that suggest a role (layer names) and its fields, in English and Chinese."""

    geometry: str = ""
    layer: list[str] = field(default_factory=list)
    fields: dict[str, list[str]] = field(default_factory=dict)
    numeric: list[str] = field(default_factory=list)  # fields that must hold numbers


@dataclass
class KindHints:
    """Words in a facility kind's values: 'fire' <- fire_station, 消防站, ..."""

    words: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)  # "driving_school" is no school


@dataclass
class AreaUnitHints:
    """Words in a floor-area field's name that say its unit, and the countries whose floor
    areas are in square feet when the name says nothing (CLDR's US measurement system)."""

    sqft: list[str] = field(default_factory=list)
    m2: list[str] = field(default_factory=list)
    sqft_countries: list[str] = field(default_factory=list)


@dataclass
class InitHints:
    roles: dict[str, RoleHints] = field(default_factory=dict)
    kinds: dict[str, KindHints] = field(default_factory=dict)
    crews_kind: str = "fire"
    crews_department: str = "fire"
    area_unit: AreaUnitHints = field(default_factory=AreaUnitHints)
    major_roads: list[str] = field(default_factory=list)  # words of arterial road classes


@functools.cache
def load_hints() -> InitHints:
    """The shipped words (read once: a proposal and its profile text both need them; no
    caller changes them)."""
    text = (resources.files("citydesk.layers") / "data" / "city_init.toml").read_text(
        encoding="utf-8"
    )
    hints = read_table(InitHints, parse_toml(text, CityInitError, "city_init.toml"), CityInitError)
    unknown = [r for r in hints.roles if r not in ROLES]
    if unknown:
        raise CityInitError(
            _("city_init.toml names unknown roles: {names}").format(names=", ".join(unknown)),
            _("Roles are: {names}.").format(names=", ".join(ROLES)),
        )
    return hints


@dataclass
class Proposal:
    """The proposed roles: {role: {"layer": id, field key: column, ...}} and the reasons."""

    roles: dict[str, dict[str, object]] = field(default_factory=dict)
    land_use_system: str = ""
    area_unit: str = ""  # "m2" | "sqft" where a floor-area field's name says; "" it does not
    #: the streets' road classes when none is named like an arterial: for the planner to pick
    road_classes: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def _norm(text: str) -> str:
    """Lowercase, without accents, spaces, '_', '-' or '.': "Unidades Vecinales",
    "unidades_vecinales" and "Unidades Vécinales" alike (exports drop accents as often as
    they keep them; the German "ae" spelling is a word of its own in city_init.toml)."""
    decomposed = unicodedata.normalize("NFKD", str(text).lower())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[\s_\-.]+", "", plain)


def _matches(name: str, words: list[str]) -> float:
    """How well ``name`` matches: 3 equal, 2 starts with, 1 contains a word, 0 none; an
    earlier word of the list wins a tie (a fraction is taken off per place)."""
    n = _norm(name)
    best = 0.0
    for rank, word in enumerate(words):
        w = _norm(word)
        if not w:
            continue
        score = 3.0 if n == w else 2.0 if n.startswith(w) else 1.0 if w in n else 0.0
        if score:
            best = max(best, score - rank / (100.0 * len(words)))
    return best


def _numeric(values: pd.Series) -> bool:
    present = values.head(SAMPLE_ROWS).dropna()
    if present.empty:
        return False
    return bool(pd.to_numeric(present, errors="coerce").notna().mean() > 0.9)


def propose(layers: list[LayerSample], hints: InitHints | None = None) -> Proposal:
    """Roles and fields for ``layers`` (see the module docstring)."""
    hints = hints or load_hints()
    proposal = Proposal()
    taken: set[str] = set()
    # the most specific roles first, so 'parks' is open space before it is land
    for role, role_hints in hints.roles.items():
        scored = []
        for layer in layers:
            if role_hints.geometry and layer.geometry and layer.geometry != role_hints.geometry:
                continue
            score = max(
                _matches(layer.id, role_hints.layer), _matches(layer.name, role_hints.layer)
            )
            if score:
                scored.append((score, layer.id not in taken, layer))
        if not scored:
            continue
        scored.sort(key=lambda t: (t[0], t[1]), reverse=True)
        layer = scored[0][2]
        taken.add(layer.id)
        chosen: dict[str, object] = {"layer": layer.id}
        proposal.reasons.append(
            _("{role}: layer '{layer}' (its name)").format(role=role, layer=layer.name)
        )
        for key, words in role_hints.fields.items():
            column = _best_field(layer, words, key in role_hints.numeric)
            if column:
                chosen[key] = column
                proposal.reasons.append(
                    _("{role}.{key}: field '{column}'").format(role=role, key=key, column=column)
                )
        proposal.roles[role] = chosen
    _land_use(layers, proposal)
    _kinds(layers, proposal, hints)
    _area_unit(proposal, hints.area_unit)
    _major_classes(layers, proposal, hints.major_roads)
    return proposal


def _major_classes(layers: list[LayerSample], proposal: Proposal, words: list[str]) -> None:
    """The road classes that are arterials (``[layers.streets] major_classes``: the noise
    and hazard indicators), where the classes are named (OSM's primary, a county's
    "Principal Arterial", 主干路). Coded classes (1, 2) say nothing by their name: they are
    listed in the proposal for the planner to pick, as a US portal's streets needed."""
    streets = proposal.roles.get("streets")
    if not streets or "road_class" not in streets:
        return
    layer = next(s for s in layers if s.id == streets["layer"])
    counts = layer.values[str(streets["road_class"])].dropna().astype(str).str.strip()
    values = list(counts[counts != ""].value_counts().index)  # the commonest first
    found = [v for v in values if _matches(v, words)]
    if found:
        streets["major_classes"] = sorted(found)
        proposal.reasons.append(
            _("streets.major_classes: {values} (named as arterials)").format(
                values=", ".join(sorted(found))
            )
        )
    else:
        proposal.road_classes = values[:12]


def _unit_in_name(column: str, hints: AreaUnitHints) -> str:
    """ "sqft" or "m2" where the field's name carries its unit (``floor_area_sqft``,
    ``superficie_m2``), "" where it does not (the words: ``city_init.toml [area_unit]``)."""
    for unit, words in (("sqft", hints.sqft), ("m2", hints.m2)):
        if _matches(column, words):
            return unit
    return ""


def _area_unit(proposal: Proposal, hints: AreaUnitHints) -> None:
    """The profile's ``area_unit`` from the floor-area fields' names. One unit serves every
    floor-area field, so fields that disagree are said, and the parcels' is taken (it is
    what planning reads first)."""
    units = {}
    for role in ("parcels", "buildings"):
        column = proposal.roles.get(role, {}).get("floor_area")
        if column and (unit := _unit_in_name(str(column), hints)):
            units[role] = (str(column), unit)
    if not units:
        return
    column, unit = units.get("parcels") or units["buildings"]
    proposal.area_unit = unit
    proposal.reasons.append(
        _("area_unit: {unit} (the field '{column}' says so)").format(unit=unit, column=column)
    )
    if len({u for _c, u in units.values()}) > 1:
        proposal.reasons.append(
            _(
                "the floor-area fields disagree on their unit ({fields}): area_unit serves "
                "both, so convert one of them"
            ).format(fields=", ".join(f"{c}: {u}" for c, u in units.values()))
        )


def _best_field(layer: LayerSample, words: list[str], numeric: bool) -> str | None:
    best, best_score = None, 0.0
    for column in layer.values.columns:
        score = _matches(column, words)
        if score > best_score and (not numeric or _numeric(layer.values[column])):
            best, best_score = column, score
    return best


def _land_use(layers: list[LayerSample], proposal: Proposal) -> None:
    """The classification system the parcels' land-use codes are written in, by how many
    of the sample's codes each shipped system knows."""
    from .land_use import classify, load_system, shipped_systems

    parcels = proposal.roles.get("parcels")
    if not parcels or "land_use" not in parcels:
        return
    layer = next(s for s in layers if s.id == parcels["layer"])
    codes = layer.values[str(parcels["land_use"])].dropna().astype(str).head(5 * SAMPLE_ROWS)
    codes = codes[codes.str.strip() != ""]
    if codes.empty:
        return
    scores = {}
    for name in shipped_systems():
        system = load_system(name)
        scores[name] = float(np.mean([classify(c, system) != "unknown" for c in codes]))
    # a system that knows the codes only by a one-character prefix proves little: prefer the
    # one that knows them whole (OSM words, 4-digit codes) when both score
    name, share = max(scores.items(), key=lambda kv: (kv[1], _specific(kv[0], codes)))
    if share >= 0.6:
        proposal.land_use_system = name
        proposal.reasons.append(
            _("land_use_system: '{name}' knows {share:.0%} of the land-use codes").format(
                name=name, share=share
            )
        )


def _specific(system: str, codes: pd.Series) -> float:
    """How much of each code the system's table covers: 1 for a code listed whole, 0.5 for
    "0701" known by "07", 0.25 for "0701" known only by "0" (mean over the codes)."""
    from .land_use import load_system

    spec = load_system(system)
    table = {k.upper() for k in spec.codes}
    covered = []
    for code in codes.str.upper():
        for sep in spec.mixed_separators:
            code = code.split(sep)[0]
        code = code.strip()
        if spec.match == "exact":
            covered.append(1.0 if code in table else 0.0)
            continue
        length = next((n for n in range(len(code), 0, -1) if code[:n] in table), 0)
        covered.append(length / len(code) if code else 0.0)
    return float(np.mean(covered)) if covered else 0.0


def _kinds(layers: list[LayerSample], proposal: Proposal, hints: InitHints) -> None:
    """The facility kinds the analyses know, from the values of the facilities' kind field;
    the crews start at the facilities of the crews' kind."""
    facilities = proposal.roles.get("facilities")
    if not facilities or "kind" not in facilities:
        return
    layer = next(s for s in layers if s.id == facilities["layer"])
    values = sorted(layer.values[str(facilities["kind"])].dropna().astype(str).unique())
    kinds: dict[str, list[str]] = {}
    for kind, kind_hints in hints.kinds.items():
        found = [
            v
            for v in values
            if _matches(v, kind_hints.words) and not _matches(v, kind_hints.exclude)
        ]
        if found:
            kinds[kind] = found
            proposal.reasons.append(
                _("facilities kind '{kind}': {values}").format(kind=kind, values=", ".join(found))
            )
    facilities["kinds"] = kinds
    crew_values = kinds.get(hints.crews_kind)
    if crew_values:
        listed = ", ".join("'" + v.replace("'", "''") + "'" for v in crew_values)
        column = '"' + str(facilities["kind"]).replace('"', '""') + '"'
        crews: dict[str, object] = {
            "layer": facilities["layer"],
            "where": f"{column} IN ({listed})",
            "department": hints.crews_department,
        }
        if "name" in facilities:
            crews["name"] = facilities["name"]
        proposal.roles["crews"] = crews
        proposal.reasons.append(_("crews: at the facilities of kind '{kind}'").format(kind="fire"))


def _toml(value: object) -> str:
    import json

    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _key(text: str) -> str:
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else _toml(text)


def area_unit_line(proposal: Proposal, given: str, timezone: str) -> str:
    """The ``area_unit`` line: as given, else as a floor-area field's name says, else the
    unit of the time zone's country (square feet in the US), marked to check where a
    floor-area field was found: read in the wrong unit, floor areas and the jobs and homes
    derived from them are off by a factor of 10.76."""
    from .city_locale import country_of_timezone

    if given:
        return f"area_unit = {_toml(given)}"
    if proposal.area_unit:
        return f"area_unit = {_toml(proposal.area_unit)}  # the floor-area field's name says so"
    country = country_of_timezone(timezone)
    unit = "sqft" if country in load_hints().area_unit.sqft_countries else "m2"
    fields = [str(spec["floor_area"]) for spec in proposal.roles.values() if spec.get("floor_area")]
    if not fields:
        return f"area_unit = {_toml(unit)}"
    whose = f"{country}'s floor areas" if country else "floor areas"
    return f"area_unit = {_toml(unit)}  # the unit of {', '.join(fields)}? {whose}: check it"


def profile_toml(
    proposal: Proposal,
    *,
    name: str,
    timezone: str,
    crs: str,
    currency: str = "",
    area_unit: str = "",
    admin_code: str = "",
    holidays: str | None = None,
) -> str:
    """The proposal as a profile document to confirm or edit (docs/CITY.md). ``holidays``
    and ``currency`` not given ("" is none) are the time zone's country's, marked to check
    (:func:`.city_locale.calendar_lines`); so is ``area_unit``, where no floor-area field's
    name says it (:func:`area_unit_line`)."""
    from .city_locale import calendar_lines

    money, holiday_lines = calendar_lines(timezone, holidays, currency)
    lines = [
        "# City profile proposed by `citydesk city init`: check every line, then store it",
        "# with `citydesk city set PROJECT THIS_FILE` (docs/CITY.md explains every key).",
        "schema = 2",
        f"name = {_toml(name)}",
        f"timezone = {_toml(timezone)}",
        f"crs = {_toml(crs)}",
        money,
        area_unit_line(proposal, area_unit, timezone),
    ]
    if admin_code:
        lines.append(f"admin_code = {_toml(admin_code)}")
    else:
        lines.append('# admin_code = "......"  # the 6-digit code for the unit grid')
    if proposal.land_use_system:
        lines.append(f"land_use_system = {_toml(proposal.land_use_system)}")
    lines += ["", "[calendar]", 'periods = [["09:00", "18:00"]]', *holiday_lines]
    for role in ROLES:
        spec = proposal.roles.get(role)
        if not spec:
            lines += ["", f"# [layers.{role}]  (no layer found: add one if the city has it)"]
            continue
        lines += ["", f"[layers.{role}]"]
        for key, value in spec.items():
            if not isinstance(value, dict):
                lines.append(f"{key} = {_toml(value)}")
        if role == "streets" and proposal.road_classes:
            lines.append(
                f"# major_classes = [...]  # which road classes are arterials? "
                f"{', '.join(_toml(v) for v in proposal.road_classes)}"
            )
        for key, value in spec.items():
            if isinstance(value, dict):
                lines.append(f"[layers.{role}.{key}]")
                lines += [f"{_key(k)} = {_toml(v)}" for k, v in value.items()]
    return "\n".join(lines) + "\n"


def project_samples(project) -> list[LayerSample]:
    """A sample of every vector layer of a CityDesk project."""
    from .project_store import read_project_layer, read_project_meta

    out = []
    for record in read_project_meta(project).get("layers", []):
        if record.get("kind", "vector") != "vector":
            continue
        frame = read_project_layer(project, record["id"])
        kinds = set(frame.geom_type.dropna().str.replace("Multi", "").str.lower())
        geometry = {"linestring": "line"}.get(next(iter(kinds), ""), next(iter(kinds), ""))
        out.append(
            LayerSample(
                id=record["id"],
                name=str(record.get("name") or record["id"]),
                geometry=geometry if len(kinds) == 1 else "",
                values=pd.DataFrame(frame.drop(columns="geometry")),
            )
        )
    return out


def project_from_folder(source, project, feedback=None, crs=None):
    """A new project holding every vector layer of the files in ``source`` (a folder or one
    file), with readable ids and a first role from their names.

    The project's CRS is ``crs`` if given, else the first layer's that has one. A layer
    without a CRS (a shapefile without .prj, common in a city's delivery) gets the one its
    coordinates fit beside the others (:func:`citydesk.layers.placement.settle_missing_crs`,
    logged as a warning); when none fits, nothing is written and the error names the layer."""
    from pathlib import Path

    from .crs import parse_crs
    from .feedback import NullFeedback
    from .io import VECTOR_READ, archive_data_sets, open_archive, read_layer
    from .placement import settle_missing_crs
    from .project import Project
    from .project_store import save_project
    from .readers.archive import ARCHIVES
    from .readers.vector import data_layer_names

    feedback = feedback or NullFeedback()
    source, project = Path(source), Path(project)
    if project.exists():
        raise CityInitError(
            _("the file already exists"),
            _("Choose a new project file name (nothing was changed)."),
            path=str(project),
        )
    # a city's downloads are often ZIPs (a zipped shapefile per layer): each vector data set
    # in them is a layer too
    wanted = VECTOR_READ | ARCHIVES
    files = (
        sorted(p for p in source.rglob("*") if p.suffix.lower() in wanted)
        if source.is_dir()
        else [source]
    )
    if not files:
        raise CityInitError(
            _("no vector data in the folder"),
            _("Put the city's layers (.gpkg, .shp, .geojson, ...) in it."),
            path=str(source),
        )
    built = Project(project.stem)
    read: list = []
    for n, path in enumerate(files):
        # (file to read, layer in it, title): a ZIP's data sets unpacked, each layer of a
        # GeoPackage or File Geodatabase (also zipped) on its own
        sources: list[tuple[Path, str, str]] = []
        if path.suffix.lower() in ARCHIVES:
            for member in archive_data_sets(path):
                if Path(member).suffix.lower() not in VECTOR_READ:
                    continue
                inner, _none = open_archive(path, member)
                inside = data_layer_names(inner)
                sources += [
                    (inner, name, name if len(inside) > 1 else inner.stem) for name in inside
                ]
        else:
            names = data_layer_names(path)
            sources = [(path, name, name if len(names) > 1 else path.stem) for name in names]
        for source_path, name, title in sources:
            layer = read_layer(source_path, name, name=title, style_index=n)
            while layer.id in {lay.id for lay in read}:
                layer.id = f"{layer.id}_{n}"
            read.append(layer)
        feedback.set_progress(100.0 * (n + 1) / len(files))
    built.add_in_drawing_order(read)
    if not built.layers:
        raise CityInitError(_("no vector data in the folder"), _("Check the files."))
    placed = [lay.crs for lay in built.layers.values() if lay.crs is not None]
    if crs is not None:
        built.crs = parse_crs(crs)
    elif placed:
        built.crs = placed[0]
    for layer in built.layers.values():
        said = settle_missing_crs(built, layer, _("give --crs with the CRS the data was made in"))
        if layer.crs is None:
            raise CityInitError(
                _("layer '{layer}' has no CRS, and its coordinates fit none of the others'").format(
                    layer=layer.id
                ),
                _("Give --crs with the CRS the data was made in (nothing was written)."),
                gui_fix=_("Give the layer its CRS (a .prj beside the shapefile), then again."),
            )
        if said:
            log.warning(said)
    save_project(built, project)
    return project


def working_crs(project) -> str:
    """The project's CRS if it can measure, else its first layer's, else the UTM zone (or
    CGCS2000 zone) of the data."""
    from pyproj import CRS

    from .crs import is_web_mercator, suggest_projected_crs, to_lonlat_bounds
    from .project_store import read_project_layer, read_project_meta

    meta = read_project_meta(project)
    if meta.get("crs"):
        own = CRS.from_user_input(meta["crs"])
        if own.is_projected and not is_web_mercator(own):
            return str(meta["crs"])
    records = [r for r in meta.get("layers", []) if r.get("kind") == "vector"]
    if not records:
        raise CityInitError(_("the project has no vector layer"), _("Add the city's layers."))
    frame = read_project_layer(project, records[0]["id"])
    crs = frame.crs
    if crs is None:
        raise CityInitError(
            _("layer '{layer}' has no CRS").format(layer=records[0]["id"]),
            _("Set the layer's CRS, or give --crs."),
            gui_fix=_("Set the layer's CRS, or type the working CRS in the City setup dialog."),
        )
    if crs.is_projected and not is_web_mercator(crs):
        epsg = crs.to_epsg()
        return f"EPSG:{epsg}" if epsg else crs.to_wkt()
    bounds = to_lonlat_bounds(tuple(frame.total_bounds), crs)
    chosen = suggest_projected_crs(bounds, crs.geodetic_crs or crs)
    return f"EPSG:{chosen.to_epsg()}" if chosen.to_epsg() else chosen.to_wkt()


def profile_data(profile) -> dict:
    """A profile as the tables of its TOML document: every key it has, none it does not
    (no None, no empty table)."""
    from dataclasses import asdict

    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if v is not None and v != {}}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return clean(asdict(profile))


def profile_to_toml(profile) -> str:
    """A profile written back as a TOML document (what the City setup dialog stores after
    an edit; tomli-w, comments are not kept)."""
    import tomli_w

    return tomli_w.dumps(profile_data(profile))


#: the profile's keys the City setup dialog edits in fields of its own (the header, the roles
#: table, the calendar tab); its *Other settings* tab holds every other key as TOML
SETUP_FIELD_KEYS = (
    "schema",
    "name",
    "timezone",
    "crs",
    "currency",
    "area_unit",
    "admin_code",
    "calendar",
    "layers",
)


def other_settings_toml(profile) -> str:
    """The profile's keys that are not :data:`SETUP_FIELD_KEYS` as TOML: planning costs, the
    land-use codes, the city's own categories, routing rules, credits and the rest."""
    import tomli_w

    data = profile_data(profile)
    # an empty list is left out: "categories = []" would refuse the [[categories]] a user
    # appends below it as a redefinition
    return tomli_w.dumps({k: v for k, v in data.items() if k not in SETUP_FIELD_KEYS and v != []})


def with_other_settings(profile, text: str):
    """``profile`` with every key but :data:`SETUP_FIELD_KEYS` taken from ``text`` (a key
    left out goes back to its default), checked whole by the profile's validator: the
    dialog's TOML tab is read like a profile file, a misspelt key named with its nearest."""
    import tomli_w

    from .city_profile import ProfileError, parse_profile

    rest = parse_toml(text, ProfileError, _("Other settings tab"))
    owned = [k for k in rest if k in SETUP_FIELD_KEYS]
    if owned:
        raise ProfileError(
            _("{key} is set in the dialog's own fields, not as TOML").format(key=owned[0]),
            _("Remove it from the Other settings tab and set it in its field."),
        )
    fields = {k: v for k, v in profile_data(profile).items() if k in SETUP_FIELD_KEYS}
    return parse_profile(tomli_w.dumps({**fields, **rest}))


#: the keys of each role the setup table offers: "layer" first, then the role's fields
def role_keys(role: str) -> list[str]:
    """The keys a role maps (what the City setup dialog lists per role): its layer, the
    columns it reads, and its choices (:func:`role_choices`)."""
    from dataclasses import fields as dc_fields

    hints = _role_hints(role)
    keys = [
        name
        for name in (f.name for f in dc_fields(_role_type(role)))
        if (hints[name] in (str, str | None) or role_choices(role, name))
        and name not in ("where", "department", "mapping")
    ]
    return ["layer", *[k for k in keys if k != "layer"]]


def role_choices(role: str, key: str) -> tuple[str, ...]:
    """The values a choice key of a role takes (``junctions``: ends, shared, crossings),
    empty for a key naming a layer or a column."""
    from typing import Literal, get_args, get_origin

    hint = _role_hints(role).get(key)
    return tuple(str(v) for v in get_args(hint)) if get_origin(hint) is Literal else ()


def _role_type(role: str) -> type:
    from typing import get_type_hints

    from . import city_layers

    spec_type = get_type_hints(city_layers.CityLayers)[role]
    return next(a for a in getattr(spec_type, "__args__", (spec_type,)) if a is not type(None))


def _role_hints(role: str) -> dict:
    from typing import get_type_hints

    return get_type_hints(_role_type(role))


def set_role_key(profile, role: str, key: str, value: str) -> None:
    """Map ``role.key`` to ``value`` ('' clears it; clearing a role's layer drops the role,
    except the streets, whose speeds stay)."""
    from dataclasses import replace
    from typing import get_type_hints

    from . import city_layers

    current = getattr(profile.layers, role)
    if key == "layer" and not value:
        if role == "streets":
            profile.layers.streets = replace(profile.layers.streets, layer="")
        else:
            setattr(profile.layers, role, None)
        return
    if current is None:
        spec_type = get_type_hints(city_layers.CityLayers)[role]
        spec_type = next(a for a in spec_type.__args__ if a is not type(None))
        required = {"layer": value if key == "layer" else ""}
        if "mapping" in {f for f in spec_type.__dataclass_fields__}:
            required["mapping"] = ""
        current = spec_type(**required)
        setattr(profile.layers, role, current)
    setattr(current, key, value or (None if key != "layer" else ""))
