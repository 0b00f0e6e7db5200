"""Open311 GeoReport v2: export cases as service requests (JSON and XML) and import them.

Field mapping (GeoReport v2 -> CityDesk):

- ``service_request_id`` = case id; ``status`` = ``closed`` for closed or cancelled cases,
  ``open`` otherwise, with the CityDesk state in ``status_notes``;
- ``service_code`` = ``E0490`` / ``C0101`` (kind initial + category code), ``service_name`` =
  the category name (English, or Chinese with ``lang="zh_CN"``);
- ``requested_datetime`` = reported, ``updated_datetime`` = last change (the close time for
  closed cases), ``expected_datetime`` = due time, all ISO 8601 with the offset of the
  city's time zone (the store keeps UTC);
- ``agency_responsible`` = department; ``lat``/``long`` = the case point (null when unknown);
  ``media_url`` = the first photo when it is a URL;
- a case imported from another system keeps that system's id in ``extended_attributes``
  (``source``, ``source_id``: GeoReport v2's extension point), so an Open311 re-import of
  the export updates nothing twice; and a request whose ``service_request_id`` is a case of
  the store it is imported into is that case, exported and read back, and is skipped.

Requests from another system import through an :class:`Open311Mapping` (its service codes
or names to categories, its agencies to departments), keeping its due time, agency, status
and last update as the CSV import keeps a source's facts.

Every JSON export is validated against the published GeoReport v2 schemas, shipped in
``incidents/data/open311``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from citydesk.layers.i18n import _, ngettext

from .import_csv import MAPPINGS, CaseImportError, MappingDefaults, check_kind_codes
from .new_cases import new_cases_frame
from .store import NewCase
from .toml_files import load_toml

SCHEMA_DIR = Path(__file__).parent / "data" / "open311"
FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]


def service_code(kind: str, code: str) -> str:
    return f"{kind[0].upper()}{code}"


@dataclass
class Open311MappingFile:
    """The TOML layout of a mapping for another system's GeoReport v2 requests (checked key
    by key): its service codes, or service names, to catalogue categories, and its agencies
    to departments. A CSV mapping's [columns] and [dates] have no place here: GeoReport v2
    names its fields and writes its times with their offsets."""

    source: str = ""
    categories: dict[str, str] = field(default_factory=dict)
    defaults: MappingDefaults = field(default_factory=MappingDefaults)
    departments: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Open311Mapping:
    source: str = "open311"
    categories: dict[str, str] = field(default_factory=dict)
    default_category: str | None = None
    departments: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path) -> Open311Mapping:
        path, data = load_toml(
            path, MAPPINGS / "{name}.toml", CaseImportError, _("mapping"), Open311MappingFile
        )
        check_kind_codes(data.categories, data.defaults, path)
        return cls(
            source=data.source or path.stem,
            categories=dict(data.categories),
            default_category=data.defaults.category,
            departments=dict(data.departments),
        )

    def category(self, code: str, name: str) -> tuple[str, str] | None:
        """(kind, code) of a request: the mapping's entry for its service code, else for its
        service name, else CityDesk's own code (``E0490``), else the mapping's default."""
        chosen = self.categories.get(code) or self.categories.get(name)
        if chosen is None:
            own = parse_service_code(code)
            if own is not None:
                return own
            chosen = self.default_category
        if chosen is None:
            return None
        kind, _sep, number = chosen.partition(":")
        return kind, number


def parse_service_code(text: str) -> tuple[str, str] | None:
    if len(text) == 5 and text[0] in "CE" and text[1:].isdigit():
        return ("component" if text[0] == "C" else "event", text[1:])
    return None


def _iso(value: Any, tz: str) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
        return None
    return pd.Timestamp(value).tz_convert(tz).isoformat()


def to_requests(
    cases: pd.DataFrame, catalogue, lang: str = "en", tz: str = "UTC"
) -> list[dict[str, Any]]:
    """Service requests for the rows of ``store.query()``."""
    out = []
    for row in cases.itertuples(index=False):
        category = catalogue.stored(row.kind, row.category_code, row.category_standard)
        closed = row.status in ("closed", "cancelled")
        photos = json.loads(row.photos or "[]")
        media = next((p for p in photos if str(p).startswith(("http://", "https://"))), None)
        out.append(
            {
                "service_request_id": row.case_id,
                "status": "closed" if closed else "open",
                "status_notes": row.status,
                "service_name": category.name(lang),
                "service_code": service_code(row.kind, row.category_code),
                "description": (row.description or None) and str(row.description)[:4000],
                "agency_responsible": row.department,
                "service_notice": None,
                "requested_datetime": _iso(row.reported_at, tz),
                "updated_datetime": _iso(
                    row.closed_at if closed and row.closed_at else row.updated_at, tz
                ),
                "expected_datetime": _iso(row.due_at, tz),
                "address": None,
                "address_id": row.grid_code if isinstance(row.grid_code, str) else None,
                "zipcode": None,
                "lat": None if pd.isna(row.lat) else float(row.lat),
                "long": None if pd.isna(row.lon) else float(row.lon),
                "media_url": media,
                **(
                    {"extended_attributes": {"source": row.source, "source_id": row.source_id}}
                    if isinstance(row.source_id, str) and row.source_id
                    else {}
                ),
            }
        )
    return out


def validate(requests: list[dict[str, Any]]) -> None:
    """Raise ``jsonschema.ValidationError`` unless the list is valid GeoReport v2."""
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    schemas = {
        name: json.loads((SCHEMA_DIR / name).read_text())
        for name in ("request.json", "requests.json")
    }
    registry = Registry().with_resources(
        (name, Resource.from_contents(schema, default_specification=DRAFT7))
        for name, schema in schemas.items()
    )
    validator = jsonschema.Draft7Validator(
        schemas["requests.json"], registry=registry, format_checker=jsonschema.FormatChecker()
    )
    validator.validate(requests)


def write_json(requests: list[dict[str, Any]], path: str | Path) -> Path:
    validate(requests)
    Path(path).write_text(json.dumps(requests, ensure_ascii=False, indent=1), encoding="utf-8")
    return Path(path)


def write_xml(requests: list[dict[str, Any]], path: str | Path) -> Path:
    """GeoReport v2 XML: ``<service_requests><request>...</request></service_requests>``."""
    root = ET.Element("service_requests")
    for req in requests:
        el = ET.SubElement(root, "request")
        for key in FIELDS:
            child = ET.SubElement(el, key)
            if req.get(key) is not None:
                child.text = str(req[key])
        extended = req.get("extended_attributes")
        if extended:
            box = ET.SubElement(el, "extended_attributes")
            for key, value in extended.items():
                ET.SubElement(box, key).text = str(value)
    ET.indent(root)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return Path(path)


def read_requests(path: str | Path) -> list[dict[str, Any]]:
    """GeoReport v2 requests from a JSON or XML file."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".xml":
            root = ET.parse(path).getroot()
            items = []
            for el in root.iter("request"):
                item: dict[str, Any] = {
                    child.tag: {c.tag: c.text for c in child} if len(child) else child.text
                    for child in el
                }
                for key in ("lat", "long"):
                    item[key] = float(item[key]) if item.get(key) else None
                items.append(item)
            return items
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ET.ParseError, json.JSONDecodeError, ValueError) as exc:
        raise CaseImportError(
            _("cannot read the Open311 file ({err})").format(err=exc),
            _("Check that it is GeoReport v2 JSON or XML."),
            path=str(path),
        ) from exc
    if isinstance(data, dict):
        if "service_requests" in data or "requests" in data:
            data = data.get("service_requests") or data.get("requests") or []
        elif "service_request_id" in data:
            data = [data]
        else:
            _bad_request(1, _("the file holds no list of requests"))
    if not isinstance(data, list):
        _bad_request(1, _("the file holds no list of requests"))
    return list(data)


