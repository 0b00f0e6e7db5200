"""Run one analysis in its own process, with the ``feedback`` contract across the boundary.

Why a process: a scenario run, a siting or a land-use front imports SciPy, HiGHS and PuLP and
parses the project's layers. From a thread those steps hold the interpreter lock for 0.1-0.3 s
at a time, and the window could not repaint for that long (issue 20: over 200 ms when a
scenario run started). In a process of its own the analysis holds no lock of the window's.
Only its picklable result comes back. A child process also keeps the project file safe: a
crash in a solver or in GDAL ends the child, never the desk that has the same file open.

How: one spare process is kept started and has imported the heavy modules already, so a run
does not wait for an interpreter to start (about 2 s here). It is a plain ``python -m
citydesk.workbench.analysis_child`` connected back over a local socket with a one-time key, not
a ``multiprocessing`` spawn, which would re-run the caller's main script in the child. A run
takes the spare, starts the next one, sends ``(function, args)`` and relays progress, notices
and log records back to the caller's ``feedback`` and ``logging``. Cancel is a message the
child's feedback sees at its next ``is_canceled()``; a child that has not stopped within
``KILL_AFTER_S`` is killed, so a cancel always takes effect. Each process runs one analysis and
exits: nothing leaks from one run into the next. This module has no Qt: the workbench's task
runner calls ``run`` on a worker thread, and scripts can call it too.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing.connection import Connection, answer_challenge, deliver_challenge
from typing import Any

from citydesk.layers.errors import front_end
from citydesk.layers.feedback import CanceledError, Feedback
from citydesk.layers.i18n import _, current_language

from .analysis_child import KEY_VARIABLE, PATH_VARIABLE

log = logging.getLogger(__name__)

#: a cancelled child that has not stopped after this long is killed (target: cancel within 2 s)
KILL_AFTER_S = 1.5
#: an interpreter that has not connected back after this long is given up
START_TIMEOUT_S = 60.0
#: what the spare imports while it waits, so a run starts at once
PRELOAD = (
    "citydesk.planning.scenario_run",
    "citydesk.planning.landuse_front",
    "citydesk.planning.station_siting",
    "citydesk.optimization.solve",
    "pulp",
    "highspy",
    "networkx",
)


class AnalysisCrashed(Exception):
    """The analysis failed with an unexpected error, or its process died. ``details`` holds
    the child's traceback (the workbench shows it behind "Details")."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.details = details


def _stopped(code: int | None) -> AnalysisCrashed:
    return AnalysisCrashed(
        _("The analysis process stopped unexpectedly (exit code {code}).").format(code=code)
    )


