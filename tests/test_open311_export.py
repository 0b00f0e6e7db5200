"""Open311 GeoReport v2 export/import (validated against the published schemas in
../shared, not only the copies CityDesk ships) and masked CSV/GPKG exports."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import jsonschema
import pandas as pd
import pytest
from conftest import NYC311, SHARED
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from citydesk.incidents.export import MASK, export_cases
from citydesk.incidents.import_csv import import_csv
from citydesk.incidents.lifecycle import Role
from citydesk.incidents.store import NewCase, SqliteCaseStore

pytestmark = pytest.mark.shared_data
SCHEMAS = SHARED / "open311_georeport_v2_schema"
EXE = str(Path(sys.executable).parent / "citydesk")


def published_validator() -> jsonschema.Draft7Validator:
    schemas = {n: json.loads((SCHEMAS / n).read_text()) for n in ("request.json", "requests.json")}
    registry = Registry().with_resources(
        (n, Resource.from_contents(s, default_specification=DRAFT7)) for n, s in schemas.items()
    )
    return jsonschema.Draft7Validator(
        schemas["requests.json"], registry=registry, format_checker=jsonschema.FormatChecker()
    )


@pytest.fixture()
def store(demo_copy):
    with SqliteCaseStore(demo_copy) as s:
        import_csv(s, NYC311, "nyc311")
        s.report(
            NewCase(
                kind="event",
                category_code="0102",
                lon=-71.1,
                lat=42.37,
                reporter_name="Li Wei",
                reporter_phone="617-555-0100",
                reporter_email="li@example.org",
                description="垃圾堆放",
            ),
            "ben",
            Role.INTAKE,
        )
        yield s


def test_open311_json_is_valid_georeport_v2(store, tmp_path):
    out = export_cases(store, tmp_path / "requests.json")
    data = json.loads(out.read_text())
    published_validator().validate(data)
    assert len(data) == 925
    by_id = {r["service_request_id"]: r for r in data}
    cases = store.query().set_index("case_id")
    closed = cases[cases["status"] == "closed"].index[0]
    assert by_id[closed]["status"] == "closed"
    updated = by_id[closed]["updated_datetime"]
    assert pd.Timestamp(updated) == pd.Timestamp(cases.loc[closed, "closed_at"])
    assert updated.endswith(("-04:00", "-05:00"))  # the city's local time, as a clerk reads it
    open_one = cases[cases["status"] == "reported"].index[0]
    r = by_id[open_one]
    assert r["status"] == "open" and pd.Timestamp(r["expected_datetime"]) == pd.Timestamp(
        cases.loc[open_one, "due_at"]
    )
    assert r["service_code"].startswith("E") and r["agency_responsible"]
    assert {"lat", "long", "requested_datetime"} <= set(r)
    assert "li@example.org" not in out.read_text()  # Open311 carries no reporter data


def test_open311_xml_and_round_trip(store, tmp_path, demo_copy):
    xml_path = export_cases(store, tmp_path / "requests.xml", lang="zh_CN")
    root = ET.parse(xml_path).getroot()
    assert root.tag == "service_requests" and len(root.findall("request")) == 925
    names = {el.findtext("service_name") for el in root.iter("request")}
    assert "噪声扰民" in names
    json_path = export_cases(store, tmp_path / "requests.json")
    # import into a clean project: every request becomes a case, open/closed preserved
    from citydesk.layers.demo import SHIPPED_DEMO

    clean = tmp_path / "clean.gpkg"
    clean.write_bytes(SHIPPED_DEMO.read_bytes())
    out = subprocess.run(
        [EXE, "cases", "import", str(json_path), "--project", str(clean)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "925 added" in out.stdout and "480 closed" in out.stdout
    again = subprocess.run(
        [EXE, "cases", "import", str(xml_path), "--project", str(clean)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "925 already imported" in again.stdout  # same service_request_ids


def test_open311_keeps_the_source_id_and_reimports_idempotently(store, tmp_path):
    """The export keeps each imported case's own id (extended_attributes); importing the
    export into its own store adds nothing, and into another store the source's ids come
    back, so the original CSV imported there afterwards adds nothing either (issue 19)."""
    from citydesk.incidents.open311 import import_file

    path = export_cases(store, tmp_path / "requests.json")
    requests = json.loads(path.read_text(encoding="utf-8"))
    nyc = [r for r in requests if (r.get("extended_attributes") or {}).get("source") == "nyc311"]
    assert len(nyc) == 924 and nyc[0]["extended_attributes"]["source_id"].isdigit()
    published_validator().validate(requests)  # the extension keeps it valid GeoReport v2
    before = len(store.query(columns=["case_id"]))
    again = import_file(store, path)
    assert again["added"] == 0 and again["skipped"] == 925
    assert len(store.query(columns=["case_id"])) == before
    from citydesk.layers.demo import SHIPPED_DEMO

    other_path = tmp_path / "other.gpkg"
    other_path.write_bytes(SHIPPED_DEMO.read_bytes())
    with SqliteCaseStore(other_path) as other:
        assert import_file(other, path)["added"] == 925
        ids = set(
            other.query(columns=["source", "source_id"]).query("source == 'nyc311'")["source_id"]
        )
        assert len(ids) == 924
        assert import_csv(other, NYC311, "nyc311")["added"] == 0


def test_csv_and_gpkg_exports_mask_personal_data(store, tmp_path):
    csv = export_cases(store, tmp_path / "cases.csv")
    frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
    mine = frame[frame["description"] == "垃圾堆放"].iloc[0]
    assert (mine["reporter_name"], mine["reporter_phone"], mine["reporter_email"]) == (
        MASK,
        MASK,
        MASK,
    )
    assert "617-555-0100" not in csv.read_text()
    full = export_cases(store, tmp_path / "full.csv", include_personal=True)
    assert "617-555-0100" in full.read_text()
    gpkg = export_cases(store, tmp_path / "cases.gpkg", status=["reported"])
    layer = gpd.read_file(gpkg)
    assert len(layer) == 445 and layer.crs.to_epsg() == 4326
    assert "Li Wei" not in set(layer["reporter_name"])


def test_cli_export_refuses_unknown_formats(store, demo_copy, tmp_path):
    store.close()
    out = subprocess.run(
        [EXE, "cases", "export", str(tmp_path / "x.docx"), "--project", str(demo_copy)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2 and ".gpkg" in out.stderr
