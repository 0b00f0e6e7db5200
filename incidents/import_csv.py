"""Import real 311-style CSV exports through a column mapping (TOML).

Real exports disagree on everything: column names, date formats (``05/01/2022 12:00:03 AM``,
ISO 8601, with or without zone), empty closed dates for open cases, rows without coordinates,
complaint types of their own. A mapping file says which column is which, which date formats
and time zone to expect, and which catalogue category each complaint type becomes. Rows
without coordinates are kept (the case "needs location"); anything that cannot be read stops
the whole batch with the row numbers, so a file is imported completely or not at all.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from citydesk.layers.city_locale import timezone_fix
from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _, ngettext
from citydesk.layers.readers.csv_dialect import header_line, to_numbers
from citydesk.layers.readers.encoding import detect_encoding, lines_not_utf8
from citydesk.layers.readers.spreadsheet import is_spreadsheet, read_sheet

from .csv_lines import CsvLines, FeatureLines, SheetLines, first_lines
from .source_steps import STEPS, source_histories
from .toml_files import load_toml

log = logging.getLogger(__name__)

Lines = CsvLines | SheetLines | FeatureLines  # a file line, a sheet row or a feature

MAPPINGS = Path(__file__).parent / "data" / "mappings"


class CaseImportError(CityDeskError):
    """The file or its mapping cannot be imported; nothing was written."""


@dataclass
class MappingColumns:
    """Which source column (or columns, joined) holds each case fact."""

    reported_at: str
    source_id: str | None = None
    # one column, or several read in order where one is empty (FixMyStreet's "Closed" and
    # "Fixed": a case fixed is closed at its fix time)
    closed_at: str | list[str] | None = None
    lat: str | None = None
    lon: str | None = None
    # one column holding the point instead of lon and lat: WKT "POINT (lon lat)" (x y in
    # [coordinates] crs), or "(lat, lon)" as Socrata portals export a location column
    location: str | None = None
    # one column, or several joined with " / " (a CityDesk export's kind and category_code:
    # "event / 0490"; the same code is a component and an event in the standard)
    category: str | list[str] | None = None
    description: str | list[str] | None = None
    due_at: str | None = None  # the source's target time: kept, not recomputed
    department: str | None = None  # the source's agency or department: kept
    priority: str | None = None  # the source's priority, through [priorities]
    status: str | None = None  # the source's status word: kept, and read through [statuses]
    channel: str | None = None  # how the case came in (phone, app, web, ...): kept
    updated_at: str | None = None  # when the source last updated the case: kept
    # the times of the steps of the closed loop the source recorded (a 数字城管 export's
    # 立案, 派遣, 处置, 核查 times): kept as the case's history (incidents.source_steps)
    registered_at: str | list[str] | None = None
    dispatched_at: str | list[str] | None = None
    handled_at: str | list[str] | None = None
    checked_at: str | list[str] | None = None


@dataclass
class MappingDates:
    formats: list[str] = field(default_factory=list)
    timezone: str = "UTC"
    # 05.02.2015: 5 February (true) or 2 May (false)? Without formats or this, such dates
    # are refused rather than guessed
    dayfirst: bool | None = None
    # a case closed before it was reported: refuse the file, clamp the close to the report
    # time, or keep it as the source wrote it (either way counted in the summary)
    backwards: Literal["refuse", "clamp", "keep"] = "refuse"


@dataclass
class MappingTimes:
    """The time of day where an export keeps it in a column of its own beside the date
    (a Spanish-language export's "Fecha de ingreso" and "Hora de ingreso", a 数字城管 list's
    上报日期 and 上报时间): joined to the date before the two are read as one time."""

    reported_at: str | None = None
    closed_at: str | None = None
    due_at: str | None = None
    updated_at: str | None = None
    registered_at: str | None = None
    dispatched_at: str | None = None
    handled_at: str | None = None
    checked_at: str | None = None


@dataclass
class MappingCoordinates:
    """What the coordinate columns hold: lon/lat in WGS 84 unless ``crs`` names another CRS
    (a 数字城管 system's x/y in its CGCS2000 zone: lon is then x, lat is y), and whether
    they come from a Chinese web map (``offset``: GCJ-02 from AMap/Tencent/WeChat, BD-09
    from Baidu), which puts them 100-700 m off."""

    crs: str = "EPSG:4326"
    offset: Literal["", "gcj02", "bd09"] = ""
    #: which comes first in a location column of two numbers ("60.1699, 24.9384"); unsaid,
    #: only Socrata's bracketed "(lat, lon)" is read. POINT (x y) is always x first
    order: Literal["", "lat_lon", "lon_lat"] = ""


@dataclass
class MappingDefaults:
    category: str | None = None


@dataclass
class MappingFile:
    """The TOML layout of a column mapping (checked key by key)."""

    columns: MappingColumns
    source: str = ""
    dates: MappingDates = field(default_factory=MappingDates)
    times: MappingTimes = field(default_factory=MappingTimes)
    coordinates: MappingCoordinates = field(default_factory=MappingCoordinates)
    categories: dict[str, str] = field(default_factory=dict)
    defaults: MappingDefaults = field(default_factory=MappingDefaults)
    # the source's department or agency -> a CityDesk department; values not listed are
    # kept as the source wrote them (an agency of its own is still a department)
    departments: dict[str, str] = field(default_factory=dict)
    # the source's priority values -> CityDesk's 1 (most urgent) to 5; a number 1-5 in the
    # column is taken as it is, any other value not listed here is refused with its lines
    priorities: dict[str, int] = field(default_factory=dict)
    # the source's status values -> "open" or "closed": a case whose status is closed is
    # closed at the source's close time (or its last update); a value not listed is refused
    # with its lines. Without this table the status is kept as text, and closed_at decides.
    statuses: dict[str, Literal["open", "closed"]] = field(default_factory=dict)


@dataclass
class ColumnMapping:
    source: str
    columns: dict[str, object]
    date_formats: list[str]
    timezone: str
    categories: dict[str, str] = field(default_factory=dict)
    default_category: str | None = None
    departments: dict[str, str] = field(default_factory=dict)
    priorities: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)
    dayfirst: bool | None = None
    backwards: str = "refuse"
    #: a date column -> the column holding its time of day ([times])
    times: dict[str, str] = field(default_factory=dict)
    coordinate_crs: str = "EPSG:4326"  # the CRS of the lon/lat (x/y) columns
    location_order: str = ""  # a location column's two numbers: lat_lon, lon_lat, or unsaid
    offset: Literal["", "gcj02", "bd09"] = ""  # a Chinese web map's shifted lon/lat

    @classmethod
    def load(cls, path: str | Path) -> ColumnMapping:
        # shipped mappings by name: nyc311, cambridge_crashes
        path, data = load_toml(
            path, MAPPINGS / "{name}.toml", CaseImportError, _("mapping"), MappingFile
        )
        columns = {k: v for k, v in asdict(data.columns).items() if v is not None}
        if "location" in columns and ({"lon", "lat"} & set(columns)):
            raise CaseImportError(
                _("columns.location and columns.lon/lat both give the place"),
                _("Keep either location (one column with the point) or lon and lat."),
                path=str(path),
            )
        _check_categories(data, path)
        fix = timezone_fix(data.dates.timezone)
        if fix is not None:
            raise CaseImportError(
                _("dates.timezone = '{tz}' is not a time zone").format(tz=data.dates.timezone),
                fix,
                path=str(path),
            )
        return cls(
            source=data.source or path.stem,
            columns=columns,
            date_formats=data.dates.formats,
            timezone=data.dates.timezone,
            # values are looked up without their surrounding spaces, on both sides
            categories=_trimmed(data.categories),
            default_category=data.defaults.category,
            departments=_trimmed(data.departments),
            priorities=_trimmed(data.priorities),
            statuses=_trimmed(data.statuses),
            dayfirst=data.dates.dayfirst,
            backwards=data.dates.backwards,
            times=_times(data, columns, path),
            coordinate_crs=_checked_crs(data.coordinates, path),
            location_order=data.coordinates.order,
            offset=data.coordinates.offset,
        )


def _times(data: MappingFile, columns: dict, path: Path) -> dict[str, str]:
    """[times] as date column -> time column; each needs its date as one column."""
    out = {}
    for role, time_column in asdict(data.times).items():
        if time_column is None:
            continue
        date_column = columns.get(role)
        if not isinstance(date_column, str):
            raise CaseImportError(
                _("times.{role} gives a time of day, but columns.{role} is not one column").format(
                    role=role
                ),
                _("Name the column of its dates in [columns] {role}, as one column.").format(
                    role=role
                ),
                path=str(path),
            )
        out[date_column] = time_column
    return out


def _trimmed(table: dict) -> dict:
    return {str(k).strip(): v for k, v in table.items()}


def _checked_crs(coordinates: MappingCoordinates, path: Path) -> str:
    """The [coordinates] crs, refused by name when pyproj does not know it, or when an
    offset (which shifts lon/lat) is given with projected x/y."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        crs = CRS.from_user_input(coordinates.crs)
    except CRSError as exc:
        raise CaseImportError(
            _("coordinates.crs = '{crs}' is not a coordinate system ({err})").format(
                crs=coordinates.crs, err=exc
            ),
            _('Write it as an EPSG code, e.g. crs = "EPSG:4544".'),
            path=str(path),
        ) from exc
    if coordinates.offset and not crs.is_geographic:
        raise CaseImportError(
            _("coordinates.offset = '{offset}' shifts lon/lat, but crs is projected").format(
                offset=coordinates.offset
            ),
            _("Leave out the offset for projected x/y, or the crs for lon/lat."),
            path=str(path),
        )
    return coordinates.crs


def _check_categories(data: MappingFile, path: Path) -> None:
    """Category values are kind:code; a mapping with no category column needs a default
    (a mistake here used to end in a KeyError halfway through the file)."""
    check_kind_codes(data.categories, data.defaults, path)
    for source_value, priority in data.priorities.items():
        if not 1 <= priority <= 5:
            raise CaseImportError(
                _("priorities.{key} = {value} is not a priority 1-5").format(
                    key=source_value, value=priority
                ),
                _("1 is the most urgent, 5 the least; 3 is normal."),
                path=str(path),
            )
    if data.columns.category is None and data.defaults.category is None:
        raise CaseImportError(
            _("the mapping gives no category: no columns.category and no defaults.category"),
            _('Name the column (category = "Complaint Type") or set [defaults] category.'),
            path=str(path),
        )


def check_kind_codes(categories: dict[str, str], defaults: MappingDefaults, path: Path) -> None:
    """Every category a mapping names (its [categories] values and [defaults] category) is
    kind:code, for CSV and Open311 mappings alike."""
    given = {f"categories.{k}": v for k, v in categories.items()}
    if defaults.category is not None:
        given["defaults.category"] = defaults.category
    for key, value in given.items():
        kind, _sep, code = str(value).partition(":")
        if kind not in ("component", "event") or not code.strip():
            raise CaseImportError(
                _("{key} = '{value}' is not kind:code").format(key=key, value=value),
                _("Write it as component:CODE or event:CODE, e.g. event:0505."),
                path=str(path),
            )


@dataclass
class ParsedFile:
    cases: pd.DataFrame  # the columns of NewCase (see incidents.new_cases)
    rows: int
    bad_lines: list[int]
    needs_location: int
    closed: int
    backwards: int = 0  # rows closed before they were reported (clamped or kept)
    #: complaint types [categories] does not list, filed under [defaults] category: rows each
    defaulted: Counter = field(default_factory=Counter)
    #: rows with a step time after a step they have none for (that time left out)
    step_gaps: int = 0


class AmbiguousDates(ValueError):
    """Day-first or month-first cannot be told; ``rows`` are the frame positions."""

    def __init__(self, rows: list[int]) -> None:
        super().__init__(rows)
        self.rows = rows


_NUMERIC_DATE = r"^\s*(\d{1,2})[./-](\d{1,2})[./-]\d{2,4}\b"
#: a time of day and nothing else ("8:15", "17.45.10", "5:45 PM"): not a date
TIME_OF_DAY = r"(?:[01]?\d|2[0-3])[:.][0-5]\d(?:[:.][0-5]\d(?:\.\d+)?)?\s*(?:[AaPp]\.?\s?[Mm]\.?)?"


def with_time_of_day(dates: pd.Series, times: pd.Series) -> pd.Series:
    """Each date with its time of day from another column, where both are given ("01/10/2026"
    and "8:15": "01/10/2026 8:15"). A spreadsheet's date cell comes as midnight
    ("2026-10-01 00:00:00"), which is dropped before the time is added."""
    day = dates.astype("string").str.strip()
    clock = times.astype("string").str.strip()
    both = day.notna() & (day != "") & clock.notna() & (clock != "")
    bare_day = day.str.replace(r"[ T]00:00(?::00(?:\.0+)?)?$", "", regex=True)
    return day.where(~both, bare_day + " " + clock)


def parse_dates(
    values: pd.Series, formats: list[str], tz: str, dayfirst: bool | None = None
) -> pd.Series:
    """Parse with the given formats first (fast and unambiguous), then pandas' mixed parser;
    naive times are in ``tz``. Unparseable non-empty values become NaT and are reported.

    A value the formats do not read and whose first two numbers could each be the day or
    the month (``05.02.2015``) raises :class:`AmbiguousDates` unless ``dayfirst`` says
    which: pandas would read it month-first without a word."""
    text = values.astype("string").str.strip()
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns, UTC]")
    todo = text.notna() & (text != "")
    for fmt in formats:
        if not todo.any():
            break
        parsed = _plausible(pd.to_datetime(text[todo], format=fmt, errors="coerce"))
        ok = parsed.notna()
        if ok.any():
            result.loc[ok[ok].index] = _to_utc(parsed[ok], tz)
            todo.loc[ok[ok].index] = False
    if todo.any():
        epoch = _epoch_times(text[todo])
        if epoch.notna().any():
            result.loc[epoch[epoch.notna()].index] = epoch[epoch.notna()]
            todo.loc[epoch[epoch.notna()].index] = False
    if todo.any():
        # a time of day alone is no date: the general parser would put it on today (only
        # what the formats left is looked at: an import's dates mostly end above)
        clock = text[todo].str.fullmatch(TIME_OF_DAY).fillna(False).astype(bool)
        todo.loc[clock[clock].index] = False
    if todo.any():
        # values with their own offset (ISO 8601 "+00:00"/"Z") are absolute; the rest are
        # local times in ``tz``. pandas refuses to mix the two in one call, so split them.
        rest = _western_markers(text[todo])
        aware = rest.str.contains(r"(?:[+-]\d{2}:?\d{2}|Z)$", regex=True, na=False)
        if aware.any():
            parsed = _plausible(
                pd.to_datetime(rest[aware], format="mixed", errors="coerce", utc=True)
            )
            result.loc[parsed[parsed.notna()].index] = parsed[parsed.notna()]
        if (~aware).any():
            naive = rest[~aware]
            if dayfirst is None:
                parts = naive.str.extract(_NUMERIC_DATE).astype(float)
                both = (parts[0] <= 12) & (parts[1] <= 12) & (parts[0] != parts[1])
                if both.any():
                    raise AmbiguousDates([values.index.get_loc(i) for i in both[both].index])
            parsed = _plausible(_naive_times(naive, bool(dayfirst)))
            ok = parsed.notna()
            if ok.any():
                result.loc[ok[ok].index] = _to_utc(parsed[ok], tz)
    return result


