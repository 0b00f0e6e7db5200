"""Scenario indicators: each with a unit, a formula and which direction is better.

Every indicator is a ratio of per-parcel sums, value = sum(numerator) / sum(denominator)
(or the plain sum when it has no denominator), so the same definition gives the city-wide
figure and the figure per neighbourhood, and the neighbourhood figures add up (sums) or
weight up (ratios) to the city's. The per-parcel columns come from
:func:`citydesk.planning.scenario_run.plan_state`:

=====================  ==================================================================
column                 meaning
=====================  ==================================================================
units_before/after     housing units (assessor estimate; plus what the plan builds)
residents              units_after x persons per unit
jobs_after             job floor area after the plan / floor m² per job
green_m2               parcel area inside open space, or all of it if the plan makes a park
walk_<kind>_m          walking distance on the street network to the nearest <kind>
drive_fire_s           driving time from the nearest fire station (one-way streets kept)
school_access          2SFCA seats per resident within the walk radius
land_value_gain        land value x (value factor of the new use - 1) on changed parcels
plan_cost              construction and public cost of the change
new_network_m          access road to build: distance beyond 30 m from a changed parcel to
                       the street network
changed                1 if the plan changes the parcel's use
flood_share            share of the parcel inside the 100-year floodplain
=====================  ==================================================================

Plugins add indicators with :func:`register_indicator` (the plugin issue's contribution
point calls it); an indicator that fails is reported and left out, the others still count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from citydesk.layers.i18n import N_, _

Column = Callable[[pd.DataFrame], np.ndarray]


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str  # English; translated when shown
    unit: str
    formula: str
    better: str  # "higher", "lower" or "" (neither: a balance to judge)
    numerator: Column | None = None
    denominator: Column | None = None
    scale: float = 1.0
    function: Callable[[pd.DataFrame], float] | None = None  # a plugin's: state -> value
    needs: tuple[str, ...] = ()  # per-parcel figures read; left out when the city lacks one

    def value(self, state: pd.DataFrame) -> float:
        if self.function is not None:
            return float(self.function(state))
        if self.numerator is None:
            raise ValueError(f"indicator {self.key!r} has neither a function nor a numerator")
        num = np.nansum(np.asarray(self.numerator(state), dtype=float))
        if self.denominator is None:
            return float(num * self.scale)
        den = np.nansum(np.asarray(self.denominator(state), dtype=float))
        return float(num / den * self.scale) if den > 0 else float("nan")


def _col(name: str) -> Column:
    return lambda s: s[name].to_numpy(float)


def _residents_within(kind: str) -> Column:
    def within(s: pd.DataFrame) -> np.ndarray:
        radius = s.attrs.get("walk_radius_m", 800.0)
        return s["residents"].to_numpy(float) * (s[f"walk_{kind}_m"].to_numpy(float) <= radius)

    return within


def _reachable_residents(s: pd.DataFrame) -> np.ndarray:
    return s["residents"].to_numpy(float) * np.isfinite(s["drive_fire_s"].to_numpy(float))


def _fire_person_seconds(s: pd.DataFrame) -> np.ndarray:
    t = s["drive_fire_s"].to_numpy(float)
    return s["residents"].to_numpy(float) * np.where(np.isfinite(t), t, 0.0)


def _new_homes(s: pd.DataFrame) -> np.ndarray:
    return np.clip(s["units_after"].to_numpy(float) - s["units_before"].to_numpy(float), 0, None)


def _new_homes_within(kind: str) -> Column:
    """New homes within the walk radius of a ``kind``: valid whatever the city knows of the
    homes it has today (the new ones are the plan's own)."""

    def within(s: pd.DataFrame) -> np.ndarray:
        radius = s.attrs.get("walk_radius_m", 800.0)
        return _new_homes(s) * (s[f"walk_{kind}_m"].to_numpy(float) <= radius)

    return within


def _reachable_new_homes(s: pd.DataFrame) -> np.ndarray:
    return _new_homes(s) * np.isfinite(s["drive_fire_s"].to_numpy(float))


def _fire_home_seconds(s: pd.DataFrame) -> np.ndarray:
    t = s["drive_fire_s"].to_numpy(float)
    return _new_homes(s) * np.where(np.isfinite(t), t, 0.0)


_BUILTIN = [
    Indicator(
        "housing_units_added", N_("Housing units added"), "units",
        "sum(units_after - units_before)", "higher",
        lambda s: s["units_after"].to_numpy(float) - s["units_before"].to_numpy(float),
    ),
    Indicator(
        "jobs_housing_balance", N_("Jobs-housing balance"), "jobs/unit",
        "sum(jobs_after) / sum(units_after)", "",
        _col("jobs_after"), _col("units_after"), needs=("floor_area", "housing_units"),
    ),
    Indicator(
        "residents_near_school", N_("Residents within walking reach of a school"), "persons",
        "sum(residents where walk_school_m <= walk radius)", "higher",
        _residents_within("school"), needs=("housing_units", "kind:school"),
    ),
    Indicator(
        "residents_near_park", N_("Residents within walking reach of a park"), "persons",
        "sum(residents where walk_park_m <= walk radius)", "higher",
        _residents_within("park"), needs=("housing_units", "kind:park"),
    ),
    Indicator(
        "residents_near_clinic", N_("Residents within walking reach of a clinic"), "persons",
        "sum(residents where walk_clinic_m <= walk radius)", "higher",
        _residents_within("clinic"), needs=("housing_units", "kind:clinic"),
    ),
    Indicator(
        "school_seat_access", N_("School seats per 1,000 residents in reach (2SFCA)"),
        "seats/1000 persons", "1000 * sum(residents * school_access) / sum(residents)", "higher",
        lambda s: s["residents"].to_numpy(float) * s["school_access"].to_numpy(float),
        _col("residents"), scale=1000.0, needs=("housing_units", "kind:school"),
    ),
    Indicator(
        "mean_fire_response_s", N_("Mean drive time from the nearest fire station"), "s",
        "sum(residents * drive_fire_s) / sum(residents), over reachable parcels", "lower",
        _fire_person_seconds, _reachable_residents, needs=("housing_units", "kind:fire"),
    ),
    Indicator(
        "green_space_per_resident", N_("Green space per resident"), "m²/person",
        "sum(green_m2) / sum(residents)", "higher",
        _col("green_m2"), _col("residents"), needs=("housing_units", "open_space"),
    ),
    Indicator(
        "land_value_captured_usd", N_("Land value captured"), "money",
        "sum(land_value_gain)", "higher",
        _col("land_value_gain"), needs=("land_value",),
    ),
    Indicator(
        "plan_cost_usd", N_("Development and public cost"), "money",
        "sum(plan_cost)", "lower",
        _col("plan_cost"),
    ),
    Indicator(
        "new_network_m", N_("New access streets"), "m",
        "sum(new_network_m)", "lower",
        _col("new_network_m"),
    ),
    Indicator(
        "parcels_changed", N_("Parcels changed"), "parcels",
        "sum(changed)", "",
        _col("changed"),
    ),
    Indicator(
        "floodplain_residents", N_("Residents in the 100-year floodplain"), "persons",
        "sum(residents * flood_share)", "lower",
        lambda s: s["residents"].to_numpy(float) * s["flood_share"].to_numpy(float),
        needs=("housing_units", "floodplain"),
    ),
    Indicator(
        "new_homes_near_school", N_("New homes within walking reach of a school"), "units",
        "sum(units_after - units_before where walk_school_m <= walk radius)", "higher",
        _new_homes_within("school"), needs=("kind:school",),
    ),
    Indicator(
        "new_homes_near_park", N_("New homes within walking reach of a park"), "units",
        "sum(units_after - units_before where walk_park_m <= walk radius)", "higher",
        _new_homes_within("park"), needs=("kind:park",),
    ),
    Indicator(
        "new_homes_fire_response_s", N_("Mean drive time from a fire station to new homes"), "s",
        "sum(new homes * drive_fire_s) / sum(new homes), over reachable parcels", "lower",
        _fire_home_seconds, _reachable_new_homes, needs=("kind:fire",),
    ),
]  # fmt: skip

INDICATORS: dict[str, Indicator] = {i.key: i for i in _BUILTIN}


def register_indicator(indicator: Indicator) -> None:
    """Add (or replace) an indicator; what the plugin host calls for a plugin's
    ``indicators`` contribution."""
    INDICATORS[indicator.key] = indicator


#: the indicators' units, marked for translation (the stored value stays the English key)
UNIT_LABELS = {
    "units": N_("units"),
    "jobs/unit": N_("jobs/unit"),
    "persons": N_("persons"),
    "seats/1000 persons": N_("seats/1000 persons"),
    "s": N_("s"),
    "m²/person": N_("m²/person"),
    "money": N_("currency"),
    "m": N_("m"),
    "parcels": N_("parcels"),
}


def is_money(unit: str) -> bool:
    """Money, in the city's currency ("USD" is how results before city profiles said it)."""
    return unit in ("money", "USD")


def unit_label(unit: str, currency: str = "") -> str:
    """A unit in the interface language (a plugin's own unit is shown as it is given);
    money is the city's currency code."""
    if is_money(unit):
        return currency or _(UNIT_LABELS["money"])
    return _(UNIT_LABELS[unit]) if unit in UNIT_LABELS else unit


def indicator_label(key: str) -> str:
    found = INDICATORS.get(key)
    return _(found.label) if found else key


def _lacking(need: str) -> str:
    """What an indicator lacks, as the user would name it: the profile key of a figure, or a
    facility kind the scenario and the city profile do not define."""
    if need.startswith("kind:"):
        return _("facility kind '{kind}' (scenario or city profile)").format(kind=need[5:])
    if need in ("floodplain", "open_space"):
        return _("{role} layer ([layers.{role}])").format(role=need)
    return _("{key} field ([layers.parcels] {key})").format(key=need)


def indicator_table(
    state: pd.DataFrame,
    area_column: str | None = "neighborhood",
    keys: list[str] | None = None,
    problems: list[str] | None = None,
) -> pd.DataFrame:
    """Long table (indicator, area, value, unit): area "city" and one row per value of
    ``area_column``. An indicator that raises is skipped and described in ``problems``, as
    is one that needs a figure the city lacks (``state.attrs["unknown"]``, e.g.
    ``housing_units``): a number computed from a missing figure would be a silent zero."""
    rows = []
    unknown = set(state.attrs.get("unknown", ()))
    groups = [("city", state)]
    if area_column and area_column in state:
        groups += [(str(a), part) for a, part in state.groupby(area_column, sort=True)]
    for key in keys or list(INDICATORS):
        ind = INDICATORS[key]
        lacking = [n for n in ind.needs if n in unknown]
        if lacking:
            if problems is not None:
                problems.append(
                    _("{label}: left out, there is no {what}").format(
                        label=_(ind.label), what=", ".join(_lacking(n) for n in lacking)
                    )
                )
            continue
        try:
            values = [(area, ind.value(part)) for area, part in groups]
        except Exception as exc:  # a plugin's indicator must not stop the run
            if problems is not None:
                problems.append(
                    _("indicator {key} failed ({err}); left out").format(key=key, err=exc)
                )
            continue
        rows += [{"indicator": key, "area": a, "value": v, "unit": ind.unit} for a, v in values]
    return pd.DataFrame(rows, columns=["indicator", "area", "value", "unit"])
