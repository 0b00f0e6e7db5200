"""Per-parcel yields and objective coefficients for land-use allocation, from real layers.

Turns parcels (with land value, land use and housing estimates), zoning districts, the
floodplain, open space, water, schools and parks into an
:class:`citydesk.optimization.landuse.LandUseProblem`. Every number is an assumption a planner can
change in :class:`AllocationAssumptions`; the defaults are round figures for a dense
US city, documented in docs/OPTIMIZATION.md, not calibrated results.

Coefficients, per parcel i of land area A_i (m²) and use u:

* housing added: A_i * density_u (units/m²) minus the parcel's current units if it changes;
* jobs floor area: A_i * job_floor_ratio_u;  school seats: A_i * seats_per_m2 (school);
  park area: A_i (park);
* cost (public and infrastructure): A_i * cost_per_m2_u;
* economic: land value uplift, land_value_i * (value_factor_u - 1);
* social: new housing * access_i, where access_i = mean of exp(-d/800 m) to the nearest
  school and park, plus for a new school or park the housing units within 800 m that have
  none nearer (straight-line distances; the planning issue's network 2SFCA replaces them);
* environment: impervious area added inside the floodplain,
  A_i * flood_share_i * max(0, impervious_u - impervious_now_i).

Protected (keep only): parcels mostly (> 50 %) in the 100-year floodplain, open space or
water. Zoning: a use is allowed when the parcel's district family permits it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from citydesk.layers.city_profile import DEFAULTS_CURRENCY, CityProfile, costs_in_other_currency
from citydesk.layers.crs import suggest_projected_crs, to_lonlat_bounds
from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _, ngettext
from citydesk.layers.overlay import made_valid, share_inside
from citydesk.layers.project_store import read_project_layer
from citydesk.optimization.landuse import USES, Coverage, LandUseInputError, LandUseProblem

SQFT = 0.09290304  # m² per square foot


@dataclass(frozen=True)
class AllocationAssumptions:
    """Densities, ratios, costs and factors per use (in the order of ``USES``)."""

    density_units_per_ha: tuple = (0, 40, 200, 100, 0, 0, 0)
    job_floor_ratio: tuple = (0, 0, 0, 0.8, 1.5, 0, 0)
    school_seats_per_ha: float = 250.0
    cost_per_m2: tuple = (0, 400, 1200, 1000, 900, 150, 1500)
    value_factor: tuple = (1.0, 1.1, 1.6, 1.5, 1.4, 0.5, 0.6)
    impervious: tuple = (0.6, 0.5, 0.8, 0.85, 0.9, 0.1, 0.6)
    access_radius_m: float = 800.0
    protected_share: float = 0.5
    # zoning district families (a code prefix) -> allowed uses besides keep; from the city
    # profile's [layers.zoning]. With no zoning, every use is allowed.
    zoning: dict = field(default_factory=dict)
    default_zoning: tuple = USES[1:]
    # zoning district prefix -> most homes per hectare (a cap below the use's density)
    density_caps: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ParcelFacts:
    """What the allocation reads of each parcel, in m² and the city's currency, from the
    fields the city profile maps (``[layers.parcels]``). None where the city has no such
    figure: the callers say what that leaves out instead of counting zeros."""

    ids: np.ndarray
    units_now: np.ndarray | None
    floor_m2: np.ndarray | None
    land_value: np.ndarray | None
    land_class: np.ndarray  # planning land-use class ('unknown' where the city has none)


FEATURE = "Land-use allocation"


def _numbers(frame: gpd.GeoDataFrame, column: str | None) -> np.ndarray | None:
    if column is None:
        return None
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    return np.where(np.isfinite(values), values, 0.0)


def parcel_facts(
    parcels: gpd.GeoDataFrame, profile: CityProfile | None, notes: list[str] | None = None
) -> ParcelFacts:
    """The parcels' figures by the profile's field mapping; each figure the city lacks adds
    a line to ``notes`` naming the role, the field and what is left out (and the costs, when
    they are CityDesk's USD defaults in a city counting in another currency: every plan,
    scenario or front, reads its parcels through here once)."""
    from citydesk.layers.city_layers import column
    from citydesk.layers.land_use import LAND_USE_CLASSES, classify_codes, load_system

    notes = notes if notes is not None else []
    layers = profile.layers if profile is not None else None
    if profile is not None and costs_in_other_currency(profile):
        notes.append(
            _(
                "costs are CityDesk's round defaults in {default} per m² of land, but the city "
                "counts in {currency}: set [planning] cost_per_m2 in {currency}"
            ).format(default=DEFAULTS_CURRENCY, currency=profile.currency)
        )

    def field_of(key: str) -> str | None:
        return column(parcels, layers, "parcels", key, FEATURE)

    units = _numbers(parcels, field_of("housing_units"))
    if units is None:
        notes.append(
            _(
                "no housing figure ([layers.parcels] housing_units): homes a change replaces "
                "are not subtracted, and the indicators about today's residents are left out"
            )
        )
    floor = _numbers(parcels, field_of("floor_area"))
    if floor is not None and profile is not None and profile.area_unit == "sqft":
        floor = floor * SQFT
    if floor is None:
        notes.append(_("no floor area ([layers.parcels] floor_area): jobs today are not counted"))
    value = _numbers(parcels, field_of("land_value"))
    if value is None:
        notes.append(
            _("no land value ([layers.parcels] land_value): the economic objective is left out")
        )
    code = field_of("land_use")
    if code is not None and profile is not None and profile.land_use_system:
        classes = classify_codes(
            parcels[code], load_system(profile.land_use_system), profile.land_use_codes
        )
        _note_unknown_codes(parcels[code], classes, profile.land_use_system, notes)
    elif code is not None and parcels[code].dropna().isin(list(LAND_USE_CLASSES)).all():
        classes = parcels[code].fillna("unknown").astype(str)  # classes already
    else:
        classes = pd.Series("unknown", index=parcels.index)
        notes.append(
            _(
                "no land use ([layers.parcels] land_use and land_use_system): today's uses "
                "are unknown"
            )
        )
    ident = field_of("id")
    ids = parcels[ident].to_numpy() if ident else parcels.index.to_numpy()
    return ParcelFacts(ids, units, floor, value, classes.to_numpy(dtype=object))


def _note_unknown_codes(
    codes: pd.Series, classes: pd.Series, system: str, notes: list[str]
) -> None:
    """A note when parcels carry land-use values the profile's system does not know: with
    the wrong system (another country's codes) every parcel's use today is "unknown" and
    the plan runs as if nothing were there, without a word."""
    given = codes.notna() & (codes.astype(str).str.strip() != "")
    unknown = given & (classes == "unknown")
    if not unknown.any():
        return
    examples = ", ".join(repr(v) for v in codes[unknown].astype(str).value_counts().index[:4])
    notes.append(
        _(
            "{n} of {total} parcels have land-use values the '{system}' system does not know "
            "({examples}): their use today is unknown. Choose the city's land_use_system, or "
            "map them in [land_use_codes]"
        ).format(n=int(unknown.sum()), total=int(given.sum()), system=system, examples=examples)
    )


def assumptions_for(profile: CityProfile | None, **changes) -> AllocationAssumptions:
    """The allocation assumptions of a city: its zoning families, costs and densities from
    the profile over CityDesk's round defaults; a use name the model does not know is an
    error naming the profile key."""
    from dataclasses import replace

    from citydesk.layers.city_profile import ProfileError

    rules = AllocationAssumptions()
    if profile is None:
        return replace(rules, **changes)

    def check(where: str, uses) -> None:
        for use in uses:
            if use not in USES:
                raise ProfileError(
                    _("{where}: unknown planning use '{use}'").format(where=where, use=use),
                    _("Uses are: {names}.").format(names=", ".join(USES)),
                )

    zoning = profile.layers.zoning
    if zoning is not None and zoning.families:
        for family, uses in zoning.families.items():
            check(f"layers.zoning.families.{family}", uses)
        check("layers.zoning.default", zoning.default)
        rules = replace(
            rules,
            zoning={k.upper(): tuple(v) for k, v in zoning.families.items()},
            default_zoning=tuple(zoning.default),
        )
    for key in ("cost_per_m2", "density_units_per_ha"):
        table = getattr(profile.planning, key)
        check(f"planning.{key}", table)
        if table:
            base = list(getattr(rules, key))
            merged: Any = tuple(table.get(u, base[k]) for k, u in enumerate(USES))
            rules = replace(rules, **{key: merged})
    return replace(rules, **changes)


def _sum_within(
    points: np.ndarray, weights: np.ndarray, radius: float, chunk: int = 1024
) -> np.ndarray:
    """Per point, the sum of ``weights`` over the points within ``radius`` of it (itself
    included): the homes a new school or park on that parcel would newly serve.

    Searched from the weighted points only, a chunk at a time, so memory is bounded by the
    chunk. The earlier form built the whole 0/1 "within" matrix first: 21.6 million pairs
    on the 13k Cambridge parcels at 800 m; with every home weighted this takes 5.67 s and
    205 MiB against its 16.78 s and 7,219 MiB (``benchmarks/planning.py landuse-inputs``)."""
    out = np.zeros(len(points))
    sources = np.flatnonzero(weights)
    if not sources.size:
        return out
    tree = cKDTree(points)
    for start in range(0, sources.size, chunk):
        part = sources[start : start + chunk]
        near = cKDTree(points[part]).sparse_distance_matrix(tree, radius, output_type="ndarray")
        out += np.bincount(near["j"], weights=weights[part][near["i"]], minlength=len(points))
    return out


def _centroids(parcels: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Centroid xy of each parcel, and which parcels have no usable geometry (those sit at
    the mean centroid and may only keep their use)."""
    centres = shapely.centroid(parcels.geometry.values)  # once for x and y
    xy = np.full((len(centres), 2), np.nan)
    placed = ~(shapely.is_missing(centres) | shapely.is_empty(centres))
    xy[placed] = shapely.get_coordinates(centres[placed])
    unusable = ~np.isfinite(xy).all(axis=1) | (parcels.geometry.area.to_numpy() <= 0)
    xy[unusable] = np.nanmean(xy[~unusable], axis=0)
    return xy, unusable


def _coverage(
    use: str, candidates_xy: np.ndarray, all_xy: np.ndarray, unserved: np.ndarray, radius: float
) -> Coverage:
    """Unserved homes summed on cells of a quarter radius; a new facility on a candidate
    serves the cells whose demand centre lies within the radius."""
    from scipy.sparse import csr_matrix

    has = unserved > 0
    cell = radius / 4
    keys = np.floor(all_xy[has] / cell).astype(np.int64)
    _cells, label = np.unique(keys, axis=0, return_inverse=True)
    label = label.ravel()
    demand = np.bincount(label, weights=unserved[has])
    centre = np.column_stack(
        [np.bincount(label, weights=unserved[has] * all_xy[has, d]) / demand for d in (0, 1)]
    )
    hits = cKDTree(candidates_xy).query_ball_point(centre, radius)
    rows = np.repeat(np.arange(len(hits)), [len(h) for h in hits])
    cols = (
        np.concatenate([np.asarray(h, dtype=np.int64) for h in hits])
        if len(hits)
        else np.zeros(0, dtype=np.int64)
    )
    reach = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(hits), len(candidates_xy)))
    return Coverage(use=use, objective="social", reach=reach, demand=demand)


