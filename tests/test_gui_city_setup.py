"""Project > City setup in the workbench (issue 18): a Chinese-style city's project opened,
its roles and fields proposed from the Chinese names, edited in the table, checked and
stored; screenshots of the dialog before and after."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt5")

from chinese_city import build
from test_gui_workbench import _shot, open_window

from citydesk.layers.city_init import project_from_folder
from citydesk.layers.city_profile import project_profile

pytestmark = pytest.mark.gui


def test_city_setup_proposes_edits_and_stores_the_profile(qtbot, tmp_path):
    project = project_from_folder(build(tmp_path / "data"), tmp_path / "chengdu.gpkg")
    win = open_window(qtbot, tmp_path / "settings.ini", project)
    dialog = win.city_setup()
    assert dialog is not None
    qtbot.waitExposed(dialog)
    # a project with no profile yet: nothing mapped, the features say what they miss
    lines = [dialog.checks.item(i).text() for i in range(dialog.checks.count())]
    assert any(line.startswith("Planning scenarios: missing") for line in lines)
    _shot(dialog, "city_setup_empty.png")
    dialog.timezone.setText("Asia/Shanghai")
    dialog.currency.setText("CNY")
    dialog.admin_code.setText("510104")
    dialog.propose()
    assert dialog.profile.calendar.holidays.country == "CN"  # from the time zone
    assert dialog.combos[("parcels", "layer")].currentText() == "di_kuai"
    assert dialog.combos[("parcels", "housing_units")].currentText() == "住宅套数"
    assert dialog.combos[("neighborhoods", "layer")].currentText() == "jie_dao"
    # the user corrects one mapping: the address field is not the name
    dialog.combos[("streets", "name")].setCurrentText("")
    assert dialog.profile.layers.streets.name is None
    dialog.combos[("streets", "name")].setCurrentText("路名")
    lines = [dialog.checks.item(i).text() for i in range(dialog.checks.count())]
    assert "Planning scenarios: partly" in " ".join(lines)
    # the code typed above counts at once (the list said "no admin_code" until Save)
    assert not any("no admin_code" in line for line in lines), lines
    dialog.admin_code.setText("")
    assert any(
        "no admin_code" in dialog.checks.item(i).text() for i in range(dialog.checks.count())
    )
    dialog.admin_code.setText("510104")
    assert dialog.area_unit.currentText() == "m2"  # China's, to check: 建筑面积 names no unit
    dialog.area_unit.setCurrentText("sqft")
    assert dialog.profile.area_unit == "sqft"  # the header edits the profile
    dialog.area_unit.setCurrentText("m2")
    # a choice is a drop-down of its values: where the streets join (docs/CITY.md)
    junctions = dialog.combos[("streets", "junctions")]
    assert [junctions.itemText(i) for i in range(junctions.count())] == [
        "ends",
        "shared",
        "crossings",
    ]
    assert junctions.currentText() == "ends" and junctions.isEnabled()
    junctions.setCurrentText("shared")
    assert dialog.profile.layers.streets.junctions == "shared"
    table = dialog.table
    row = next(r for r in range(table.rowCount()) if table.cellWidget(r, 2) is junctions)
    table.scrollToItem(table.item(row, 1))
    _shot(dialog, "city_setup_junctions.png")
    table.scrollToTop()
    _shot(dialog, "city_setup_proposed.png")
    dialog.save()
    stored = project_profile(project)
    assert stored is not None and stored.timezone == "Asia/Shanghai"
    assert stored.admin_code == "510104"
    assert stored.layers.parcels.floor_area == "建筑面积"
    assert stored.land_use_system == "cn_2023"
    assert stored.area_unit == "m2"
    assert stored.layers.streets.junctions == "shared"
    assert win.project.metadata["city_profile"]  # a later save keeps it


def test_city_setup_proposes_a_spanish_citys_profile(qtbot, tmp_path):
    """The same dialog on a Madrid municipality's files (tests/spanish_city.py): Spanish layer
    and field names, Urban Atlas codes; in euros without costs of its own, the check says the
    costs are CityDesk's USD defaults."""
    from spanish_city import build as build_madrid

    madrid = ("Europe/Madrid", "EUR", "280796")
    _project, dialog = _proposed_city(qtbot, build_madrid(tmp_path / "datos"), tmp_path, *madrid)
    assert dialog.combos[("parcels", "layer")].currentText() == "predios"
    assert dialog.combos[("parcels", "land_value")].currentText() == "Valor_Suelo"
    assert dialog.combos[("streets", "name")].currentText() == "Nombre_Via"
    assert dialog.combos[("neighborhoods", "layer")].currentText() == "barrios"
    assert dialog.profile.land_use_system == "eu_urban_atlas"
    assert dialog.profile.calendar.holidays.country == "ES"
    assert dialog.profile.calendar.rest_days == ["saturday", "sunday"]  # Spain's, from CLDR
    lines = " ".join(dialog.checks.item(i).text() for i in range(dialog.checks.count()))
    assert "set [planning] cost_per_m2 in EUR" in lines
    _shot(dialog, "city_setup_madrid.png")


