"""A first column mapping drafted from a case export, for the user to check and import with.

A city adopting CityDesk has its own case system's export (a 311 portal's CSV, a 数字城管
Excel list, FixMyStreet's CSV). Writing the mapping by hand means reading every header and
listing every complaint type and status word; the import refuses a file until every
status is mapped. The draft does that reading: it names each column's role from the
header's words (:file:`data/mapping_words.toml`, in several languages; no column name is in
the code) *and* the content (a date column must hold dates, lon/lat numbers in range), lists
every category, status and priority value with its row count, and proposes a category for
each value it can: one a shipped mapping already maps, or a catalogue category whose name
the value contains (Chinese) or shares most words with. Everything it guessed is written as
a comment to check; nothing is imported until the user runs the import.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from itertools import chain
from pathlib import Path

import pandas as pd

from citydesk.layers.i18n import _, current_language, ngettext
from citydesk.layers.readers.csv_dialect import to_numbers

from .case_files import check_case_file, is_open311
from .categories import Catalogue, Category
from .import_csv import (
    NUMBER_PAIR,
    TIME_OF_DAY,
    AmbiguousDates,
    CaseImportError,
    MappingColumns,
    RawPart,
    column_text,
    parse_dates,
    read_parts,
)
from .mapping_words import (
    category_by_name,
    header_scores,
    kind_named,
    means_closed,
    other_category,
    pair_words,
    priority_level,
    says,
    shipped_categories,
    words,
)

log = logging.getLogger(__name__)

SAMPLE_ROWS = 5_000  # rows whose content decides a column's role
MOST_VALUES = 500  # a category, status or priority column has at most this many values
CODE_SHARE = 0.95  # a column of the catalogue's codes: at least this share of its values
DATE_ROLES = (
    "reported_at",
    "closed_at",
    "due_at",
    "updated_at",
    "registered_at",
    "dispatched_at",
    "handled_at",
    "checked_at",
)
TEXT_ROLES = ("category", "status", "priority", "department", "channel")
#: what a column of times of day (beside a column of dates) is written in; also the time
#: part of a date column's format
TIME_FORMATS = ("%H:%M:%S", "%H:%M", "%I:%M:%S %p", "%I:%M %p", "%H.%M.%S", "%H.%M")
#: the day orders portals, Excel and 数字城管 lists write: ISO first, then the US, day-first
#: and the dotted European ones
_DAY_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y.%m.%d",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%m-%d-%Y",
    "%d-%m-%Y",
    "%d.%m.%Y",
)
#: what a date column is written in, tried in order on a sample (the general parser reads
#: the rest at import time, slower): every day order with every time of day (with
#: fractions of a second, after a "T" or a space) and alone. Listed by hand before, some
#: pairs were missing and their columns drafted without a format: San Francisco's
#: "2022/05/01 12:00:03 AM" among them. A 12-hour time with AM/PM goes with month-first
#: days only, as US portals write them (NYC's "05/01/2022 12:00:03 AM" is 1 May): a
#: day-first export with AM/PM is read by the general parser, day-first where a day
#: passes 12, else as the user's dayfirst says
DATE_FORMATS = tuple(
    fmt
    for day in _DAY_FORMATS
    for fmt in (
        *(
            f"{day}{sep}{time}"
            for time in ("%H:%M:%S.%f", *TIME_FORMATS)
            for sep in ("T", " ")
            if not (sep == "T" and ("%p" in time or "." in time[:3]))
            and not (day.startswith("%d") and "%p" in time)
        ),
        day,
    )
)
_DAY_SEPARATOR = re.compile(r"^\s*\d{1,4}([-/.])\d{1,2}\1\d{1,4}")


#: the order a mapping file lists its columns in (as the shipped ones do)
_ROLE_ORDER = [f.name for f in fields(MappingColumns)]


@dataclass
class Value:
    """One value of a category, status or priority column, how often it occurs, and what
    the draft proposes for it (None: nothing it could tell)."""

    text: str
    rows: int
    proposal: str | int | None = None
    why: str = ""
    name: str = ""  # what the value stands for, where it is a code (Open311's service name)


@dataclass
class MappingDraft:
    source: str
    columns: dict[str, str | list[str]]
    rows: int
    timezone: str
    formats: list[str] = field(default_factory=list)
    dayfirst: bool | None = None
    times: dict[str, str] = field(default_factory=dict)  # date role -> its time-of-day column
    crs: str | None = None  # of x/y columns that are not lon/lat
    location_order: str = ""  # a location column of two numbers: lat_lon or lon_lat
    categories: list[Value] = field(default_factory=list)
    default_category: str | None = None
    statuses: list[Value] = field(default_factory=list)
    priorities: list[Value] = field(default_factory=list)
    why: dict[str, str] = field(default_factory=dict)  # role -> how it was told
    statuses_apply: bool = True  # False: no close time, so [statuses] is only a comment
    open311: bool = False  # an Open311 file: only its service codes and default to map
    category_codes: bool = False  # the category column holds the catalogue's codes
    notes: list[str] = field(default_factory=list)

    def unmapped_rows(self) -> int:
        return sum(v.rows for v in self.categories if v.proposal is None)

    def toml(self) -> str:
        """The draft as a mapping file, each guess with a comment saying how it was made."""
        out = [
            _("# Column mapping drafted by 'citydesk cases mapping' from {rows} rows.").format(
                rows=f"{self.rows:,}"
            ),
            _("# Check every line marked '?', then: citydesk cases import FILE --mapping THIS"),
            f"source = {_quote(self.source)}",
        ]
        if not self.open311:
            out += self._columns_and_dates()
        out += self._values()
        return "\n".join(out) + "\n"

    def _columns_and_dates(self) -> list[str]:
        out = ["", "[columns]"]
        for role, column in self.columns.items():
            value = (
                "[" + ", ".join(_quote(c) for c in column) + "]"
                if isinstance(column, list)
                else _quote(column)
            )
            out.append(f"{role} = {value}" + _comment(self.why.get(role, "")))
        out += ["", "[dates]", "formats = [" + ", ".join(_quote(f) for f in self.formats) + "]"]
        out.append(f"timezone = {_quote(self.timezone)}" + _comment(self.why.get("timezone", "")))
        if self.dayfirst is not None:
            out.append(f"dayfirst = {str(self.dayfirst).lower()}")
        if self.times:
            out += ["", "[times]"]
            for role, column in self.times.items():
                out.append(f"{role} = {_quote(column)}" + _comment(self.why[f"times.{role}"]))
        if self.crs or self.location_order:
            out += ["", "[coordinates]"]
        if self.crs:
            out.append(f"crs = {_quote(self.crs)}" + _comment(self.why["crs"]))
        if self.location_order:
            out.append(f"order = {_quote(self.location_order)}" + _comment(self.why["order"]))
        return out

    def _values(self) -> list[str]:
        out: list[str] = []
        if self.categories:
            out += ["", "[categories]"]
            for v in self.categories:
                named = f" ({v.name})" if v.name else ""
                if v.proposal is None:
                    choose = ngettext(
                        "{n} row: choose a category", "{n} rows: choose a category", v.rows
                    ).format(n=f"{v.rows:,}")
                    out.append(f'# {_quote(v.text)} = ""' + _comment(choose + named))
                else:
                    line = f"{_quote(v.text)} = {_quote(str(v.proposal))}"
                    out.append(line + _comment(f"{v.rows:,}{named}; {v.why}"))
        if self.default_category:
            out += ["", "[defaults]"]
            out.append(
                f"category = {_quote(self.default_category)}"
                + _comment(
                    _("? every value not mapped above: {n} rows").format(
                        n=f"{self.unmapped_rows():,}"
                    )
                )
            )
        for title, values in (("statuses", self.statuses), ("priorities", self.priorities)):
            if values:
                off = "# " if title == "statuses" and not self.statuses_apply else ""
                out += ["", f"{off}[{title}]"]
                for v in values:
                    shown = _quote(v.proposal) if isinstance(v.proposal, str) else v.proposal
                    line = f"{off}{_quote(v.text)} = {shown}"
                    out.append(line + _comment(f"{v.rows:,}; {v.why}"))
        return out


def draft_mapping(
    path: str | Path,
    catalogue: Catalogue,
    timezone: str | None = None,
    near: tuple[float, float, float, float] | None = None,
    preferred_crs: tuple = (),
) -> MappingDraft:
    """Read ``path`` (a CSV, spreadsheet or GIS layer, as the import reads it) and draft
    its mapping.

    ``timezone`` is the city's (naive times in the file are in it); ``near`` the project's
    area in lon/lat and ``preferred_crs`` the project's CRSs, which place x/y columns that
    are not lon/lat (:func:`citydesk.layers.crs_guess.guess_crs`)."""
    path = Path(path)
    parts = read_parts(path)
    first = next(parts)
    sample = first.frame.head(SAMPLE_ROWS)
    if sample.empty:
        raise CaseImportError(
            _("the file has its header but no rows"),
            _("Export the cases with their rows; the draft reads what is in the file."),
            path=str(path),
        )
    profiles = {str(c): _profile(sample[c], first, len(sample)) for c in sample.columns}
    draft = MappingDraft(
        source=_source_name(path),
        columns={},
        rows=0,
        timezone=timezone or "UTC",
    )
    draft.why["timezone"] = _("the city's") if timezone else _("? no project given: check it")
    _date_columns(draft, profiles)
    _time_columns(draft, profiles)
    _place_columns(draft, profiles, near, preferred_crs)
    _code_columns(draft, sample, profiles, catalogue)
    _text_columns(draft, profiles, lambda name: _proposable_rows(sample[name], catalogue))
    counts: dict[str, Counter[str]] = {r: Counter() for r in TEXT_ROLES if r in draft.columns}
    for part in chain([first], parts):
        draft.rows += len(part.frame)
        for role, counter in counts.items():
            column = column_text(part.frame, draft.columns[role])
            counter.update(column[column != ""].value_counts().to_dict())
    if "category" in counts and draft.category_codes:
        _propose_codes(draft, counts["category"], catalogue)
    elif "category" in counts:
        _propose_categories(draft, counts["category"], catalogue)
    if "status" in counts:
        draft.statuses = [_status(text, n) for text, n in counts["status"].most_common()]
        if not {"closed_at", "updated_at"} & set(draft.columns):
            draft.statuses_apply = False
            draft.notes.append(
                _(
                    "The file has statuses but no close or update time: the cases are imported "
                    "open with the source's status kept, and [statuses] is left commented out "
                    "(a closed case needs the time it closed)."
                )
            )
    if "priority" in counts:
        draft.priorities = [
            _priority(text, n) for text, n in counts["priority"].most_common() if not _level(text)
        ]
    draft.columns = {r: draft.columns[r] for r in _ROLE_ORDER if r in draft.columns}
    if not draft.categories and draft.default_category is None:
        draft.default_category = other_category(catalogue)
        draft.notes.append(
            _("No column of case types was found: every case is filed under {key}.").format(
                key=draft.default_category
            )
        )
    return draft


# --- what a column holds ---------------------------------------------------------------


@dataclass
class ColumnProfile:
    name: str
    words: dict[str, float]  # role -> how well the header's words say it
    sampled: int  # rows in the sample
    filled: int  # non-empty values in the sample
    distinct: int
    date_share: float = 0.0
    format: str | None = None  # the one strptime format that reads every sampled date
    dayfirst: bool | None = None  # what the values tell when the general parser must know
    ambiguous: bool = False  # 05/02/2015 in every row: day-first and month-first both read
    numbers: pd.Series | None = None  # the values as numbers, where at least 90 % are
    points: int = 0  # values written as POINT (x y) or (lat, lon)
    time_format: str | None = None  # every value a time of day ("8:15"), in this format
    date_only: bool = False  # every value a date without its time of day (or at midnight)
    day_format: str | None = None  # the date part of ``format``, where every time is midnight
    wkt_xy: pd.DataFrame | None = None  # x and y of the POINT (x y) values
    pairs: pd.DataFrame | None = None  # the two numbers of values such as "60.17, 24.94"


def _profile(values: pd.Series, part: RawPart, sampled: int) -> ColumnProfile:
    text = values.dropna().astype(str).str.strip()
    text = text[text != ""]
    profile = ColumnProfile(
        str(values.name), header_scores(str(values.name)), sampled, len(text), text.nunique()
    )
    if not len(text):
        return profile
    numbers = to_numbers(text, part.delimiter)
    if numbers.notna().mean() >= 0.9:
        profile.numbers = numbers.dropna().astype(float)
    # a place in one cell: WKT, or two numbers (as the import reads them, _location_column);
    # not one number with a decimal comma ("60,1704" in a ';' file)
    pair = text.str.extract(NUMBER_PAIR)
    paired = pair[0].notna() & (profile.numbers is None)
    profile.points = int(text.str.match(r"^POINT\s*\(", case=False).sum() + paired.sum())
    bare = paired & ~text.str.startswith("(")
    if bare.any():  # without brackets: which number is the latitude is for the draft to find
        profile.pairs = pair[bare].astype(float)
    if profile.points:
        xy = text.str.extract(r"^POINT\s*\(\s*(\S+)\s+([^\s)]+)\s*\)", flags=re.IGNORECASE)
        profile.wkt_xy = xy.apply(pd.to_numeric, errors="coerce").dropna()
    if profile.numbers is None or _looks_like_epoch(text):
        _date_content(profile, text)
    head = text.head(2_000)
    if head.str.fullmatch(TIME_OF_DAY).all():
        profile.time_format = next((f for f in TIME_FORMATS if _all_read(head, f)), None)
    return profile


def _looks_like_epoch(text: pd.Series) -> bool:
    return bool(text.str.fullmatch(r"\d{10}|\d{13}").mean() >= 0.9)


def _date_content(profile: ColumnProfile, text: pd.Series) -> None:
    """How many values are dates, and the one format that reads them all (if any)."""
    head = text.head(2_000)
    # only the formats of the first value's day separator are tried (some 80 of them): a column of
    # names or addresses is tried against none
    first = _DAY_SEPARATOR.match(str(head.iloc[0])) if len(head) else None
    fitting = [
        f
        for f in DATE_FORMATS
        if first is not None and f[2] == first.group(1) and _all_read(head, f)
    ]
    if fitting:
        profile.date_share = 1.0
        profile.date_only = "%H" not in fitting[0] and "%I" not in fitting[0]
        if not profile.date_only and head.str.fullmatch(r".*[ T]00:00(?::00(?:\.0+)?)?").all():
            # a spreadsheet's date cells ("2026-10-14 00:00:00"): dates, no time of day
            profile.date_only = True
            profile.day_format = re.split(r"[ T]%[HI]", fitting[0])[0]
        if _day_month_swapped(fitting[0]) not in fitting:
            profile.format = fitting[0]
        else:  # 05/02/2015 read both ways: no format, and dayfirst left for the user to say
            profile.ambiguous = True
        return
    if head.str.contains(r"\d").mean() < 0.9:
        # a date has a day number: a column where one value in ten has no digit at all
        # (names, descriptions, "Monday") is no date column, and the general parser, one
        # value at a time, was most of a draft's time on such columns
        return
    try:
        parsed = parse_dates(head, [], "UTC")
    except AmbiguousDates:
        # the general parser needs to know; the values may tell (a first number over 12)
        parts = head.str.extract(r"^\s*(\d{1,2})[./-](\d{1,2})[./-]\d{2,4}\b").astype(float)
        if (parts[0] > 12).any():
            profile.dayfirst = True
        elif (parts[1] > 12).any():
            profile.dayfirst = False
        else:
            profile.ambiguous = True
        parsed = parse_dates(head, [], "UTC", bool(profile.dayfirst))
    profile.date_share = float(parsed.notna().mean())


def _all_read(text: pd.Series, fmt: str) -> bool:
    """Every value reads in ``fmt``. The first few are tried first: most formats tried on
    a column fail there, without parsing the other 2,000."""
    for values in (text.head(20), text):
        if not pd.to_datetime(values, format=fmt, errors="coerce").notna().all():
            return False
    return True


def _day_month_swapped(fmt: str) -> str:
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


# --- choosing the columns ----------------------------------------------------------------


def _date_columns(draft: MappingDraft, profiles: dict[str, ColumnProfile]) -> None:
    dates = {n: p for n, p in profiles.items() if p.filled and p.date_share >= 0.9}
    pairs = sorted(
        ((p.words.get(role, 0.0), role, n) for n, p in dates.items() for role in DATE_ROLES),
        reverse=True,
    )
    taken: set[str] = set()
    for score, role, name in pairs:
        if score > 0 and role not in draft.columns and name not in taken:
            draft.columns[role] = name
            draft.why[role] = _("? header and dates")
            taken.add(name)
    # more columns of close times ("Closed" and "Fixed"): read in order, the first not empty
    more = [n for score, role, n in pairs if role == "closed_at" and score > 0 and n not in taken]
    if more and "closed_at" in draft.columns:
        draft.columns["closed_at"] = [str(draft.columns["closed_at"]), *more]
        taken.update(more)
    if "reported_at" not in draft.columns and "registered_at" in draft.columns:
        # an export that starts at registration (立案): the case is reported when registered
        draft.columns["reported_at"] = draft.columns["registered_at"]
        draft.why["reported_at"] = _("? the registration time: no report time was found")
    if "reported_at" not in draft.columns:
        left = [n for n in dates if n not in taken]
        if not left:
            raise CaseImportError(
                _("no column of report dates was found (the import needs one)"),
                _("Write the mapping by hand (docs/INCIDENTS.md), naming the report date column."),
            )
        draft.columns["reported_at"] = left[0]
        draft.why["reported_at"] = _("? the first column of dates")
    formats: list[str] = []
    told: set[bool] = set()
    ambiguous = False
    for role in DATE_ROLES:
        named = draft.columns.get(role)
        for column in named if isinstance(named, list) else [named]:
            profile = profiles.get(str(column))
            if profile is None:
                continue
            if profile.format and profile.format not in formats:
                formats.append(profile.format)
            if profile.dayfirst is not None:
                told.add(profile.dayfirst)
            ambiguous |= profile.ambiguous
    draft.formats = formats
    if len(told) == 1:
        draft.dayfirst = told.pop()
    elif ambiguous or told:
        draft.notes.append(
            _(
                "Some dates read both day-first and month-first (05/02/2015): set [dates] "
                "dayfirst = true or false."
            )
        )


def _time_columns(draft: MappingDraft, profiles: dict[str, ColumnProfile]) -> None:
    """A column of times of day beside a date role's column of dates alone: joined to it
    ([times]), with the two formats as one. Paired by the words their headers share beyond
    "date" and "time" ("Fecha de ingreso", "Hora de ingreso"), else the one next to it.

    Left alone, such a column was taken for the report date itself (pandas reads "8:15" as
    today at 8:15), and every case was dated the day of the import."""
    used = {c for v in draft.columns.values() for c in (v if isinstance(v, list) else [v])}
    order = list(profiles)
    clocks = [
        name
        for name, p in profiles.items()
        if p.time_format and name not in used and says(name, words()["time_of_day"]) is not None
    ]
    dated = {
        role: str(column)
        for role, column in draft.columns.items()
        if role in DATE_ROLES and isinstance(column, str) and profiles[column].date_only
    }
    for clock in clocks:
        scored = []
        for role, column in dated.items():
            shared = pair_words(clock) & pair_words(column)
            next_to = order.index(clock) == order.index(column) + 1
            if shared or next_to or len(dated) == len(clocks) == 1:
                scored.append((len(shared), next_to, role))
        if not scored:
            continue
        _n, _next, role = max(scored)
        column = dated.pop(role)
        draft.times[role] = clock
        draft.why[f"times.{role}"] = _("? times of day beside {column}").format(column=column)
        dates = profiles[column]
        if dates.format is not None:  # None: day-first or month-first, which the user says
            fmt = f"{dates.day_format or dates.format} {profiles[clock].time_format}"
            if fmt not in draft.formats:
                draft.formats.insert(draft.formats.index(dates.format), fmt)


def _place_columns(draft, profiles, near, preferred_crs) -> None:
    """lon/lat (or x/y in a CRS the project's area tells), else one location column."""
    pairs = []
    for lon_name, lon in profiles.items():
        for lat_name, lat in profiles.items():
            if lon_name == lat_name or lon.numbers is None or lat.numbers is None:
                continue
            score = lon.words.get("lon", 0) + lat.words.get("lat", 0)
            if lon.words.get("lon", 0) and lat.words.get("lat", 0):
                degrees = lon.numbers.abs().le(180).all() and lat.numbers.abs().le(90).all()
                pairs.append((degrees, score, lon_name, lat_name))
    if pairs:
        degrees, _score, lon_name, lat_name = max(pairs)
        draft.columns["lon"], draft.columns["lat"] = lon_name, lat_name
        draft.why["lon"] = draft.why["lat"] = _("? header and numbers")
        if not degrees:
            _projected(
                draft, profiles[lon_name].numbers, profiles[lat_name].numbers, near, preferred_crs
            )
        return
    located = [n for n, p in profiles.items() if p.filled and p.points >= 0.9 * p.filled]
    if located:
        best = max(located, key=lambda n: profiles[n].words.get("location", 0))
        draft.columns["location"] = best
        draft.why["location"] = _("? POINT (x y) or (lat, lon) values")
        pairs = profiles[best].pairs
        if pairs is not None and (pairs.abs() > 180).all(axis=None):
            _projected_pairs(draft, pairs, near, preferred_crs)  # x/y, as 数字城管 lists write
        elif pairs is not None:
            _pair_order(draft, pairs, near)
        xy = profiles[best].wkt_xy
        if xy is not None and len(xy) and not (xy[0].abs().le(180) & xy[1].abs().le(90)).all():
            _projected(draft, xy[0], xy[1], near, preferred_crs)  # a layer without a CRS
        return
    draft.notes.append(
        _("No coordinates were found: the cases will need a location (the desk's geocoder).")
    )


def _pair_order(draft: MappingDraft, pairs: pd.DataFrame, near) -> None:
    """Which of a location column's two numbers is the latitude: the one that never passes
    90 while the other does (a 数字城管 list's 120.1551,30.2741), else the order that puts
    the points near the project; neither: the user says ([coordinates] order)."""
    first, second = pairs[0].abs(), pairs[1].abs()
    if (first <= 90).all() and (second > 90).any():
        order, why = "lat_lon", _("? the second number passes 90: a longitude")
    elif (second <= 90).all() and (first > 90).any():
        order, why = "lon_lat", _("? the first number passes 90: a longitude")
    elif near is not None:
        west, south, east, north = near

        def inside(lon: pd.Series, lat: pd.Series) -> float:
            box = lon.between(west - 0.5, east + 0.5) & lat.between(south - 0.5, north + 0.5)
            return float(box.mean())

        lat_first, lon_first = inside(pairs[1], pairs[0]), inside(pairs[0], pairs[1])
        if lat_first == lon_first:
            order, why = "", ""
        else:
            order = "lat_lon" if lat_first > lon_first else "lon_lat"
            why = _("? read so, the points fall near the project")
    else:
        order, why = "", ""
    if not order:
        draft.notes.append(
            _(
                "The location column holds two numbers and nothing tells which is the "
                'latitude: write [coordinates] order = "lat_lon" or "lon_lat".'
            )
        )
        return
    draft.location_order, draft.why["order"] = order, why


def _projected_pairs(draft: MappingDraft, pairs: pd.DataFrame, near, preferred_crs) -> None:
    """A location column of projected x/y ("502345.1,3378456.8"): the CRS they fit near the
    project, x first or y first, whichever fits ([coordinates] order and crs)."""
    from citydesk.layers.crs_guess import guess_crs

    for order, (x, y) in (("lon_lat", (pairs[0], pairs[1])), ("lat_lon", (pairs[1], pairs[0]))):
        bounds = (float(x.min()), float(y.min()), float(x.max()), float(y.max()))
        if guess_crs(bounds, near=near, preferred=list(preferred_crs)):
            draft.location_order = order
            draft.why["order"] = _("? x/y: read so, the points fall near the project")
            _projected(draft, x, y, near, preferred_crs)
            return
    _projected(draft, pairs[0], pairs[1], near, preferred_crs)  # says what to write


def _projected(draft, x: pd.Series, y: pd.Series, near, preferred_crs) -> None:
    from citydesk.layers.crs_guess import guess_crs

    xs, ys = x[x != 0], y[y != 0]  # 0 stands for no place in many exports
    bounds = (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))
    guesses = guess_crs(bounds, near=near, preferred=list(preferred_crs))
    if guesses:
        code = guesses[0].to_epsg()
        draft.crs = f"EPSG:{code}" if code else guesses[0].to_wkt()
        draft.why["crs"] = _("? x/y are not lon/lat; they fit {crs} near the project").format(
            crs=guesses[0].name
        )
    else:
        draft.crs = "EPSG:?"
        draft.why["crs"] = _("? x/y are not lon/lat: write the CRS they are in")
        draft.notes.append(
            _(
                "The coordinate columns are not lon/lat and no CRS near the project fits "
                "them: write [coordinates] crs (give --project to have it guessed)."
            )
        )


