"""HiGHS in a child process, so that a deadline or a Cancel always stops it.

HiGHS looks at its time limit and at its interrupt callback in most of its steps, but not
in all of them: on the nine-Cambridges land-use model (118,044 parcels) its root node's
rounding heuristic ran minutes past a 60 s limit (py-spy showed it there), and a RINS
sub-MIP's presolve once sat 20 minutes past every limit of the land-use front. Inside the
CityDesk process nothing could stop such a solve, not even Cancel in the workbench.

In a child process it always stops. The child gets the model as HiGHS holds it (arrays, no
code: a pickle of numbers over a pipe from its own parent), reports every better plan and,
every few seconds, its nodes and bound, and at the deadline or a Cancel it is asked to stop
(SIGUSR1, which sets HiGHS's own interrupt). A child still running :data:`KILL_AFTER_S`
later is killed, and the best plan it reported is the result, with the last bound it
reported. The cost is one process start per solving thread (the child is kept between
solves) and a copy of each model sent to it (measured in docs/OPTIMIZATION.md).

Run as ``python -m citydesk.optimization.highs_process`` it is that child.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np

#: after asking the child to stop, how long it may take before it is killed: HiGHS returns
#: from an interrupt within milliseconds wherever it looks at the callback at all
KILL_AFTER_S = 0.5
#: how often the parent looks at the clock and at Cancel while the child runs
POLL_S = 0.05

_HEADER = struct.Struct("<Q")


@dataclass(frozen=True)
class HighsRun:
    """What the child's HiGHS reported, in HiGHS's own terms (it minimises; the objective
    and bound leave out nothing the model's offset holds)."""

    status: int | None  # a HighsModelStatus value; None when the child was killed
    objective: float | None  # of the plan in ``values``
    bound: float | None  # the MIP's dual bound, or None
    values: np.ndarray | None  # column values of the best plan, None without one
    stopped: str = ""  # "deadline" or "canceled" when the parent stopped it, else ""


class HighsChildError(RuntimeError):
    """The child process failed (not HiGHS's verdict on the model)."""


def model_arrays(model: Any) -> dict[str, Any]:
    """The model a ``highspy.Highs`` holds, as plain arrays the child can rebuild it from."""
    lp = model.getLp()
    matrix = lp.a_matrix_
    # a model without integer columns has an empty list here, which passModel refuses (a
    # "kError" that left the child's HiGHS empty: every LP through solve() came back with no
    # solution, and the land-use weights lost their normalisation); it gets zeros instead
    integrality = np.zeros(int(lp.num_col_), dtype=np.int32)
    if len(lp.integrality_):
        integrality[:] = [int(t) for t in lp.integrality_]
    return {
        "num_col": int(lp.num_col_),
        "num_row": int(lp.num_row_),
        "a_format": int(matrix.format_),
        "sense": int(lp.sense_),
        "offset": float(lp.offset_),
        "col_cost": np.asarray(lp.col_cost_, dtype=np.float64),
        "col_lower": np.asarray(lp.col_lower_, dtype=np.float64),
        "col_upper": np.asarray(lp.col_upper_, dtype=np.float64),
        "row_lower": np.asarray(lp.row_lower_, dtype=np.float64),
        "row_upper": np.asarray(lp.row_upper_, dtype=np.float64),
        "a_start": np.asarray(matrix.start_, dtype=np.int32),
        "a_index": np.asarray(matrix.index_, dtype=np.int32),
        "a_value": np.asarray(matrix.value_, dtype=np.float64),
        "integrality": integrality,
    }


def run_in_child(
    arrays: Mapping[str, Any],
    options: Mapping[str, Any],
    start: tuple[np.ndarray, np.ndarray] | None = None,
    deadline: float | None = None,
    canceled: Callable[[], bool] = lambda: False,
    report: Callable[[tuple], None] = lambda message: None,
    progress_s: float = 2.0,
    polish: bool = False,
    stall_s: float = 0.0,
) -> HighsRun:
    """Solve the model of :func:`model_arrays` with HiGHS ``options`` in this thread's child
    process (:class:`HighsWorker`, started the first time and kept for the next solves).

    ``start`` (column indices, values) is handed to HiGHS as a first plan. ``deadline``
    (``time.perf_counter()``) and ``canceled`` stop the child as the module says; ``report``
    receives ``("found", objective, seconds)`` for each better plan and
    ``("progress", nodes, best, bound, seconds)`` every ``progress_s``, in HiGHS's sense.
    ``polish``: with the integer columns fixed at the plan, one LP puts the continuous ones
    at their best (see ``PersistentLp._restricted_mip``). ``stall_s`` makes the child sleep
    that long once it has reported its first plan, as HiGHS does in the steps that never
    look at the clock (for tests).
    """
    worker = getattr(_workers, "worker", None)
    if worker is None:
        worker = _workers.worker = HighsWorker()
    job = {
        "model": dict(arrays),
        "options": dict(options),
        "start": start,
        "stall_s": stall_s,
        "progress_s": progress_s,
        "polish": polish,
    }
    return worker.solve(job, deadline, canceled, report)


_workers = threading.local()  # each thread's HighsWorker: solves run one at a time in it


class HighsWorker:
    """One child process that solves model after model, each sent whole.

    Kept between solves, so that a front of hundreds of small MIPs or an exact front of
    thousands of knapsack solves pays the process start (0.2 s) once, not per solve. A
    child that had to be killed is replaced at the next solve."""

    def __init__(self) -> None:
        self._child: subprocess.Popen | None = None
        self._messages: queue.Queue = queue.Queue()
        self._errors: BinaryIO | None = None
        self._finalizer: weakref.finalize | None = None

    def solve(self, job: dict, deadline, canceled, report) -> HighsRun:
        if self._child is None or self._child.poll() is not None:
            self._start()
        child = self._child
        assert child is not None and child.stdin is not None
        try:
            pickle.dump(job, child.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            child.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # the child has ended: _follow sees its end, and its stderr says why
        try:
            result = _follow(child, self._messages, deadline, canceled, report)
        except BaseException:  # a second Ctrl+C, or a report that failed: the job is lost
            with contextlib.suppress(OSError):
                child.kill()
            self._stop()
            raise
        if result is None or result.status is None:
            said = self._stop()  # killed, or ended on its own: the next solve starts anew
            if result is None:
                raise HighsChildError(said or "the HiGHS process ended without a result")
        return result

    def _start(self) -> None:
        self._stop()
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the child)
        child = subprocess.Popen(
            [sys.executable, "-m", "citydesk.optimization.highs_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
        )
        self._child, self._messages = child, queue.Queue()
        threading.Thread(
            target=_read_frames, args=(child.stdout, self._messages), daemon=True,
            name="highs-child",
        ).start()  # fmt: skip
        self._finalizer = weakref.finalize(self, _end, child)

    def _stop(self) -> str:
        """End the child (if any) and return the last line it wrote to stderr."""
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None
        self._child = None
        text = ""
        if self._errors is not None:
            self._errors.seek(0)
            lines = self._errors.read().decode("utf-8", "replace").strip().splitlines()
            text = lines[-1] if lines else ""
            self._errors.close()
            self._errors = None
        return text


def _end(child: subprocess.Popen) -> None:
    """Let an idle child end (its input closes), or kill one still solving."""
    with contextlib.suppress(OSError):
        if child.stdin is not None:
            child.stdin.close()
    try:
        child.wait(timeout=1.0)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def _follow(child, messages: queue.Queue, deadline, canceled, report) -> HighsRun | None:
    """Pass on the child's reports until its result comes or it is stopped (the parent's
    side of the module's protocol). None when the child ended without a result."""
    best: tuple[float, np.ndarray] | None = None
    bound: float | None = None
    asked_at: float | None = None
    stopped = ""
    while True:
        try:
            message = messages.get(timeout=POLL_S)
        except queue.Empty:
            message = None
        if message is not None:
            kind = message[0]
            if kind == "found":
                best = (message[1], message[3])
                report(("found", message[1], message[2]))
            elif kind == "progress":
                bound = message[3]
                report(message)
            elif kind == "done":
                status, objective, dual_bound, values = message[1:]
                return HighsRun(status, objective, dual_bound, values, stopped)
            elif kind == "eof":
                if stopped or canceled():
                    stopped = stopped or "canceled"
                    break
                return None
            continue
        now = time.perf_counter()
        if not stopped and canceled():
            stopped = "canceled"
        elif not stopped and deadline is not None and now >= deadline:
            stopped = "deadline"
        if stopped and asked_at is None:
            asked_at = now
            _ask_to_stop(child)
        if asked_at is not None and now - asked_at >= KILL_AFTER_S:
            child.kill()
            break
    objective, values = best if best is not None else (None, None)
    return HighsRun(None, objective, bound, values, stopped)


def _ask_to_stop(child: subprocess.Popen) -> None:
    usr1 = getattr(signal, "SIGUSR1", None)
    with contextlib.suppress(OSError):
        if usr1 is None:  # no such signal (Windows): stop it outright
            child.kill()
        else:
            child.send_signal(usr1)


def _read_frames(stream: BinaryIO, messages: queue.Queue) -> None:
    """The child's messages, each a length and a pickle, then ("eof",)."""
    try:
        while True:
            head = stream.read(_HEADER.size)
            if len(head) < _HEADER.size:
                break
            body = stream.read(_HEADER.unpack(head)[0])
            messages.put(pickle.loads(body))  # from our own child: numbers only
    except (OSError, EOFError, pickle.UnpicklingError):
        pass
    messages.put(("eof",))


# --- the child ------------------------------------------------------------------------------


def _child_main() -> None:
    """Read jobs from stdin until it closes, solve each, and write the messages to what
    was stdout.

    HiGHS writes its banner to stdout, so the protocol keeps stdout's descriptor for itself
    and points descriptor 1 at stderr before HiGHS is loaded."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    _die_with_parent()
    # Ctrl+C in a terminal reaches the whole process group: the parent decides what it
    # means (stop and keep what is proven, or abort) and tells the child
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stop = threading.Event()
    if hasattr(signal, "SIGUSR1"):
        signal.signal(signal.SIGUSR1, lambda *_: stop.set())
    import highspy

    def send(message: tuple) -> None:
        body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        out.write(_HEADER.pack(len(body)) + body)
        out.flush()

    parent = os.getppid()
    while True:
        try:
            job = pickle.load(sys.stdin.buffer)
        except EOFError:
            break
        stop.clear()  # a stop meant for the last job may have come after it ended
        send(_solve_job(highspy, job, stop, send, parent))
    out.close()


def _die_with_parent() -> None:
    """On Linux, be killed when the thread that started this child ends, however it ends
    (the workbench kills an analysis process that does not stop in time; its HiGHS child
    would otherwise run on, inside a step that never looks up, until that step ends)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the parent ended before that took effect
        os._exit(0)


def _solve_job(highspy, job: dict, stop: threading.Event, send, parent: int) -> tuple:
    """One job of :func:`run_in_child` in the child; the "done" message."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    m = job["model"]
    passed = h.passModel(
        m["num_col"], m["num_row"], len(m["a_value"]), m["a_format"], m["sense"], m["offset"],
        m["col_cost"], m["col_lower"], m["col_upper"], m["row_lower"], m["row_upper"],
        m["a_start"], m["a_index"], m["a_value"], m["integrality"],
    )  # fmt: skip
    if passed == highspy.HighsStatus.kError:  # a model HiGHS cannot hold is our mistake:
        raise RuntimeError("HiGHS refused the model")  # the parent raises with this line
    for key, value in job["options"].items():
        h.setOptionValue(key, value)
    if job["start"] is not None:
        index, values = job["start"]
        h.setSolution(len(index), np.asarray(index, dtype=np.int32), np.asarray(values))
    kinds = highspy.cb.HighsCallbackType
    said = [time.perf_counter()]

    def callback(kind, _message, data_out, data_in, _user) -> None:
        if kind == kinds.kCallbackMipImprovingSolution:
            values = np.array(data_out.mip_solution, dtype=np.float64)
            send(("found", data_out.objective_function_value, data_out.running_time, values))
            if job["stall_s"]:  # a step that never looks at the clock, for tests
                time.sleep(job["stall_s"])
                job["stall_s"] = 0.0
            return
        due = time.perf_counter() - said[0] >= job["progress_s"]
        if kind == kinds.kCallbackMipInterrupt and due:
            said[0] = time.perf_counter()
            send(
                (
                    "progress",
                    int(data_out.mip_node_count),
                    float(data_out.mip_primal_bound),
                    float(data_out.mip_dual_bound),
                    float(data_out.running_time),
                )
            )
        if stop.is_set() or os.getppid() != parent:
            data_in.user_interrupt = True

    h.setCallback(callback, None)
    for kind in (
        kinds.kCallbackMipInterrupt,
        kinds.kCallbackSimplexInterrupt,
        kinds.kCallbackIpmInterrupt,
        kinds.kCallbackMipImprovingSolution,
    ):
        h.startCallback(kind)
    h.run()
    info = h.getInfo()
    status = int(h.getModelStatus())
    if info.primal_solution_status != 2:  # no feasible plan
        return ("done", status, None, float(info.mip_dual_bound), None)
    values = np.asarray(h.getSolution().col_value, dtype=np.float64)
    objective = float(info.objective_function_value)
    integer = np.asarray(m["integrality"]) != 0
    bound = float(info.mip_dual_bound) if integer.any() else objective
    if job["polish"] and integer.any() and not integer.all():
        values, objective = _polish(highspy, h, m, integer, values, objective)
    return ("done", status, objective, bound, values)


def _polish(highspy, h, m: dict, integer: np.ndarray, values: np.ndarray, objective: float):
    """The plan's continuous columns at their best for its integer columns: one LP with
    those fixed (a column whose cost is only a front's tiny augmentation may be left
    anywhere the MIP's gap allows, which overstates that objective for the plan)."""
    n = m["num_col"]
    lower, upper = m["col_lower"].copy(), m["col_upper"].copy()
    lower[integer] = upper[integer] = np.round(values[integer])
    cols = np.arange(n, dtype=np.int32)
    h.changeColsBounds(n, cols, lower, upper)
    h.changeColsIntegrality(n, cols, np.zeros(n, dtype=np.uint8))
    h.setOptionValue("time_limit", float("inf"))  # the MIP may have used it
    h.clearSolver()
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return values, objective
    polished = float(h.getInfo().objective_function_value)
    better = max if m["sense"] == int(highspy.ObjSense.kMaximize) else min
    return np.asarray(h.getSolution().col_value, dtype=np.float64), better(objective, polished)


if __name__ == "__main__":
    _child_main()