def to_new_cases(
    requests: list[dict[str, Any]], mapping: Open311Mapping | None = None
) -> list[NewCase]:
    """NewCase objects, one per request. What the source says is kept as the CSV import
    keeps it (docs/INCIDENTS.md): ``expected_datetime`` as the due time, the agency (through
    the mapping's [departments]) as the department, its status word and last update."""
    mapping = mapping or Open311Mapping()
    unknown: dict[str, int] = {}
    cases = []
    for n, req in enumerate(requests, start=1):
        if not isinstance(req, dict):
            _bad_request(n, _("it is not an object of named fields"))
        code = str(req.get("service_code") or "")
        parsed = mapping.category(code, str(req.get("service_name") or ""))
        if parsed is None:
            unknown[code] = unknown.get(code, 0) + 1
            continue
        if not req.get("service_request_id"):
            _bad_request(n, _("it has no service_request_id"))
        requested = _moment(req.get("requested_datetime"), n, "requested_datetime")
        closed = None
        if req.get("status") == "closed":
            closed = _moment(
                req.get("updated_datetime") or req.get("requested_datetime"), n, "updated_datetime"
            )
        lon, lat = (
            _coordinate(req.get("long"), n, "long", 180),
            _coordinate(req.get("lat"), n, "lat", 90),
        )
        extended = req.get("extended_attributes") or {}
        origin = (
            (str(extended["source"]), str(extended["source_id"]))
            if isinstance(extended, dict) and extended.get("source") and extended.get("source_id")
            else (mapping.source, str(req["service_request_id"]))
        )
        agency = str(req.get("agency_responsible") or "").strip()
        cases.append(
            NewCase(
                kind=parsed[0],
                category_code=parsed[1],
                lon=lon,
                lat=lat,
                description=_description(req, own=parse_service_code(code) is not None),
                source=origin[0],
                source_id=origin[1],
                reported_at=requested,
                closed_at=closed,
                due_at=_optional_moment(req.get("expected_datetime"), n, "expected_datetime"),
                department=mapping.departments.get(agency, agency) or None,
                source_status=str(req["status"]) if req.get("status") else None,
                source_updated_at=_optional_moment(
                    req.get("updated_datetime"), n, "updated_datetime"
                ),
                photos=[str(req["media_url"])] if req.get("media_url") else [],
            )
        )
    if unknown:
        raise CaseImportError(
            ngettext(
                "{n} request has a service code CityDesk does not know: {codes}",
                "{n} requests have service codes CityDesk does not know: {codes}",
                sum(unknown.values()),
            ).format(n=sum(unknown.values()), codes=", ".join(map(repr, sorted(unknown)[:10]))),
            _(
                "Give a mapping of its service codes (or names) to categories: --mapping "
                'with a TOML [categories] table, e.g. "006" = "event:0401" '
                "(docs/INCIDENTS.md)."
            ),
            gui_fix=_(
                "Choose a mapping of its service codes (or names) to categories "
                "(docs/INCIDENTS.md)."
            ),
        )
    return cases


