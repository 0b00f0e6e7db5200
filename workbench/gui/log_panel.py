"""The log panel: what CityDesk's loggers say, in a dock (View > Log).

A ``logging.Handler`` hands each record to the GUI thread through a queued Qt signal, so a
worker thread's log line never touches a widget directly. Warnings and errors are coloured;
the panel keeps the last few thousand lines.
"""

from __future__ import annotations

import contextlib
import functools
import logging

from PyQt5.QtCore import QObject, pyqtSignal, pyqtSlot
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
        self.bridge = bridge
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(RuntimeError):  # the bridge is gone (interpreter exit)
            self.bridge.record.emit(record.levelno, self.format(record))


@functools.cache  # the one handler of this process, made when the first panel asks
def shared_handler() -> _QtHandler:
    """The process's one log handler and the bridge it emits on, made once and never
    removed: each panel connects to the bridge, and Qt drops that connection when the panel
    is deleted. A handler and bridge per panel, detached when the panel's ``destroyed``
    fired, segfaulted twice in the GUI tests (a worker thread's line in flight as a window
    closed, then the ``destroyed`` slot itself while the next window's project loaded)."""
    handler = _QtHandler(_Bridge())  # no parent: lives as long as the process
    logging.getLogger(ROOT_LOGGER).addHandler(handler)
    return handler


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
        self.handler = shared_handler()
        self.handler.bridge.record.connect(self._append)
        logger = logging.getLogger(ROOT_LOGGER)
        if logger.level == logging.NOTSET or logger.level > logging.INFO:
            logger.setLevel(logging.INFO)

    @pyqtSlot(int, str)  # a slot of the panel itself: its connection dies with it
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