#: Unix time as exported by ArcGIS feature services and many APIs: 10 digits of seconds or
#: 13 of milliseconds (2001-2286). Other digit runs are compact dates (``20241205``,
#: ``20241205103000``), which pandas reads itself.
_EPOCH = r"^(\d{10}|\d{13})(?:\.\d+)?$"


def _epoch_times(text: pd.Series) -> pd.Series:
    """UTC times of the values that are Unix seconds or milliseconds; NaT elsewhere."""
    match = text.str.extract(_EPOCH)[0]
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    for digits, unit in ((10, "s"), (13, "ms")):
        which = match.str.len() == digits
        if which.any():
            numbers = pd.to_numeric(text[which], errors="coerce")
            out.loc[which[which].index] = pd.to_datetime(numbers, unit=unit, utc=True)
    return out


#: Chinese (and Japanese) date text as Excel and 数字城管 exports write it:
#: ``2024年12月5日 下午3时04分``. Rewritten to ``2024-12-5 3:04 PM`` for the general parser.
_CJK_DATE = [
    (r"(\d)\s*[年/]\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]", r"\1-\2-\3 "),
    (r"(\d)\s*[时時点點]\s*(\d)", r"\1:\2"),
    (r"(\d)\s*分\s*(\d)", r"\1:\2"),
    (r"(\d)\s*[时時点點]", r"\1:00"),
    (r"(\d)\s*[分秒]", r"\1"),
    (r"\s*(?:星期|周|週)[一二三四五六日天]\s*", " "),
]
_HALF_DAY = r"(上午|早上|凌晨|下午|晚上|中午)\s*(\d{1,2}:\d{1,2}(?::\d{1,2})?)"


