"""Shared PostGIS layers in the desktop (issue 24): publish from the layer tree, the database
browser, the picture drawn from the database, identify and edit with the version check, and
a layer whose database is gone shown as unavailable. Offscreen, with screenshots."""

from __future__ import annotations

import os
import uuid

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt5")

from conftest import shared_staff
from test_gui_workbench import _shot, open_window

from citydesk.layers.project_store import load_project, save_project
from citydesk.layers.shared_db import close_all
from citydesk.layers.shared_edits import read_feature, update_feature
from citydesk.layers.shared_layer import SharedLayer, open_shared_layer

pytestmark = pytest.mark.gui


@pytest.fixture()
def shared(pg_cluster, pg_url):
    """A shared schema with department planning (its user: the cluster's owner) and
    housing (user bob). Returns (owner URL, bob's URL, department names)."""
    tag = uuid.uuid4().hex[:6]
    planning, bob = f"planning_{tag}", f"bob_{tag}"
    urls = shared_staff(pg_cluster, pg_url, {"": planning, bob: f"housing_{tag}"})
    yield pg_url, urls[bob], planning
    close_all()


def _wait_tasks(qtbot, win) -> None:
    qtbot.waitUntil(lambda: win.tasks.active() == 0, timeout=120_000)
    qtbot.waitUntil(lambda: not win.canvas.is_rendering(), timeout=60_000)


def _differing_share(a, b) -> float:
    """The share of pixels that differ between two pictures of the same size."""
    assert (a.width(), a.height()) == (b.width(), b.height())
    step = 3
    differ = total = 0
    for x in range(0, a.width(), step):
        for y in range(0, a.height(), step):
            total += 1
            differ += a.pixel(x, y) != b.pixel(x, y)
    return differ / total


def test_publish_from_the_tree_draws_the_same_picture_from_the_database(
    qtbot, tmp_path, demo_copy, shared
):
    url, _bob_url, planning = shared
    win = open_window(qtbot, tmp_path / "settings.ini", demo_copy)
    for other in win.project.layers.values():  # parcels alone: the picture is theirs
        other.visible = other.id == "parcels"
    win.canvas.schedule_refresh()
    _wait_tasks(qtbot, win)
    qtbot.wait(100)
    _wait_tasks(qtbot, win)
    from_file = win.canvas.grab_map()

    menu = win.layer_tree.layer_menu("parcels")
    assert "Publish to shared database..." in [a.text() for a in menu.actions()]
    dialog = win.shared.publish_dialog("parcels", run=False)
    dialog.db.url.setText(url)
    dialog.load_departments()
    _wait_tasks(qtbot, win)
    assert dialog.department.findData(planning) >= 0
    dialog.department.setCurrentIndex(dialog.department.findData(planning))
    dialog.description.setText("Assessor's parcels with land use")
    dialog.licence.setText("PDDL-1.0")
    _shot(dialog, "shared_publish_dialog.png")
    dialog.publish()
    _wait_tasks(qtbot, win)
    layer = win.project.layers["parcels"]
    assert isinstance(layer, SharedLayer) and layer.feature_count == 13116
    win.canvas.schedule_refresh()
    qtbot.wait(100)
    _wait_tasks(qtbot, win)
    from_database = win.canvas.grab_map()
    assert not layer.loaded  # drawn from the view's fetch, not a whole read
    assert _differing_share(from_file, from_database) < 0.01
    _shot(win, "shared_parcels_drawn_from_postgis.png")
    # the project saves where the layer is, and opens it again
    win.save_project()
    _wait_tasks(qtbot, win)
    assert isinstance(load_project(demo_copy).layers["parcels"], SharedLayer)

    # identify a parcel (fetched around the click), edit it, then lose to another editor
    canvas = win.canvas
    center = canvas.current_view()
    x0, y0, x1, y1 = center.extent
    found = None
    for fx, fy in ((0.5, 0.5), (0.45, 0.55), (0.55, 0.45), (0.4, 0.4), (0.6, 0.6)):
        found = win.identify_at(x0 + (x1 - x0) * fx, y0 + (y1 - y0) * fy)
        if found is not None:
            break
    assert found is layer and win.identify_panel.editable
    fid = win.identify_panel.results[0][1]
    edit = win.shared.edit_feature("parcels", fid, run=False)
    before = edit.version
    edit.edits["land_use"].setText("Park")
    assert edit.save()
    assert read_feature(layer, fid).values["land_use"] == "Park"
    again = win.shared.edit_feature("parcels", fid, run=False)
    update_feature(open_shared_layer(url, "parcels"), fid, before + 1, {"land_use": "School"})
    again.edits["land_use"].setText("Market")
    assert not again.save()
    assert "changed by someone else" in again.status.text()
    assert again.edits["land_use"].text() == "School"  # their value, to edit again
    _shot(again, "shared_edit_conflict.png")
    # the attribute table reads the whole table in the background, then opens on it
    assert win.open_attribute_table("parcels") is None
    _wait_tasks(qtbot, win)
    assert "parcels" in win.tables and layer.loaded
    assert layer.data.loc[fid, "land_use"] == "School"