def _code_columns(
    draft: MappingDraft,
    sample: pd.DataFrame,
    profiles: dict[str, ColumnProfile],
    catalogue: Catalogue,
) -> None:
    """A column whose header says category and whose values are the catalogue's codes (a
    CityDesk export's category_code, a 数字城管 list's 小类编码) is the category: the codes are
    the standard's, where names differ from system to system. The standard gives components
    and events the same codes (0101 is 上水井盖 and 私搭乱建), so where the file's codes need
    it the column that says each case's kind (部件/事件, component/event) is read with it."""
    by_code = _by_code(catalogue)
    texts = {}
    for name in sample.columns:
        text = sample[name].dropna().astype(str).str.strip()
        if (text != "").any():
            texts[str(name)] = text[text != ""]
    kind_column = next(
        (
            n
            for n, t in texts.items()
            if t.nunique() <= sum(map(len, words()["kinds"].values()))  # at most its words
            and all(kind_named(v) for v in t.unique())
        ),
        None,
    )
    found = [
        (profiles[n].words["category"], n)
        for n, t in texts.items()
        if n != kind_column
        and profiles[n].words.get("category")
        and t.isin(by_code).mean() >= CODE_SHARE
    ]
    if not found:
        return
    name = max(found)[1]
    ambiguous = any(
        len({c.kind for c in by_code.get(code, [])}) > 1 for code in texts[name].unique()
    )
    if ambiguous and kind_column is None:
        return  # the codes cannot tell a component from an event: read as names instead
    draft.columns["category"] = [kind_column, name] if ambiguous and kind_column else name
    draft.why["category"] = _("? header and the catalogue's codes")
    draft.category_codes = True


