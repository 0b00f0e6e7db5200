"""The analysis process's side of ``citydesk.workbench.analysis_process`` (see its docstring).

Started as ``python -m citydesk.workbench.analysis_child PORT`` with the shared key in the
environment, not through ``multiprocessing``'s spawn: spawn re-runs the parent's main script
in the child, so a user's script without an ``if __name__ == "__main__"`` guard would open a
second window. It connects back to the parent (mutually authenticated with the key, before
anything is unpickled), imports what analyses need, waits for one job, runs it with a
``feedback`` that talks over the connection, sends the outcome and exits.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
import threading
import traceback
from multiprocessing.connection import Client, Connection
from typing import NoReturn

from citydesk.layers.errors import CityDeskError, use_front_end
from citydesk.layers.feedback import CanceledError
from citydesk.layers.i18n import set_language

#: the environment variable that carries the connection's key (never the command line,
#: which other users of the machine can read)
KEY_VARIABLE = "CITYDESK_ANALYSIS_KEY"
#: the parent's import path: a job from a script's own folder or a plugin folder imports here
PATH_VARIABLE = "CITYDESK_ANALYSIS_PATH"


class _ConnectionFeedback:
    """The child's side of ``feedback``: reports go up the connection, a cancel comes down it."""

    def __init__(self, conn: Connection, lock: threading.Lock) -> None:
        self._conn = conn
        self._lock = lock
        self._canceled = False
        self._last_progress = -1.0

    def send(self, message: tuple) -> None:
        with self._lock:  # solvers report from their own threads
            self._conn.send(message)

    def set_progress(self, pct: float) -> None:
        if abs(pct - self._last_progress) >= 0.5 or pct >= 100:  # no flood of tiny steps
            self._last_progress = pct
            self.send(("progress", float(pct)))

    def push_info(self, msg: str) -> None:
        self.send(("info", str(msg)))

    def is_canceled(self) -> bool:
        with self._lock:
            while not self._canceled and self._conn.poll():
                self._canceled = self._conn.recv() == "cancel"
        return self._canceled


class _LogToParent(logging.Handler):
    def __init__(self, feedback: _ConnectionFeedback) -> None:
        super().__init__()
        self._feedback = feedback

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(OSError, ValueError):  # the parent is gone: nobody to tell
            self._feedback.send(("log", record.levelno, record.name, record.getMessage()))


def serve(conn: Connection, preload: tuple[str, ...]) -> None:
    """Import what analyses need, wait for one job, run it, report."""
    for name in preload:
        with contextlib.suppress(ImportError):  # a missing part fails in the job, with its message
            importlib.import_module(name)
    try:
        job = conn.recv()
    except EOFError:  # the parent closed the connection: it is exiting
        return
    if job is None:
        return
    fn, args, kwargs, language, front, level = job
    set_language(language)
    use_front_end(front)
    feedback = _ConnectionFeedback(conn, threading.Lock())
    root = logging.getLogger()
    root.setLevel(level)
    root.addHandler(_LogToParent(feedback))
    try:
        result = fn(*args, feedback=feedback, **kwargs)
        reply: tuple = ("done", result)
    except CanceledError:
        reply = ("canceled", None)
    except CityDeskError as exc:
        reply = ("error", exc)
    except Exception as exc:  # the parent shows it; this process ends either way
        reply = ("crashed", (f"{type(exc).__name__}: {exc}", traceback.format_exc()))
    if reply[0] == "done" and feedback.is_canceled():
        reply = ("canceled", None)
    try:
        feedback.send(reply)
    except Exception as exc:  # a result that cannot be pickled is a bug; say which
        feedback.send(("crashed", (f"{type(exc).__name__}: {exc}", traceback.format_exc())))


def main(argv: list[str]) -> NoReturn:
    port = int(argv[0])
    preload = tuple(name for name in (argv[1] if len(argv) > 1 else "").split(",") if name)
    key = bytes.fromhex(os.environ.pop(KEY_VARIABLE))
    sys.path.extend(
        p for p in os.environ.pop(PATH_VARIABLE, "").split(os.pathsep) if p not in sys.path
    )
    conn = Client(("127.0.0.1", port), authkey=key)
    try:
        serve(conn, preload)
    finally:
        conn.close()
    # leave at once: the reply is sent, and tearing down an interpreter that holds a solver's
    # threads and a project's data took over a second, which a cancel would wait for
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
