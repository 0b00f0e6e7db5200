"""The city profile: every fact about a city that code must not hard-wire.

One TOML document, versioned (``schema``), validated by the strict reader
(:mod:`citydesk.layers.toml_schema`) and stored in the project (its ``citydesk_project``
settings, key ``city_profile``, as the TOML text the user wrote, so it can be read, diffed and
edited). It holds the city's name, the projected CRS to measure in, the time zone, the
working calendar (hours, rest days, public holidays from the maintained ``holidays`` library,
which also knows China's make-up working days, 调休, and explicit dates), the currency and
area unit, the 6-digit administrative code used for grid codes, persons per household, and
the data credits. docs/CITY.md documents every key.

Shipped profiles (``layers/data/profiles``): ``cambridge`` (the demo), ``helsinki`` and
``chengdu`` (a Chinese-style example). ``citydesk city template NAME`` prints one to start
from.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .city_layers import CityLayers, StreetsRole
from .errors import CityDeskError
from .i18n import _
from .toml_schema import Reader, parse_toml, read_toml_file

SCHEMA_VERSION = 2
PERSONS_PER_HOUSEHOLD = 2.3  # where a city gives none
SETTING = "city_profile"  # the key in the project's settings
PROFILES = Path(__file__).parent / "data" / "profiles"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class ProfileError(CityDeskError):
    """The city profile is missing, malformed or inconsistent."""


@dataclass
class HolidaySource:
    """Public holidays from the ``holidays`` library: ISO country code, optional subdivision
    (a US state, a Chinese province is not needed: China's holidays are national)."""

    country: str
    subdivision: str | None = None


@dataclass
class CalendarSpec:
    """When the city's offices work: time limits of cases count only this time."""

    periods: list[list[str]] = field(default_factory=lambda: [["09:00", "18:00"]])
    rest_days: list[Weekday] = field(default_factory=lambda: ["saturday", "sunday"])
    holidays: HolidaySource | None = None
    extra_holidays: list[str] = field(default_factory=list)  # "YYYY-MM-DD"
    make_up_workdays: list[str] = field(default_factory=list)  # rest days worked (调休)
    not_holidays: list[str] = field(default_factory=list)  # library holidays the city works


def periods_text(periods: list[list[str]]) -> str:
    """The working periods as a person types them: ``09:00-12:00, 13:30-17:30``."""
    return ", ".join("-".join(p) for p in periods)


def periods_from_text(text: str) -> list[list[str]]:
    """``09:00-12:00, 13:30-17:30`` (or ``9:00-12:00；13:30-17:30``) as the profile's
    ``periods``. Only split and padded here: whether each is a period of a day is for the
    profile's validator to say, naming the period, as for a TOML file."""

    def pad(t: str) -> str:
        t = t.strip().replace("：", ":")
        if re.fullmatch(r"\d{1,2}", t):  # "9-17": whole hours
            return f"{int(t):02d}:00"
        return "0" + t if re.fullmatch(r"\d:\d\d", t) else t

    pieces = [p for p in re.split(r"[,;，；]", text) if p.strip()]
    return [[pad(t) for t in re.split(r"\s*[-–~～至]\s*", p.strip(), maxsplit=1)] for p in pieces]


def dates_text(dates: list[str]) -> str:
    return ", ".join(dates)


def dates_from_text(text: str) -> list[str]:
    """Dates typed in a line, separated by commas or spaces (checked by the validator)."""
    return [d for d in re.split(r"[\s,;，；]+", text) if d]


#: the currency of CityDesk's round planning defaults (cost per m² of land, per use)
DEFAULTS_CURRENCY = "USD"


def costs_in_other_currency(profile: CityProfile) -> bool:
    """Whether the city counts in a currency CityDesk's default costs are not in and gives no
    costs of its own: a plan there would report USD figures under its currency's name
    (CLP 1.6 billion for 25,000 homes in Santiago), so the run and ``city check`` say so."""
    currency = (profile.currency or "").upper()
    return bool(currency) and currency != DEFAULTS_CURRENCY and not profile.planning.cost_per_m2


@dataclass
class PlanningCosts:
    """Per planning use (keep, housing_low, housing_high, mixed_use, commercial, park,
    school): what building costs in the city's currency per m² of land, and how many homes a
    hectare holds. Uses left out keep CityDesk's round defaults (docs/OPTIMIZATION.md)."""

    cost_per_m2: dict[str, float] = field(default_factory=dict, metadata={"range": (0, 1e9)})
    density_units_per_ha: dict[str, float] = field(
        default_factory=dict, metadata={"range": (0, 1e5)}
    )
    #: land-use class -> class -> how much they conflict on touching parcels (0-1000), over
    #: CityDesk's defaults (layers/data/compatibility.toml)
    compatibility: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class LocalCategory:
    """A case category of the city's own, on top of the shipped CJ/T 214 catalogue (a
    graffiti event, a local component): the same fields as a catalogue file's entries.
    ``standard`` is what its cases are filed under; an entry with the code of a shipped one
    takes its place for new cases (its own time limit or department)."""

    kind: Literal["component", "event"]
    code: str  # 2-digit major class + 2-digit minor class, e.g. "0190"
    name_en: str
    limit: float = field(metadata={"range": (0.01, 10000)})
    unit: Literal["working_hours", "working_days"]
    department: str
    name_zh: str = ""
    standard: str = "local"


@dataclass
class CityProfile:
    name: str
    timezone: str
    crs: str  # projected, in metres or feet: where distances and areas are measured
    schema: int = SCHEMA_VERSION
    currency: str = ""
    # what a CSV for the city's spreadsheet users is separated by; "" follows the country
    # (";" where the decimal mark is a comma, as Excel does there): city_locale.csv_dialect
    csv_delimiter: Literal["", ",", ";", "\t", "|"] = ""
    area_unit: Literal["m2", "sqft"] = "m2"
    admin_code: str = ""  # 6 digits (county level) for CJ/T 213 grid codes
    persons_per_household: float = field(
        default=PERSONS_PER_HOUSEHOLD, metadata={"range": (0.1, 50)}
    )
    credits: str = ""
    calendar: CalendarSpec = field(default_factory=CalendarSpec)
    layers: CityLayers = field(default_factory=CityLayers)
    # the land-use classification of [layers.parcels] land_use: a shipped system
    # (citydesk.planning.land_use_systems) and the city's own codes on top of it
    land_use_system: str = ""
    land_use_codes: dict[str, str] = field(default_factory=dict)  # code -> planning class
    planning: PlanningCosts = field(default_factory=PlanningCosts)
    routing_rules: str = ""  # which department takes which case: a shipped set or a file
    categories: list[LocalCategory] = field(default_factory=list)  # the city's own

    @property
    def streets(self) -> StreetsRole:
        """The streets role (its columns and speeds): what the road network reads."""
        return self.layers.streets


def parse_profile(text: str, source: str = "") -> CityProfile:
    """A checked profile from TOML text; every problem names its key and the fix."""
    reader = Reader(ProfileError, source)
    data = _upgrade(parse_toml(text, ProfileError, _("city profile"), source))
    profile = reader.build(CityProfile, data)
    _check(profile, reader)
    return profile


def _upgrade(data: dict) -> dict:
    """A schema 1 document read as schema 2: its [streets] table is [layers.streets]."""
    if data.get("schema", 1) == 1 and isinstance(data.get("streets"), dict):
        data = dict(data)
        layers = dict(data.get("layers") or {})
        layers.setdefault("streets", data.pop("streets"))
        data["layers"] = layers
    return data


def read_profile(path: str | Path) -> CityProfile:
    """A profile file, or a shipped one by name (``cambridge``, ``helsinki``, ``chengdu``)."""
    path = Path(path)
    if not path.exists() and (PROFILES / f"{path.name}.toml").exists():
        path = PROFILES / f"{path.name}.toml"
    path, _data = read_toml_file(path, ProfileError, _("city profile"))
    return parse_profile(path.read_text(encoding="utf-8"), str(path))


def shipped_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILES.glob("*.toml"))