def _western_markers(text: pd.Series) -> pd.Series:
    """Dates written with 年月日, 时分秒 and 上午/下午, as ``Y-M-D H:M:S AM/PM``."""
    cjk = text.str.contains(r"[年月日号时時点點分秒午晚凌]", regex=True, na=False)
    if not cjk.any():
        return text
    part = text[cjk]
    for pattern, repl in _CJK_DATE:
        part = part.str.replace(pattern, repl, regex=True)
    part = part.str.replace(
        _HALF_DAY,
        lambda m: m.group(2) + (" AM" if m.group(1) in ("上午", "早上", "凌晨") else " PM"),
        regex=True,
    )
    out = text.copy()
    out.loc[part.index] = part.str.strip()
    return out


def _naive_times(text: pd.Series, dayfirst: bool) -> pd.Series:
    """Local times in mixed layouts. A garbled value can look to dateutil as if it carried
    a zone (``2024-03-03 2024-03-03 10:00``), and one such value makes pandas refuse the
    whole column; those values are then read one by one, and any that come out with a
    zone are unreadable (they are reported with their lines)."""
    try:
        return pd.to_datetime(text, format="mixed", errors="coerce", dayfirst=dayfirst)
    except ValueError:
        out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
        for key, value in text.items():
            try:
                moment = pd.to_datetime(value, errors="coerce", dayfirst=dayfirst)
            except (ValueError, OverflowError):
                continue
            if not pd.isna(moment) and moment.tzinfo is None and 1900 <= moment.year < 2200:
                out[key] = moment
        return out


