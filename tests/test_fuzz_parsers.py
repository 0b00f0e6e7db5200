"""Property-based fuzzing of everything that parses user input (issue 21).

The invariant, for every parser: the outcome is either a result or a ``CityDeskError`` (one
line with a fix); never another exception. Inputs are both generated and mutated from real,
valid files (a shipped scenario, mapping, manifest, layer, Open311 export), because the
damage real files suffer is cutting, splicing and stray bytes rather than random noise.
The real broken inputs found so far are replayed by ``test_broken_corpus.py``.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from citydesk.layers.errors import CityDeskError

HERE = Path(__file__).parent / "data" / "broken"
OPEN311 = Path(__file__).resolve().parents[1] / "incidents" / "data" / "open311"
#: examples per fuzz test; CITYDESK_FUZZ_EXAMPLES=2000 for a long hunt
EXAMPLES = int(os.environ.get("CITYDESK_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _either(call):
    """Run ``call``; a CityDeskError is a fine outcome, anything else fails the test."""
    try:
        return call()
    except CityDeskError as exc:
        assert exc.message and "\n" not in exc.message, exc.message
        return None


@st.composite
def mutated(draw, text: str) -> str:
    """``text`` cut, spliced, with a slice repeated or stray characters put in."""
    out = text
    for _step in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(out)))
        j = draw(st.integers(i, min(len(out), i + 40)))
        how = draw(st.sampled_from(["cut", "drop", "repeat", "insert"]))
        if how == "cut":
            out = out[:i]
        elif how == "drop":
            out = out[:i] + out[j:]
        elif how == "repeat":
            out = out[:j] + out[i:j] + out[j:]
        else:
            junk = draw(st.text(alphabet="[]{}=\"'.,#\n -0123456789abcxyz_:nanif中", max_size=12))
            out = out[:i] + junk + out[i:]
    return out


# -- the filter language ----------------------------------------------------------------
_TOKENS = st.sampled_from(
    [
        "a",
        "b",
        "t",
        "x",
        "1",
        "0",
        "-1",
        "2.5",
        "1e400",
        "'x'",
        "'%'",
        '"a"',
        "(",
        ")",
        "+",
        "-",
        "*",
        "/",
        "=",
        "!=",
        "<",
        ">=",
        "AND",
        "OR",
        "NOT",
        "IN",
        "LIKE",
        "IS",
        "NULL",
        "TRUE",
        ",",
        "'",
        '"',
        "ILIKE",
        "%",
        ";",
    ]
)


@FUZZ
@given(st.lists(_TOKENS, max_size=25).map(" ".join) | st.text(max_size=60))
def test_fuzz_filters(text):
    from citydesk.layers.expressions import filter_mask

    frame = pd.DataFrame(
        {"a": [1, 0, None], "b": ["x", "y", None], "t": pd.to_datetime(["2020-01-01"] * 3)}
    )
    mask = _either(lambda: filter_mask(frame, text))
    if mask is not None:
        assert mask.dtype == bool and len(mask) == 3


# -- scenario, mapping and manifest TOML --------------------------------------------------
def _scenario_text() -> str:
    from citydesk.planning.scenario import shipped_scenario

    return shipped_scenario("housing_first")


@FUZZ
@given(data=st.data())
def test_fuzz_scenario_toml(data):
    from citydesk.planning.scenario import parse_scenario

    text = data.draw(mutated(_scenario_text()))
    _either(lambda: parse_scenario(text, "fuzz.toml"))


@FUZZ
@given(data=st.data())
def test_fuzz_mapping_toml(data, tmp_path):
    from citydesk.incidents.import_csv import MAPPINGS, ColumnMapping, read_cases

    text = data.draw(mutated((MAPPINGS / "nyc311.toml").read_text(encoding="utf-8")))
    path = tmp_path / "mapping.toml"
    path.write_text(text, encoding="utf-8")
    mapping = _either(lambda: ColumnMapping.load(path))
    if mapping is not None:
        _either(lambda: read_cases(HERE / "cases_ok.csv", mapping))


@FUZZ
@given(data=st.data())
def test_fuzz_plugin_manifest(data):
    from citydesk.plugins.host import BUILTIN_MANIFEST
    from citydesk.plugins.manifest import parse_manifest

    text = data.draw(mutated(Path(BUILTIN_MANIFEST).read_text(encoding="utf-8")))
    _either(lambda: parse_manifest(text, "fuzz.toml"))


# -- CSV case files and Open311 -----------------------------------------------------------
@FUZZ
@given(data=st.data())
def test_fuzz_case_csv(data, tmp_path):
    from citydesk.incidents.import_csv import ColumnMapping, read_cases

    mapping = ColumnMapping.load(HERE / "mapping_ok.toml")
    text = data.draw(mutated((HERE / "cases_ok.csv").read_text(encoding="utf-8") * 3))
    path = tmp_path / "cases.csv"
    path.write_bytes(text.encode(data.draw(st.sampled_from(["utf-8", "gb18030", "utf-16"]))))
    _either(lambda: read_cases(path, mapping))


@FUZZ
@given(data=st.data())
def test_fuzz_mapping_draft(data, tmp_path):
    """A damaged export is drafted or refused in one line, and whatever is drafted is a
    mapping file the import's own strict reader accepts (quotes, backslashes and control
    characters in values written as valid TOML)."""
    import tomllib

    from citydesk.incidents.import_csv import ColumnMapping
    from citydesk.incidents.mapping_draft import write_draft

    source = data.draw(st.sampled_from(["csv", "open311"]))
    if source == "csv":
        text = data.draw(mutated((HERE / "cases_ok.csv").read_text(encoding="utf-8") * 3))
        name, encodings = "cases.csv", ["utf-8", "gb18030", "utf-16"]
    else:  # another system's GeoReport v2, damaged
        text = data.draw(mutated((OPEN311 / "requests.json").read_text(encoding="utf-8")))
        name, encodings = "requests.json", ["utf-8"]
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / name  # a draft never overwrites
    path.write_bytes(text.encode(data.draw(st.sampled_from(encodings))))
    drafted = _either(lambda: write_draft(path))
    if drafted is not None:
        out = drafted[0]
        tomllib.loads(out.read_text(encoding="utf-8"))
        _either(lambda: ColumnMapping.load(out))


_DATE_BITS = st.sampled_from(
    ["2024", "年", "12", "月", "5", "日", "号", "下午", "上午", "凌晨", "3", "时", "点", "04",
     "分", "秒", "星期四", " ", ":", "-", "/", ".", "1733365800", "000", "T", "Z", "+08:00",
     "PM", "Dec"]
)  # fmt: skip


@FUZZ
@given(text=st.text(alphabet=st.sampled_from(list(',;\t|"\n\r ab1.\x00')), max_size=120))
@example(text="\r1")  # found: csv refused a lone carriage return inside a "line"
def test_fuzz_header_line(text):
    """Lines of title above a CSV header (session 35): the header is one of the lines looked
    at, and the delimiter one of those exports use, whatever the text."""
    from citydesk.layers.readers.csv_dialect import DELIMITERS, header_line

    line, delimiter = header_line(text)
    assert 0 <= line < max(1, len(re.split(r"\r\n|\r|\n", text)[:10]))
    assert delimiter in DELIMITERS


@FUZZ
@given(
    days=st.lists(st.sampled_from(["2024-03-05", "05/03/2024", "5.3.2024", "", "x"]), min_size=3,
                  max_size=3),
    times=st.lists(st.sampled_from(["8:15", "08:15:00", "17.45", "5:45 PM", "", "25:99", "y"])
                   | st.text(max_size=8), min_size=3, max_size=3),
)  # fmt: skip
def test_fuzz_times_of_day_joined_to_dates(days, times):
    """[times] (session 35): a date and a time of day joined read as a time, NaT, or the
    day/month ambiguity; never another error."""
    from citydesk.incidents.import_csv import AmbiguousDates, parse_dates, with_time_of_day

    joined = with_time_of_day(pd.Series(days), pd.Series(times))
    try:
        parsed = parse_dates(joined, ["%Y-%m-%d %H:%M"], "Europe/Helsinki", None)
    except AmbiguousDates:
        return
    assert len(parsed) == 3


@FUZZ
@given(values=st.lists(st.lists(_DATE_BITS, max_size=10).map("".join) | st.text(max_size=16),
                       min_size=1, max_size=6),
       dayfirst=st.sampled_from([None, True, False]))  # fmt: skip
def test_fuzz_date_text(values, dayfirst):
    """Chinese date text and Unix times (session 28): a time, NaT, or the ambiguity error."""
    from citydesk.incidents.import_csv import AmbiguousDates, parse_dates

    try:
        parsed = parse_dates(pd.Series(values), [], "Asia/Shanghai", dayfirst)
    except AmbiguousDates:
        return
    assert len(parsed) == len(values)
    years = parsed.dropna().dt.year
    assert ((years >= 1900) & (years < 2200)).all()


@FUZZ
@given(
    values=st.lists(
        st.sampled_from(
            [
                "POINT (24.94 60.17)",
                "(60.17, 24.94)",
                "",
                "POINT EMPTY",
                "point(1 2 3)",
                "60.17 24.94",
                "120.1551,30.2741",
                "1e3;-4",
            ]
        )
        | st.text(alphabet="POINT()ZM .,;-+0123456789eE", max_size=24),
        min_size=1,
        max_size=5,
    ),
    order=st.sampled_from(["", "lat_lon", "lon_lat"]),
)
@example(values=["(60.17, 24.94)", "point(1 2 3)"], order="")  # found: "1" read as Int64
def test_fuzz_location_column(values, order, tmp_path_factory):  # fmt: skip
    """One location column (sessions 28, 35): coordinates, or one line naming the bad rows
    (two numbers without brackets and no [coordinates] order among them)."""
    from citydesk.incidents.import_csv import ColumnMapping, read_cases

    folder = tmp_path_factory.mktemp("loc")
    said = f'[coordinates]\norder = "{order}"\n' if order else ""
    (folder / "m.toml").write_text(
        '[columns]\nreported_at = "t"\nlocation = "loc"\n[defaults]\ncategory = "event:0401"\n'
        + said,
        encoding="utf-8",
    )
    frame = pd.DataFrame({"t": "2024-03-05 09:30", "loc": values})
    frame.to_csv(folder / "c.csv", index=False)
    _either(lambda: read_cases(folder / "c.csv", ColumnMapping.load(folder / "m.toml")))


@FUZZ
@given(text=st.text(max_size=40) | st.lists(st.sampled_from(
    ["12", "Main", "St", "Mannerheimintie", "B", "5", ",", "00100", "华兴街", "号", "市", "区",
     "四川省", " ", "a", "-"]), max_size=8).map("".join))  # fmt: skip
def test_fuzz_addresses(text):
    """Addresses in every order (session 28): parsed, or None; geocoding says why in a line."""
    import geopandas as gpd
    from shapely.geometry import LineString

    from citydesk.incidents.geocode import Geocoder, RangeFields, parse_address

    parsed = parse_address(text)
    assert parsed is None or (parsed[0] >= 0 and isinstance(parsed[1], str))
    streets = gpd.GeoDataFrame(
        {"name": ["Main St", "华兴街"], "a": [1, 1], "b": [99, 99], "c": [2, 2], "d": [100, 100]},
        geometry=[LineString([(0, 0), (100, 0)]), LineString([(0, 50), (100, 50)])],
        crs=3067,
    ).set_geometry(
        gpd.GeoSeries([LineString([(385000, 6672000), (385100, 6672000)])] * 2, crs=3067)
    )
    _either(lambda: Geocoder(streets, RangeFields("name", "a", "b", "c", "d")).geocode(text))


@FUZZ
@given(
    periods=st.lists(st.integers(0, 1439), min_size=2, max_size=6, unique=True).map(
        lambda ms: ", ".join(
            f"{a // 60}:{a % 60:02d}-{b // 60}:{b % 60:02d}"
            for a, b in zip(sorted(ms)[::2], sorted(ms)[1::2], strict=False)
        )
    )
    | st.lists(st.tuples(*[st.integers(0, 25), st.integers(0, 61)] * 2), max_size=3).map(
        lambda ps: ", ".join(f"{a}:{b:02d}-{c}:{d:02d}" for a, b, c, d in ps)
    )
    | st.text(alphabet=st.sampled_from(list("0123456789:-–至~,;，；：. ")), max_size=30)
    | st.text(max_size=20),
    dates=st.lists(st.dates().map(str), max_size=3).map(", ".join)
    | st.text(alphabet=st.sampled_from(list("0123456789-,. /")), max_size=30),
    rest=st.lists(st.sampled_from(["monday", "tuesday", "saturday", "sunday"]), max_size=4),
    country=st.sampled_from(["", "CN", "FI", "US", "XX", "us", "Q"]),
)
def test_fuzz_calendar_lines(periods, dates, rest, country):
    """City setup's calendar lines as typed (session 43): checked, or one ProfileError;
    a calendar that passes lists its year and its working time without raising."""
    from citydesk.incidents.calendar import calendar_from_profile
    from citydesk.incidents.calendar_days import notable_days, working_time
    from citydesk.layers.city_profile import (
        CalendarSpec,
        HolidaySource,
        check_calendar,
        dates_from_text,
        periods_from_text,
        read_profile,
    )

    spec = CalendarSpec(
        periods=periods_from_text(periods),
        rest_days=rest,  # type: ignore[arg-type]
        holidays=HolidaySource(country) if country else None,
        extra_holidays=dates_from_text(dates),
        make_up_workdays=dates_from_text(dates)[:1],
    )
    if _either(lambda: check_calendar(spec) or True) is None:
        return  # refused in one line
    profile = read_profile("helsinki")
    profile.calendar = spec
    cal = calendar_from_profile(profile)
    assert working_time(cal, 2026)[0] >= 0
    assert all(d.day.year == 2026 for d in notable_days(cal, 2026))


@FUZZ
@given(bounds=st.tuples(*[st.floats(allow_nan=True, allow_infinity=True, width=32)] * 4))
def test_fuzz_crs_guess(bounds):
    """Any bounds, even nonsense: a list of CRSs (maybe empty), never an exception."""
    from citydesk.layers.crs_guess import guess_crs

    near = (24.93, 60.16, 24.95, 60.17)
    assert isinstance(guess_crs(bounds, near=near), list)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
_REQUEST = st.fixed_dictionaries(
    {},
    optional={
        "service_request_id": st.text(max_size=6) | st.integers(),
        "service_code": st.sampled_from(["E0401", "C0111", "X1", ""]) | _JSON,
        "requested_datetime": st.sampled_from(["2024-03-01T08:00:00-05:00", "yesterday", ""])
        | _JSON,
        "updated_datetime": st.sampled_from(["2024-03-02T08:00:00Z", "31/02/2024"]) | _JSON,
        "status": st.sampled_from(["open", "closed"]) | _JSON,
        "lat": st.floats() | st.text(max_size=5) | st.none(),
        "long": st.floats() | st.text(max_size=5) | st.none(),
        "description": _JSON,
        "media_url": _JSON,
        "extended_attributes": _JSON,
    },
)


@FUZZ
@given(payload=st.lists(_REQUEST, max_size=4) | _JSON)
@example(payload=[{"long": "\n"}])  # found: the value echoed raw made a two-line message
@example(payload=[{"service_code": "\n"}])  # found: an unknown code echoed raw, two lines
def test_fuzz_open311_json(payload, tmp_path):
    from citydesk.incidents.open311 import read_valid_requests

    path = tmp_path / "requests.json"
    path.write_text(json.dumps(payload), encoding="utf-8")
    _either(lambda: read_valid_requests(path))


# -- layer files ----------------------------------------------------------------------------
_LAYERS = ["layer_integer_id.geojson", "cases_ok.csv"]


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(_LAYERS),
    cut=st.floats(0, 1),
    flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=4),
)
def test_fuzz_layer_readers(name, cut, flips, tmp_path_factory):
    from citydesk.layers.io import read_layer

    data = bytearray((HERE / name).read_bytes())
    data = data[: max(1, int(len(data) * cut))]
    for where, byte in flips:
        data[min(len(data) - 1, int(where * len(data)))] = byte
    path = tmp_path_factory.mktemp("layer") / name
    path.write_bytes(bytes(data))
    _either(lambda: read_layer(path))


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9])
def test_truncated_geopackages_are_read_errors(keep, tmp_path):
    """A GeoPackage cut short (an interrupted copy or download): SQLite's own file."""
    import geopandas as gpd

    from citydesk.layers.io import read_layer

    full = tmp_path / "full.gpkg"
    gpd.read_file(HERE / "layer_integer_id.geojson").to_file(full, layer="areas")
    data = full.read_bytes()
    cut = tmp_path / "cut.gpkg"
    cut.write_bytes(data[: int(len(data) * keep)])
    _either(lambda: read_layer(cut))


