"""Walk the three users' journeys through the workbench and photograph each step, in
English and in Chinese (issue 20: "check every journey with screenshots in both
languages"). Offscreen; writes PNGs named ``<step>_<lang>.png`` into OUT (default
/tmp/citydesk-journeys). Look at them as a user would; the best go to docs/images/.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/journey_screenshots.py [OUT]

- planner: the demo project, Planning scenarios, the baseline run and its comparison;
- dispatcher: the demo case history replayed to now, a case card, Due soon, the dashboard;
- plugin author: Processing's Buffer dialog and the plugin manager;
- anyone: Add layer with options on a GB18030 CSV whose coordinate columns no detector knows.
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

log = logging.getLogger("journeys")


def main(out: Path) -> int:
    from PyQt5.QtCore import QSettings
    from PyQt5.QtWidgets import QApplication

    from citydesk.layers.demo import SHIPPED_DEMO
    from citydesk.layers.i18n import set_language
    from citydesk.workbench.gui.i18n import install_translator
    from citydesk.workbench.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    out.mkdir(parents=True, exist_ok=True)

    def spin(seconds: float, until=lambda: False) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            if until():
                return True
            time.sleep(0.01)
        return False

    def shot(widget, name: str, lang: str) -> None:
        spin(0.4)
        path = out / f"{name}_{lang}.png"
        widget.grab().save(str(path))
        log.info("wrote %s", path)

    for lang in ("en", "zh_CN"):
        install_translator(app, lang)
        folder = Path(tempfile.mkdtemp())
        project = shutil.copyfile(SHIPPED_DEMO, folder / "demo.gpkg")
        window = MainWindow(QSettings(str(folder / "settings.ini"), QSettings.IniFormat))
        window.resize(1440, 900)
        window.show()
        window.open_project(str(project))
        spin(60, lambda w=window: w.project is not None and not w.canvas.is_rendering())
        shot(window, "map", lang)

        # the planner
        panel = window.open_planning()
        panel.add_demo()
        spin(1)
        panel.check_only(["baseline"])
        panel.last_results = None
        panel.run_checked()
        spin(600, lambda p=panel: p.last_results is not None)
        spin(60, lambda w=window: w.tasks.active() == 0)
        shot(window, "planner_baseline_run", lang)

        # the plugin author
        dialog = window.plugin_actions.algorithm_dialog("citydesk:buffer", exec_dialog=False)
        dialog.show()
        shot(dialog, "processing_buffer", lang)
        dialog.close()
        manager = window.plugin_actions.open_manager()
        shot(manager, "plugin_manager", lang)
        manager.close()

        # anyone adding a city's own file
        csv = folder / "stations.csv"
        csv.write_bytes("名称,东经,北纬\n中关村站,116.31,39.98\n".encode("gb18030"))
        window.add_layer(str(csv))
        spin(30, lambda w=window: getattr(w, "layer_options_dialog", None) is not None)
        shot(window.layer_options_dialog, "layer_options", lang)
        shot(window, "layer_options_window", lang)
        window.layer_options_dialog.reject()
        window.message_bar.hide()  # dismissed, as the user would

        # the dispatcher
        window.action_demo_cases.trigger()
        spin(300, lambda w=window: w.desk_panel is not None and "unit_grid" in w.project.layers)
        desk = window.desk_panel
        spin(5)
        if len(desk.frame):
            desk.open_case(str(desk.frame["case_id"].iloc[0]))
        shot(window, "dispatcher_desk", lang)
        desk.tabs.setCurrentIndex(1)
        shot(window, "dispatcher_due_soon", lang)
        desk.tabs.setCurrentIndex(2)
        desk.dashboard.refresh()
        spin(120, lambda d=desk: d.dashboard.board is not None and len(d.dashboard.canvases) == 3)
        shot(window, "dispatcher_dashboard", lang)
        window.ask_unsaved = lambda: "discard"  # nothing to ask offscreen: a throwaway copy
        window.close()
        window.deleteLater()
        spin(1)
    install_translator(app, "en")
    set_language("en")
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/citydesk-journeys")))