def _plausible(parsed: pd.Series) -> pd.Series:
    """Times a case could have (years 1900-2199), in nanoseconds; others unreadable. pandas
    reads a stray coordinate such as ``-71.11`` as the year -71 (which then broke the
    import with pandas' own internal error)."""
    if not len(parsed):
        return parsed
    years = parsed.dt.year
    kept = parsed.where((years >= 1900) & (years < 2200))
    unit = "datetime64[ns, UTC]" if getattr(kept.dt, "tz", None) is not None else "datetime64[ns]"
    return kept.astype(unit)


def _to_utc(parsed: pd.Series, tz: str) -> pd.Series:
    """Local times -> UTC. A time in the hour that happens twice when daylight saving ends
    (e.g. 01:24 on 6 Nov 2011 in Massachusetts) is read as the first, daylight-time
    occurrence; a time skipped when it starts is moved forward. Exports rarely say which."""
    if getattr(parsed.dt, "tz", None) is None:
        first = np.ones(len(parsed), dtype=bool)
        parsed = parsed.dt.tz_localize(ZoneInfo(tz), ambiguous=first, nonexistent="shift_forward")
    return parsed.dt.tz_convert("UTC")


#: rows read, checked and imported at a time: an import's memory stays flat however long the
#: file (ten million rows read at once took over 10 GB)
PART_ROWS = 250_000


def read_cases(path: str | Path, mapping: ColumnMapping) -> ParsedFile:
    """Read a CSV into new-case columns, or raise listing every row that cannot be used."""
    return next(iter_cases(path, mapping, rows=None))


def iter_cases(
    path: str | Path, mapping: ColumnMapping, rows: int | None = PART_ROWS
) -> Iterator[ParsedFile]:
    """The file ``rows`` rows at a time (all at once for None), each part read, checked and
    turned into new-case columns as :func:`read_cases` does; a part that cannot be used
    raises, naming its file lines."""
    path = Path(path)
    for part in read_parts(path, rows):
        yield _parse_part(part.frame, part.bad, mapping, path, part.lines, part.delimiter)


@dataclass
class RawPart:
    """Rows of a case file as text, before any mapping: what the import and the mapping
    draft (:mod:`.mapping_draft`) both read."""

    frame: pd.DataFrame  # every cell as text, blank cells missing
    bad: list[int]  # file lines the CSV reader skipped (a row with too many fields)
    lines: Lines
    delimiter: str = ","


def read_parts(path: str | Path, rows: int | None = PART_ROWS) -> Iterator[RawPart]:
    """A CSV (its encoding and delimiter detected), a spreadsheet's first sheet or a GIS
    layer (:mod:`.layer_cases`), ``rows`` rows at a time (all at once for None); an
    unreadable or empty file raises :class:`CaseImportError`."""
    from .layer_cases import is_case_layer, read_case_layer

    path = Path(path)
    if is_spreadsheet(path):
        sheet = read_sheet(path, CaseImportError)
        yield RawPart(sheet, [], SheetLines(sheet.attrs.get("header_row", 1)))
        return
    if is_case_layer(path):  # GeoJSON, a shapefile ...: attributes, and the point as WKT
        yield RawPart(read_case_layer(path, CaseImportError), [], FeatureLines())
        return
    with open(path, "rb") as fh:
        sample = fh.read(1 << 20)
    encoding = detect_encoding(sample)
    mixed = lines_not_utf8(sample) if encoding != "utf-8" else []
    if mixed:
        raise CaseImportError(
            ngettext(
                "the file mixes encodings: line {lines} is not UTF-8 but others are",
                "the file mixes encodings: lines {lines} are not UTF-8 but others are",
                len(mixed),
            ).format(lines=", ".join(map(str, mixed[:20]))),
            _("Re-export it in one encoding (UTF-8), or convert those lines."),
            path=str(path),
        )
    if not sample.strip():
        raise CaseImportError(
            _("the file is empty"),
            _("Export the cases again; the file has no header and no rows."),
            path=str(path),
        )
    # ';' in decimal-comma locales (Excel's export there): the same sniffing as the layer
    # reader's, so a file that opens as a layer imports as cases; lines of title above the
    # header are skipped (they made the title the only column, and no date was found)
    skip, delimiter = header_line(sample.decode(encoding, errors="replace"))
    options: dict[str, Any] = dict(
        sep=delimiter,
        skiprows=skip,
        dtype=str,
        keep_default_na=False,
        na_values=[""],
        encoding=encoding,
        on_bad_lines="warn",
        # a row with one field more than the header must not turn the first column into
        # the index (pandas' default), which shifts every column silently
        index_col=False,
    )
    lines = CsvLines(path, encoding, delimiter, skip)
    failures = (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError)

    def unreadable(exc: Exception) -> CaseImportError:
        return CaseImportError(
            _("cannot read the CSV ({err})").format(err=exc),
            _("Check that the file is a complete CSV export."),
            path=str(path),
        )

    parts = 0
    with ExitStack() as stack:
        reader = None
        if rows is not None:
            try:
                reader = stack.enter_context(pd.read_csv(path, chunksize=rows, **options))
            except failures as exc:
                raise unreadable(exc) from exc
        while True:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    frame = pd.read_csv(path, **options) if reader is None else next(reader)
                except StopIteration:
                    break
                except failures as exc:
                    raise unreadable(exc) from exc
            bad = sorted(int(m) for w in caught for m in re.findall(r"line (\d+)", str(w.message)))
            if parts and frame.empty:
                break
            parts += 1
            yield RawPart(frame, lines.of_records(bad), lines, delimiter)
            if reader is None:
                break
    if not parts:
        raise CaseImportError(
            _("the file has its header but no rows"),
            _("There is nothing to import; export the cases again if rows were expected."),
            path=str(path),
        )


