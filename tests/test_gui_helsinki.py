"""Helsinki in the workbench (issue 18): the project built from the real OSM extract opens
and draws, the City setup shows what the city has and lacks, and a housing scenario runs
from the planning dock with its comparison in euros; screenshots of each."""

from __future__ import annotations

import os

import pandas as pd
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt5")

from conftest import SHARED
from test_city_helsinki import SCENARIO
from test_gui_workbench import _shot, open_window

pytestmark = [pytest.mark.gui, pytest.mark.shared_data]
HELSINKI = SHARED / "helsinki_osm" / "Helsinki.osm.pbf"


@pytest.mark.slow  # over 10 s: started early, so it does not end the run
def test_helsinki_opens_checks_and_plans_in_the_workbench(qtbot, tmp_path):
    if not HELSINKI.exists():
        pytest.skip("needs ../shared/data/helsinki_osm")
    from citydesk.layers.city_profile import profile_text, store_profile
    from citydesk.layers.osm_city import city_from_osm, write_city_project
    from citydesk.planning.scenario_store import save_scenario

    city = city_from_osm(HELSINKI, name="Helsinki", timezone="Europe/Helsinki", crs="EPSG:3067")
    project = write_city_project(city, tmp_path / "helsinki.gpkg", "Helsinki")
    store_profile(project, profile_text("helsinki"))
    save_scenario(project, SCENARIO)
    window = open_window(qtbot, tmp_path / "settings.ini", project, size=(1500, 950))
    assert {"streets", "landuse", "facilities"} <= set(window.project.layers)
    _shot(window, "helsinki_main_window.png")

    dialog = window.city_setup()
    qtbot.waitExposed(dialog)
    lines = {dialog.checks.item(i).text() for i in range(dialog.checks.count())}
    assert "Dispatch crews: ready" in lines
    assert "Zoning constraint: missing (no [layers.zoning])" in lines
    assert dialog.combos[("parcels", "layer")].currentText() == "landuse"
    assert dialog.combos[("streets", "junctions")].currentText() == "ends"  # split ways
    _shot(dialog, "helsinki_city_setup.png")
    # Finland's holidays on the calendar tab, by name; the working day is 8 hours
    dialog.tabs.setCurrentWidget(dialog.calendar)
    dialog.calendar.year.setValue(2026)
    days = dialog.calendar.days
    named = {days.item(r, 0).text(): days.item(r, 2).text() for r in range(days.rowCount())}
    assert named["2026-12-06"] == "holiday: Independence Day"
    assert named["2026-06-19"] == "holiday: Midsummer Eve"
    assert dialog.calendar.country.text() == "FI"
    assert "2026: " in dialog.calendar.summary.text()

    # costs in euros, set on the Other settings tab: the check stops saying they are USD
    def lines() -> str:
        return " ".join(dialog.checks.item(i).text() for i in range(dialog.checks.count()))

    assert "set [planning] cost_per_m2 in EUR" in lines()
    dialog.tabs.setCurrentWidget(dialog.other)
    assert 'land_use_system = "osm_landuse"' in dialog.other.toPlainText()
    euros = "\n[planning.cost_per_m2]\nhousing_low = 2900.0\npark = 180.0\n"
    dialog.other.setPlainText(dialog.other.toPlainText() + euros)
    dialog.tabs.setCurrentWidget(dialog.calendar)  # leaving the tab applies it
    assert dialog.profile.planning.cost_per_m2 == {"housing_low": 2900.0, "park": 180.0}
    assert "set [planning] cost_per_m2 in EUR" not in lines()
    dialog.reject()

    panel = window.open_planning()
    assert panel.names() == ["homes"]
    panel.add_demo()  # Cambridge's scenarios: refused here, the layers they lack named
    assert "demo scenarios name layers this project" in window.message_bar.label.text()
    window.message_bar.close_button.click()
    assert panel.names() == ["homes"]
    panel.list.setCurrentRow(-1)
    form = panel.new_scenario(exec_dialog=False)  # starts from one for this city
    qtbot.addWidget(form)
    assert "parcels" not in form.toml.toPlainText()
    form.accept()
    assert panel.save_form(form) == 1 and set(panel.names()) == {"homes", "scenario_1"}
    assert panel.list.item(panel.names().index("scenario_1")).text() == "scenario_1 (revision 1)"
    panel.check_only(["homes"])
    panel.last_results = None
    panel.run_checked()
    qtbot.waitUntil(lambda: getattr(panel, "last_results", None) is not None, timeout=120_000)
    qtbot.waitUntil(lambda: "scenario_homes" in window.project.layers, timeout=60_000)
    panel = window.open_planning()
    panel.comparison = None
    panel.compare(["homes"])
    qtbot.waitUntil(lambda: panel.comparison is not None, timeout=60_000)
    units = {panel.model.index(r, 1).data() for r in range(panel.model.rowCount())}
    assert "EUR" in units and "USD" not in units
    qtbot.waitUntil(lambda: not window.canvas.is_rendering(), timeout=30_000)
    _shot(window, "helsinki_planning.png")

    # a front over the commercial and building-site areas only, from the Optimize menu
    from citydesk.workbench.gui.optimize.front_dialog import FrontDialog

    dialog = FrontDialog(window)
    qtbot.addWidget(dialog)
    offered = [dialog.pair.itemData(i) for i in range(dialog.pair.count())]
    dialog.pair.setCurrentIndex(offered.index(("social", "cost", "compatibility")))
    dialog.points.setValue(4)
    dialog.housing.setValue(300)
    dialog.budget.setValue(0)
    dialog.where.setText("landuse IN ('commercial', 'construction', 'retail')")
    assert dialog.budget.suffix() == " M EUR"
    spec = dialog.spec()
    dialog.close()
    window.last_front = None
    window.landuse_front(spec)
    qtbot.waitUntil(lambda: window.last_front is not None, timeout=120_000)
    run = window.last_front
    assert len(run.front.points) >= 2 and (run.table["housing"] >= 300 - 1e-6).all()
    assert "54 of 237 parcels are candidates" in window.front_dock.widget().summary.text()
    plans = window.project.layers["landuse_plan"].data
    landuse = window.project.layers["landuse"].data
    picked = landuse["landuse"].isin(["commercial", "construction", "retail"]).to_numpy()
    changed = (plans[[c for c in plans.columns if c.startswith("plan_")]] != "keep").any(axis=1)
    assert changed.any() and not changed.to_numpy()[~picked].any()
    qtbot.waitUntil(lambda: not window.canvas.is_rendering(), timeout=30_000)
    _shot(window, "helsinki_front.png")