class _Child:
    """A started analysis process and its authenticated connection."""

    def __init__(self, proc: subprocess.Popen, conn: Connection) -> None:
        self.proc = proc
        self.conn = conn

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, wait: float) -> None:
        """Give it ``wait`` seconds to exit by itself, then kill it."""
        try:
            self.proc.wait(wait)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class AnalysisProcesses:
    """Starts analysis processes, keeping one spare ready (see the module docstring)."""

    def __init__(self, preload: tuple[str, ...] = PRELOAD) -> None:
        self._preload = preload
        self._lock = threading.Lock()
        self._spare: Future[_Child] | None = None
        # spares start on this thread: connecting waits for an interpreter to come up
        self._starter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="citydesk-spare")

    def _start(self) -> _Child:
        key = secrets.token_bytes(32)
        with socket.create_server(("127.0.0.1", 0)) as server:
            server.settimeout(0.2)
            command = [
                sys.executable,
                "-m",
                "citydesk.workbench.analysis_child",
                str(server.getsockname()[1]),
                ",".join(self._preload),
            ]
            env = dict(
                os.environ, **{KEY_VARIABLE: key.hex(), PATH_VARIABLE: os.pathsep.join(sys.path)}
            )
            proc = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL)
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                try:
                    sock, _address = server.accept()
                    break
                except TimeoutError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        proc.kill()
                        proc.wait()
                        raise _stopped(proc.returncode) from None
        sock.settimeout(None)
        conn = Connection(sock.detach())
        # both sides prove they hold the key before either unpickles anything
        deliver_challenge(conn, key)
        answer_challenge(conn, key)
        return _Child(proc, conn)

    def warm(self) -> None:
        """Start the spare in the background, unless one is ready or starting (the planning
        dock calls this when it opens)."""
        with self._lock:
            spare = self._spare
            if spare is None or (spare.done() and not _usable(spare)):
                self._spare = self._starter.submit(self._start)

    def _take(self) -> _Child:
        with self._lock:
            spare, self._spare = self._spare, None
        child = None
        if spare is not None:
            with contextlib.suppress(Exception):  # a spare that failed to start: start afresh
                child = spare.result()
        if child is None or not child.alive():
            child = self._start()
        self.warm()  # the next run finds a spare ready
        return child

    def shutdown(self) -> None:
        """Let the spare go (at exit)."""
        with self._lock:
            spare, self._spare = self._spare, None
        if spare is not None:
            with contextlib.suppress(Exception):
                child = spare.result(timeout=START_TIMEOUT_S)
                with contextlib.suppress(OSError):
                    child.conn.send(None)
                child.conn.close()
                child.stop(2)
        self._starter.shutdown(wait=False)

    def run(self, fn: Callable[..., Any], *args: Any, feedback: Feedback, **kwargs: Any) -> Any:
        """``fn(*args, feedback=..., **kwargs)`` in a process; blocks until it ends and
        returns its result. ``fn`` must be importable by name (a module-level function or a
        ``functools.partial`` of one) and its result picklable. Raises what the child
        raised: ``CanceledError``, the ``CityDeskError`` itself, or ``AnalysisCrashed``."""
        child = self._take()
        try:
            child.conn.send(
                (fn, args, kwargs, current_language(), front_end(), logging.getLogger().level)
            )
            return _relay(child, feedback)
        finally:
            child.conn.close()
            # reaped in the background: the outcome is known, the caller need not wait
            threading.Thread(target=child.stop, args=(KILL_AFTER_S,), daemon=True).start()


def _usable(spare: Future[_Child]) -> bool:
    return spare.exception() is None and spare.result().alive()


def _relay(child: _Child, feedback: Feedback) -> Any:
    """Pass the child's reports to ``feedback`` and ``logging`` until it ends; pass a cancel
    down, and kill a child that has not stopped ``KILL_AFTER_S`` after it."""
    conn = child.conn
    canceled_at: float | None = None
    while True:
        if canceled_at is None and feedback.is_canceled():
            canceled_at = time.monotonic()
            with contextlib.suppress(OSError):
                conn.send("cancel")
        if canceled_at is not None and time.monotonic() - canceled_at > KILL_AFTER_S:
            child.proc.kill()  # the solver did not look up in time: stop it anyway
            raise CanceledError()
        try:
            if not conn.poll(0.05):
                if not child.alive() and not conn.poll():
                    raise _stopped(child.proc.returncode)
                continue
            kind, *payload = conn.recv()
        except (EOFError, OSError):
            child.stop(1)
            raise _stopped(child.proc.returncode) from None
        if kind == "progress":
            feedback.set_progress(payload[0])
        elif kind == "info":
            feedback.push_info(payload[0])
        elif kind == "log":
            level, name, message = payload
            logging.getLogger(name).log(level, "%s", message)
        elif kind == "done":
            return payload[0]
        elif kind == "canceled":
            raise CanceledError()
        elif kind == "error":
            raise payload[0]
        else:  # "crashed"
            message, details = payload[0]
            raise AnalysisCrashed(message, details)


_shared: AnalysisProcesses | None = None


def shared() -> AnalysisProcesses:
    """The process-wide runner (one spare for every window of the application)."""
    global _shared
    if _shared is None:
        _shared = AnalysisProcesses()
        atexit.register(_shared.shutdown)
    return _shared
