"""Address geocoders: street-centerline address ranges ("123 Main St" -> a point), and
address points (one point per house number, as OpenStreetMap and address registers have).

Each centerline segment carries the house numbers at its two ends on the left and the right
side (Cambridge: ``L_From``/``L_To``/``R_From``/``R_To``, -1 where a side has none). A number
is placed by linear interpolation along the segment whose range on the matching side
(parity) contains it, the classic TIGER-style method. Nothing leaves the machine: the
streets layer of the project is the gazetteer.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from citydesk.layers.crs import suggest_projected_crs, to_lonlat_bounds
from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _

_SUFFIXES = {
    "STREET": "ST",
    "AVENUE": "AVE",
    "AV": "AVE",
    "ROAD": "RD",
    "PLACE": "PL",
    "TERRACE": "TER",
    "COURT": "CT",
    "SQUARE": "SQ",
    "DRIVE": "DR",
    "PARKWAY": "PKWY",
    "LANE": "LN",
    "CIRCLE": "CIR",
    "HIGHWAY": "HWY",
    "BOULEVARD": "BLVD",
    "PARK": "PK",
    "ALLEY": "ALY",
}
#: the ways a house number and a street are written: number first (US, UK, Australia:
#: "1334 Cambridge St"), street first (most of Europe: "Mannerheimintie 1", "Hauptstr. 5a,
#: Berlin") and Chinese ("华兴街12号", "锦江区华兴街12号")
_NUMBER_FIRST = re.compile(r"^\s*(\d+)\s*[A-Za-z]?\s*[,]?\s+(.+?)\s*(?:,.*)?$")
_NUMBER_LAST = re.compile(r"^\s*([^\d,][^,\d]*?)\s*,?\s+(\d+)(?:\D.*)?$")  # then "B 5"
_CHINESE = re.compile(r"^\s*(.+?)\s*(\d+)\s*号")
_CHINESE_PLACES = "省市区县镇乡"


def parse_address(text: str) -> tuple[int, str, bool] | None:
    """(house number, street, number first?) of an address, or None when it has no house
    number. The street may still carry a Chinese address's province, city and district:
    see :func:`street_candidates`."""
    for pattern, first in ((_CHINESE, False), (_NUMBER_FIRST, True), (_NUMBER_LAST, False)):
        m = pattern.match(text)
        if m:
            number, street = (m.group(1), m.group(2)) if first else (m.group(2), m.group(1))
            return int(number), street.strip(), first
    return None


class GeocodeError(CityDeskError):
    """The address cannot be placed."""


@dataclass(frozen=True)
class GeocodeResult:
    lon: float
    lat: float
    label: str  # the street as the layer names it, with the number: "1334 Cambridge St"
    exact: bool  # False when the number lies outside every range and the nearest was used


@dataclass(frozen=True)
class RangeFields:
    """The street layer's name and house-number range columns (the city profile's
    ``[layers.streets]`` name, left_from, left_to, right_from, right_to)."""

    street: str
    left_from: str
    left_to: str
    right_from: str
    right_to: str

    @classmethod
    def from_profile(cls, profile) -> RangeFields:
        """The profile's columns; one it does not map is named with the fix."""
        return cls(*_mapped(profile, "streets", ("name", *RANGE_KEYS)))


#: the [layers.streets] house-number range columns
RANGE_KEYS = ("left_from", "left_to", "right_from", "right_to")


def _mapped(profile, role: str, keys: tuple[str, ...]) -> list[str]:
    """The profile's columns of ``role`` for ``keys``, in order; the first it does not map
    is named with the fix (MissingData)."""
    from citydesk.layers.city_layers import require_field

    layers = profile.layers if profile is not None else None
    feature = _("The address geocoder")
    return [require_field(layers, role, key, feature) for key in keys]