def _text_columns(
    draft: MappingDraft,
    profiles: dict[str, ColumnProfile],
    category_rows: Callable[[str], int] | None = None,
) -> None:
    """The id, the text roles (category, status, ...) and the description. ``category_rows``
    says how many sampled rows a column's values would get a category proposed for."""
    used = {c for v in draft.columns.values() for c in (v if isinstance(v, list) else [v])}
    open_ = {n: p for n, p in profiles.items() if n not in used and p.filled}
    ids = [
        (p.words["source_id"], n)
        for n, p in open_.items()
        if p.words.get("source_id") and p.distinct == p.filled and p.filled >= 0.99 * p.sampled
    ]
    if ids:
        draft.columns["source_id"] = max(ids)[1]
        draft.why["source_id"] = _("? header and unique values")
        used.add(max(ids)[1])
    else:
        draft.notes.append(
            _(
                "No column of unique case numbers was found: a later export of the same "
                "source cannot update these cases (name it as source_id if there is one)."
            )
        )
    subtype: str | None = None
    for role in TEXT_ROLES:
        if role in draft.columns:
            continue
        # a column of one value tells the cases' types apart less than one of several, what
        # ever its header: a Mexican export's tipo_solicitud ("Servicio" in every row) beside
        # tema_solicitud (Alumbrado, Bacheo, ...); one value still wins where it is alone
        candidates = [
            (role != "category" or p.distinct > 1, p.words[role], p.distinct, n)
            for n, p in open_.items()
            if n not in used and p.words.get(role) and 1 <= p.distinct <= MOST_VALUES
        ]
        if candidates:
            name = max(candidates)[3]
            if role == "category" and category_rows is not None:
                by_header, name = name, _most_proposable(candidates, name, category_rows)
                if name != by_header:  # the finer type, told in each case's description
                    subtype = by_header
                    used.add(subtype)
            draft.columns[role] = name
            n = profiles[name].distinct
            draft.why[role] = ngettext(
                "? header and {n} value", "? header and {n} values", n
            ).format(n=n)
            used.add(name)
    # a case's description starts with its complaint type, not with a code
    named = "category" in draft.columns and not draft.category_codes
    described = [str(draft.columns["category"])] if named else []
    if subtype is not None and named:
        described.append(subtype)
    for role in ("description", "address"):
        found = [(p.words[role], n) for n, p in open_.items() if p.words.get(role)]
        found = [(score, n) for score, n in found if n not in used]
        if found:
            described.append(max(found)[1])
            used.add(max(found)[1])
    if described:
        draft.columns["description"] = described if len(described) > 1 else described[0]


