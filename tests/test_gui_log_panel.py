"""The log panel's handler and a window going away: a worker thread's log line in flight
while the panel was deleted segfaulted once in the GUI tests (one test's window destroyed as
the next one's project loaded in the background)."""

from __future__ import annotations

import logging
import os
import threading

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PyQt5")

from citydesk.layers.logs import ROOT_LOGGER

pytestmark = pytest.mark.gui


def test_a_deleted_panel_leaves_the_logger_and_worker_lines_are_safe(qtbot):
    from PyQt5 import sip

    from citydesk.workbench.gui.log_panel import LogPanel

    logger = logging.getLogger(ROOT_LOGGER)
    panel = LogPanel()
    handler = panel.handler
    assert handler in logger.handlers
    stop = threading.Event()

    def chatter() -> None:  # a background task logging while the window closes
        while not stop.is_set():
            logging.getLogger(f"{ROOT_LOGGER}.test").info("from a worker thread")

    worker = threading.Thread(target=chatter)
    worker.start()
    try:
        qtbot.wait(50)
        sip.delete(panel)  # what closing the window does to its docks
        qtbot.wait(50)
    finally:
        stop.set()
        worker.join()
    assert handler not in logger.handlers and handler.bridge is None
    logging.getLogger(f"{ROOT_LOGGER}.test").info("after: nobody listens, nothing breaks")