# -- CLI arguments ----------------------------------------------------------------------------
_WORDS = st.sampled_from(
    [
        "layers",
        "info",
        "validate",
        "project",
        "cases",
        "list",
        "kpi",
        "show",
        "categories",
        "plan",
        "compare",
        "history",
        "city",
        "check",
        "grid",
        "--project",
        "--by",
        "--from",
        "--to",
        "--limit",
        "--json",
        "--measure",
        "department",
        "digital",
        "311",
        "-1",
        "0",
        "1e999",
        "nan",
        "2024-13-45",
        "x",
        "",
        "--status",
        "{project}",
        "{project}",
        "中文",
        "--lang",
        "zh_CN",
        "--where",
        "1/0 = 1",
        "(((",
        "--search",
        "%",
    ]
)


@settings(max_examples=40, deadline=None)
@given(words=st.lists(_WORDS, min_size=1, max_size=7))
# found by this test (session 14): a read of a project without scenario tables created them
@example(words=["plan", "compare", "{project}", "layers"])
def test_fuzz_cli_arguments(words, tmp_path_factory):
    """Read-only commands with arbitrary arguments on a real project: exit 0, 1 or 2, never
    3 (internal error), and the project unchanged."""
    import contextlib
    import hashlib
    import io
    import shutil

    from citydesk.layers.demo import SHIPPED_DEMO
    from citydesk.workbench.cli.main import main

    project = tmp_path_factory.getbasetemp() / "fuzz_cli.gpkg"
    if not project.exists():
        shutil.copyfile(SHIPPED_DEMO, project)
    before = hashlib.sha256(project.read_bytes()).hexdigest()
    argv = [w.format(project=project) for w in words]
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: usage errors exit 2, --help exits 0
            code = exc.code
    assert code in (0, 1, 2, None), (argv, err.getvalue())
    assert "internal error" not in err.getvalue(), (argv, err.getvalue())
    assert hashlib.sha256(project.read_bytes()).hexdigest() == before, argv