def test_helsinki_desk_forecasts_and_warns(qtbot, tmp_path):
    """Issue 23 in the workbench on the second city: ten weeks of feedback up to today and a
    burst at one litter bin; the desk's Forecast tab maps next week's litter bins per cell, lists
    the burst's warning with its reason; the dashboard shows the same warning."""
    if not HELSINKI.exists():
        pytest.skip("needs ../shared/data/helsinki_osm")
    import datetime as dt

    import pandas as pd
    from test_city_helsinki import feedback_history

    from citydesk.layers.city_profile import profile_text, store_profile
    from citydesk.layers.osm_city import city_from_osm, write_city_project
    from citydesk.workbench.cli.main import main

    city = city_from_osm(HELSINKI, name="Helsinki", timezone="Europe/Helsinki", crs="EPSG:3067")
    project = write_city_project(city, tmp_path / "helsinki.gpkg", "Helsinki")
    store_profile(project, profile_text("helsinki"))
    assert main(["grid", "build", "--out", str(project)]) == 0
    today = pd.Timestamp(dt.datetime.now(dt.UTC)).tz_convert("Europe/Helsinki").normalize()
    feedback_history(project, tmp_path, today.tz_localize(None))
    window = open_window(qtbot, tmp_path / "settings.ini", project, size=(1600, 1000))
    window.open_desk(actor="aino", role="dispatcher")
    qtbot.waitUntil(lambda: window.desk_panel is not None, timeout=60_000)
    panel = window.desk_panel
    panel.tabs.setCurrentIndex(panel.tabs.indexOf(panel.forecast))
    view = panel.forecast
    view.category.setCurrentIndex(view.category.findData("0302"))  # litter bins, per cell
    view.refresh(with_backtest=True)
    qtbot.waitUntil(lambda: view.board is not None, timeout=120_000)
    layer = window.project.layers["forecast"]
    assert set(layer.data["unit"].str[:6]) == {"091000"}  # Helsinki's own cell codes
    assert (layer.data["expected"] > 0).all()
    assert view.backtest_table.rowCount() == 3 and "seasonal naive" in view.verdict.text()
    reasons = [view.warnings.item(r, 2).text() for r in range(view.warnings.rowCount())]
    assert any(r.startswith("observed 1") for r in reasons), reasons
    qtbot.waitUntil(lambda: not window.canvas.is_rendering(), timeout=30_000)
    _shot(window, "helsinki_forecast.png")
    panel.tabs.setCurrentIndex(panel.tabs.indexOf(panel.dashboard))
    panel.dashboard.refresh()
    qtbot.waitUntil(lambda: panel.dashboard.board is not None, timeout=60_000)
    assert panel.dashboard.warnings.rowCount() >= 1
    shown = panel.dashboard.warnings
    # the Cases column is the warning's own count, the one its reason quotes
    assert shown.item(0, 2).text().startswith(f"observed {shown.item(0, 1).text()},")
    qtbot.wait(500)  # the new chart canvases laid out, as a user sees them
    _shot(window, "helsinki_dashboard_warnings.png")
    # intake by address, as Helsinki writes it: found among OSM's address points
    from PyQt5.QtCore import QPointF, Qt

    panel.report_button.setChecked(True)
    x, y = panel._to_map.transform(24.9400, 60.1700)
    qtbot.mouseClick(
        window.canvas, Qt.LeftButton, pos=window.canvas.to_pixel(QPointF(x, y)).toPoint()
    )
    dialog = panel.intake
    dialog.address.setText("Mannerheimintie 5")
    dialog.find_address()
    assert dialog.error.text() == "" and dialog.lon == pytest.approx(24.9398, abs=2e-3)
    _shot(dialog, "helsinki_intake_address.png")
    dialog.close()