def profile_text(name: str) -> str:
    path = PROFILES / f"{name}.toml"
    if not path.exists():
        raise ProfileError(
            _("there is no shipped profile '{name}'").format(name=name),
            _("Shipped profiles: {names}.").format(names=", ".join(shipped_profiles())),
        )
    return path.read_text(encoding="utf-8")


def project_profile_text(project: str | Path) -> str | None:
    """The profile's TOML text stored in a project, or None."""
    from .project_store import read_project_meta

    text = (read_project_meta(project).get("metadata") or {}).get(SETTING)
    return text if isinstance(text, str) and text.strip() else None


def project_profile(project: str | Path) -> CityProfile | None:
    """The project's city profile, checked; None when the project has none yet."""
    text = project_profile_text(project)
    return parse_profile(text, f"{project} ({SETTING})") if text else None


def profile_or_none(project: str | Path | None) -> CityProfile | None:
    """The project's profile; None without a project or profile (generic defaults apply)."""
    return project_profile(project) if project else None


def store_profile(project: str | Path, text: str) -> CityProfile:
    """Check ``text`` and store it in the project (replacing an earlier profile)."""
    from .project_store import put_layers

    profile = parse_profile(text)
    put_layers(project, [], metadata={SETTING: text})
    return profile


def _date(reader: Reader, where: str, text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        reader.fail(where, _("'{v}' is not a date").format(v=text), _("Write YYYY-MM-DD."))


def _check(p: CityProfile, reader: Reader) -> None:
    from .city_locale import timezone_fix

    if p.schema > SCHEMA_VERSION:
        reader.fail(
            "schema",
            _("written for a newer CityDesk (schema {v})").format(v=p.schema),
            _("Update CityDesk to read it."),
        )
    fix = timezone_fix(p.timezone)
    if fix is not None:
        reader.fail("timezone", _("'{v}' is not a time zone").format(v=p.timezone), fix)
    from .crs import parse_crs

    try:
        crs = parse_crs(p.crs)
    except CityDeskError as exc:
        reader.fail("crs", exc.problem, exc.fix)
    from .crs import is_web_mercator

    if not crs.is_projected or is_web_mercator(crs):
        reader.fail(
            "crs",
            _("{crs} cannot measure distances and areas").format(crs=crs.name),
            _("Give the city's projected CRS: a UTM zone, a state plane or a CGCS2000 zone."),
        )
    if p.admin_code and not (p.admin_code.isdigit() and len(p.admin_code) == 6):
        reader.fail(
            "admin_code",
            _("'{v}' is not a 6-digit administrative code").format(v=p.admin_code),
            _(
                "Give 6 digits: in China the county's 行政区划代码, in the US the state and "
                "county FIPS and '0', elsewhere a code your city uses, padded (a "
                "municipality number 091 as 091000)."
            ),
        )
    _check_land_use(p, reader)
    _check_categories(p, reader)
    _check_calendar(p.calendar, reader)


def check_calendar(spec: CalendarSpec) -> None:
    """The calendar part of the profile's checks alone (the City setup dialog's calendar tab
    checks as it is typed, whatever the rest of the profile still lacks)."""
    _check_calendar(spec, Reader(ProfileError))


def _check_calendar(c: CalendarSpec, reader: Reader) -> None:
    if not c.periods:
        reader.fail("calendar.periods", _("is empty"), _('Give e.g. [["09:00", "18:00"]].'))
    last = ""
    for i, period in enumerate(c.periods):
        where = f"calendar.periods[{i}]"
        if len(period) != 2 or not all(_TIME.match(t) for t in period) or period[0] >= period[1]:
            reader.fail(
                where,
                _("must be [start, end] times in a day, start first"),
                _('For example ["08:30", "12:00"].'),
            )
        if period[0] < last:
            reader.fail(where, _("overlaps the period before"), _("List periods in order."))
        last = period[1]
    if len(set(c.rest_days)) >= 7:
        reader.fail("calendar.rest_days", _("leave no working day"), _("Keep at least one."))
    for key in ("extra_holidays", "make_up_workdays", "not_holidays"):
        for i, text in enumerate(getattr(c, key)):
            _date(reader, f"calendar.{key}[{i}]", text)
    if c.holidays is not None:
        import holidays

        try:
            holidays.country_holidays(c.holidays.country, subdiv=c.holidays.subdivision)
        except NotImplementedError as exc:
            reader.fail(
                "calendar.holidays",
                _("no holiday data for {country} {subdivision} ({err})").format(
                    country=c.holidays.country, subdivision=c.holidays.subdivision or "", err=exc
                ),
                _('Use an ISO country code such as "CN", "FI" or "US" (with subdivision "MA").'),
            )


def _check_categories(p: CityProfile, reader: Reader) -> None:
    seen: set[tuple[str, str, str]] = set()
    for i, cat in enumerate(p.categories):
        where = f"categories[{i}]"
        if not (cat.code.isdigit() and len(cat.code) == 4):
            reader.fail(
                f"{where}.code",
                _("'{v}' is not a 4-digit category code").format(v=cat.code),
                _('Write the 2-digit major class and a 2-digit minor class, e.g. "0190".'),
            )
        key = (cat.standard, cat.kind, cat.code)
        if key in seen:
            reader.fail(
                where,
                _("{kind}:{code} is listed twice").format(kind=cat.kind, code=cat.code),
                _("Keep one entry per code."),
            )
        seen.add(key)
        for name, value in (("name_en", cat.name_en), ("department", cat.department)):
            if not value.strip():
                reader.fail(f"{where}.{name}", _("is empty"), _("Write it."))


def _check_land_use(p: CityProfile, reader: Reader) -> None:
    from .land_use import LAND_USE_CLASSES, check_pairs, shipped_systems

    if p.land_use_system:
        reader.one_of(
            "land_use_system", p.land_use_system, shipped_systems(), _("land-use classification")
        )
    for code, klass in p.land_use_codes.items():
        reader.one_of(f"land_use_codes.{code}", klass, list(LAND_USE_CLASSES), _("land-use class"))
    check_pairs(reader, p.planning.compatibility, "planning.compatibility")


def profile_in_metadata(metadata: dict | None) -> CityProfile | None:
    """The profile a project's metadata holds (a loaded project), None if none or broken."""
    text = (metadata or {}).get(SETTING)
    if not (isinstance(text, str) and text.strip()):
        return None
    try:
        return parse_profile(text)
    except ProfileError:
        return None  # a broken profile is reported where it is used, not by a credit line


def credits_of(metadata: dict | None) -> str:
    """The data credits a map or report of the project prints: the city profile's, else the
    project's own ``credits`` setting (projects made before city profiles)."""
    profile = profile_in_metadata(metadata)
    if profile is not None and profile.credits:
        return profile.credits
    return str((metadata or {}).get("credits", "") or "")


def currency_of(metadata: dict | None) -> str:
    """The ISO 4217 code money is shown in ('' when the project has no profile)."""
    profile = profile_in_metadata(metadata)
    return profile.currency if profile is not None else ""


def project_currency(project) -> str:
    from .project_store import read_project_meta

    return currency_of(read_project_meta(project).get("metadata"))


def project_csv_dialect(project):
    """The CSV dialect of the project's city (:func:`.city_locale.csv_dialect`); the plain
    one for a project without a profile or no project at all."""
    from .city_locale import CsvDialect, csv_dialect

    if project is None:
        return CsvDialect()
    from .project_store import read_project_meta

    return csv_dialect(profile_in_metadata(read_project_meta(project).get("metadata")))