def test_the_readiness_list_says_when_the_streets_do_not_join_up(qtbot, tmp_path):
    """The streets' network is built in the background as the dialog opens and again when a
    streets setting changes: the list names the junctions setting, and choosing it shows
    the road features ready before the profile is saved."""
    from test_street_junctions import grid_project

    project = grid_project(tmp_path)
    win = open_window(qtbot, tmp_path / "settings.ini", project)
    dialog = win.city_setup()
    qtbot.waitExposed(dialog)

    def lines() -> str:
        return "\n".join(dialog.checks.item(i).text() for i in range(dialog.checks.count()))

    assert "Checking whether the streets join up" in lines()
    qtbot.waitUntil(lambda: "can reach each other" in lines(), timeout=30_000)
    driving = next(line for line in lines().splitlines() if line.startswith("Road network"))
    assert driving.startswith("Road network (driving): partly (") and "only 12.5% of" in driving
    assert 'set junctions = "shared"' in lines()
    _shot(dialog, "city_setup_streets_apart.png")
    dialog.combos[("streets", "junctions")].setCurrentText("shared")
    qtbot.waitUntil(lambda: "Checking whether" not in lines(), timeout=30_000)
    assert "can reach each other" not in lines()
    assert project_profile(project).layers.streets.junctions == "ends"  # not saved yet
    win.close()


def test_the_working_calendar_is_set_and_checked_in_city_setup(qtbot, tmp_path):
    """The calendar tab: China's holidays by name and its make-up days (调休) listed for a
    year, working hours typed as a line, a mistake said in place and refused by Save, the
    city's own holiday added; stored, the due times count on it."""
    import datetime as dt

    from citydesk.incidents.calendar import project_calendar

    project, dialog = _proposed_chinese_city(qtbot, tmp_path)  # CN holidays: the time zone's
    cal = dialog.calendar
    dialog.tabs.setCurrentWidget(cal)
    assert cal.country.text() == "CN"
    cal.year.setValue(2026)

    def rows() -> dict[str, str]:
        return {
            cal.days.item(r, 0).text(): cal.days.item(r, 2).text()
            for r in range(cal.days.rowCount())
        }

    assert rows()["2026-10-01"] == "holiday: National Day"
    assert rows()["2026-02-28"] == "make-up working day"  # a Saturday worked (调休)
    assert cal.days.item(0, 1).text() == "Thu"  # 1 January 2026
    cal.periods.setText("9:00-12:00, 13:30-17:30")
    assert dialog.profile.calendar.periods == [["09:00", "12:00"], ["13:30", "17:30"]]
    days = int(cal.summary.text().split(": ")[1].split(" ")[0])
    assert f"{days * 7:,} working hours" in cal.summary.text()
    # typed backwards: said where it is typed, and Save refuses it with the same words
    cal.periods.setText("17:30-13:30")
    assert "calendar.periods[0]" in cal.summary.text() and cal.days.rowCount() == 0
    dialog.save()
    assert dialog.isVisible() and "calendar.periods[0]" in dialog.status.text()
    cal.periods.setText("9:00-12:00, 13:30-17:30")
    cal.extra.setText("2026-06-30")
    assert rows()["2026-06-30"] == "holiday: the city's own holiday"
    _shot(dialog, "city_setup_calendar.png")
    dialog.save()
    assert not dialog.isVisible()
    stored = project_profile(project)
    assert stored.calendar.periods == [["09:00", "12:00"], ["13:30", "17:30"]]
    assert stored.calendar.extra_holidays == ["2026-06-30"]
    assert stored.calendar.holidays.country == "CN"
    # Monday 29 June, 17:00, one working hour: half an hour that day, none on the city's
    # holiday, the rest on Wednesday morning
    due = project_calendar(project).add_working_hours(dt.datetime(2026, 6, 29, 17, 0), 1.0)
    assert due.replace(tzinfo=None) == dt.datetime(2026, 7, 1, 9, 30)


