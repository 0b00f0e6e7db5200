"""Dispatch > Import cases (issue 19 in the workbench): a city system's CSV through a
column mapping, imported in the background into the project's store, and a later export of
the same source re-imported as an upsert; the window says what happened."""

from __future__ import annotations

import pandas as pd
import pytest

pytest.importorskip("PyQt5")

from test_gui_workbench import open_window
from test_source_status import COLUMNS, MAPPING

from citydesk.incidents.stores import open_project_store

pytestmark = pytest.mark.gui


def _export(path, rows):
    frame = pd.DataFrame(rows, columns=COLUMNS).assign(lat=42.37, lon=-71.1, type="bin")
    frame.to_csv(path, index=False)
    return path


def test_import_a_city_export_and_its_next_export_from_the_menu(qtbot, tmp_path, demo_copy):
    window = open_window(qtbot, tmp_path / "settings.ini", demo_copy)
    mapping = tmp_path / "city311.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    monday = _export(
        tmp_path / "monday.csv",
        [
            ["1", "2026-03-02 09:00", "", "2026-03-04 17:00", "Open", "Phone", "2026-03-02 09:00"],
            ["2", "2026-03-02 09:30", "", "2026-03-05 17:00", "Open", "App", "2026-03-02 10:00"],
        ],
    )
    dialog = window.import_cases_dialog()
    assert "nyc311" in [dialog.mapping.itemData(i) for i in range(dialog.mapping.count())]
    dialog.file.setText(str(monday))
    dialog.add_mapping(str(mapping))
    assert dialog.choice() == (str(monday), str(mapping))
    dialog.accept()
    qtbot.waitUntil(lambda: getattr(window, "last_import", None) is not None, timeout=60_000)
    assert "2 added" in window.last_import[0]
    bar = window.message_bar
    assert bar.isVisible() and bar.level == "done" and "2 added" in bar.label.text()
    assert not bar.open_button.isVisible()  # nothing was written to a file
    with open_project_store(demo_copy) as store:
        ours = store.query()
        ours = ours[ours["source"] == "city311"]
    assert sorted(ours["source_id"]) == ["1", "2"]

    tuesday = _export(
        tmp_path / "tuesday.csv",
        [
            ["1", "2026-03-02 09:00", "2026-03-03 12:00", "2026-03-04 17:00", "Closed", "Phone", "2026-03-03 12:00"],  # noqa: E501
            ["2", "2026-03-02 09:30", "", "2026-03-05 17:00", "Open", "App", "2026-03-02 10:00"],
        ],
    )  # fmt: skip
    window.last_import = None
    window.import_cases(str(tuesday), str(mapping))
    qtbot.waitUntil(lambda: window.last_import is not None, timeout=60_000)
    assert "0 added" in window.last_import[0]
    assert "1 updated from the source" in " ".join(window.last_import)
    with open_project_store(demo_copy) as store:
        one = store.query().set_index("source_id").loc["1"]
    assert one["status"] == "closed"


def test_a_refused_file_leaves_the_store_as_it_was(qtbot, tmp_path, demo_copy):
    window = open_window(qtbot, tmp_path / "settings.ini", demo_copy)
    mapping = tmp_path / "city311.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,opened\n1,not a date\n", encoding="utf-8")
    with open_project_store(demo_copy) as store:
        before = len(store.query(columns=["case_id"], ordered=False))
    window.import_cases(str(bad), str(mapping))
    qtbot.waitUntil(lambda: window.message_bar.isVisible(), timeout=60_000)
    assert window.message_bar.level == "warning" and "failed" in window.message_bar.label.text()
    with open_project_store(demo_copy) as store:
        assert len(store.query(columns=["case_id"], ordered=False)) == before


def test_an_open311_file_takes_a_mapping_only_when_one_is_chosen(qtbot, tmp_path, demo_copy):
    window = open_window(qtbot, tmp_path / "settings.ini", demo_copy)
    dialog = window.import_cases_dialog()
    dialog.file.setText(str(tmp_path / "requests.json"))
    assert dialog.choice() == (str(tmp_path / "requests.json"), None)  # CityDesk's codes
    dialog.add_mapping(str(tmp_path / "sf311.toml"))  # another system's codes
    assert dialog.choice()[1] == str(tmp_path / "sf311.toml")
    dialog.file.setText(str(tmp_path / "requests.xml"))
    assert dialog.choice()[1] == str(tmp_path / "sf311.toml")  # the user's choice stays
    dialog.mapping.setCurrentIndex(0)
    dialog.file.setText(str(tmp_path / "export.csv"))
    assert dialog.choice()[1] is not None  # a CSV always goes through a mapping
    dialog.reject()
    # the other system's requests, imported from the menu through their mapping
    from test_open311_foreign import _files

    data, toml = _files(tmp_path)
    window.last_import = None
    window.import_cases(str(data), str(toml))
    qtbot.waitUntil(lambda: window.last_import is not None, timeout=60_000)
    assert "2 added" in window.last_import[0]


