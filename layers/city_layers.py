"""Which of a city's layers plays each role, and which of its fields holds what.

The analyses never name a layer or a field of a particular city: they ask the city profile's
``[layers.ROLE]`` tables (docs/CITY.md). One city's assessor housing estimate and another
city's lack of any housing figure are then the same code path: the profile says which field
holds the homes, or says nothing, and the feature that needs it says so by name
(:class:`MissingData`) instead of counting zero homes.

Roles are CityDesk's vocabulary (parcels, buildings, zoning, streets, facilities,
neighborhoods, boundary, floodplain, open_space, water, crews); the facility kinds the
analyses know (``fire``, ``school``, ``clinic``, ``park``, ``library``, ...) map to the values
of the city's own kind field. Nothing here is specific to a city.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Literal

from .errors import CityDeskError
from .i18n import _


class MissingData(CityDeskError):
    """A feature needs a layer or field the city's profile does not map (or the project
    lacks); the message names the feature, the role and the field."""


@dataclass
class ParcelsRole:
    """Land parcels (地块, 宗地): what planning allocates. Without parcels, any polygons of
    land (OSM landuse areas) can play the role."""

    layer: str
    id: str | None = None
    land_use: str | None = None  # codes of the profile's [land_use] system (用地性质/用地代码)
    floor_area: str | None = None  # in the profile's area_unit (建筑面积)
    housing_units: str | None = None  # homes on the parcel today (住宅套数)
    land_value: str | None = None  # in the profile's currency
    building_value: str | None = None
    address: str | None = None


@dataclass
class BuildingsRole:
    layer: str
    id: str | None = None
    floor_area: str | None = None
    housing_units: str | None = None
    levels: str | None = None
    use: str | None = None


@dataclass
class ZoningRole:
    """Zoning districts (控规单元 / 用途分区): the code field, and which planning uses each
    district family (a code prefix) permits besides keeping a parcel's current use."""

    layer: str
    code: str | None = None
    families: dict[str, list[str]] = field(default_factory=dict)
    default: list[str] = field(default_factory=lambda: ["housing_low", "park"])


#: where streets join in a layer without node ids (layers/street_junctions.py)
Junctions = Literal["ends", "shared", "crossings"]


@dataclass
class StreetsRole:
    """The street centre lines: the road network and the address-range geocoder."""

    layer: str = ""
    name: str | None = None  # the street's full name, as addresses write it
    from_node: str | None = None  # node ids at the ends of a segment; else endpoints snap
    to_node: str | None = None
    direction: str | None = None  # 1 from->to only, -1 to->from only, else both ways
    road_class: str | None = None
    major_classes: list[str] = field(default_factory=list)  # road classes that are arterials
    # road-class value -> km/h
    speeds_kmh: dict[str, float] = field(default_factory=dict, metadata={"range": (1, 300)})
    default_speed_kmh: float = field(default=30.0, metadata={"range": (1, 300)})
    speed_field: str | None = None  # a posted speed per segment
    speed_field_unit: Literal["kmh", "mph"] = "kmh"
    drive_field: str | None = None  # true where cars may drive (else every segment)
    walk_field: str | None = None  # true where people may walk (else every segment)
    walk_speed_kmh: float = field(default=4.8, metadata={"range": (0.5, 20)})
    # without node ids, where streets join: at the lines' ends only (a file split at its
    # junctions), also at points lines share or end on ("shared": OSM ways as they come), or
    # also where lines cross ("crossings": hand-drawn data without bridges)
    junctions: Junctions = "ends"
    left_from: str | None = None  # house-number ranges per side (the geocoder)
    left_to: str | None = None
    right_from: str | None = None
    right_to: str | None = None


@dataclass
class FacilitiesRole:
    """Public facilities: the kind field and, per kind the analyses know, its values."""

    layer: str
    kind: str | None = None
    name: str | None = None
    kinds: dict[str, list[str]] = field(default_factory=dict)  # "fire" -> ["fire_station"]


@dataclass
class AreasRole:
    """Neighbourhoods / 街道、社区: indicators per area, and the grid's street codes."""

    layer: str
    name: str | None = None
    code: str | None = None