def test_every_other_setting_is_edited_as_toml_in_city_setup(qtbot, tmp_path):
    """The Other settings tab: what the dialog has no field for (planning costs in the
    city's currency, a category of its own) typed as TOML; a misspelt key named with its
    nearest and the tab kept; a key a field owns refused; stored with the rest."""
    project, dialog = _proposed_chinese_city(qtbot, tmp_path)

    def lines() -> str:
        return " ".join(dialog.checks.item(i).text() for i in range(dialog.checks.count()))

    assert "set [planning] cost_per_m2 in CNY" in lines()
    dialog.tabs.setCurrentWidget(dialog.other)
    assert 'land_use_system = "cn_2023"' in dialog.other.toPlainText()  # the proposal's
    costs = (
        "[planing.cost_per_m2]\nhousing_low = 3200.0\nhousing_high = 5200.0\n"
        "mixed_use = 6000.0\ncommercial = 7000.0\npark = 300.0\nschool = 5000.0\n"
    )
    category = (
        '\n[[categories]]\nkind = "event"\ncode = "0190"\nname_en = "Scooters left on pavements"\n'
        'name_zh = "共享电单车乱停放"\ndepartment = "city_management"\nlimit = 4\n'
        'unit = "working_hours"\n'
    )
    dialog.other.setPlainText(dialog.other.toPlainText() + "\n" + costs + category)
    dialog.tabs.setCurrentIndex(0)  # leaving the tab checks it: the misspelt key is named
    assert dialog.tabs.currentWidget() is dialog.other
    assert "planing" in dialog.status.text() and "planning" in dialog.status.text()
    dialog.other.setPlainText(dialog.other.toPlainText().replace("[planing.", "[planning."))
    dialog.tabs.setCurrentIndex(0)
    assert dialog.tabs.currentIndex() == 0 and dialog.status.text() == ""
    assert dialog.profile.planning.cost_per_m2["housing_low"] == 3200.0
    assert "set [planning] cost_per_m2 in CNY" not in lines()
    # a key one of the dialog's fields sets is not taken from the TOML
    dialog.tabs.setCurrentWidget(dialog.other)
    dialog.other.setPlainText('timezone = "UTC"\n' + dialog.other.toPlainText())
    dialog.save()
    assert dialog.isVisible() and "timezone" in dialog.status.text()
    assert dialog.tabs.currentWidget() is dialog.other
    dialog.other.setPlainText(dialog.other.toPlainText().replace('timezone = "UTC"\n', ""))
    _shot(dialog, "city_setup_other_settings.png")
    dialog.save()
    assert not dialog.isVisible()
    stored = project_profile(project)
    assert stored.timezone == "Asia/Shanghai"
    assert stored.planning.cost_per_m2["school"] == 5000.0
    assert [(c.kind, c.code, c.name_zh) for c in stored.categories] == [
        ("event", "0190", "共享电单车乱停放")
    ]
    assert stored.land_use_system == "cn_2023"


def _proposed_chinese_city(qtbot, tmp_path):
    """The Chinese-style city's project with City setup open and its roles proposed."""
    city = ("Asia/Shanghai", "CNY", "510104")
    return _proposed_city(qtbot, build(tmp_path / "data"), tmp_path, *city)


def _proposed_city(qtbot, folder, tmp_path, timezone: str, currency: str, admin_code: str):
    """A project made from a city's ``folder`` of files, with City setup open, its header
    filled and the roles proposed: (project, dialog)."""
    project = project_from_folder(folder, tmp_path / "city.gpkg")
    win = open_window(qtbot, tmp_path / "settings.ini", project)
    dialog = win.city_setup()
    qtbot.waitExposed(dialog)
    dialog.timezone.setText(timezone)
    dialog.currency.setText(currency)
    dialog.admin_code.setText(admin_code)
    dialog.propose()
    return project, dialog