def _parse_part(
    frame: pd.DataFrame,
    bad_lines: list[int],
    mapping: ColumnMapping,
    path: Path,
    lines: Lines,
    delimiter: str = ",",
) -> ParsedFile:
    """One part of a file (its index counts the file's rows) as new-case columns."""
    cols = mapping.columns
    wanted = [c for v in cols.values() for c in (v if isinstance(v, list) else [v])]
    wanted += list(mapping.times.values())
    missing = list(dict.fromkeys(c for c in wanted if c not in frame.columns))
    if missing:
        raise CaseImportError(
            _("the CSV has no column(s) {cols}").format(cols=", ".join(map(repr, missing))),
            _("Fix the [columns] of the mapping; the file has: {cols}").format(
                cols=", ".join(frame.columns[:25])
            ),
            path=str(path),
        )
    if frame.empty:
        raise CaseImportError(
            _("the file has its header but no rows"),
            _("There is nothing to import; export the cases again if rows were expected."),
            path=str(path),
        )
    reported = _dates(frame, str(cols["reported_at"]), mapping, path, lines)
    unreadable = frame.index[reported.isna()]
    if len(unreadable):
        rows = first_lines(lines, np.asarray(unreadable))
        raise CaseImportError(
            ngettext(
                "{n} row has no readable report date (file line {rows})",
                "{n} rows have no readable report date (file lines {rows})",
                len(unreadable),
            ).format(n=len(unreadable), rows=rows),
            _("Add the date format to [dates] formats, or fix those rows."),
            path=str(path),
        )
    closed = _optional_dates(frame, cols, "closed_at", mapping, path, lines)
    backwards = (closed.notna() & (closed < reported)).to_numpy()
    if backwards.any() and mapping.backwards == "refuse":
        rows = _lines(lines, frame.index, np.flatnonzero(backwards))
        raise CaseImportError(
            ngettext(
                "{n} row closes before it was reported (file line {rows})",
                "{n} rows close before they were reported (file lines {rows})",
                int(backwards.sum()),
            ).format(n=int(backwards.sum()), rows=rows),
            _(
                'Fix those rows, or choose in [dates] backwards = "clamp" (closed at the '
                'report time) or "keep" (as the source wrote it); both are counted.'
            ),
            path=str(path),
        )
    if backwards.any() and mapping.backwards == "clamp":
        closed = closed.where(~backwards, reported)
    updated = _optional_dates(frame, cols, "updated_at", mapping, path, lines)
    status = frame[cols["status"]].astype("string").str.strip() if "status" in cols else None
    if status is not None and mapping.statuses:
        closed = _closed_by_status(status, closed, updated, mapping, path, lines)
    due = _optional_dates(frame, cols, "due_at", mapping, path, lines)
    steps = {
        name: _optional_dates(frame, cols, name, mapping, path, lines)
        for name in STEPS
        if name in cols
    }
    recorded = source_histories(steps, closed) if steps else None
    lon = to_numbers(frame[cols["lon"]], delimiter) if "lon" in cols else None
    lat = to_numbers(frame[cols["lat"]], delimiter) if "lat" in cols else None
    types = column_text(frame, cols["category"]) if "category" in cols else None
    categories = (
        # column_text strips the cells: exports pad them ("Pothole " went to the default)
        types.map(lambda v: mapping.categories.get(v, mapping.default_category))
        if types is not None
        else pd.Series(mapping.default_category, frame.index)
    )
    unmapped = (
        types[categories.isna()].replace("", None)
        if types is not None and categories.isna().any()
        else pd.Series(dtype=str)
    )
    if len(unmapped):
        kinds = Counter(unmapped.fillna("(empty)"))
        raise CaseImportError(
            ngettext(
                "{n} row has a complaint type with no category: {types}",
                "{n} rows have complaint types with no category: {types}",
                len(unmapped),
            ).format(
                n=len(unmapped), types=", ".join(f"{k} ({v})" for k, v in kinds.most_common(8))
            ),
            _("Map them in [categories] or set [defaults] category in the mapping."),
            path=str(path),
        )
    desc_cols = cols.get("description", [])
    descriptions = column_text(frame, desc_cols).tolist()
    n = len(frame)
    xs = lon.to_numpy(dtype=float) if lon is not None else np.full(n, np.nan)
    ys = lat.to_numpy(dtype=float) if lat is not None else np.full(n, np.nan)
    if "location" in cols:
        xs, ys = _location_column(frame[cols["location"]], path, lines, mapping.location_order)
    located = np.isfinite(xs) & np.isfinite(ys) & ~((xs == 0) & (ys == 0))  # 0,0 = unknown
    xs, ys = _to_lonlat(xs, ys, located, mapping)
    # beyond the globe, or x/y the mapping's crs cannot place (pyproj gives inf)
    impossible = located & ~((np.abs(xs) <= 180) & (np.abs(ys) <= 90))
    if impossible.any():
        rows = _lines(lines, frame.index, np.flatnonzero(impossible))
        could_swap = (np.abs(ys) > 90) & (np.abs(ys) <= 180) & (np.abs(xs) <= 90)
        swapped = bool(could_swap[impossible].all())
        raise CaseImportError(
            ngettext(
                "{n} row has coordinates no place has (file line {rows})",
                "{n} rows have coordinates no place has (file lines {rows})",
                int(impossible.sum()),
            ).format(n=int(impossible.sum()), rows=rows),
            _("Latitude and longitude look swapped: exchange lat and lon in the mapping.")
            if swapped
            else _(
                "Fix those rows, or leave their coordinates empty (the case then needs a location)."
            ),
            path=str(path),
        )
    malformed = sorted({c for c in categories.astype(str) if c.count(":") != 1})
    if malformed:
        raise CaseImportError(
            _("category values must be kind:code, e.g. event:0505; found {values}").format(
                values=", ".join(repr(v) for v in malformed[:8])
            ),
            _("Write each category of the mapping as component:CODE or event:CODE."),
            path=str(path),
        )
    kind_code = categories.astype(str).str.split(":", n=1, expand=True)
    cases = pd.DataFrame(
        {
            "kind": kind_code[0].to_numpy(),
            "category_code": kind_code[1].to_numpy(),
            "lon": np.where(located, xs, np.nan),
            "lat": np.where(located, ys, np.nan),
            "description": descriptions,
            "source": mapping.source,
            "source_id": frame[cols["source_id"]].astype(str).to_numpy()
            if "source_id" in cols
            else None,
            "reported_at": reported,
            "closed_at": closed,
            "due_at": due,
            "department": _departments(frame[cols["department"]], mapping)
            if "department" in cols
            else None,
            "priority": _priorities(frame, str(cols["priority"]), mapping, path, lines)
            if "priority" in cols
            else 3,
            "source_status": status.to_numpy(dtype=object, na_value=None)
            if status is not None
            else None,
            "channel": frame[cols["channel"]]
            .astype("string")
            .str.strip()
            .to_numpy(dtype=object, na_value=None)
            if "channel" in cols
            else None,
            "source_updated_at": updated,
        }
    )
    if recorded is not None:
        cases["history"] = recorded.histories
    needs_location = int((~located).sum())
    return ParsedFile(
        cases,
        len(frame),
        bad_lines,
        needs_location,
        int(closed.notna().sum()),
        int(backwards.sum()),
        _defaulted(frame, cols, mapping),
        step_gaps=recorded.gaps if recorded is not None else 0,
    )