def _zones(parcels, zoning, code: str | None) -> np.ndarray:
    """The zoning district code (upper case) holding each parcel's inner point."""
    if zoning is None or zoning.empty or not code:
        return np.array([""] * len(parcels), dtype=object)
    points = parcels.geometry.representative_point().to_frame("geometry")
    joined = gpd.sjoin(points, zoning[[code, "geometry"]], how="left", predicate="within")
    joined = joined[~joined.index.duplicated()]
    return joined[code].fillna("").astype(str).str.upper().to_numpy()


def _longest_prefix(zone: str, keys) -> str | None:
    """The district family a zone belongs to: its longest matching prefix ("BA-2" -> "BA")."""
    return next((f for f in sorted(keys, key=len, reverse=True) if zone.startswith(f)), None)


def _zoning_allowed(zones: np.ndarray, rules: AllocationAssumptions) -> np.ndarray:
    allowed = np.zeros((len(zones), len(USES)), dtype=bool)
    allowed[:, 0] = True
    index = {u: k for k, u in enumerate(USES)}
    for i, zone in enumerate(zones):
        family = _longest_prefix(zone, rules.zoning)
        for use in rules.zoning[family] if family else rules.default_zoning:
            allowed[i, index[use]] = True
    return allowed


def _density_caps(zones: np.ndarray, caps: dict) -> np.ndarray:
    """Most homes per m² on each parcel by its district's cap (inf where none applies)."""
    out = np.full(len(zones), np.inf)
    if caps:
        for i, zone in enumerate(zones):
            family = _longest_prefix(zone, caps)
            if family is not None:
                out[i] = caps[family] / 10_000.0
    return out