def _description(req: dict[str, Any], own: bool) -> str:
    """A request's description; from another system, with its service name and address in
    front, which CityDesk's category and grid code do not carry over."""
    text = str(req.get("description") or "").strip()
    if own:
        return text
    parts = [str(req.get(key) or "").strip() for key in ("service_name", "address")] + [text]
    return " / ".join(part for part in parts if part)


def _bad_request(n: int, problem: str) -> NoReturn:
    raise CaseImportError(
        _("request {n}: {problem}").format(n=n, problem=problem),
        _(
            "Check that it is GeoReport v2 JSON or XML: a list of requests with"
            " service_request_id, service_code and requested_datetime."
        ),
    )


def _moment(value: object, n: int, key: str) -> dt.datetime:
    """A GeoReport time (ISO 8601 with its offset); anything else names the request."""
    if not isinstance(value, str) or not value.strip():
        _bad_request(n, _("{key} is missing").format(key=key))
    try:
        moment = pd.Timestamp(value)
    except (ValueError, OverflowError):
        moment = pd.NaT
    if pd.isna(moment):
        _bad_request(n, _("{key} {value!r} is not a time").format(key=key, value=value[:40]))
    return moment.to_pydatetime()


def _optional_moment(value: object, n: int, key: str) -> dt.datetime | None:
    """:func:`_moment` of a time the request may leave out (null or empty)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _moment(value, n, key)


def _coordinate(value: object, n: int, key: str, limit: float) -> float | None:
    """A finite latitude or longitude within range, or None when the request has none."""
    if value is None or value == "":
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or abs(number) > limit:
        _bad_request(n, _("{key} {value!r} is not a coordinate").format(key=key, value=value))
    return number


def import_file(
    store, path: str | Path, mapping: Open311Mapping | None = None, actor: str = "import"
) -> dict[str, object]:
    """Import an Open311 JSON or XML file in one all-or-nothing batch (idempotent on
    ``service_request_id``); returns the same summary as ``import_csv``."""
    return import_requests(store, read_valid_requests(path, mapping), actor)


@dataclass
class CheckedRequests:
    """The requests of a file and their cases, one for one (every request was checked)."""

    requests: list[dict[str, Any]]
    cases: list[NewCase]


def read_valid_requests(path: str | Path, mapping: Open311Mapping | None = None) -> CheckedRequests:
    """The requests of a file, every one checked (codes, times, coordinates) and made into
    its case before any store is opened: a refused file leaves the project untouched."""
    requests = read_requests(path)
    return CheckedRequests(requests, to_new_cases(requests, mapping))


def import_requests(store, checked: CheckedRequests, actor: str = "import") -> dict[str, object]:
    """Store checked requests in one transaction, as the CSV import does: an upsert on
    (source, service_request_id), so a later pull from the same server adds its new requests
    and appends to a stored case what its source now says (closed there, reopened, its
    status or due time changed; ``CaseStore.upsert_batch``). A request that is one of this
    store's own cases, exported and read back, is skipped."""
    ids = [str(r.get("service_request_id")) for r in checked.requests]
    own = set(store.query_ids(ids)["case_id"]) if ids else set()
    cases = [c for c, i in zip(checked.cases, ids, strict=True) if i not in own]
    counts = store.upsert_batch(new_cases_frame(cases, store.calendar), actor=actor)
    return {
        "rows": len(ids),
        "added": counts.added,
        # this store's own cases, exported and read back, count as already imported
        "skipped": counts.updated + counts.unchanged + counts.refused + len(ids) - len(cases),
        "updated": counts.updated,
        "unchanged": counts.unchanged + len(ids) - len(cases),
        "refused": counts.refused,
        "needs_location": sum(c.lon is None for c in cases),
        "closed": sum(c.closed_at is not None for c in cases),
        "bad_lines": [],
    }