@pytest.mark.slow  # over 10 s: started early, so it does not end the run
def test_the_browser_lists_searches_and_adds_and_a_lost_database_is_marked(
    qtbot, tmp_path, demo_copy, shared, pg_cluster
):
    from citydesk.layers.shared_publish import PublishOptions, publish

    url, bob_url, planning = shared
    demo = load_project(demo_copy)
    publish(demo.layers["parcels"], url, PublishOptions(planning, description="Land use"))
    publish(demo.layers["neighborhoods"], url, PublishOptions(planning, description="Areas"))
    win = open_window(qtbot, tmp_path / "settings.ini", demo_copy)
    dialog = win.shared.add_dialog(run=False)
    dialog.db.url.setText(bob_url)
    dialog.list_layers()
    _wait_tasks(qtbot, win)
    assert dialog.table.rowCount() == 2
    dialog.search.setText("land use")
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=30_000)
    _wait_tasks(qtbot, win)
    assert dialog.table.item(0, 6).text() == "parcels"
    assert dialog.table.item(0, 5).text() == "read"  # bob is in housing
    dialog.table.selectRow(0)
    _shot(dialog, "shared_layer_browser.png")
    dialog.add_selected()
    _wait_tasks(qtbot, win)
    added = [lay for lay in win.project.layers.values() if isinstance(lay, SharedLayer)]
    assert [lay.table.table for lay in added] == ["parcels"]
    assert added[0].url.startswith("postgresql://bob_")

    # the layer's database goes away: the project still opens, the layer is marked
    added[0].url = url.replace(f":{pg_cluster.port}/", ":1/")
    path = tmp_path / "lost.gpkg"
    save_project(win.project, path)
    win.open_project(str(path))
    qtbot.waitUntil(lambda: win.project.path == str(path), timeout=30_000)
    _wait_tasks(qtbot, win)
    lost = added[0].id
    assert lost in win.project.unreadable
    items = [win.layer_tree.topLevelItem(i) for i in range(win.layer_tree.topLevelItemCount())]
    marked = [it for it in items if it.data(0, 256 + 1) == "unavailable"]
    assert len(marked) == 1 and "(unavailable)" in marked[0].text(0)
    assert "cannot connect" in marked[0].toolTip(0)
    assert win.layer_tree.topLevelItem(0) is marked[0]  # on top, where it is seen
    _shot(win, "shared_layer_unavailable.png")
    win.shared.retry(lost)
    _wait_tasks(qtbot, win)
    assert lost in win.project.unreadable  # still down: still marked, nothing lost
    win.shared.remove_unavailable(lost, ask=False)
    assert lost not in win.project.unreadable and not win.project.unreadable_records