def landuse_problem(
    parcels: gpd.GeoDataFrame,
    *,
    zoning: gpd.GeoDataFrame | None = None,
    floodplain: gpd.GeoDataFrame | None = None,
    open_space: gpd.GeoDataFrame | None = None,
    water: gpd.GeoDataFrame | None = None,
    schools: gpd.GeoDataFrame | None = None,
    parks: gpd.GeoDataFrame | None = None,
    candidates: np.ndarray | None = None,
    targets: dict | None = None,
    budget: float | None = None,
    max_changed: int | None = None,
    assumptions: AllocationAssumptions | None = None,
    access: np.ndarray | None = None,
    suitability: np.ndarray | None = None,
    protect: tuple[str, ...] = ("floodplain", "open_space", "water"),
    served: dict[str, np.ndarray] | None = None,
    coverage: bool = False,
    compatibility: bool = False,
    profile: CityProfile | None = None,
    notes: list[str] | None = None,
    cut_shares: dict[str, np.ndarray] | None = None,
) -> LandUseProblem:
    """The allocation inputs for ``parcels`` (all of them, or the ``candidates`` mask).

    ``access`` (one value 0..1 per parcel, before the candidate filter) replaces the
    straight-line access to schools and parks in the social objective; planning scenarios
    pass the network walking access there. ``suitability`` (0..1 per parcel, before the
    filter) adds the suitability objective. Only the layers named in ``protect`` make
    parcels keep their use; the floodplain still counts in the environment objective.

    ``coverage`` credits a new school or park with the unserved homes around it once (a
    maximal-covering term, :class:`citydesk.optimization.landuse.Coverage`) instead of per parcel;
    ``served`` ({"schools"/"parks": flag per parcel, before the filter}) says who already
    has one within the radius (default: straight-line distance).

    ``compatibility`` adds what the compatibility objective needs: the touching pairs of
    parcels, the penalty of each pair of land-use classes (the profile's over CityDesk's
    defaults) and each parcel's class under each use; a non-candidate neighbour counts with
    its use today.

    ``profile`` says which fields hold the homes, floor area, land value and zoning code,
    and gives the zoning families; what the city lacks is added to ``notes``.

    ``cut_shares`` ({"floodplain"/"open_space"/"water": share of each parcel's area inside
    that layer, before the filter}) are shares the caller has already cut (a scenario run
    has); the layers not in it are cut here."""
    if parcels.empty:  # its bounds are NaN, which the CRS choice below cannot take
        raise LandUseInputError(
            _("There are no parcels to plan: the parcels layer is empty."),
            _("Map [layers.parcels] to a layer with the city's parcels or land-use areas."),
        )
    rules = assumptions or assumptions_for(profile)
    notes = notes if notes is not None else []
    crs = suggest_projected_crs(
        to_lonlat_bounds(tuple(parcels.total_bounds), parcels.crs), parcels.crs.geodetic_crs
    )
    parcels = parcels.reset_index(drop=True).to_crs(crs)
    parcels["geometry"] = gpd.GeoSeries(made_valid(parcels.geometry.values), crs=crs)
    facts = parcel_facts(parcels, profile, notes)
    everyone = parcels
    keep = np.ones(len(parcels), dtype=bool)
    if candidates is not None:
        keep = np.asarray(candidates, dtype=bool)
        parcels = parcels[keep].reset_index(drop=True)
        access = None if access is None else np.asarray(access, dtype=float)[keep]
        if suitability is not None:
            suitability = np.asarray(suitability, dtype=float)[keep]
    layers = {
        name: None if frame is None else frame.to_crs(crs)
        for name, frame in (
            ("zoning", zoning),
            ("floodplain", floodplain),
            ("open_space", open_space),
            ("water", water),
            ("schools", schools),
            ("parks", parks),
        )
    }
    n, k = len(parcels), len(USES)
    area = parcels.geometry.area.to_numpy()
    all_units = facts.units_now if facts.units_now is not None else np.zeros(len(everyone))
    units_now = all_units[keep]
    land_value = facts.land_value[keep] if facts.land_value is not None else np.zeros(len(parcels))
    known = cut_shares or {}

    def share(name: str) -> np.ndarray:
        if name in known:
            return np.asarray(known[name], dtype=float)[keep]
        return share_inside(parcels, layers[name])

    flood = share("floodplain")
    shares = {"floodplain": flood}
    for name in ("open_space", "water"):
        if name in protect:
            shares[name] = share(name)
    protected = np.zeros(len(parcels), dtype=bool)
    for name in protect:
        protected |= shares[name] > rules.protected_share

    zoning_spec = profile.layers.zoning if profile is not None else None
    zones = _zones(parcels, layers["zoning"], zoning_spec.code if zoning_spec else None)
    if layers["zoning"] is None or not (zoning_spec and zoning_spec.code):
        rules = replace(rules, zoning={}, default_zoning=USES[1:])  # unknown: all allowed
    # a district's density cap lowers the homes every housing use may build there
    density = np.minimum(
        np.asarray(rules.density_units_per_ha)[None, :] / 10_000.0,
        _density_caps(zones, rules.density_caps)[:, None],
    )
    housing = area[:, None] * density
    has_homes = np.asarray(rules.density_units_per_ha)[1:] > 0
    housing[:, 1:] -= units_now[:, None] * has_homes[None, :]  # replaced homes
    housing[:, 1:][:, ~has_homes] = -units_now[:, None]  # a park or shop removes them
    jobs = area[:, None] * np.asarray(rules.job_floor_ratio)[None, :]
    seats = np.zeros((n, k))
    seats[:, USES.index("school")] = area * rules.school_seats_per_ha / 10_000.0
    park_area = np.zeros((n, k))
    park_area[:, USES.index("park")] = area
    cost = area[:, None] * np.asarray(rules.cost_per_m2, dtype=float)[None, :]
    economic = land_value[:, None] * (np.asarray(rules.value_factor)[None, :] - 1.0)

    all_xy, all_unusable = _centroids(everyone)
    centroids, unusable = all_xy[keep], all_unusable[keep]
    straight_access = np.zeros(n)
    gains = {"schools": np.zeros(n), "parks": np.zeros(n)}
    covers = []
    for name, use in (("schools", "school"), ("parks", "park")):
        frame = layers[name]
        if frame is None or frame.empty:
            continue
        pts = frame.geometry.representative_point()
        dist = cKDTree(np.column_stack([pts.x, pts.y])).query(all_xy)[0]
        straight_access += 0.5 * np.exp(-dist[keep] / rules.access_radius_m)
        # homes with no such facility within the radius
        has = (dist <= rules.access_radius_m) if not served or name not in served else served[name]
        unserved = np.where(np.asarray(has, dtype=bool), 0.0, all_units)
        if coverage:
            covers.append(_coverage(use, centroids, all_xy, unserved, rules.access_radius_m))
        else:
            gains[name] = _sum_within(centroids, unserved[keep], rules.access_radius_m)
    access = straight_access if access is None else np.nan_to_num(access)
    social = np.clip(housing, 0, None) * access[:, None]
    social[:, USES.index("school")] += gains["schools"]
    social[:, USES.index("park")] += gains["parks"]
    now = rules.impervious[0]
    environment = (
        area[:, None]
        * flood[:, None]
        * np.clip(np.asarray(rules.impervious)[None, :] - now, 0, None)
    )
    coefficients = {"economic": economic, "social": social, "environment": environment}
    if suitability is not None:  # hectares changed, weighted by how suitable the parcel is
        fit = np.nan_to_num(suitability)[:, None] * area[:, None] / 10_000.0
        coefficients["suitability"] = np.repeat(fit, k, axis=1) * (np.arange(k) > 0)[None, :]
    allowed = _zoning_allowed(zones, rules)
    allowed[unusable, 1:] = False
    neighbours = (
        _neighbours(everyone, keep, facts.land_class, profile, notes) if compatibility else None
    )
    return LandUseProblem(
        parcel_ids=facts.ids[keep],
        allowed=allowed,
        yields={"housing": housing, "jobs": jobs, "school_seats": seats, "park_area": park_area},
        cost=cost,
        coefficients=coefficients,
        coverage=tuple(covers),
        targets=targets or {},
        budget=budget,
        max_changed=max_changed,
        protected=protected,
        adjacency=None if neighbours is None else neighbours.adjacency,
        incompatible=None if neighbours is None else neighbours.penalty,
        use_class=None if neighbours is None else neighbours.use_class,
        outside_penalty=None if neighbours is None else neighbours.outside,
        outside_constant=0.0 if neighbours is None else neighbours.outside_constant,
        layer_rows=None if candidates is None else np.flatnonzero(keep),
    )