def _parsed(address: str) -> tuple[int, str, bool]:
    """:func:`parse_address`, or the error that says what an address looks like."""
    parsed = parse_address(address)
    if parsed is None:
        raise GeocodeError(
            _("cannot read the address {address!r}").format(address=address),
            _('Give a street and a house number: "12 Main St", "Main St 12" or "华兴街12号".'),
        )
    return parsed


def _no_street(written: str, key: str, names: dict[str, str]) -> GeocodeError:
    """The street is not in the gazetteer: the closest names it has, if any."""
    close = difflib.get_close_matches(key, list(names), n=3, cutoff=0.6)
    return GeocodeError(
        _("there is no street {street!r} in the streets layer").format(street=written),
        _("Did you mean: {names}?").format(names=", ".join(names[c] for c in close))
        if close
        else _("Check the spelling, or click the place on the map."),
    )


def street_candidates(written: str) -> list[str]:
    """The street as written, then without each leading place name a Chinese address puts
    before it ("成都市锦江区华兴街" -> "锦江区华兴街", "华兴街"), longest first: a street
    whose own name has 市 or 区 in it is still found."""
    out = [written]
    for i, char in enumerate(written[:-1]):
        if char in _CHINESE_PLACES:
            out.append(written[i + 1 :])
    return out


def normalize_street(text: str) -> str:
    """ "Massachusetts Avenue" and "massachusetts ave." both become "MASSACHUSETTS AVE"."""
    words = re.sub(r"[^\w\s]", " ", text.upper()).split()
    return " ".join(_SUFFIXES.get(w, w) for w in words)


class Geocoder:
    def __init__(self, streets: gpd.GeoDataFrame, fields: RangeFields) -> None:
        self.fields = fields
        f = self.fields
        missing = [
            c
            for c in (f.street, f.left_from, f.left_to, f.right_from, f.right_to)
            if c not in streets.columns
        ]
        if missing:
            raise GeocodeError(
                _("the streets layer has no address-range column(s) {cols}").format(
                    cols=", ".join(missing)
                ),
                _("Geocoding needs a street name and from/to house numbers per side."),
            )
        crs = suggest_projected_crs(
            to_lonlat_bounds(tuple(streets.total_bounds), streets.crs), streets.crs.geodetic_crs
        )
        named = streets[streets[f.street].notna()]
        self._lines = named.to_crs(crs)
        self._crs = crs
        self._key = named[f.street].astype(str).map(normalize_street).to_numpy()
        self._names = dict(zip(self._key, named[f.street].astype(str), strict=False))
        self._ranges = {
            side: named[[a, b]].apply(pd.to_numeric, errors="coerce").to_numpy(float)
            for side, (a, b) in {
                "L": (f.left_from, f.left_to),
                "R": (f.right_from, f.right_to),
            }.items()
        }

    def geocode(self, address: str) -> GeocodeResult:
        number, written, number_first = _parsed(address)
        keys = [normalize_street(c) for c in street_candidates(written)]
        street = next((k for k in keys if (self._key == k).any()), keys[0])
        rows = np.flatnonzero(self._key == street)
        if not len(rows):  # "Cambridge" without the type: accept a unique street
            rows = np.flatnonzero(np.char.startswith(self._key.astype(str), street + " "))
            if len(set(self._key[rows])) > 1:
                rows = rows[:0]
        if not len(rows):
            raise _no_street(written, street, self._names)
        best = None  # (distance outside the range, row, fraction)
        for ranges in self._ranges.values():
            lo_hi = ranges[rows]
            for row, (a, b) in zip(rows, lo_hi, strict=True):
                if not (a > 0 and b > 0) or (a % 2) != (number % 2):
                    continue
                lo, hi = min(a, b), max(a, b)
                outside = max(lo - number, number - hi, 0)
                fraction = 0.5 if a == b else (np.clip(number, lo, hi) - a) / (b - a)
                if best is None or outside < best[0]:
                    best = (outside, row, float(fraction))
        if best is None:
            raise GeocodeError(
                _("{street} has no house numbers on the side of {number}").format(
                    street=self._names.get(street, written),
                    number=number,
                ),
                _("Click the place on the map instead."),
            )
        outside, row, fraction = best
        line = self._lines.geometry.iloc[row]
        point = gpd.GeoSeries([line.interpolate(fraction, normalized=True)], crs=self._crs)
        point = point.to_crs(4326).iloc[0]
        name = self._lines[self.fields.street].iloc[row]
        label = f"{number} {name}" if number_first else f"{name} {number}"
        return GeocodeResult(point.x, point.y, label, exact=bool(outside == 0))