def _most_proposable(
    candidates: list[tuple], chosen: str, category_rows: Callable[[str], int]
) -> str:
    """Of the columns whose headers say case type and whose values tell types apart, the
    one whose values the draft can propose categories for in the most rows; the header's
    choice where none does better. San Francisco's export has a Category (Street and
    Sidewalk Cleaning, Graffiti, ...) and a Request Type below it (Bulky Items, Graffiti on
    Building_commercial, ...); the header words chose the type, whose values map to the
    catalogue far less often."""
    several = [c[3] for c in candidates if c[0]]
    if len(several) < 2:
        return chosen
    rows = {name: category_rows(name) for name in several}
    best = max(rows, key=lambda name: rows[name])
    return best if rows[best] > rows.get(chosen, 0) else chosen


# --- values ----------------------------------------------------------------------------------


def _propose_codes(draft: MappingDraft, counts: Counter, catalogue: Catalogue) -> None:
    """A proposal per code ("0490", or "event / 0101" read with its kind column): the
    catalogue's category of that kind and code, named beside it for the user to check."""
    by_code = _by_code(catalogue)
    for text, n in counts.most_common():
        kind_text, _sep, code = text.rpartition(" / ")
        kind = kind_named(kind_text) if kind_text else None
        matches = [c for c in by_code.get(code, []) if kind in (None, c.kind)]
        value = Value(text, n)
        if len({c.kind for c in matches}) == 1:  # one kind: the last loaded standard's
            value.proposal = f"{matches[0].kind}:{matches[0].code}"
            value.name = matches[-1].name(current_language())
            value.why = _("? the catalogue's code")
        draft.categories.append(value)
    if draft.unmapped_rows():
        draft.default_category = other_category(catalogue)