def _defaulted(frame: pd.DataFrame, cols: dict, mapping: ColumnMapping) -> Counter:
    """The complaint types the mapping does not list and their rows: filed under the default
    category, which the summary says (a renamed type, a new one, a typo in the mapping)."""
    if "category" not in cols or mapping.default_category is None:
        return Counter()
    types = column_text(frame, cols["category"])
    unlisted = types[~types.isin(list(mapping.categories))]
    return Counter(unlisted.value_counts().to_dict())


_NUMBER = r"[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
#: two numbers, in brackets or not, between a comma, a semicolon or spaces: "(42.37, -71.1)"
#: as Socrata writes a location, "120.1551,30.2741" as a 数字城管 list's 坐标 column
NUMBER_PAIR = rf"^\s*\(?\s*({_NUMBER})\s*(?:[,;]|\s)\s*({_NUMBER})\s*\)?\s*$"


def _location_column(
    values: pd.Series, path: Path, lines: Lines, order: str = ""
) -> tuple[np.ndarray, np.ndarray]:
    """x and y from one column: ``POINT (x y)`` (WKT, x first) or two numbers in ``order``
    (``lat_lon`` or ``lon_lat``; unsaid, only Socrata's bracketed ``(lat, lon)`` is read).
    Empty cells have no place; any other text is refused with its lines, never guessed."""
    import shapely

    text = values.astype("string").str.strip()
    # WKT read by shapely, as a layer's WKT column is (layers/readers/csv_points.py)
    maybe_wkt = text.where(text.str.upper().str.startswith("POINT"), None)
    geoms = shapely.from_wkt(maybe_wkt.to_numpy(dtype=object, na_value=None), on_invalid="ignore")
    point = (shapely.get_type_id(geoms) == 0) & ~shapely.is_empty(geoms)
    pair = text.str.extract(NUMBER_PAIR)
    bare = (pair[0].notna() & ~text.str.startswith("(")).fillna(False).to_numpy(dtype=bool)
    if bare.any() and not order:
        n, shown, rows = _bad_rows(text, bare, lines)
        raise CaseImportError(
            ngettext(
                "{n} row has a location of two numbers without brackets: {values} (file line "
                "{rows}); which is the latitude?",
                "{n} rows have a location of two numbers without brackets: {values} (file "
                "lines {rows}); which is the latitude?",
                n,
            ).format(n=n, values=shown, rows=rows),
            _('Say which in the mapping: [coordinates] order = "lat_lon" or "lon_lat".'),
            path=str(path),
        )
    lat_part, lon_part = (pair[1], pair[0]) if order == "lon_lat" else (pair[0], pair[1])

    def number(part: pd.Series) -> pd.Series:  # floats with NaN (a column of "1" is Int64)
        as_float = pd.to_numeric(part, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        return pd.Series(as_float, index=part.index)

    x_wkt, y_wkt = np.full(len(text), np.nan), np.full(len(text), np.nan)
    x_wkt[point], y_wkt[point] = shapely.get_x(geoms[point]), shapely.get_y(geoms[point])
    xs = pd.Series(x_wkt, index=text.index).fillna(number(lon_part))
    ys = pd.Series(y_wkt, index=text.index).fillna(number(lat_part))
    filled = text.notna() & (text != "") & ~text.str.upper().isin(["POINT EMPTY", "()"])
    unread = filled & (xs.isna() | ys.isna())
    if unread.any():
        n, shown, rows = _bad_rows(text, unread.to_numpy(), lines)
        raise CaseImportError(
            _(
                "{n} rows have a location that is neither POINT (x y) nor two numbers: {values} "
                "(file lines {rows})"
            ).format(n=n, values=shown, rows=rows),
            _("Fix those rows, or give the coordinates as two columns (lon and lat)."),
            path=str(path),
        )
    return xs.to_numpy(dtype=float), ys.to_numpy(dtype=float)


def _bad_rows(text: pd.Series, mask: np.ndarray, lines: Lines) -> tuple[int, str, str]:
    """The rows ``mask`` refuses, for a message: how many, their first three distinct
    values quoted, and their file lines."""
    shown = ", ".join(repr(str(v)) for v in text[mask].unique()[:3])
    return int(mask.sum()), shown, _lines(lines, text.index, np.flatnonzero(mask))


def _to_lonlat(
    xs: np.ndarray, ys: np.ndarray, located: np.ndarray, mapping: ColumnMapping
) -> tuple[np.ndarray, np.ndarray]:
    """The located rows' coordinates as WGS 84 lon/lat (the store keeps those): projected
    x/y transformed, a Chinese web map's offset undone."""
    if not located.any():
        return xs, ys
    xs, ys = xs.copy(), ys.copy()
    if mapping.coordinate_crs.upper() not in ("EPSG:4326", "WGS84", "4326"):
        from pyproj import Transformer

        to_wgs84 = Transformer.from_crs(mapping.coordinate_crs, "EPSG:4326", always_xy=True)
        xs[located], ys[located] = to_wgs84.transform(xs[located], ys[located])
    if mapping.offset == "gcj02" or mapping.offset == "bd09":
        from citydesk.layers.chinese_offsets import to_wgs84 as undo

        xs[located], ys[located] = undo(xs[located], ys[located], mapping.offset)
    return xs, ys


def _lines(lines: Lines, index: pd.Index, positions: np.ndarray) -> str:
    """The file lines of rows at ``positions`` of a frame (its labels count the rows pandas
    kept, across parts), the first 20, as an editor numbers them (see ``csv_lines``)."""
    return first_lines(lines, np.asarray(index[np.asarray(positions, dtype=np.int64)]))


def _dates(
    frame: pd.DataFrame, column: str, mapping: ColumnMapping, path: Path, lines: Lines
) -> pd.Series:
    """A date column (with its time of day, where [times] names a column for it), day/month
    ambiguity and values that are only a time of day refused with the file lines and the
    fix."""
    values = frame[column]
    if column in mapping.times:
        values = with_time_of_day(values, frame[mapping.times[column]])
    try:
        parsed = parse_dates(values, mapping.date_formats, mapping.timezone, mapping.dayfirst)
    except AmbiguousDates as exc:
        where = _lines(lines, frame.index, np.asarray(exc.rows))
        raise CaseImportError(
            ngettext(
                "{n} {column} value could be day-first or month-first (file line {rows})",
                "{n} {column} values could be day-first or month-first (file lines {rows})",
                len(exc.rows),
            ).format(n=len(exc.rows), column=column, rows=where),
            _(
                'Give the format in [dates] formats (e.g. "%d.%m.%Y %H:%M"), or say '
                "dayfirst = true (5 February) or false (2 May)."
            ),
            path=str(path),
        ) from exc
    _refuse_times_alone(values, parsed, column, lines, path)
    return parsed


def _refuse_times_alone(
    values: pd.Series, parsed: pd.Series, column: str, lines: Lines, path: Path
) -> None:
    """Refuse the unread values that are a time of day alone (:func:`parse_dates` leaves
    them unread: pandas would take "8:15" for today at 8:15, and every case would be dated
    the day of its import). Only what was not read is looked at."""
    unread = parsed.isna().to_numpy() & values.notna().to_numpy()
    if not unread.any():
        return
    text = values.astype("string").str.strip()
    bare = np.zeros(len(text), dtype=bool)
    bare[unread] = text[unread].str.fullmatch(TIME_OF_DAY).fillna(False).to_numpy(bool)
    if not bare.any():
        return
    n, shown, rows = _bad_rows(text, bare, lines)
    raise CaseImportError(
        ngettext(
            "{n} {column} value has no date, just a time: {values} (file line {rows})",
            "{n} {column} values have no date, just a time: {values} (file lines {rows})",
            n,
        ).format(n=n, column=column, values=shown, rows=rows),
        _(
            "Map the column of dates in [columns], and this one in [times] (for example "
            '[times] reported_at = "{column}"): the two are read as one time.'
        ).format(column=column),
        path=str(path),
    )


def _priorities(frame: pd.DataFrame, column: str, mapping: ColumnMapping, path: Path, lines: Lines):
    """CityDesk priorities (1-5) from the source's values; an unknown value is refused
    with the file lines, never guessed."""
    text = frame[column].astype("string").str.strip()
    table = {str(k): int(v) for k, v in mapping.priorities.items()}
    # plain floats both: a column where no value is in the table gave an Arrow column of
    # nulls, which pandas could not fill with numbers (an internal error on a CityDesk export
    # imported again, its priorities all numbers)
    numeric = pd.to_numeric(text, errors="coerce").astype("float64")
    mapped = pd.Series(
        [table.get(v) if isinstance(v, str) else None for v in text.tolist()],
        index=text.index,
        dtype="float64",
    )
    values = mapped.where(mapped.notna(), numeric.where(numeric.isin([1, 2, 3, 4, 5])))
    values = values.where(text.notna(), 3)  # no priority given: the normal one
    bad = values.isna()
    if bad.any():
        rows = _lines(lines, frame.index, np.flatnonzero(bad.to_numpy()))
        raise CaseImportError(
            _("{column}: values with no CityDesk priority: {values} (file lines {rows})").format(
                column=column,
                values=", ".join(sorted({str(v) for v in text[bad]})[:8]),
                rows=rows,
            ),
            _('Map them in [priorities], e.g. "Urgent" = 1 (1 most urgent to 5).'),
            path=str(path),
        )
    return values.astype(int).to_numpy()


def _closed_by_status(
    status: pd.Series,
    closed: pd.Series,
    updated: pd.Series,
    mapping: ColumnMapping,
    path: Path,
    lines: Lines,
) -> pd.Series:
    """Close times as the source's status says: a closed status closes the case at its
    close time, else at its last update; an open status keeps it open whatever close time
    the row carries (the source reopened it). Values not in [statuses] are refused."""
    meaning = status.map(lambda v: mapping.statuses.get(v) if isinstance(v, str) else None)
    unknown = status.notna() & (status != "") & meaning.isna()
    if unknown.any():
        rows = _lines(lines, status.index, np.flatnonzero(unknown.to_numpy()))
        raise CaseImportError(
            _(
                "{column}: values with no meaning in [statuses]: {values} (file lines {rows})"
            ).format(
                column=mapping.columns["status"],
                values=", ".join(sorted({str(v) for v in status[unknown]})[:8]),
                rows=rows,
            ),
            _('Say in [statuses] whether each is "open" or "closed", e.g. "Assigned" = "open".'),
            path=str(path),
        )
    is_closed = (meaning == "closed").to_numpy()
    closed = closed.where(closed.notna() | ~is_closed, updated)
    missing = is_closed & closed.isna().to_numpy()
    if missing.any():
        rows = _lines(lines, status.index, np.flatnonzero(missing))
        raise CaseImportError(
            ngettext(
                "{n} row is closed at the source but has no close or update time (file line "
                "{rows})",
                "{n} rows are closed at the source but have no close or update time (file "
                "lines {rows})",
                int(missing.sum()),
            ).format(n=int(missing.sum()), rows=rows),
            _("Map closed_at or updated_at in [columns], or fix those rows."),
            path=str(path),
        )
    return closed.where(~(meaning == "open").to_numpy(), pd.NaT)


def _departments(values: pd.Series, mapping: ColumnMapping) -> np.ndarray:
    """The source's departments, through the mapping's [departments] value map."""
    text = values.astype("string").str.strip()
    if mapping.departments:
        text = text.map(lambda v: mapping.departments.get(v, v) if isinstance(v, str) else v)
    return text.to_numpy()


def _optional_dates(
    frame: pd.DataFrame, cols: dict, key: str, mapping: ColumnMapping, path: Path, lines: Lines
) -> pd.Series:
    """A mapped date column (closed_at, due_at), or several read in order (the first that is
    not empty): empty cells stay empty, but a cell that has text the formats cannot read
    stops the import, naming the rows (a case must not stay open because its close date was
    misread)."""
    result = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    columns = cols.get(key) or []
    for column in columns if isinstance(columns, list) else [columns]:
        raw = frame[column]
        parsed = _dates(frame, str(column), mapping, path, lines)
        filled = raw.notna() & (raw.astype(str).str.strip() != "")
        unreadable = frame.index[parsed.isna() & filled]
        if len(unreadable):
            rows = first_lines(lines, np.asarray(unreadable))
            values = ", ".join(repr(str(v)[:30]) for v in raw[unreadable].unique()[:5])
            raise CaseImportError(
                ngettext(
                    "{n} row has an unreadable {column}: {values} (file line {rows})",
                    "{n} rows have an unreadable {column}: {values} (file lines {rows})",
                    len(unreadable),
                ).format(n=len(unreadable), column=column, values=values, rows=rows),
                _("Add the date format to [dates] formats, or fix those rows."),
                path=str(path),
            )
        result = result.fillna(parsed)  # a later column only where the earlier are empty
    return result


def column_text(frame: pd.DataFrame, columns: object) -> pd.Series:
    """A column's values as text without surrounding spaces ("" where empty), or the
    non-empty values of several joined with " / " per row, vectorised. The one reading of a
    mapping's text columns: the import and the draft both key [categories] with it."""
    names = [str(c) for c in columns] if isinstance(columns, list) else [str(columns)]
    if not names:
        return pd.Series("", index=frame.index, dtype=object)
    parts = [frame[c].fillna("").astype(str).str.strip() for c in names]
    joined = parts[0]
    for part in parts[1:]:
        sep = np.where((joined != "") & (part != ""), " / ", "")
        joined = joined + sep + part
    return joined


@dataclass
class CheckedFile:
    """A whole file read and checked part by part (:func:`check_cases`), nothing kept but
    its counts and, for a file of one part, that part itself (a small file is read once)."""

    rows: int
    bad_lines: list[int]
    needs_location: int
    closed: int
    backwards: int
    part: ParsedFile | None
    defaulted: Counter = field(default_factory=Counter)
    step_gaps: int = 0


def check_cases(path: str | Path, mapping: ColumnMapping, rows: int = PART_ROWS) -> CheckedFile:
    """Read and check the whole file before anything is written (a refused file leaves the
    store untouched), a part at a time."""
    checked = CheckedFile(0, [], 0, 0, 0, None)
    for n, part in enumerate(iter_cases(path, mapping, rows)):
        checked.rows += part.rows
        checked.bad_lines += part.bad_lines
        checked.needs_location += part.needs_location
        checked.closed += part.closed
        checked.backwards += part.backwards
        checked.defaulted.update(part.defaulted)
        checked.step_gaps += part.step_gaps
        checked.part = part if n == 0 else None
    return checked


def import_csv(
    store,
    path: str | Path,
    mapping: ColumnMapping | str | Path,
    actor: str = "import",
    parsed: ParsedFile | None = None,
    checked: CheckedFile | None = None,
) -> dict[str, object]:
    """Read and import a CSV in one all-or-nothing batch. Re-importing is an upsert: a case
    already stored (same source and id) is never added twice, and gets the event for what
    its source now says (closed, reopened); see ``CaseStore.upsert_parts``.

    The file is read twice, a part at a time: first checked whole (:func:`check_cases`),
    then imported part by part inside the one transaction, so memory stays flat with the
    file's length. ``checked`` is that check already made (the CLI checks before opening
    the store, so a refused file leaves the project untouched); ``parsed``, a file already
    read whole by :func:`read_cases`."""
    if not isinstance(mapping, ColumnMapping):
        mapping = ColumnMapping.load(mapping)
    at = dt.datetime.now(dt.UTC)
    if parsed is not None:
        summary = CheckedFile(
            parsed.rows,
            parsed.bad_lines,
            parsed.needs_location,
            parsed.closed,
            parsed.backwards,
            parsed,
            parsed.defaulted,
            parsed.step_gaps,
        )
    else:
        summary = checked or check_cases(path, mapping)

    def parts() -> Iterator[pd.DataFrame]:
        for part in [summary.part] if summary.part else iter_cases(path, mapping):
            yield part.cases

    counts = store.upsert_parts(parts, actor=actor, at=at)
    skipped = counts.updated + counts.unchanged + counts.refused
    log.info(
        "imported %s: %d rows, %d new cases, %d updated, %d unchanged, %d refused, %d bad lines",
        path,
        summary.rows,
        counts.added,
        counts.updated,
        counts.unchanged,
        counts.refused,
        len(summary.bad_lines),
    )
    return {
        "rows": summary.rows,
        "added": counts.added,
        "skipped": skipped,
        "updated": counts.updated,
        "unchanged": counts.unchanged,
        "refused": counts.refused,
        "needs_location": summary.needs_location,
        "closed": summary.closed,
        "bad_lines": summary.bad_lines,
        "backwards": summary.backwards,
        "backwards_policy": mapping.backwards,
        "defaulted": dict(summary.defaulted.most_common()),
        "default_category": mapping.default_category,
        "step_gaps": summary.step_gaps,
    }
