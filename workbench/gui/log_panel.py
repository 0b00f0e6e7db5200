"""The log panel: what CityDesk's loggers say, in a dock (View > Log).

A ``logging.Handler`` hands each record to the GUI thread through a queued Qt signal, so a
worker thread's log line never touches a widget directly. Warnings and errors are coloured;
the panel keeps the last few thousand lines.
"""

from __future__ import annotations

import contextlib
import logging

from PyQt5.QtCore import QObject, pyqtSignal
from PyQt5.QtGui import QColor, QTextCharFormat
from PyQt5.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from citydesk.layers.logs import ROOT_LOGGER

from .i18n import N_, tr

MAX_LINES = 5000


class _Bridge(QObject):
    record = pyqtSignal(int, str)


class _QtHandler(logging.Handler):
    def __init__(self, bridge: _Bridge) -> None:
        super().__init__(logging.DEBUG)
        self.bridge: _Bridge | None = bridge
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        bridge = self.bridge  # logging holds self.lock around emit: see detach
        if bridge is None:
            return
        with contextlib.suppress(RuntimeError):  # the panel is gone (window closed)
            bridge.record.emit(record.levelno, self.format(record))

    def detach(self) -> None:
        """Forget the bridge before Qt deletes it. Under the handler's lock, so a worker
        thread's emit in flight (a project loading in the background logs) finishes first:
        without it, a window closing while another opened segfaulted in emit (seen once in
        the GUI tests, where one test's window is destroyed as the next one loads)."""
        with self.lock:  # a Handler always has its lock
            self.bridge = None


def _detach(logger: logging.Logger, handler: _QtHandler) -> None:
    handler.detach()
    logger.removeHandler(handler)


class LogPanel(QWidget):
    """A read-only view of the log with a level filter."""

    LEVELS = (
        (N_("Info"), logging.INFO),
        (N_("Debug"), logging.DEBUG),
        (N_("Warnings"), logging.WARNING),
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = QPlainTextEdit(self)
        self.view.setReadOnly(True)
        self.view.setMaximumBlockCount(MAX_LINES)
        self.level = QComboBox(self)
        for label, level in self.LEVELS:
            self.level.addItem(tr(label), level)
        clear = QPushButton(tr("Clear"), self)
        clear.clicked.connect(self.view.clear)
        bar = QHBoxLayout()
        bar.addWidget(self.level)
        bar.addStretch(1)
        bar.addWidget(clear)
        column = QVBoxLayout(self)
        column.setContentsMargins(2, 2, 2, 2)
        column.addLayout(bar)
        column.addWidget(self.view)
        self._bridge = _Bridge(self)
        self._bridge.record.connect(self._append)
        self.handler = _QtHandler(self._bridge)
        logger = logging.getLogger(ROOT_LOGGER)
        logger.addHandler(self.handler)
        if logger.level == logging.NOTSET or logger.level > logging.INFO:
            logger.setLevel(logging.INFO)
        handler = self.handler  # not self: the wrapper is half gone when destroyed fires
        self.destroyed.connect(lambda *_: _detach(logger, handler))

    def _append(self, level: int, text: str) -> None:
        if level < int(self.level.currentData()):
            return
        fmt = QTextCharFormat()
        if level >= logging.ERROR:
            fmt.setForeground(QColor("#b00020"))
        elif level >= logging.WARNING:
            fmt.setForeground(QColor("#9a6700"))
        cursor = self.view.textCursor()
        cursor.movePosition(cursor.End)
        cursor.insertText(text + "\n", fmt)
        self.view.setTextCursor(cursor)

    def text(self) -> str:
        return self.view.toPlainText()