def _by_code(catalogue: Catalogue) -> dict[str, list[Category]]:
    """The catalogue's categories by code: one code may be a component and an event, and be
    in several standards."""
    out: dict[str, list[Category]] = {}
    for category in catalogue:
        out.setdefault(category.code, []).append(category)
    return out


def _propose_categories(
    draft: MappingDraft, counts: Counter, catalogue: Catalogue, names: dict | None = None
) -> None:
    """A proposal per value (``names``: what a code stands for, matched instead of it)."""
    known = shipped_categories()
    keys = {f"{c.kind}:{c.code}" for c in catalogue}
    names = names or {}
    for text, n in counts.most_common():
        value = Value(text, n, name=names.get(text, ""))
        value.proposal, value.why = _category_proposal(text, value.name, catalogue, known, keys)
        draft.categories.append(value)
    if draft.unmapped_rows():
        draft.default_category = other_category(catalogue)


def _category_proposal(
    text: str, name: str, catalogue: Catalogue, known: dict, keys: set[str]
) -> tuple[str | None, str]:
    """The catalogue key proposed for a category value, and why (None: nothing to tell)."""
    said = name or text
    shipped = known.get(text.casefold()) or known.get(said.casefold())
    if text in keys:  # the catalogue's own key ("event:0490")
        return text, _("? the catalogue's code")
    if shipped and shipped[0] in keys:
        return shipped[0], _("? as the shipped mapping {name}").format(name=shipped[1])
    match = category_by_name(said, catalogue)
    if match is not None:
        return f"{match.kind}:{match.code}", _("? by name: {name}").format(name=match.name_en)
    return None, ""