@dataclass(frozen=True)
class PointFields:
    """The address points' street and house-number columns (the city profile's
    ``[layers.addresses]`` street and number)."""

    street: str
    number: str

    @classmethod
    def from_profile(cls, profile) -> PointFields:
        return cls(*_mapped(profile, "addresses", ("street", "number")))


_HOUSE = re.compile(r"^\s*(\d+)\s*([A-Za-z]?)(?![A-Za-z])")


def _house(text: object) -> tuple[int, str] | None:
    """``"12"``, ``"12a"``, ``"12 A"``, ``"2-4"`` -> (12, ""), (12, "a"), (12, "a"), (2, "")."""
    m = _HOUSE.match(str(text))
    return (int(m.group(1)), m.group(2).lower()) if m else None


class AddressPoints:
    """Exact addresses: the point of the house number on the street, the nearest number
    of that street (said: not exact) when the number is not there."""

    def __init__(self, points: gpd.GeoDataFrame, fields: PointFields) -> None:
        missing = [c for c in (fields.street, fields.number) if c not in points.columns]
        if missing:
            raise GeocodeError(
                _("the address points have no column(s) {cols}").format(cols=", ".join(missing)),
                _("Map the street and number columns under [layers.addresses]."),
            )
        named = points[points[fields.street].notna() & points[fields.number].notna()]
        lonlat = named.geometry.to_crs(4326)
        self._by_street: dict[str, list[tuple[int, str, float, float, str]]] = {}
        self._names: dict[str, str] = {}
        for street, number, point in zip(
            named[fields.street].astype(str), named[fields.number], lonlat, strict=True
        ):
            house = _house(number)
            if house is None or point is None or point.is_empty:
                continue
            key = normalize_street(street)
            self._names.setdefault(key, street)
            self._by_street.setdefault(key, []).append((*house, point.x, point.y, str(number)))

    def geocode(self, address: str) -> GeocodeResult:
        number, written, number_first = _parsed(address)
        keys = [normalize_street(c) for c in street_candidates(written)]
        street = next((k for k in keys if k in self._by_street), None)
        if street is None:
            raise _no_street(written, keys[-1], self._names)
        letter = re.search(rf"(?<!\d){number}\s*([A-Za-z])(?![A-Za-z])", address)
        wanted = (number, letter.group(1).lower() if letter else "")
        houses = self._by_street[street]
        exact = [h for h in houses if (h[0], h[1]) == wanted] or [
            h for h in houses if h[0] == number
        ]
        best = exact[0] if exact else min(houses, key=lambda h: abs(h[0] - number))
        name = self._names[street]
        label = f"{best[4]} {name}" if number_first else f"{name} {best[4]}"
        return GeocodeResult(best[2], best[3], label, exact=bool(exact))


class ChainedGeocoder:
    """The city's geocoders in turn (address points, then ranges): the first exact answer,
    else the first answer, else the first one's error."""

    def __init__(self, *geocoders) -> None:
        self.geocoders = [g for g in geocoders if g is not None]

    def geocode(self, address: str) -> GeocodeResult:
        errors: list[GeocodeError] = []
        rough: GeocodeResult | None = None
        for geocoder in self.geocoders:
            try:
                found = geocoder.geocode(address)
            except GeocodeError as exc:
                errors.append(exc)
                continue
            if found.exact:
                return found
            rough = rough or found
        if rough is not None:
            return rough
        raise errors[0]
