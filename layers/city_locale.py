"""What a city's time zone says about the rest of its profile: the country whose public
holidays its deadlines skip, and the currency its costs are in.

A profile made by ``city from-osm`` (or ``city init`` without ``--holidays``) had no public
holidays, so a case due on Finland's Independence Day was due that day, and no currency, so
costs were shown in "currency". The tz database already says which country each zone is
in (``zone.tab``: Europe/Helsinki is FI), and CLDR, through Babel, which currency a country
uses; the proposal carries both with a comment asking the planner to check them. The
country's decimal mark, from CLDR too, says how a CSV for the city's spreadsheets is
written (:func:`csv_dialect`).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from functools import cache
from pathlib import Path


def _zone_tables() -> list[Path]:
    """Where ``zone.tab`` may be: the system's tz database, else the ``tzdata`` package."""
    places = [Path(base) / "zone.tab" for base in zoneinfo.TZPATH]
    try:
        from importlib.resources import files

        places.append(Path(str(files("tzdata") / "zoneinfo" / "zone.tab")))
    except (ImportError, ModuleNotFoundError, TypeError):
        pass
    return [p for p in places if p.is_file()]


@cache
def _zone_countries() -> dict[str, str]:
    out: dict[str, str] = {}
    for table in _zone_tables():
        for line in table.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                parts = line.split("\t")
                if len(parts) >= 3:
                    out.setdefault(parts[2], parts[0])
    return out


def country_of_timezone(timezone: str) -> str | None:
    """The ISO country of an IANA time zone (``Asia/Kolkata`` -> ``IN``); None for zones of no
    one country (``UTC``, ``Etc/GMT+5``) or where no tz database table is found."""
    return _zone_countries().get(timezone)


def currency_of_country(country: str | None) -> str:
    """The ISO 4217 currency a country uses today (``FI`` -> ``EUR``), or "" if unknown."""
    if not country:
        return ""
    from babel.numbers import get_territory_currencies

    try:
        found = get_territory_currencies(country, dt.date.today())
    except Exception:  # Babel raises several types for an unknown territory
        return ""
    return found[0] if found else ""


def holiday_country(timezone: str) -> str | None:
    """:func:`country_of_timezone`, if the ``holidays`` library knows that country's public
    holidays (a profile naming one it does not know is refused)."""
    import holidays

    country = country_of_timezone(timezone)
    return country if country in holidays.list_supported_countries() else None


def rest_days_of_country(country: str | None) -> list[str]:
    """The country's weekend from CLDR (Babel): ``SA`` -> friday, saturday; ``IR`` -> friday;
    ``IN`` -> sunday; [] if unknown. A profile without ``rest_days`` rests on Saturday and
    Sunday, which put a Riyadh or Tel Aviv desk's deadlines on its weekend."""
    from .city_profile import WEEKDAYS

    locale = _country_locale(country)
    if locale is None:
        return []
    try:
        start, end = int(locale.weekend_start), int(locale.weekend_end)
    except (KeyError, TypeError, ValueError):  # a territory without week data
        return []
    days = [start]
    while days[-1] != end and len(days) < 7:  # the weekend may wrap past Sunday
        days.append((days[-1] + 1) % 7)
    return [WEEKDAYS[d] for d in days]


def calendar_lines(timezone: str, holidays: str | None, currency: str) -> tuple[str, list[str]]:
    """(the currency line, the [calendar] lines) of a proposed profile: what was given, else
    what the time zone says, marked for the planner to check: the public holidays' country
    and the rest days of that country's weekend; no holidays line where neither says
    anything."""
    import json

    def toml_text(value: str) -> str:  # a TOML basic string is a JSON string
        return json.dumps(value, ensure_ascii=False)

    guessed = holidays is None
    country = holiday_country(timezone) if guessed else holidays
    lines = []
    weekend_of = country or country_of_timezone(timezone)
    rest = rest_days_of_country(weekend_of)
    if rest:
        days = ", ".join(toml_text(d) for d in rest)
        lines.append(f"rest_days = [{days}]  # {weekend_of}'s weekend: check it")
    if country:
        note = f"  # the country of {timezone}: check it" if guessed else ""
        lines.append(f"holidays = {{ country = {toml_text(country)} }}{note}")
    if currency:
        money = f"currency = {toml_text(currency)}"
    elif country and currency_of_country(country):
        money = f"currency = {toml_text(currency_of_country(country))}  # {country}'s: check it"
    else:
        money = 'currency = ""'
    return money, lines


def timezone_fix(name: str) -> str | None:
    """None when ``name`` is an IANA time zone; else the fix to print, with the nearest
    names (``Europe/Helsinky`` -> ``Europe/Helsinki``). One check for the city profile and
    the import mappings: a misspelt zone was an internal error deep in an import."""
    from difflib import get_close_matches
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

    from .i18n import _

    try:
        ZoneInfo(name)
        return None
    except (ZoneInfoNotFoundError, ValueError):
        pass
    near = get_close_matches(name, sorted(available_timezones()), n=3, cutoff=0.6)
    if near:
        return _('Did you mean {names}? IANA names look like "Europe/Helsinki".').format(
            names=", ".join(f'"{n}"' for n in near)
        )
    return _('Use an IANA name such as "Asia/Shanghai" or "Europe/Helsinki".')


@dataclass(frozen=True)
class CsvDialect:
    """How a CSV for people is written: the separator and the decimal mark."""

    delimiter: str = ","
    decimal: str = "."


def csv_dialect(profile) -> CsvDialect:
    """The CSV a spreadsheet in the city opens as columns: the profile's ``csv_delimiter``,
    else the country's (its time zone's) decimal mark from CLDR through Babel: where it is a
    comma (Finland, Germany, France, Brazil ...) Excel splits a CSV on ``;`` and reads
    ``60,17`` as a number, so that is what is written; elsewhere ``,`` and ``60.17``.
    None (no profile) is the plain dialect."""
    if profile is None:
        return CsvDialect()
    decimal = _decimal_mark(country_of_timezone(profile.timezone))
    delimiter = profile.csv_delimiter or (";" if decimal == "," else ",")
    # a comma both separating and marking decimals would be unreadable: the point then
    return CsvDialect(delimiter, decimal if delimiter != "," else ".")


def _decimal_mark(country: str | None) -> str:
    from babel.numbers import get_decimal_symbol

    locale = _country_locale(country)
    return get_decimal_symbol(locale) if locale is not None else "."


def _country_locale(country: str | None):
    """CLDR's likeliest locale of a country (``und_FI`` -> fi_FI), whose territory data say
    its decimal mark and its weekend; None for no or an unknown country."""
    if not country:
        return None
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(f"und_{country}")
    except (UnknownLocaleError, ValueError):
        return None