def _proposable_rows(values: pd.Series, catalogue: Catalogue) -> int:
    """How many of ``values`` (a sampled column) would get a category proposed."""
    known = shipped_categories()
    keys = {f"{c.kind}:{c.code}" for c in catalogue}
    counts = values.dropna().astype(str).str.strip()
    counts = counts[counts != ""].value_counts()
    return int(
        sum(
            n
            for text, n in counts.items()
            if _category_proposal(str(text), "", catalogue, known, keys)[0] is not None
        )
    )


def _status(text: str, rows: int) -> Value:
    if means_closed(text):
        return Value(text, rows, "closed", _("? closed by its words"))
    return Value(text, rows, "open", "?")


def _priority(text: str, rows: int) -> Value:
    level = priority_level(text)
    if level is not None:
        return Value(text, rows, level, _("? by its words"))
    return Value(text, rows, 3, _("? not recognised: normal"))


def _level(text: str) -> bool:
    return text.strip() in {"1", "2", "3", "4", "5"}


def _source_name(path: Path) -> str:
    return re.sub(r"[^\w]+", "_", path.stem).strip("_").lower() or "cases"


def _quote(text: object) -> str:
    """A TOML string (a value or a quoted key), escaped by tomli-w, the writer the project
    has for scenarios: a header or a complaint type may hold quotes or control characters."""
    import tomli_w

    return tomli_w.dumps({"v": str(text)}).removeprefix("v = ").rstrip("\n")


