"""``citydesk city check``: per feature, whether the city's data is ready for it.

A city adopting CityDesk brings its own layers; which features then work depends on which
roles and fields its profile maps and whether the project holds them. This module answers
that before anyone runs an analysis and meets a missing field halfway: each feature lists
what it needs (a profile key, a layer role, a field), and the check says *ready*, *partly*
(it runs and says what it leaves out) or *missing* (it refuses with the same message). The
requirements are data (:data:`FEATURES`), so the GUI's City setup dialog and the CLI show the
same list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from .city_profile import DEFAULTS_CURRENCY, CityProfile, costs_in_other_currency
from .errors import CityDeskError
from .i18n import N_, _

if TYPE_CHECKING:
    from .road_network import NetworkReport

Status = Literal["ready", "partly", "missing"]


@dataclass(frozen=True)
class Need:
    """One thing a feature reads: a layer role (``field`` None) or one of its fields, or a
    top-level profile key (``role`` ""). ``required`` False: the feature runs without it
    and says what it leaves out."""

    role: str
    field: str | None = None
    required: bool = True
    key: str = ""  # a top-level profile key instead of a role
    #: a need no key or field states: the problem text for a profile ("" when met)
    rule: Callable[[CityProfile], str] | None = None


@dataclass(frozen=True)
class Feature:
    name: str  # English, marked for translation
    needs: tuple[Need, ...]
    #: a road network this feature routes on ("drive" or "walk"): names and fields are not
    #: enough there, the streets must also join up (:func:`street_networks`)
    network: str = ""


def _n(role: str, field: str | None = None, required: bool = True) -> Need:
    return Need(role, field, required)


def _key(name: str, required: bool = True) -> Need:
    return Need("", None, required, key=name)


def _costs_in_the_citys_currency(profile: CityProfile) -> str:
    """Costs are needed in the city's own currency only where it is not the defaults'."""
    if not costs_in_other_currency(profile):
        return ""
    return _(
        "costs are CityDesk's {default} defaults: set [planning] cost_per_m2 in {currency}"
    ).format(default=DEFAULTS_CURRENCY, currency=profile.currency)


FEATURES: tuple[Feature, ...] = (
    Feature(N_("Unit grid and grid codes"), (_key("admin_code"), _n("boundary"),
            _n("neighborhoods"), _n("neighborhoods", "code", False),
            _n("neighborhoods", "name", False))),
    Feature(N_("Due times on the city's calendar"), (_key("timezone"),
            _key("calendar.holidays", False))),
    Feature(N_("Road network (driving)"), (_n("streets"), _n("streets", "road_class", False),
            _n("streets", "direction", False)), network="drive"),
    Feature(N_("Walking network"), (_n("streets"), _n("streets", "walk_field", False)),
            network="walk"),
    Feature(N_("Address geocoder"), (_n("streets"), _n("streets", "name"),
            _n("streets", "left_from"), _n("streets", "left_to"), _n("streets", "right_from"),
            _n("streets", "right_to"))),
    Feature(N_("Address points (the geocoder without ranges)"), (_n("addresses"),
            _n("addresses", "street"), _n("addresses", "number"))),
    Feature(N_("Planning scenarios"), (_n("parcels"), _n("streets"),
            _n("parcels", "housing_units", False), _n("parcels", "floor_area", False),
            _n("parcels", "land_value", False), _n("parcels", "land_use", False),
            _key("land_use_system", False), _n("neighborhoods", "name", False),
            _n("floodplain", None, False), _n("open_space", None, False),
            _n("water", None, False), _n("streets", "major_classes", False),
            Need("", required=False, rule=_costs_in_the_citys_currency))),
    Feature(N_("Zoning constraint"), (_n("zoning"), _n("zoning", "code"),
            _n("zoning", "families"))),
    Feature(N_("Facility access and siting"), (_n("facilities"), _n("facilities", "kind"),
            _n("facilities", "kinds"))),
    Feature(N_("Dispatch crews"), (_n("crews"), _n("crews", "department"),
            _n("crews", "name", False))),
    Feature(N_("Reports: money and credits"), (_key("currency", False),
            _key("credits", False))),
)  # fmt: skip


@dataclass
class FeatureCheck:
    feature: str
    status: Status
    missing: list[str] = field(default_factory=list)  # what stops it or what it leaves out

    def line(self) -> str:
        label = {"ready": _("ready"), "partly": _("partly"), "missing": _("missing")}
        tail = ("; ".join(self.missing)) if self.missing else ""
        return f"{_(self.feature)}: {label[self.status]}" + (f" ({tail})" if tail else "")


def _value(profile: CityProfile, dotted: str):
    value: object = profile
    for part in dotted.split("."):
        value = getattr(value, part, None)
    return value


def check_city(
    profile: CityProfile,
    fields: dict[str, list[str]],
    empty: set[str] | frozenset = frozenset(),
    networks: Mapping[str, NetworkReport | str] | None = None,
) -> list[FeatureCheck]:
    """Each feature's readiness for ``profile`` on a project whose vector layers have
    ``fields`` ({layer id: field names}, :func:`project_store.project_layer_fields`), the
    layers in ``empty`` holding no features (:func:`project_store.project_empty_layers`).
    ``networks``: per mode, the street network's report or why it could not be built
    (:func:`street_networks`); without them the road features are checked by name only."""
    out = []
    for feature in FEATURES:
        gaps: list[tuple[bool, str]] = []
        for need in feature.needs:
            problem = _problem(profile, fields, need, empty)
            if problem:
                gaps.append((need.required, problem))
        blocked = any(required for required, _p in gaps)
        if feature.network and networks and feature.network in networks and not blocked:
            gaps += _network_gaps(networks[feature.network])
        if any(required for required, _p in gaps):
            status: Status = "missing"
        else:
            status = "partly" if gaps else "ready"
        problems = list(dict.fromkeys(p for _r, p in gaps))  # a missing layer is said once
        out.append(FeatureCheck(feature.name, status, problems))
    return out


def _problem(
    profile: CityProfile, fields: dict[str, list[str]], need: Need, empty: set[str] | frozenset
) -> str:
    if need.rule is not None:
        return need.rule(profile)
    if need.key:
        return "" if _value(profile, need.key) else _("no {key}").format(key=need.key)
    layer = profile.layers.layer_id(need.role)
    if not layer:
        return _("no [layers.{role}]").format(role=need.role)
    if layer not in fields:
        return _("[layers.{role}] layer '{layer}' is not in the project").format(
            role=need.role, layer=layer
        )
    if layer in empty:
        return _("[layers.{role}] layer '{layer}' has no features").format(
            role=need.role, layer=layer
        )
    if need.field is None:
        return ""
    value = profile.layers.field_name(need.role, need.field)
    if not value:
        return _("no [layers.{role}] {key}").format(role=need.role, key=need.field)
    if isinstance(value, str) and need.field not in _NOT_COLUMNS and value not in fields[layer]:
        return _("[layers.{role}] {key} = '{value}': no such field in '{layer}'").format(
            role=need.role, key=need.field, value=value, layer=layer
        )
    return ""


def _network_gaps(report: NetworkReport | str) -> list[tuple[bool, str]]:
    """What a built network says about a road feature: a street layer that cannot become a
    graph stops it; one that falls apart runs (distances from the main part's nearest node)
    but not as the city's streets are, which the check says with the setting to change."""
    from .road_network import LOW_CONNECTIVITY

    if isinstance(report, str):
        return [(True, report)]
    if report.largest_share >= LOW_CONNECTIVITY:
        return []
    said = _("only {share:.1%} of the street nodes can reach each other").format(
        share=report.largest_share
    )
    return [(False, said + (": " + report.hint if report.hint else ""))]


def street_networks(project, profile: CityProfile) -> dict[str, NetworkReport | str]:
    """The driving and walking networks' reports for ``profile``'s streets in ``project``
    (the one road-network builder, as planning and dispatch build them), or the reason one
    could not be built; empty when the profile maps no streets layer the project holds."""
    from .project_store import project_layer_fields, read_project_layer
    from .road_network import build_network, network_spec

    layer = profile.layers.layer_id("streets")
    if not layer or layer not in project_layer_fields(project):
        return {}
    try:
        streets = read_project_layer(project, layer)
    except CityDeskError as exc:  # said under the road features; the rest is still checked
        return {"drive": exc.message, "walk": exc.message}
    if streets.empty:
        return {}
    out: dict[str, NetworkReport | str] = {}
    for mode in ("drive", "walk"):
        try:  # not warned in the log: the check's line says it, once
            report = build_network(streets, network_spec(profile, mode), warn=False).report
        except CityDeskError as exc:
            out[mode] = exc.message
            continue
        if report is not None:
            out[mode] = report
    return out


#: role keys whose value is not a column name
_NOT_COLUMNS = ("families", "kinds", "department", "where")


def check_project(project) -> list[FeatureCheck]:
    """:func:`check_city` for a project's stored profile (an error when it has none)."""
    from .city_profile import ProfileError, project_profile
    from .project_store import project_empty_layers, project_layer_fields

    profile = project_profile(project)
    if profile is None:
        raise ProfileError(
            _("the project has no city profile"),
            _("Store one: citydesk city set PROJECT PROFILE (or citydesk city init)."),
            gui_fix=_("Store one with Project > City setup."),
            path=str(project),
        )
    fields, empty = project_layer_fields(project), project_empty_layers(project)
    return check_city(profile, fields, empty, street_networks(project, profile))
