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


def test_panels_come_and_go_while_a_worker_thread_logs(qtbot):
    """Twenty panels made and deleted while a background task logs: nothing crashes, the
    process keeps one handler, and a live panel gets the lines."""
    from PyQt5 import sip

    from citydesk.workbench.gui.log_panel import LogPanel

    logger = logging.getLogger(ROOT_LOGGER)
    stop = threading.Event()

    def chatter() -> None:  # a background task logging while windows close
        while not stop.is_set():
            logging.getLogger(f"{ROOT_LOGGER}.test").info("from a worker thread")

    worker = threading.Thread(target=chatter)
    worker.start()
    try:
        for _ in range(20):
            panel = LogPanel()
            qtbot.wait(10)
            sip.delete(panel)  # what closing the window does to its docks
            qtbot.wait(10)
    finally:
        stop.set()
        worker.join()
    ours = [h for h in logger.handlers if type(h).__name__ == "_QtHandler"]
    assert len(ours) == 1
    live = LogPanel()
    qtbot.addWidget(live)
    logging.getLogger(f"{ROOT_LOGGER}.test").warning("after: the live panel shows it")
    qtbot.waitUntil(lambda: "after: the live panel shows it" in live.text(), timeout=5000)