def _comment(text: str) -> str:
    return f"  # {text}" if text else ""


def check_draft(path: str | Path, mapping_path: str | Path) -> list[str]:
    """Read ``path`` through the drafted mapping as the import would, without writing: the
    lines to show (how many rows it reads, or why the import would refuse the file)."""
    try:
        checked = check_case_file(path, mapping_path)
    except CaseImportError as exc:
        return [_("The import would refuse the file as drafted: {err}").format(err=exc)]
    return [
        ngettext(
            "The import reads the {rows} row with this mapping ({missing} without a place).",
            "The import reads all {rows} rows with this mapping ({missing} without a place).",
            checked.rows,
        ).format(rows=f"{checked.rows:,}", missing=f"{checked.needs_location:,}")
    ]


def draft_open311(path: str | Path, catalogue: Catalogue) -> MappingDraft:
    """The mapping an Open311 GeoReport v2 file from another system needs: its service
    codes (each with its service name, which the proposal is matched on) to categories, and
    a default. Codes that are CityDesk's own (``E0490``) need no entry and are left out."""
    from .open311 import parse_service_code, read_requests

    path = Path(path)
    requests = read_requests(path)
    counts: Counter[str] = Counter()
    names: dict[str, str] = {}
    for req in requests:
        if not isinstance(req, dict):
            continue  # the import names it; the draft lists what it can
        code = str(req.get("service_code") or "").strip()
        name = str(req.get("service_name") or "").strip()
        key = code or name
        if key and parse_service_code(code) is None:
            counts[key] += 1
            names.setdefault(key, name if name != key else "")
    draft = MappingDraft(source=_source_name(path), columns={}, rows=len(requests), timezone="")
    draft.open311 = True
    _propose_categories(draft, counts, catalogue, names)
    return draft