@dataclass
class PlainRole:
    """A layer whose geometry is all that is read (boundary, floodplain, open space, water)."""

    layer: str


@dataclass
class CrewsRole:
    """Where the response crews start: points of a layer (a filter picks them)."""

    layer: str
    where: str = ""
    name: str | None = None
    department: str = ""


@dataclass
class IncidentsRole:
    """A layer of past incidents (a city's case history as points) and the column mapping
    that reads it (a shipped mapping name or a file, as ``cases import --mapping``)."""

    layer: str
    mapping: str


@dataclass
class AddressesRole:
    """Address points (one per house number: OpenStreetMap's addr:* tags, a city's address
    register): where the desk finds "Mannerheimintie 1" when the streets carry no
    house-number ranges."""

    layer: str
    street: str = "street"
    number: str = "housenumber"


@dataclass
class CityLayers:
    parcels: ParcelsRole | None = None
    buildings: BuildingsRole | None = None
    zoning: ZoningRole | None = None
    streets: StreetsRole = field(default_factory=StreetsRole)
    facilities: FacilitiesRole | None = None
    neighborhoods: AreasRole | None = None
    boundary: PlainRole | None = None
    floodplain: PlainRole | None = None
    open_space: PlainRole | None = None
    water: PlainRole | None = None
    crews: CrewsRole | None = None
    incidents: IncidentsRole | None = None
    addresses: AddressesRole | None = None

    def layer_id(self, role: str) -> str | None:
        """The project layer id playing ``role``, or None."""
        spec = getattr(self, role, None)
        return (spec.layer or None) if spec is not None else None

    def field_name(self, role: str, key: str) -> str | None:
        spec = getattr(self, role, None)
        return getattr(spec, key, None) if spec is not None else None

    def id_field(self, layer: str) -> str | None:
        """The id field of the role ``layer`` plays (checked for duplicates and blanks by
        validation), or None when it plays none or its role names no id."""
        for role in ROLES:
            if self.layer_id(role) == layer and self.field_name(role, "id"):
                return self.field_name(role, "id")
        return None


ROLES = tuple(f.name for f in fields(CityLayers))

#: the analyses' facility kinds that are reached by driving from the facility
DRIVEN_FROM = ("fire", "police", "ambulance")


def role_label(role: str) -> str:
    """The role's name for messages, in the user's language."""
    labels = {
        "parcels": _("parcels"),
        "buildings": _("buildings"),
        "zoning": _("zoning districts"),
        "streets": _("streets"),
        "facilities": _("facilities"),
        "neighborhoods": _("neighbourhoods"),
        "boundary": _("city boundary"),
        "floodplain": _("floodplain"),
        "open_space": _("open space"),
        "water": _("water"),
        "crews": _("crews"),
        "addresses": _("address points"),
    }
    return labels.get(role, role)


def missing_layer(feature: str, role: str) -> MissingData:
    return MissingData(
        _("{feature} needs the city's {label} layer: the city profile maps none").format(
            feature=feature, label=role_label(role)
        ),
        _(
            'Add [layers.{role}] layer = "..." to the city profile (citydesk city init '
            "proposes one; citydesk city check lists what each feature needs)."
        ).format(role=role),
    )


def missing_field(feature: str, role: str, key: str) -> MissingData:
    return MissingData(
        _("{feature} needs the {label} layer's field '{key}': the city profile maps none").format(
            feature=feature, label=role_label(role), key=key
        ),
        _('Add {key} = "FIELD" under [layers.{role}] in the city profile.').format(
            key=key, role=role
        ),
    )


def absent_column(feature: str, role: str, key: str, column: str, columns) -> MissingData:
    return MissingData(
        _("{feature}: [layers.{role}] {key} = '{column}', but the layer has no such field").format(
            feature=feature, role=role, key=key, column=column
        ),
        _("Fields: {names}. Correct the city profile.").format(
            names=", ".join(str(c) for c in columns if c != "geometry")
        ),
    )


