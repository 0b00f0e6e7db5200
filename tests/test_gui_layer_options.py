"""Add layer with options (issue 20): a file that cannot be read without options opens the
layer-options dialog with the problem in the window's words, and OK adds the layer."""

from __future__ import annotations

import pytest

pytest.importorskip("PyQt5")

from PyQt5.QtCore import QSettings

from citydesk.workbench.gui.main_window import MainWindow

pytestmark = pytest.mark.gui


@pytest.mark.parametrize("zipped", [False, True], ids=["csv", "zipped-csv"])
def test_a_csv_without_known_coordinate_columns_opens_the_options_dialog(
    qtbot, tmp_path, monkeypatch, zipped
):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    window = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.show()
    data = tmp_path / "stations.csv"
    # Chinese headers, GB18030 bytes, coordinates in columns no detector knows
    data.write_bytes(
        "名称,东经,北纬\n中关村站,116.31,39.98\n西单站,116.37,39.91\n".encode("gb18030")
    )
    if zipped:  # as a portal sends it: the dialog offers the columns of the CSV inside
        import zipfile

        with zipfile.ZipFile(tmp_path / "stations.zip", "w") as z:
            z.write(data, "stations.csv")
        data = tmp_path / "stations.zip"
    window.add_layer(str(data))
    qtbot.waitUntil(
        lambda: getattr(window, "layer_options_dialog", None) is not None, timeout=30_000
    )
    dialog = window.layer_options_dialog
    assert dialog.isVisible()
    assert "--" not in dialog.problem.text() and "东经" in dialog.problem.text()
    assert "--" not in window.message_bar.label.text()
    # the columns were read with the sniffed encoding: the Chinese names are offered
    assert dialog.x_field.findData("东经") > 0
    dialog.x_field.setCurrentIndex(dialog.x_field.findData("东经"))
    dialog.y_field.setCurrentIndex(dialog.y_field.findData("北纬"))
    dialog.crs.setText("EPSG:4326")
    assert dialog.options() == {"x_field": "东经", "y_field": "北纬", "assign_crs": "EPSG:4326"}
    dialog.accept()
    qtbot.waitUntil(
        lambda: window.project is not None and bool(window.project.layers), timeout=30_000
    )
    layer = next(iter(window.project.layers.values()))
    assert len(layer.data) == 2 and layer.data.crs.to_epsg() == 4326
    assert round(layer.data.geometry.x.min(), 2) == 116.31
