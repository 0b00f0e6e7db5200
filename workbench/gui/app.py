"""Start the workbench: QApplication, translation, main window, the project to open."""

from __future__ import annotations

import sys

from PyQt5.QtWidgets import QApplication

from citydesk.layers.demo import demo_project_path

from .i18n import install_translator
from .main_window import MainWindow


def create_window(project_path: str | None = None, lang: str | None = None) -> MainWindow:
    """Build the main window (the QApplication must exist) and start loading the project
    (the demo by default) in the background, so the window appears at once."""
    app = QApplication.instance()
    install_translator(app, lang)
    window = MainWindow()
    window.open_project(str(project_path or demo_project_path()))
    return window


def run_gui(project_path: str | None = None, lang: str | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("CityDesk")
    app.setOrganizationName("CityDesk")
    window = create_window(project_path, lang)
    window.show()
    return app.exec_()
