"""Run domain work off the GUI thread, with progress, Cancel, and errors in the message bar.

The domain code only sees the ``feedback`` contract (``citydesk.layers.feedback``). ``QtFeedback``
implements it thread-safely: progress travels to the GUI thread as a queued signal, and
cancellation is a ``threading.Event`` the worker polls. Results and errors come back on the GUI
thread, so callbacks may touch widgets; domain code never does.

Domain tasks run on Python threads (a ``ThreadPoolExecutor``), not on ``QThreadPool``: pyproj
3.7 segfaults creating its first CRS in a thread started by Qt (reproduced with three
concurrent ``load_project`` calls), while the same work is fine on Python threads. The map
canvas uses Python threads for the same reason (preparing a layer reprojects it).
"""

from __future__ import annotations

import contextlib
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

from PyQt5 import sip
from PyQt5.QtCore import QObject, Qt, QTimer, pyqtSignal
from PyQt5.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from citydesk.layers.errors import CityDeskError
from citydesk.layers.feedback import CanceledError
from citydesk.workbench.analysis_process import AnalysisCrashed

from .i18n import tr

#: parallel domain tasks (the machines CityDesk targets have 2-8 cores; GDAL releases the GIL)
WORKERS = 4


class QtFeedback(QObject):
    progress = pyqtSignal(float)
    info = pyqtSignal(str)

    def __init__(self) -> None:
        super().__init__()
        self._cancel = threading.Event()

    def set_progress(self, pct: float) -> None:
        self.progress.emit(float(pct))

    def push_info(self, msg: str) -> None:
        self.info.emit(str(msg))

    def is_canceled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()


class _TaskSignals(QObject):
    finished = pyqtSignal(object)
    failed = pyqtSignal(str, str)  # message, details
    canceled = pyqtSignal()


class Task:
    """``fn(feedback)`` run on a worker thread; exactly one of the three signals fires."""

    def __init__(self, name: str, fn: Callable[[QtFeedback], Any]) -> None:
        self.name = name
        self.fn = fn
        self.feedback = QtFeedback()
        self.signals = _TaskSignals()

    def run(self) -> None:
        try:
            result = self.fn(self.feedback)
        except CanceledError:
            self.signals.canceled.emit()
        except CityDeskError as exc:
            self.signals.failed.emit(exc.message, "")
        except AnalysisCrashed as exc:  # the child's own traceback, not the relay's
            self.signals.failed.emit(exc.message, exc.details)
        except Exception as exc:  # report, never crash the application
            self.signals.failed.emit(f"{type(exc).__name__}: {exc}", traceback.format_exc())
        else:
            if self.feedback.is_canceled():
                self.signals.canceled.emit()
            else:
                self.signals.finished.emit(result)


class TaskRow(QWidget):
    def __init__(self, task: Task) -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        self.label = QLabel(task.name)
        self.bar = QProgressBar()
        self.bar.setRange(0, 100)
        self.cancel_button = QPushButton(tr("Cancel"))
        self.cancel_button.clicked.connect(task.feedback.cancel)
        self.cancel_button.clicked.connect(self._cancelling)
        layout.addWidget(self.label, 2)
        layout.addWidget(self.bar, 3)
        layout.addWidget(self.cancel_button)
        self.task_name = task.name
        # bound methods, not lambdas: Qt drops the connection when this row is deleted, so a
        # late progress report from a worker cannot reach a destroyed progress bar
        task.feedback.progress.connect(self._progress, Qt.QueuedConnection)
        task.feedback.info.connect(self._info, Qt.QueuedConnection)

    def _cancelling(self) -> None:
        """Say at once that the cancel was heard; the task stops at its next check (a solver
        is killed within its polling interval)."""
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText(tr("Cancelling…"))
        self.label.setText(tr("{task}: cancelling…").format(task=self.task_name))

    def _progress(self, pct: float) -> None:
        self.bar.setValue(round(pct))

    def _info(self, message: str) -> None:
        self.label.setText(f"{self.task_name}: {message}")