@dataclass(frozen=True)
class Neighbours:
    """What the compatibility objective reads (fields of :class:`LandUseProblem`)."""

    adjacency: np.ndarray
    penalty: np.ndarray
    use_class: np.ndarray
    outside: np.ndarray
    outside_constant: float  # between touching parcels that both keep their use


def _neighbours(
    everyone: gpd.GeoDataFrame,
    keep: np.ndarray,
    land_class: np.ndarray,
    profile: CityProfile | None,
    notes: list[str],
) -> Neighbours:
    """The compatibility objective's inputs (see :func:`landuse_problem`)."""
    from citydesk.layers.land_compatibility import penalty_matrix, use_classes

    if (land_class == "unknown").all():
        notes.append(
            _(
                "today's land use is unknown ([layers.parcels] land_use): compatibility"
                " counts only conflicts between parcels the plan changes"
            )
        )
    penalty = penalty_matrix(profile.planning.compatibility if profile is not None else None)
    klass = use_classes(land_class.tolist(), USES)
    pairs = parcel_adjacency(everyone)
    index = np.full(len(everyone), -1)
    index[keep] = np.arange(int(keep.sum()))
    ia, ib = index[pairs[:, 0]], index[pairs[:, 1]]
    inside = (ia >= 0) & (ib >= 0)
    candidates = klass[keep]
    outside = np.zeros(candidates.shape)
    for mine, theirs, near in ((ia, pairs[:, 1], ib), (ib, pairs[:, 0], ia)):
        edge = (mine >= 0) & (near < 0)  # a candidate beside a parcel that keeps its use
        today = klass[theirs[edge], 0]
        np.add.at(outside, mine[edge], penalty[candidates[mine[edge]], today[:, None]])
    both_out = (ia < 0) & (ib < 0)
    fixed = float(penalty[klass[pairs[both_out, 0], 0], klass[pairs[both_out, 1], 0]].sum())
    return Neighbours(
        np.column_stack([ia[inside], ib[inside]]), penalty, candidates, outside, fixed
    )