def import_from(qtbot, window, dialog) -> list[str]:
    """OK in the import dialog, then the window's summary once the import has run."""
    window.last_import = None
    dialog.accept()
    qtbot.waitUntil(lambda: window.last_import is not None, timeout=60_000)
    return window.last_import


def drafted(qtbot, window, export, target):
    """*Draft a mapping...* in the import dialog for ``export``, saved to ``target``: the
    dialog, and the draft's review once the draft has run in the background."""
    dialog = window.import_cases_dialog()
    dialog.file.setText(str(export))
    dialog.draft_mapping(str(target))
    qtbot.waitUntil(lambda: dialog.draft_dialog is not None, timeout=60_000)
    return dialog, dialog.draft_dialog


def test_a_mapping_is_drafted_checked_edited_and_imported_with(qtbot, tmp_path, demo_copy):
    """An export no mapping ships for: *Draft a mapping...* reads it in the background,
    shows the draft to check, the user maps one more type and saves, the check says what the
    import will read, and the import uses the draft."""
    from test_mapping_draft import _boston

    window = open_window(qtbot, tmp_path / "settings.ini", demo_copy)
    export = _boston(tmp_path)
    dialog = window.import_cases_dialog()
    dialog.draft_mapping()  # no file yet: said in the dialog, nothing asked
    assert "Choose the export first" in dialog.status.text()
    dialog.file.setText(str(export))
    target = tmp_path / "boston.toml"
    dialog.draft_mapping(str(target))
    qtbot.waitUntil(lambda: dialog.draft_dialog is not None, timeout=60_000)
    review = dialog.draft_dialog
    assert dialog.choice() == (str(export), str(target))
    assert "The import reads all 4 rows" in review.summary.text()
    assert 'category = "type"' in review.text.toPlainText()
    review.grab().save(str(tmp_path / "draft.png"))
    text = review.text.toPlainText().replace(
        '# "Request for Pothole Repair" = ""', '"Request for Pothole Repair" = "event:0401"'
    )
    review.text.setPlainText(text)
    review.save_and_check()
    qtbot.waitUntil(lambda: review.checked is not None, timeout=60_000)
    assert review.checked[0].startswith("The import reads all 4 rows")
    assert '"Request for Pothole Repair" = "event:0401"' in target.read_text(encoding="utf-8")
    review.close()
    assert "4 added" in import_from(qtbot, window, dialog)[0]
    with open_project_store(demo_copy) as store:
        cases = store.query()
        pothole = cases[cases["source_id"] == "101005"].iloc[0]
    assert pothole["category_code"] == "0401"
    # next week's export: the dialog offers the mapping used last, first
    again = window.import_cases_dialog()
    again.file.setText(str(export))
    assert again.choice() == (str(export), str(target))
    again.reject()


def test_a_digital_city_export_keeps_its_steps_on_the_case_card(qtbot, tmp_path, demo_copy):
    """A 数字城管 export drafted and imported from the menu: the draft maps its step times,
    and the desk's case card shows each case's history at the source's times."""
    from test_source_steps import FULL, _files

    window = open_window(qtbot, tmp_path / "settings.ini", demo_copy, size=(1400, 900))
    export, _mapping = _files(tmp_path, FULL)
    dialog, review = drafted(qtbot, window, export, tmp_path / "szcg.toml")
    text = review.text.toPlainText()
    for line in (
        'registered_at = "立案时间"',
        'dispatched_at = "派遣时间"',
        'checked_at = "核查时间"',
    ):
        assert line in text
    review.save_and_check()
    qtbot.waitUntil(lambda: review.checked is not None, timeout=60_000)
    review.close()
    summary = import_from(qtbot, window, dialog)
    assert "4 added" in summary[0]
    assert any("left out" in line for line in summary)  # A4's handling after a gap
    window.open_desk(actor="wang", role="shift_chief")
    qtbot.waitUntil(lambda: window.desk_panel is not None, timeout=60_000)
    with open_project_store(demo_copy) as store:
        case_id = store.query().set_index("source_id").loc["A1", "case_id"]
    window.desk_panel.open_case(case_id)  # what a double-click on the case does
    card = window.case_card
    assert window.card_dock.isVisible() and card.card.case.case_id == case_id
    actions = [
        card.timeline.topLevelItem(i).text(1) for i in range(card.timeline.topLevelItemCount())
    ]
    assert len(actions) == 8 and card.fields["status"].text() == "closed"
    window.grab().save(str(tmp_path / "case_card_steps.png"))
    # Dispatch > Export case histories: the same steps, one row each, for an audit
    from openpyxl import load_workbook

    assert window.action_export_history.text().startswith("Export case histories")
    histories = tmp_path / "histories.xlsx"
    window.export_cases(str(histories), history=True)
    qtbot.waitUntil(histories.exists, timeout=60_000)
    rows = list(load_workbook(histories, read_only=True)["history"].values)
    header = list(rows[0])
    a1 = [r for r in rows[1:] if r[header.index("source_id")] == "A1"]
    assert [r[header.index("action")] for r in a1][:2] == ["report", "accept"]
    assert len(a1) == len(actions)  # each step the card shows, the report first