class TaskManager(QWidget):
    """The task dock's content: one row per running task."""

    error = pyqtSignal(str, str)
    active_changed = pyqtSignal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.addStretch(1)
        self._running: dict[int, tuple[Task, TaskRow]] = {}
        self.pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="citydesk-task")

    def start(
        self,
        name: str,
        fn: Callable[[QtFeedback], Any],
        on_done: Callable[[Any], None] | None = None,
        on_canceled: Callable[[], None] | None = None,
    ) -> Task:
        task = Task(name, fn)
        row = TaskRow(task)
        self._layout.insertWidget(self._layout.count() - 1, row)
        self._running[id(task)] = (task, row)
        self.active_changed.emit(len(self._running))

        def finish() -> bool:
            """Drop the task's row; False when the window closed while the task ran (its
            result has nowhere to go, and touching the deleted widgets would raise)."""
            if sip.isdeleted(self):
                return False
            task_row = self._running.pop(id(task), None)
            if task_row and not sip.isdeleted(task_row[1]):
                task_row[1].deleteLater()
            self.active_changed.emit(len(self._running))
            return True

        def done(result: Any) -> None:
            if finish() and on_done:
                on_done(result)

        def failed(message: str, details: str) -> None:
            if finish():
                self.error.emit(tr("{task} failed: {msg}").format(task=name, msg=message), details)

        def canceled() -> None:
            if finish() and on_canceled:
                on_canceled()

        task.signals.finished.connect(done, Qt.QueuedConnection)
        task.signals.failed.connect(failed, Qt.QueuedConnection)
        task.signals.canceled.connect(canceled, Qt.QueuedConnection)
        self.pool.submit(task.run)
        return task

    def active(self) -> int:
        return len(self._running)

    def abandon(self) -> None:
        """The window is closing: cancel every running task and drop its result. A result
        delivered after the window's widgets are gone would reach deleted C++ objects (a
        scenario run finishing after its window closed crashed the next window's event
        loop)."""
        for task, _row in list(self._running.values()):
            task.feedback.cancel()
            for signal in (task.signals.finished, task.signals.failed, task.signals.canceled):
                with contextlib.suppress(TypeError):  # nothing connected
                    signal.disconnect()
        self._running.clear()


class MessageBar(QWidget):
    """A dismissable bar above the map, as QGIS has: errors and warnings with details on
    demand, and "done" notices for files written, with a button to open their folder (a
    report or a PDF written with only a status-bar line left users asking whether it
    worked)."""

    _STYLES: ClassVar[dict[str, str]] = {
        "warning": "MessageBar { background: #fde2e1; border-bottom: 1px solid #e0a0a0; }",
        "done": "MessageBar { background: #dff3e0; border-bottom: 1px solid #8fc79a; }",
    }

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.details_button = QPushButton(tr("Details"))
        self.open_button = QPushButton(tr("Open folder"))
        self.close_button = QPushButton("×")
        self.close_button.setFixedWidth(28)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.details_button)
        layout.addWidget(self.open_button)
        layout.addWidget(self.close_button)
        self.setAttribute(Qt.WA_StyledBackground, True)
        self.details_button.clicked.connect(self._show_details)
        self.open_button.clicked.connect(self._open_folder)
        self.close_button.clicked.connect(self.hide)
        self._details = ""
        self.folder = ""
        self.level = "warning"
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._fade)
        self.hide()

    def _show(self, level: str, message: str) -> None:
        self.level = level
        self.setStyleSheet(self._STYLES[level])
        self.label.setText(message)
        self.show()

    def show_message(self, message: str, details: str = "") -> None:
        """An error or warning: it stays until dismissed."""
        self._timer.stop()
        self._details = details
        self.details_button.setVisible(bool(details))
        self.open_button.hide()
        self._show("warning", message)

    def show_done(self, message: str, path: str | Path | None, seconds: float = 20.0) -> None:
        """Something finished: say so, offer the folder of the file (or folder) it wrote,
        if any, and go away by itself unless an error replaces it."""
        target = Path(path) if path is not None else None
        self.folder = "" if target is None else str(target if target.is_dir() else target.parent)
        self.details_button.hide()
        self.open_button.setVisible(target is not None)
        self._show("done", message)
        self._timer.start(int(seconds * 1000))

    def _fade(self) -> None:
        if self.level == "done":
            self.hide()

    def _open_folder(self) -> None:
        from PyQt5.QtCore import QUrl
        from PyQt5.QtGui import QDesktopServices

        QDesktopServices.openUrl(QUrl.fromLocalFile(self.folder))

    def _show_details(self) -> None:
        from PyQt5.QtWidgets import QMessageBox

        box = QMessageBox(QMessageBox.Warning, "CityDesk", self.label.text(), parent=self)
        box.setDetailedText(self._details)
        box.exec_()