def test_helsinki_land_use_published_and_drawn_from_postgis(qtbot, tmp_path, request):
    """Issue 24 in the workbench on the second city: publish Helsinki's land use from the
    layer menu, and the canvas draws the same picture from PostGIS (EPSG:3067 into the
    project's CRS) as from the file."""
    if not HELSINKI.exists():
        pytest.skip("needs ../shared/data/helsinki_osm")
    import uuid

    from conftest import shared_staff

    from citydesk.layers.osm_city import city_from_osm, write_city_project
    from citydesk.layers.shared_db import close_all
    from citydesk.layers.shared_layer import SharedLayer

    url = request.getfixturevalue("pg_url")
    department = f"planning_{uuid.uuid4().hex[:6]}"
    shared_staff(request.getfixturevalue("pg_cluster"), url, {"": department})
    city = city_from_osm(HELSINKI, name="Helsinki", timezone="Europe/Helsinki", crs="EPSG:3067")
    project = write_city_project(city, tmp_path / "helsinki.gpkg", "Helsinki")
    window = open_window(qtbot, tmp_path / "settings.ini", project, size=(1500, 950))
    try:
        for layer in window.project.layers.values():
            layer.visible = layer.id == "landuse"
        window.canvas.schedule_refresh()
        qtbot.wait(100)
        qtbot.waitUntil(lambda: not window.canvas.is_rendering(), timeout=60_000)
        from_file = window.canvas.grab_map()
        dialog = window.shared.publish_dialog("landuse", run=False)
        dialog.db.url.setText(url)
        dialog.department.setEditText(department)
        dialog.licence.setText("ODbL-1.0")
        dialog.publish()
        qtbot.waitUntil(
            lambda: isinstance(window.project.layers["landuse"], SharedLayer), timeout=120_000
        )
        window.canvas.schedule_refresh()
        qtbot.wait(100)
        qtbot.waitUntil(lambda: not window.canvas.is_rendering(), timeout=60_000)
        from_database = window.canvas.grab_map()
        layer = window.project.layers["landuse"]
        assert layer.crs.to_epsg() == 3067 and not layer.loaded
        differ = sum(
            from_file.pixel(x, y) != from_database.pixel(x, y)
            for x in range(0, from_file.width(), 4)
            for y in range(0, from_file.height(), 4)
        )
        assert differ / ((from_file.width() // 4 + 1) * (from_file.height() // 4 + 1)) < 0.01
        _shot(window, "helsinki_landuse_from_postgis.png")
    finally:
        close_all()


def test_helsinki_feedback_export_drafted_and_imported_in_the_workbench(qtbot, tmp_path):
    """A Helsinki feedback export with no shipped mapping (Finnish headers, ';', day-first
    dates, ETRS-TM35FIN x/y): Import cases > Draft a mapping in the Helsinki project's
    window, checked, then imported; the cases land in the centre (screenshot looked at)."""
    if not HELSINKI.exists():
        pytest.skip("needs ../shared/data/helsinki_osm")
    from pyproj import Transformer
    from test_gui_case_import import drafted, import_from

    from citydesk.incidents.stores import open_project_store
    from citydesk.layers.city_profile import profile_text, store_profile
    from citydesk.layers.osm_city import city_from_osm, write_city_project

    city = city_from_osm(HELSINKI, name="Helsinki", timezone="Europe/Helsinki", crs="EPSG:3067")
    project = write_city_project(city, tmp_path / "helsinki.gpkg", "Helsinki")
    store_profile(project, profile_text("helsinki"))
    to_tm35 = Transformer.from_crs(4326, 3067, always_xy=True)
    rows = ["Tunnus;Luotu;Ratkaistu;Tyyppi;Tila;X;Y"]
    for k, (lon, lat) in enumerate([(24.9414, 60.1719), (24.9384, 60.1699)]):
        x, y = to_tm35.transform(lon, lat)
        closed, state = ("13.03.2024 09:00", "Suljettu") if k == 0 else ("", "Avoin")
        rows.append(f"P-{k};0{k + 1}.03.2024 14:30;{closed};Roskat;{state};{x:.1f};{y:.1f}")
    export = tmp_path / "palautteet.csv"
    export.write_text("\n".join(rows) + "\n", encoding="utf-8")
    window = open_window(qtbot, tmp_path / "settings.ini", project, size=(1300, 850))
    dialog, review = drafted(qtbot, window, export, tmp_path / "palautteet.toml")
    text = review.text.toPlainText()
    assert 'timezone = "Europe/Helsinki"' in text and "[coordinates]" in text
    assert "The import reads all 2 rows" in review.summary.text()
    _shot(review, "helsinki_mapping_draft.png")
    review.close()
    assert "2 added" in import_from(qtbot, window, dialog)[0]
    with open_project_store(project) as store:
        cases = store.query()
    assert cases["lon"].between(24.93, 24.95).all() and cases["lat"].between(60.16, 60.18).all()
    assert (cases["status"] == "closed").sum() == 1
    # Dispatch > Export cases, then a second Helsinki project drafts the export in its window
    # and imports it: each case under its own category (the kind and code columns read
    # together), not the default
    exported = tmp_path / "cases.xlsx"
    window.export_cases(str(exported))
    qtbot.waitUntil(lambda: window.tasks.active() == 0 and exported.exists(), timeout=60_000)
    assert "Cases exported" in window.statusBar().currentMessage()
    # Dispatch > Export case histories: every step of the two cases, at Helsinki's time
    history = tmp_path / "history.csv"
    window.export_cases(str(history), history=True)
    qtbot.waitUntil(lambda: window.tasks.active() == 0 and history.exists(), timeout=60_000)
    steps = pd.read_csv(history, sep=None, engine="python", dtype=str, encoding="utf-8-sig")
    assert set(steps["case_id"]) == set(cases["case_id"]) and (steps["seq"] == "1").sum() == 2
    assert steps["action"].tolist().count("close_imported") == 1  # closed at the source
    other = write_city_project(city, tmp_path / "helsinki2.gpkg", "Helsinki")
    store_profile(other, profile_text("helsinki"))
    second = open_window(qtbot, tmp_path / "settings2.ini", other, size=(1300, 850))
    dialog, review = drafted(qtbot, second, exported, tmp_path / "cases.toml")
    text = review.text.toPlainText()
    key = f"{cases['kind'].iloc[0]} / {cases['category_code'].iloc[0]}"
    assert f'"{key}" = "{cases["kind"].iloc[0]}:{cases["category_code"].iloc[0]}"' in text
    assert "[defaults]" not in text
    review.close()
    assert "2 added" in import_from(qtbot, second, dialog)[0]
    with open_project_store(other) as store:
        again = store.query().set_index("source_id").loc[cases["case_id"]]
    assert list(again["category_code"]) == list(cases["category_code"])
    assert list(again["kind"]) == list(cases["kind"])