def project_landuse_problem(
    project, notes: list[str] | None = None, where: str | None = None, **kwargs
) -> LandUseProblem:
    """The allocation inputs of a project, its layers found by the city profile's roles:
    parcels (required), zoning, floodplain, open space, water, the facilities of kind
    ``school`` and, as parks, the open space (or kind ``park``).

    Every parcel is a candidate, or those the filter ``where`` matches (the attribute-table
    language, as a scenario's ``candidates.where``): a plan for one district, or for the
    underused parcels only, without a scenario file. The others keep their use and still
    count as neighbours."""
    from citydesk.layers.city_layers import read_role
    from citydesk.layers.city_profile import profile_or_none

    profile = profile_or_none(project)
    layers = profile.layers if profile is not None else None
    notes = notes if notes is not None else []

    def read(role: str) -> gpd.GeoDataFrame | None:
        layer = layers.layer_id(role) if layers is not None else None
        return read_project_layer(project, layer) if layer else None

    parcels = read_role(project, "parcels", FEATURE)
    if where and where.strip():
        kwargs["candidates"] = picked = candidates_where(parcels, where)
        n = int(picked.sum())
        notes.append(
            ngettext(
                "{n:,} of {total:,} parcels is a candidate ({where}); the others keep their use",
                "{n:,} of {total:,} parcels are candidates ({where}); the others keep their use",
                n,
            ).format(n=n, total=len(parcels), where=where.strip())
        )
    open_space = read("open_space")
    return landuse_problem(
        parcels,
        zoning=read("zoning"),
        floodplain=read("floodplain"),
        open_space=open_space,
        water=read("water"),
        schools=facilities_of_kind(project, profile, "school", notes),
        parks=facilities_of_kind(project, profile, "park", notes, fallback=open_space),
        profile=profile,
        notes=notes,
        **kwargs,
    )


