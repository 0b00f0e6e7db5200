"""Every window and dialog, walked in zh_CN: no user-visible English left (issue 20,
defect 8). Data is excepted: layer and field names, values, paths, codes and numbers are
the city's, not CityDesk's words.

Two checks on every visible text (labels, buttons, group and tab titles, combo items,
placeholders, tooltips, window and dock titles, menus):

- it must not contain an English message of CityDesk's catalogue that has a Chinese
  translation (a text marked but shown untranslated, e.g. made before the translator);
- it must not read as English prose: two or more English words of 3+ letters in a row,
  once the project's own names (data) are taken out.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("PyQt5")

from PyQt5.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDockWidget,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMenu,
    QTabWidget,
    QTreeWidget,
    QWidget,
)
from test_gui_workbench import _shot, open_window

from citydesk.layers.i18n import set_language

#: words that stay as they are in Chinese software: names, formats, units, standards
KEPT = {
    "CityDesk", "PostGIS", "PostgreSQL", "GeoPackage", "OpenStreetMap", "Open311", "GeoReport",
    "QGIS", "PDF", "PNG", "CSV", "TOML", "HTML", "JSON", "XML", "SVG", "GeoTIFF", "EPSG",
    "WGS", "NAD83", "CRS", "URL", "CBC", "HiGHS", "AHP", "Jenks", "Gi*", "KPI", "MCLP",
    "ISO", "UTC", "GCJ-02", "BD-09", "OSM", "DEM", "ID", "FID", "km", "ha",
}  # fmt: skip
PROSE = re.compile(r"[A-Za-z]{3,}[ ,;:'-]+[A-Za-z]{3,}")
CJK = re.compile(r"[\u4e00-\u9fff]")


def _catalogue_phrases() -> list[str]:
    """English messages with a Chinese translation, long enough to be unmistakable."""
    from babel.messages.pofile import read_po

    from citydesk.layers.i18n import LOCALE_DIR

    with open(LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "citydesk.po", "rb") as fh:
        catalogue = read_po(fh)
    phrases = []
    for message in catalogue:
        english = message.id if isinstance(message.id, str) else message.id[0]
        chinese = message.string if isinstance(message.string, str) else message.string[0]
        plain = re.sub(r"\{[^}]*\}", "", english).replace("&", "").strip(" .:")
        if chinese and len(plain) >= 8 and " " in plain and PROSE.search(plain):
            phrases.append(plain)
    return phrases


def _texts(widget: QWidget) -> list[tuple[str, str]]:
    """(where, text) of everything a user reads on ``widget`` and its visible children."""
    found = [(type(widget).__name__ + " title", widget.windowTitle())]
    for child in [widget, *widget.findChildren(QWidget)]:
        if not child.isVisibleTo(widget) and child is not widget:
            continue
        name = f"{type(child).__name__} {child.objectName()}".strip()
        if isinstance(child, QLabel):
            found.append((name, re.sub(r"<[^>]+>", " ", child.text())))
        elif isinstance(child, QAbstractButton):
            found.append((name, child.text()))
        elif isinstance(child, QGroupBox):
            found.append((name, child.title()))
        elif isinstance(child, QTabWidget):
            found += [(name + " tab", child.tabText(i)) for i in range(child.count())]
        elif isinstance(child, QComboBox):
            found += [(name + " item", child.itemText(i)) for i in range(child.count())]
        elif isinstance(child, QLineEdit):
            found.append((name + " placeholder", child.placeholderText()))
        elif isinstance(child, QDockWidget):
            found.append((name, child.windowTitle()))
        elif isinstance(child, QTreeWidget):
            header = child.headerItem()
            found += [(name + " header", header.text(i)) for i in range(header.columnCount())]
        if child.toolTip():
            found.append((name + " tooltip", child.toolTip()))
    return [(w, t.replace("&", "").strip()) for w, t in found if t and t.strip()]


def _menu_texts(menu: QMenu, where: str) -> list[tuple[str, str]]:
    found = []
    for action in menu.actions():
        if action.isSeparator():
            continue
        found.append((where, action.text().replace("&", "")))
        if action.menu() is not None:
            found += _menu_texts(action.menu(), where + " > " + action.text())
    return found


def _data_words(project) -> set[str]:
    """The project's own names: layers, fields and short text values."""
    words: set[str] = set()
    for layer in project.layers.values():
        words.add(layer.name)
        words.add(layer.id)
        data = getattr(layer, "data", None)
        if data is None:
            continue
        words.update(map(str, data.columns))
        for column in data.columns:
            if data[column].dtype == object and data[column].nunique() < 200:
                words.update(str(v) for v in data[column].dropna().unique())
    return {w for w in words if w}


def _third_party_words(host) -> set[str]:
    """A third-party plugin's own titles: its author's words, shown as written."""
    words: set[str] = set()
    for record in host.plugins():
        if record.source == "builtin" or record.manifest is None:
            continue
        words.add(record.manifest.description)
        for contribution in record.manifest.contributions:
            entry = contribution.data
            words.update({contribution.title, contribution.id})
            words.update(str(entry.get(k) or "") for k in ("group", "description"))
            for parameter in (entry.get("parameters") or {}).values():
                words.add(str(parameter.get("label") or ""))
    return {w for w in words if w}