def write_draft(
    path: str | Path,
    out: str | Path | None = None,
    project: str | Path | None = None,
    timezone: str | None = None,
    replace: bool = False,
) -> tuple[Path, MappingDraft, list[str]]:
    """Draft the mapping of ``path`` for ``project`` (its time zone, categories and area),
    write it to ``out`` (``<file>_mapping.toml`` beside the file by default; an existing
    file is not overwritten unless ``replace``: the workbench's save dialog has asked) and
    read the file through it: (where it was written, the draft, the lines to show). What
    ``citydesk cases mapping`` and the import dialog run."""
    from .categories import catalogue_for

    path = Path(path)
    target = Path(out) if out else path.with_name(f"{path.stem}_mapping.toml")
    if target.exists() and not replace:
        raise CaseImportError(
            _("{path} exists; the draft does not overwrite a mapping").format(path=target),
            _("Give another name (--out), or remove the old draft."),
            gui_fix=_("Save the draft under another name, or remove the old one."),
        )
    profile, near, preferred = None, None, ()
    if project is not None:  # read once: its city's profile, and where its layers are
        from citydesk.layers.city_profile import profile_in_metadata
        from citydesk.layers.placement import crs_hints
        from citydesk.layers.project_store import load_project

        loaded = load_project(project)
        profile = profile_in_metadata(loaded.metadata)
        near, preferred = crs_hints(loaded)
    zone = timezone or (profile.timezone if profile is not None else None)
    if is_open311(path):
        draft = draft_open311(path, catalogue_for(profile))
    else:
        draft = draft_mapping(path, catalogue_for(profile), zone, near, tuple(preferred))
    target.write_text(draft.toml(), encoding="utf-8")
    return target, draft, summary_lines(draft, target) + check_draft(path, target)


def summary_lines(draft: MappingDraft, target: Path) -> list[str]:
    """What the draft found, for the user to check before importing."""
    lines = [_("Drafted {path} from {rows} rows.").format(path=target, rows=f"{draft.rows:,}")]
    for role, column in draft.columns.items():
        shown = ", ".join(column) if isinstance(column, list) else column
        lines.append(f"  {role} = {shown}")
    for role, column in draft.times.items():
        lines.append(f"  [times] {role} = {column}")
    if draft.crs:
        lines.append(f"  [coordinates] crs = {draft.crs}  ({draft.why['crs']})")
    if draft.location_order:
        lines.append(f"  [coordinates] order = {draft.location_order}  ({draft.why['order']})")
    if draft.categories:
        mapped = [v for v in draft.categories if v.proposal is not None]
        rows = sum(v.rows for v in mapped)
        if len(mapped) == len(draft.categories):
            # nothing falls to a default (it said "the other 0 rows go to -")
            lines.append(
                ngettext(
                    "The one category is proposed ({rows} rows): check it in [categories].",
                    "All {n} categories are proposed ({rows} rows): check them in [categories].",
                    len(mapped),
                ).format(n=len(mapped), rows=f"{rows:,}")
            )
        else:
            lines.append(
                _(
                    "{mapped} of {total} categories proposed ({rows} rows); the other {left} "
                    "rows go to {default} until you map them in [categories]."
                ).format(
                    mapped=len(mapped),
                    total=len(draft.categories),
                    rows=f"{rows:,}",
                    left=f"{draft.unmapped_rows():,}",
                    default=draft.default_category or "-",
                )
            )
    if draft.statuses:
        closed = [v.text for v in draft.statuses if v.proposal == "closed"]
        lines.append(
            _("Statuses read as closed: {closed}; every other as open.").format(
                closed=", ".join(closed) or "-"
            )
        )
    lines += draft.notes
    return lines