def candidates_where(parcels: gpd.GeoDataFrame, where: str) -> np.ndarray:
    """The parcels a candidate filter matches, refused when it matches none (a plan over
    no parcel would only report every target as impossible)."""
    from citydesk.layers.expressions import filter_mask

    try:
        mask = filter_mask(parcels, where).to_numpy(bool)
    except CityDeskError as exc:
        raise CityDeskError(
            _("The candidate filter: {problem}").format(problem=exc.problem),
            exc.fix,
            gui_fix=exc.gui_fix,
        ) from exc
    if not mask.any():
        raise CityDeskError(
            _("No parcel matches the candidate filter {text!r}.").format(text=where),
            _("Loosen the filter, or leave it out to plan every parcel."),
        )
    return mask


def plan_over_layer(plan: np.ndarray, rows: np.ndarray | None, n_rows: int) -> np.ndarray:
    """A plan of the modelled parcels (``LandUseProblem.layer_rows``: their rows, None for
    all) as one use per row of the whole parcels layer, the other parcels kept (use 0)."""
    if rows is None:
        return np.asarray(plan, dtype=int)
    whole = np.zeros(n_rows, dtype=int)
    whole[rows] = plan
    return whole


def facilities_of_kind(
    project,
    profile: CityProfile | None,
    kind: str,
    notes: list[str],
    fallback: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame | None:
    """The project's facilities of one kind the analyses know (``school``, ``fire``, ...) by
    the profile's kind field and value map; ``fallback`` (or None, with a note) otherwise."""
    spec = profile.layers.facilities if profile is not None else None
    values = spec.kinds.get(kind) if spec is not None else None
    if spec is None or not spec.kind or not values:
        if fallback is None:
            notes.append(
                _("no facilities of kind '{kind}' ([layers.facilities] kinds.{kind})").format(
                    kind=kind
                )
            )
        return fallback
    from citydesk.layers.city_layers import read_kind  # the one reader of a facility kind

    return read_kind(project, kind, FEATURE)


def parcel_adjacency(parcels: gpd.GeoDataFrame, tolerance_m: float = 0.5) -> np.ndarray:
    """Pairs (i, j), i < j, of parcels that touch (within ``tolerance_m``, for slivers).

    Rook-like adjacency from a spatial join: what the compatibility objective and metric
    run over. Parcels must be in a metric CRS or are projected first.
    """
    if parcels.crs is not None and parcels.crs.is_geographic:
        crs = suggest_projected_crs(
            to_lonlat_bounds(tuple(parcels.total_bounds), parcels.crs), parcels.crs.geodetic_crs
        )
        parcels = parcels.to_crs(crs)
    # geopandas' buffer resolution (16 segments a quarter circle), as before
    shapes = shapely.buffer(made_valid(parcels.geometry.values), tolerance_m, quad_segs=16)
    # the pairs whose boxes meet, each once, then the exact test with the parcel of more
    # vertices prepared: a spatial join tested each pair both ways, and with the small
    # parcel prepared a street parcel of 18,000 vertices was walked whole for each of its
    # hundreds of neighbours (7.9 s for the demo's 13,116 parcels; 1.8 s now, with the same
    # 37,408 pairs)
    left, right = shapely.STRtree(shapes).query(shapes)
    keep = left < right
    left, right = left[keep], right[keep]
    vertices = shapely.get_num_coordinates(shapes)
    swap = vertices[left] < vertices[right]
    big, small = np.where(swap, right, left), np.where(swap, left, right)
    shapely.prepare(shapes)
    touch = shapely.intersects(shapes[big], shapes[small])
    return np.column_stack([left[touch], right[touch]])  # in the join's order, as before


def plans_frame(
    parcels: gpd.GeoDataFrame, plans: dict[str, np.ndarray], profile: CityProfile | None = None
) -> gpd.GeoDataFrame:
    """The parcels with one column of use names per plan (row order as the inputs were built),
    after the parcel's id, address and land use as the city profile names them."""
    spec = profile.layers.parcels if profile is not None else None
    keep = [spec.id, spec.address, spec.land_use] if spec is not None else []
    out = parcels[[c for c in dict.fromkeys(keep) if c and c in parcels.columns]].copy()
    for name, plan in plans.items():
        out[name] = np.asarray(USES, dtype=object)[np.asarray(plan, dtype=int)]
    return gpd.GeoDataFrame(out, geometry=parcels.geometry.values, crs=parcels.crs)


def plan_from_column(frame: gpd.GeoDataFrame, column: str) -> np.ndarray:
    """Use indices from a column of use names (as written by :func:`plans_frame`)."""
    if column not in frame.columns:
        raise CityDeskError(
            _("The plan layer has no column {column!r}.").format(column=column),
            _("Columns: {names}.").format(names=", ".join(map(str, frame.columns))),
        )
    index = {u: k for k, u in enumerate(USES)}
    names = frame[column].astype(str)
    unknown = sorted(set(map(str, names)) - set(index))
    if unknown:
        raise CityDeskError(
            _("Unknown uses in {column!r}: {names}.").format(
                column=column, names=", ".join(unknown)
            ),
            _("Uses are: {names}.").format(names=", ".join(USES)),
        )
    return names.map(index).to_numpy(dtype=int)