def _english_left(texts, phrases, data) -> list[str]:
    bad = []
    for where, text in texts:
        rest = text
        for word in sorted(data | KEPT, key=len, reverse=True):
            if len(word) >= 3 and word in rest:
                rest = rest.replace(word, " ")
        if any(phrase in rest for phrase in phrases):
            bad.append(f"{where}: {text!r} (an English message shown untranslated)")
            continue
        rest = re.sub(r"\S*[/\\]\S*|\S+\.\w{2,4}\b|\b\w+:\w+\b", " ", rest)  # paths, keys
        if text.startswith("EPSG:"):  # a CRS's own name (data)
            continue
        if PROSE.search(rest) and not CJK.search(rest):
            bad.append(f"{where}: {text!r}")
    return bad


@pytest.fixture()
def zh_window(qtbot, tmp_path, demo_copy):
    from citydesk.workbench.gui.i18n import install_translator

    app = QApplication.instance()
    install_translator(app, "zh_CN")
    try:
        window = open_window(qtbot, tmp_path / "zh.ini", demo_copy, size=(1400, 900))
        yield window
    finally:
        install_translator(app, "en")
        set_language("en")


def test_every_window_and_dialog_speaks_chinese(zh_window, qtbot):
    window = zh_window
    phrases = _catalogue_phrases()
    data = _data_words(window.project) | _third_party_words(window.plugin_actions.host)
    seen: list[tuple[str, str]] = _texts(window)
    for action in window.menuBar().actions():
        seen += _menu_texts(action.menu(), action.text())
    style = window.style_dialog("parcels", run=False)
    seen += _texts(style)
    style.close()
    setup = window.city_setup()
    seen += _texts(setup)
    setup.tabs.setCurrentWidget(setup.calendar)  # the working calendar's own tab
    seen += _texts(setup)
    setup.close()
    stores = window.case_store_dialog()
    seen += _texts(stores)
    stores.close()
    # the layer-options dialog as a GBK file without known coordinate columns opens it
    from citydesk.workbench.gui.layer_options_dialog import LayerOptionsDialog

    options = LayerOptionsDialog(str(window.project.path), "", (), window)
    seen += _texts(options)
    options.close()
    importer = window.import_cases_dialog()
    seen += _texts(importer)
    importer.reject()
    # a "done" notice and an error hint, as the window shows them
    window.announce_written(window.project.path)
    seen += _texts(window.message_bar)
    from citydesk.layers.readers.csv_points import read_csv_points

    broken = Path(window.project.path).parent / "no_coordinates.csv"
    broken.write_text("name,easting_m,northing_m\na,1,2\n", encoding="utf-8")
    try:
        read_csv_points(broken)
    except Exception as exc:  # the hint must be the window's, and Chinese
        window.show_error(exc.message)
    seen += _texts(window.message_bar)
    _shot(window.message_bar, "error_hint_zh_CN.png")
    window.message_bar.hide()
    from citydesk.workbench.gui.optimize.front_dialog import FrontDialog
    from citydesk.workbench.gui.optimize.siting_dialog import SitingDialog

    for dialog_class in (SitingDialog, FrontDialog):
        dialog = dialog_class(window)
        seen += _texts(dialog)
        dialog.close()
    manager = window.plugin_actions.open_manager()
    seen += _texts(manager)
    manager.close()
    algorithm = window.plugin_actions.algorithm_dialog("citydesk:buffer", exec_dialog=False)
    seen += _texts(algorithm)
    algorithm.close()
    planning = window.open_planning()
    qtbot.wait(500)
    seen += _texts(planning)
    window.open_desk(actor="王", role="dispatcher")
    qtbot.waitUntil(lambda: window.desk_panel is not None, timeout=60_000)
    panel = window.desk_panel
    for tab in range(panel.tabs.count()):
        panel.tabs.setCurrentIndex(tab)
        seen += _texts(panel)
    intake = panel.start_intake(-71.1042, 42.3672)
    seen += _texts(intake)
    _shot(intake, "intake_zh_CN.png")
    intake.close()
    # a case's card: its history speaks the desk's words, not the lifecycle's ids
    from citydesk.incidents.new_cases import NewCase

    case = panel.desk.store.report(NewCase("event", "0490", lon=-71.1042, lat=42.3672), "李")
    panel.open_case(case.case_id)
    qtbot.waitUntil(lambda: window.case_card.timeline.topLevelItemCount() == 1, timeout=10_000)
    seen += _texts(window.case_card)
    first = window.case_card.timeline.topLevelItem(0)
    for column in (1, 2, 4):  # action, "from → to" state, role
        assert CJK.search(first.text(column)) and not re.search(r"[a-z]{3}", first.text(column))
    _shot(window.case_card, "case_card_zh_CN.png")
    _shot(window, "desk_zh_CN.png")
    history = window.plugin_actions.open_history()
    seen += _texts(history)
    history.close()
    window.open_attribute_table("neighborhoods")
    seen += [(w, t) for w, t in _texts(window) if "QHeaderView" not in w]
    assert len(seen) > 400  # the walk really read the windows
    bad = _english_left(seen, phrases, data)
    assert not bad, f"{len(bad)} English texts in zh_CN:\n" + "\n".join(sorted(set(bad)))
