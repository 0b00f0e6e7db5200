"""A city's own case categories, in its profile (``[[categories]]``): a graffiti event the
CJ/T 214 catalogue lacks was refused ("there is no event category 0190") with no way to add
it short of editing CityDesk's files. Now it is checked with the profile, listed, used by
imports and intake, and its time limit runs on the city's calendar."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from citydesk.incidents.case_files import import_case_file
from citydesk.incidents.categories import CatalogueError, project_catalogue
from citydesk.incidents.stores import open_project_store
from citydesk.layers.city_profile import ProfileError, parse_profile, store_profile
from citydesk.layers.project import Project
from citydesk.layers.project_store import save_project
from citydesk.workbench.cli.main import main

PROFILE = """
name = "Testville"
timezone = "Europe/Helsinki"
crs = "EPSG:3067"
[calendar]
periods = [["08:00", "16:00"]]

[[categories]]
kind = "event"
code = "0190"
name_en = "Graffiti"
name_zh = "涂鸦"
limit = 2
unit = "working_days"
department = "public_works"

[[categories]]               # a shipped code with the city's own time limit
kind = "event"
code = "0401"
name_en = "Pothole"
limit = 24
unit = "working_hours"
department = "streets"
"""


@pytest.fixture()
def project(tmp_path):
    path = tmp_path / "city.gpkg"
    save_project(Project("city", crs="EPSG:3067"), path)
    store_profile(path, PROFILE)
    return path


def test_the_profile_checks_its_categories():
    profile = parse_profile(PROFILE)
    assert [c.code for c in profile.categories] == ["0190", "0401"]
    assert profile.categories[1].name_zh == "" and profile.categories[1].standard == "local"
    with pytest.raises(ProfileError, match=r"categories\[0\]\.code: '190' is not a 4-digit"):
        parse_profile(PROFILE.replace('code = "0190"', 'code = "190"'))
    with pytest.raises(ProfileError, match=r"categories\[0\]\.limt: unknown field") as err:
        parse_profile(PROFILE.replace("limit = 2\n", "limt = 2\n", 1))
    assert "did you mean 'limit'" in err.value.fix
    with pytest.raises(ProfileError, match="event:0401 is listed twice"):
        parse_profile(PROFILE + PROFILE[PROFILE.index("[[categories]]               #") :])
    with pytest.raises(ProfileError, match=r"categories\[0\]\.unit: unknown"):
        parse_profile(PROFILE.replace('unit = "working_days"', 'unit = "days"', 1))


def test_the_project_catalogue_adds_the_citys_own(project, capsys):
    catalogue = project_catalogue(project)
    graffiti = catalogue.get("event", "0190")
    assert (graffiti.name("zh_CN"), graffiti.limit, graffiti.standard) == ("涂鸦", 2, "local")
    assert catalogue.get("event", "0401").limit == 24  # the city's own wins for new cases
    assert catalogue.get("event", "0401", "CJ/T 214-2007").limit != 24  # stored cases keep theirs
    assert catalogue.get("event", "0401").name("zh_CN") == "Pothole"  # no Chinese name: English
    bare = project.with_name("bare.gpkg")  # a project without a profile: the shipped ones
    save_project(Project("bare", crs="EPSG:3067"), bare)
    with pytest.raises(CatalogueError, match="there is no event category 0190"):
        project_catalogue(bare).get("event", "0190")
    assert main(["cases", "categories", "--project", str(project), "--search", "graf"]) == 0
    assert capsys.readouterr().out.startswith("event:0190\tGraffiti\t2 working_days\tpublic_works")
    assert main(["cases", "categories", "--search", "graf"]) == 0
    assert "0190" not in capsys.readouterr().out  # without the project: the shipped ones


def test_imports_file_cases_under_the_citys_categories(project, tmp_path):
    requests = [
        {
            "service_request_id": "1",
            "status": "open",
            "service_code": "GRF",
            "service_name": "Graffiti",
            "requested_datetime": "2026-11-27T10:00:00+02:00",  # a Friday
            "lat": 60.17,
            "long": 24.94,
        }
    ]
    data = tmp_path / "requests.json"
    data.write_text(json.dumps(requests), encoding="utf-8")
    mapping = tmp_path / "map.toml"
    mapping.write_text('[categories]\nGRF = "event:0190"\n', encoding="utf-8")
    assert import_case_file(project, data, mapping)["added"] == 1
    with open_project_store(project) as store:
        case = store.query().iloc[0]
    assert (case["kind"], case["category_code"], case["department"]) == (
        "event",
        "0190",
        "public_works",
    )
    # 2 working days of 08:00-16:00 from Friday 10:00: Monday, then Tuesday 10:00 local
    assert pd.Timestamp(case["due_at"]) == pd.Timestamp("2026-12-01T10:00:00+02:00")


@pytest.mark.gui
def test_intake_on_the_desk_offers_the_citys_own_category(qtbot, tmp_path, demo_copy):
    """The clerk finds the city's own category by its Chinese name, as the shipped ones."""
    pytest.importorskip("PyQt5")
    from PyQt5.QtCore import QPointF, Qt
    from test_gui_workbench import _shot, open_window

    from citydesk.incidents.demo_desk import prepare_demo_desk
    from citydesk.layers.city_profile import project_profile_text

    graffiti = PROFILE[PROFILE.index("[[categories]]") : PROFILE.index("[[categories]]   ")]
    store_profile(demo_copy, project_profile_text(demo_copy) + "\n" + graffiti)
    prepare_demo_desk(demo_copy)
    window = open_window(qtbot, tmp_path / "settings.ini", demo_copy, size=(1500, 950))
    window.open_desk(actor="ann", role="supervisor")
    qtbot.waitUntil(lambda: window.desk_panel is not None, timeout=60_000)
    panel = window.desk_panel
    panel.report_button.setChecked(True)
    x, y = panel._to_map.transform(-71.10420, 42.36720)  # in front of City Hall
    qtbot.mouseClick(
        window.canvas, Qt.LeftButton, pos=window.canvas.to_pixel(QPointF(x, y)).toPoint()
    )
    dialog = panel.intake
    assert dialog.isVisible()
    dialog.search.setText("涂鸦")
    assert dialog.categories.count() == 1 and dialog.category() == ("event", "0190")
    assert "Graffiti" in dialog.categories.item(0).text()
    _shot(dialog, "intake_local_category.png")
    dialog.close()
    window.close()
