"""Open311 requests from another city's system: its own service codes (opaque ids, or names)
mapped to categories by a TOML mapping, its facts kept as a CSV import keeps them (due time,
agency, status, last update), refused with the way out when a code has no category."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from citydesk.incidents.case_files import import_case_file
from citydesk.incidents.import_csv import CaseImportError
from citydesk.incidents.stores import open_project_store
from citydesk.layers.project import Project
from citydesk.layers.project_store import save_project

# as GeoReport v2 servers write them (the spec's own example, moved to Helsinki): numeric ids,
# times with their offsets, codes that are the vendor's ids, strings for coordinates
REQUESTS = [
    {
        "service_request_id": 638344,
        "status": "closed",
        "status_notes": "Duplicate request.",
        "service_name": "Sidewalk and Curb Issues",
        "service_code": "006",
        "description": None,
        "agency_responsible": "Public Works",
        "requested_datetime": "2010-04-14T06:37:38-08:00",
        "updated_datetime": "2010-04-15T09:00:00-08:00",
        "expected_datetime": "2010-04-16T06:37:38-08:00",
        "address": "8TH AVE and JUDAH ST",
        "lat": 60.17,
        "long": 24.94,
    },
    {
        "service_request_id": "638349",
        "status": "open",
        "service_name": "Potholes",
        "service_code": "4fd3b167e750846744000005",
        "description": "deep one",
        "agency_responsible": "Streets",
        "requested_datetime": "2010-04-19T06:37:38Z",
        "lat": "60.171",
        "long": "24.941",
    },
]

MAPPING = """
source = "sf311"
[categories]
"006" = "component:0203"     # by its service code
"Potholes" = "event:0401"    # or by its service name
[departments]
"Public Works" = "transportation"
"""


@pytest.fixture()
def project(tmp_path):
    path = tmp_path / "city.gpkg"
    save_project(Project("city", crs="EPSG:3067"), path)
    return path


def _files(tmp_path, requests=REQUESTS, mapping=MAPPING):
    data = tmp_path / "requests.json"
    data.write_text(json.dumps(requests), encoding="utf-8")
    toml = tmp_path / "sf311.toml"
    toml.write_text(mapping, encoding="utf-8")
    return data, toml


def test_another_systems_requests_import_through_a_mapping(project, tmp_path):
    data, toml = _files(tmp_path)
    with pytest.raises(CaseImportError) as err:
        import_case_file(project, data)  # its codes are not CityDesk's
    assert "'006', '4fd3b167e750846744000005'" in err.value.message
    assert "--mapping" in err.value.fix
    with open_project_store(project) as store:
        assert store.query().empty  # nothing written
    result = import_case_file(project, data, toml)
    assert (result["added"], result["closed"]) == (2, 1)
    with open_project_store(project) as store:
        cases = store.query().set_index("source_id")
    assert set(cases["source"]) == {"sf311"}
    closed, pothole = cases.loc["638344"], cases.loc["638349"]
    assert (closed["kind"], closed["category_code"]) == ("component", "0203")
    assert (pothole["kind"], pothole["category_code"]) == ("event", "0401")
    assert closed["department"] == "transportation"  # through [departments]
    assert pothole["department"] == "Streets"  # not listed: kept as the source wrote it
    assert pd.Timestamp(closed["due_at"]) == pd.Timestamp("2010-04-16T14:37:38Z")  # kept
    assert pd.Timestamp(closed["closed_at"]) == pd.Timestamp("2010-04-15T17:00:00Z")
    assert closed["source_status"] == "closed" and pothole["source_status"] == "open"
    assert closed["description"] == "Sidewalk and Curb Issues / 8TH AVE and JUDAH ST"
    assert pothole["description"] == "Potholes / deep one"
    assert pothole["lat"] == pytest.approx(60.171)
    assert import_case_file(project, data, toml)["added"] == 0  # the same export again


def test_a_default_category_takes_the_codes_not_listed(project, tmp_path):
    data, toml = _files(tmp_path, mapping=MAPPING + '[defaults]\ncategory = "event:0590"\n')
    extra = dict(REQUESTS[1], service_request_id="7", service_code="X", service_name="Other")
    data.write_text(json.dumps([*REQUESTS, extra]), encoding="utf-8")
    assert import_case_file(project, data, toml)["added"] == 3
    with open_project_store(project) as store:
        assert store.query().set_index("source_id").loc["7", "category_code"] == "0590"


def test_xml_from_another_system(project, tmp_path):
    root = ET.Element("service_requests")
    for req in REQUESTS:
        el = ET.SubElement(root, "request")
        for key, value in req.items():
            ET.SubElement(el, key).text = None if value is None else str(value)
    data = tmp_path / "requests.xml"
    ET.ElementTree(root).write(data, encoding="utf-8", xml_declaration=True)
    _json, toml = _files(tmp_path)
    assert import_case_file(project, data, toml)["added"] == 2


@pytest.mark.parametrize(
    ("mapping", "said"),
    [
        ('[categries]\n"006" = "event:0401"\n', "categories"),  # misspelt: the nearest key
        ('[categories]\n"006" = "0401"\n', "kind:code"),
    ],
)
def test_a_wrong_mapping_is_named(project, tmp_path, mapping, said):
    data, toml = _files(tmp_path, mapping=mapping)
    with pytest.raises(CaseImportError) as err:
        import_case_file(project, data, toml)
    assert said in err.value.message + err.value.fix


def test_the_command_line_imports_them_and_refuses_in_one_line(project, tmp_path):
    data, toml = _files(tmp_path)
    command = [sys.executable, "-m", "citydesk", "cases", "import", str(data)]
    command += ["--project", str(project)]
    refused = subprocess.run(command, capture_output=True, text=True)
    assert refused.returncode == 2
    assert len(refused.stderr.strip().splitlines()) == 1
    assert "--mapping" in refused.stderr
    done = subprocess.run([*command, "--mapping", str(toml)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "2 added" in done.stdout


def test_a_later_pull_from_the_same_server_updates_the_cases_it_changed(project, tmp_path):
    data, toml = _files(tmp_path)
    assert import_case_file(project, data, toml)["added"] == 2
    later = [
        REQUESTS[0],
        dict(REQUESTS[1], status="closed", updated_datetime="2010-04-21T10:00:00Z"),
        dict(REQUESTS[1], service_request_id="638400", requested_datetime="2010-04-22T08:00:00Z"),
    ]
    data.write_text(json.dumps(later), encoding="utf-8")
    result = import_case_file(project, data, toml)
    assert (result["added"], result["updated"], result["unchanged"]) == (1, 1, 1)
    with open_project_store(project) as store:
        cases = store.query().set_index("source_id")
        pothole = cases.loc["638349"]
        assert pothole["status"] == "closed" and pothole["source_status"] == "closed"
        assert pd.Timestamp(pothole["closed_at"]) == pd.Timestamp("2010-04-21T10:00:00Z")
        steps = store.events_frame().query("case_id == @pothole.case_id")["action"].tolist()
    assert steps == ["report", "close_imported"]  # appended, nothing rewritten
    assert len(cases) == 3