def empty_layer(feature: str, role: str, layer: str) -> MissingData:
    """A role's layer that is there but holds nothing: an OSM extract without landuse areas
    or amenities writes such layers, and an analysis on them ended in an internal error."""
    return MissingData(
        _("{feature}: the {label} layer '{layer}' has no features").format(
            feature=feature, label=role_label(role), layer=layer
        ),
        _(
            "Load the city's {label} into it, or map [layers.{role}] to a layer that has them "
            "(citydesk city check lists what each feature has)."
        ).format(label=role_label(role), role=role),
    )


def require_layer(layers: CityLayers | None, role: str, feature: str) -> str:
    """The layer id of ``role``; :class:`MissingData` naming the feature when unmapped."""
    layer = layers.layer_id(role) if layers is not None else None
    if not layer:
        raise missing_layer(feature, role)
    return layer


def require_field(layers: CityLayers | None, role: str, key: str, feature: str) -> str:
    name = layers.field_name(role, key) if layers is not None else None
    if not name:
        raise missing_field(feature, role, key)
    return name


def column(frame, layers: CityLayers | None, role: str, key: str, feature: str) -> str | None:
    """The column of ``frame`` mapped to ``role.key``; None when the profile maps none (the
    caller says what that leaves out); :class:`MissingData` when it maps one the layer lacks."""
    name = layers.field_name(role, key) if layers is not None else None
    if not name:
        return None
    if name not in frame.columns:
        raise absent_column(feature, role, key, name, frame.columns)
    return name


def identity_columns(frame, layers: CityLayers | None, role: str = "parcels") -> list[str]:
    """The columns a result keeps so a reader can tell which feature a row is: the role's
    id, address and land-use fields as the city profile maps them, those ``frame`` has (a
    result used to keep Cambridge's map-lot field by name, and nothing for another city)."""
    names = [layers.field_name(role, key) if layers is not None else None for key in IDENTITY]
    return list(dict.fromkeys(n for n in names if n and n in frame.columns))


#: the keys of a role that identify a feature to a reader, in the order a table shows them
IDENTITY = ("id", "address", "land_use")


def project_layers(project) -> CityLayers | None:
    """The role mapping of the project's city profile (None without a profile)."""
    from .city_profile import profile_or_none

    profile = profile_or_none(project)
    return profile.layers if profile is not None else None


def read_role(project, role: str, feature: str, layer: str | None = None):
    """The project layer playing ``role`` (or ``layer`` when the user names one)."""
    from .project_store import read_project_layer

    layer = layer or require_layer(project_layers(project), role, feature)
    frame = read_project_layer(project, layer)
    if frame.empty:
        raise empty_layer(feature, role, layer)
    return frame


def read_kind(project, kind: str, feature: str):
    """The project's facilities of a kind the analyses know (``fire``, ``school``, ...), by
    the profile's ``[layers.facilities]`` kind field and value map."""
    from .project_store import read_project_layer

    layers = project_layers(project)
    spec = layers.facilities if layers is not None else None
    if spec is None or not spec.layer:
        raise missing_layer(feature, "facilities")
    if not spec.kind:
        raise missing_field(feature, "facilities", "kind")
    values = spec.kinds.get(kind)
    if not values:
        raise MissingData(
            _("{feature} needs facilities of kind '{kind}': the city profile lists none").format(
                feature=feature, kind=kind
            ),
            _('Add {kind} = ["VALUE", ...] under [layers.facilities.kinds].').format(kind=kind),
        )
    frame = read_project_layer(project, spec.layer)
    if spec.kind not in frame.columns:
        raise absent_column(feature, "facilities", "kind", spec.kind, frame.columns)
    return frame[frame[spec.kind].astype(str).isin(values)]


def read_crews(project, feature: str):
    """(points, name column, department) of the crews role: where response crews start."""
    from .expressions import filter_mask

    layers = project_layers(project)
    spec = layers.crews if layers is not None else None
    if spec is None:
        raise missing_layer(feature, "crews")
    frame = read_role(project, "crews", feature)
    if spec.where:
        frame = frame[filter_mask(frame, spec.where).to_numpy(bool)]
    name = column(frame, layers, "crews", "name", feature)
    if not spec.department:
        raise missing_field(feature, "crews", "department")
    return frame, name, spec.department
