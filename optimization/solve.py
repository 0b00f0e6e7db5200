"""Run a PuLP model on CBC or HiGHS and report honestly what the solver proved.

Why this module exists: PuLP's own status is not enough to tell a user the truth.

* PuLP 3.3 sets ``status = Optimal`` when CBC stops at its time limit holding an incumbent;
  only ``sol_status = IntegerFeasible`` gives it away.
* CBC also says "Optimal solution found (within gap tolerance)" and PuLP reports
  ``sol_status = Optimal`` when a relative gap was allowed; the real gap is only in the log.
* HiGHS stops at a 0.01 % relative gap by default and calls that optimal.

So every solve here pins the gap the caller asked for, reads the solver's own bound (the CBC log,
or ``Highs.getInfo()``), and classifies the result as :class:`SolveStatus`: ``optimal`` only
when the bound meets the objective.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import re
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np
import pulp

from citydesk.layers.errors import CityDeskError
from citydesk.layers.feedback import CanceledError, Feedback, NullFeedback, check_canceled
from citydesk.layers.i18n import _

from .highs_process import HighsRun, model_arrays, run_in_child

log = logging.getLogger(__name__)

#: relative gap under which a bound and an objective count as equal (solver tolerances)
PROVEN_GAP = 1e-6
SOLVERS = ("cbc", "highs")
#: seconds an optimization may run unless the caller says otherwise (issue 18: a land-use
#: phasing once ran 15 minutes with no output); None in SolveOptions means no limit
DEFAULT_TIME_LIMIT_S = 600.0
#: how often the solver's progress (incumbent, bound, nodes) is reported while it runs
PROGRESS_EVERY_S = 2.0


class SolveStatus(StrEnum):
    """What the solver proved, in the words a planner needs."""

    OPTIMAL = "optimal"  # the bound meets the objective
    FEASIBLE = "feasible"  # a solution, with the proven bound and gap (time limit or gap stop)
    INFEASIBLE = "infeasible"  # proven: no solution satisfies the constraints
    UNBOUNDED = "unbounded"
    NO_SOLUTION = "no_solution"  # stopped (time limit) before any solution was found
    CANCELED = "canceled"  # the user stopped it

    @property
    def has_solution(self) -> bool:
        return self in (SolveStatus.OPTIMAL, SolveStatus.FEASIBLE)


@dataclass(frozen=True)
class SolveOptions:
    """How to solve: which solver, how long, how close to optimal.

    ``mip_gap`` is relative (0.001 = 0.1 %); 0 asks for a proof of optimality.
    ``time_limit`` is in seconds: :data:`DEFAULT_TIME_LIMIT_S` unless given; None for no
    limit at all (a choice the caller makes on purpose).
    """

    solver: str = "cbc"
    time_limit: float | None = DEFAULT_TIME_LIMIT_S
    mip_gap: float = 0.0
    threads: int | None = None
    #: the moment (``time.perf_counter()``) a multi-step run must end by, set by
    #: :meth:`left_after`: the solver is stopped there even while PuLP still writes or reads
    #: its files, which the solver's own clock does not count (a 5 s p-median took 13 s)
    deadline: float | None = None
    #: a land-use plan's whole MIP (:func:`citydesk.optimization.landuse.solve_landuse`):
    #: where CBC has not proven its plan in its first seconds, HiGHS goes on from it. False
    #: when the user named CBC
    highs_after_cbc: bool = True

    def __post_init__(self) -> None:
        if self.solver not in SOLVERS:
            raise CityDeskError(
                _("Unknown solver {name!r}.").format(name=self.solver),
                _("Use one of: {names}.").format(names=", ".join(SOLVERS)),
            )
        if self.mip_gap < 0 or self.mip_gap >= 1:
            raise CityDeskError(
                _("The MIP gap must be in [0, 1), not {gap}.").format(gap=self.mip_gap),
                _("Give a relative gap such as 0.001 for 0.1 %."),
            )
        if self.time_limit is not None and self.time_limit <= 0:
            raise CityDeskError(
                _("The time limit must be positive, not {t}.").format(t=self.time_limit),
                _("Give seconds, such as 60, or leave it out for no limit."),
            )

    def left_after(self, started: float) -> SolveOptions:
        """These options for the next solve of a multi-step run begun at ``started``
        (``time.perf_counter()``) whose whole time limit is ``time_limit``: the solver gets
        what remains, and a ``deadline`` at which it is stopped."""
        if self.time_limit is None:
            return self
        end = self.deadline if self.deadline is not None else started + self.time_limit
        left = end - time.perf_counter()
        return replace(self, time_limit=max(0.2, left), deadline=end)

    def ends_at(self) -> float | None:
        """The moment (``time.perf_counter()``) this solve must end: the run's deadline, or
        ``time_limit`` from now; None for no limit."""
        if self.deadline is not None or self.time_limit is None:
            return self.deadline
        return time.perf_counter() + self.time_limit

    def out_of_time(self) -> bool:
        """The run's deadline has passed: start no further step."""
        return self.deadline is not None and time.perf_counter() >= self.deadline


@dataclass(frozen=True)
class SolveOutcome:
    """The solver's verdict on one model, with the numbers that back it."""

    status: SolveStatus
    objective: float | None
    bound: float | None  # best proven bound (lower for minimisation, upper for maximisation)
    seconds: float
    solver: str

    @property
    def gap(self) -> float | None:
        """Relative gap |objective - bound| / max(1, |objective|), as CBC and HiGHS define it."""
        if self.objective is None or self.bound is None:
            return None
        return abs(self.objective - self.bound) / max(1.0, abs(self.objective))

    def describe(self) -> str:
        """One line for logs and reports: the status, the objective and what is proven."""
        if self.status is SolveStatus.OPTIMAL:
            return _("optimal (proven): {obj:,.6g} in {s:.1f} s").format(
                obj=self.objective, s=self.seconds
            )
        if self.status is SolveStatus.FEASIBLE:
            if self.gap is None:
                return _("feasible, not proven optimal (no bound): {obj:,.6g} in {s:.1f} s").format(
                    obj=self.objective, s=self.seconds
                )
            return _(
                "feasible, not proven optimal: {obj:,.6g}, bound {bound:,.6g}, gap {gap:.3%}"
                " in {s:.1f} s"
            ).format(obj=self.objective, bound=self.bound, gap=self.gap, s=self.seconds)
        return {
            SolveStatus.INFEASIBLE: _("infeasible: no plan satisfies every constraint"),
            SolveStatus.UNBOUNDED: _("unbounded: the objective can grow without limit"),
            SolveStatus.NO_SOLUTION: _("stopped at the time limit before finding a solution"),
            SolveStatus.CANCELED: _("canceled"),
        }[self.status]


def solve(
    problem: pulp.LpProblem,
    options: SolveOptions | None = None,
    feedback: Feedback | None = None,
    warm_start: Mapping[pulp.LpVariable, float] | None = None,
    cuts: bool | None = None,
) -> SolveOutcome:
    """Solve ``problem`` in place (variables get their values) and classify the result.

    ``cuts=False`` turns CBC's cut generators off, for formulations whose LP bound is already
    tight (the p-median's radius model: 3.1 s instead of 7.9 s on the benchmark's seed 42);
    None leaves each solver's default.

    ``warm_start`` gives starting values for some or all variables: CBC reads them as a MIP
    start, HiGHS as a (possibly partial) solution. Cancellation through ``feedback`` stops the
    solver itself, not only the next solve, and raises :class:`CanceledError`.
    """
    options = options or SolveOptions()
    feedback = feedback or NullFeedback()
    check_canceled(feedback)  # canceled while the model was built: never start the solver
    if warm_start:
        for var, value in warm_start.items():
            var.setInitialValue(_within_bounds(var, value))
    started = time.perf_counter()
    if options.out_of_time():  # nothing left of the run's time: do not start the solver
        return SolveOutcome(SolveStatus.NO_SOLUTION, None, None, 0.0, options.solver)
    if options.solver == "highs":
        outcome = _solve_highs(problem, options, feedback, bool(warm_start))
    else:
        outcome = _solve_cbc(problem, options, feedback, bool(warm_start), cuts)
    seconds = time.perf_counter() - started
    if outcome[0] is SolveStatus.CANCELED:
        raise CanceledError(_("canceled"))
    result = SolveOutcome(outcome[0], outcome[1], outcome[2], seconds, options.solver)
    log.info("%s: %s in %.2f s", problem.name, result.describe(), seconds)
    return result


def _within_bounds(var: pulp.LpVariable, value: float) -> float:
    """A start value inside the variable's bounds: a solver's plan may put a binary at
    1.0000000000000366, which PuLP refuses as a start (HiGHS's exact fronts crashed on it)."""
    if var.lowBound is not None:
        value = max(value, var.lowBound)
    if var.upBound is not None:
        value = min(value, var.upBound)
    return value


#: how far from a whole number an integer variable's value may be and still be read as it
#: (HiGHS's own mip_feasibility_tolerance is 1e-6)
INTEGRALITY_TOLERANCE = 1e-6


def highs_available() -> bool:
    try:
        import highspy  # noqa: F401
    except ImportError:
        return False
    quiet_highs()
    return True


@functools.cache
def quiet_highs() -> None:
    """Swallow the banner HiGHS prints on stdout when its first model is made in a process
    (from C++, so ``msg=False`` cannot stop it): ``--json`` output must stay JSON. The
    first model is made here with file descriptor 1 pointed at /dev/null for that moment."""
    import highspy

    sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


# --- CBC ------------------------------------------------------------------------------------

_CBC_BOUND = re.compile(r"^(?:Lower|Upper) bound:\s+(\S+)", re.MULTILINE)
_CBC_RESULT = re.compile(r"^Result - (.+)$", re.MULTILINE)


#: half the last digit of the bound CBC prints ("Upper bound: 1.866")
CBC_BOUND_DIGITS = 0.0005
#: CBC's own time limit, as a share of what is left before a run's deadline
CBC_SHARE_OF_LEFT = 0.9


def _solve_cbc(
    problem: pulp.LpProblem,
    options: SolveOptions,
    feedback: Feedback,
    warm: bool,
    cuts: bool | None = None,
) -> tuple[SolveStatus, float | None, float | None]:
    fd, log_path = tempfile.mkstemp(prefix="citydesk-cbc-", suffix=".log")
    os.close(fd)
    limit = options.time_limit
    if limit is not None and options.deadline is not None:
        # CBC's clock starts after PuLP has written the model, and a CBC stopped at the
        # deadline is not read back: on the demo tiled 3 x 3 the full land-use MIP after the
        # marginal-parcel plan was killed with its solutions. Stopping itself a tenth early,
        # CBC writes what it has, and PuLP reads it before the deadline
        limit = max(0.2, min(limit, CBC_SHARE_OF_LEFT * (options.deadline - time.perf_counter())))
    solver = pulp.PULP_CBC_CMD(
        msg=False,
        timeLimit=limit,
        gapRel=options.mip_gap,
        threads=options.threads,
        warmStart=warm,
        logPath=log_path,
        cuts=cuts,
    )
    try:
        sign = -1.0 if problem.sense == pulp.LpMaximize else 1.0
        watch = _cancel_watch(feedback, solver.path, log_path, sign, options.deadline)
        with watch as (canceled, expired):
            try:
                problem.solve(solver)
            except pulp.PulpSolverError:
                if canceled.is_set():
                    return SolveStatus.CANCELED, None, None
                if expired.is_set():
                    return SolveStatus.NO_SOLUTION, None, None
                raise
        if canceled.is_set():
            return SolveStatus.CANCELED, None, None
        if expired.is_set():  # stopped at the deadline: what CBC had is not read back
            return SolveStatus.NO_SOLUTION, None, None
        with open(log_path, encoding="utf-8", errors="replace") as f:
            log = f.read()
    finally:
        with contextlib.suppress(OSError):
            os.remove(log_path)
    return _classify_cbc(problem, log)


def _classify_cbc(
    problem: pulp.LpProblem, log: str
) -> tuple[SolveStatus, float | None, float | None]:
    if problem.status == pulp.LpStatusInfeasible or problem.sol_status == pulp.LpSolutionInfeasible:
        return SolveStatus.INFEASIBLE, None, None
    if problem.status == pulp.LpStatusUnbounded:
        return SolveStatus.UNBOUNDED, None, None
    if problem.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        return SolveStatus.NO_SOLUTION, None, None
    objective = pulp.value(problem.objective)
    objective = float(objective) if objective is not None else 0.0
    bound_match = _CBC_BOUND.search(log)
    bound = _parse_float(bound_match.group(1)) if bound_match else None
    if bound is not None:  # the solver's bound leaves out the objective's constant term
        bound += problem.objective.constant
        # CBC prints its bound with three decimals: for a plan's normalised objective of
        # about 1.9 that is 0.05 % either way, and a bound rounded past the plan made a
        # gap out of nothing. Widened by the rounding, it is a bound CBC has proven
        bound += CBC_BOUND_DIGITS if problem.sense == pulp.LpMaximize else -CBC_BOUND_DIGITS
    result = _CBC_RESULT.search(log)
    stopped_early = problem.sol_status == pulp.LpSolutionIntegerFeasible or (
        result is not None and "gap tolerance" in result.group(1)
    )
    if not stopped_early:
        # CBC proved optimality; it prints no bound then because the bound is the objective
        return SolveStatus.OPTIMAL, objective, objective
    if bound is not None and relative_gap(objective, bound) <= PROVEN_GAP:
        return SolveStatus.OPTIMAL, objective, bound
    return SolveStatus.FEASIBLE, objective, bound


def _parse_float(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and abs(value) < 1e30 else None


def relative_gap(objective: float, bound: float) -> float:
    """The gap as every solve reports it: relative to the plan's value, at least 1."""
    return abs(objective - bound) / max(1.0, abs(objective))


@contextlib.contextmanager
def _cancel_watch(
    feedback: Feedback,
    solver_path: str,
    log_path: str | None = None,
    sign: float = 1.0,
    deadline: float | None = None,
) -> Iterator[tuple[threading.Event, threading.Event]]:
    """While CBC runs, poll ``feedback`` and kill this process's CBC child when canceled,
    and every :data:`PROGRESS_EVERY_S` pass on what CBC's log says of its search (the best
    plan so far, the bound, the nodes), so a long solve is never silent.

    PuLP owns the ``Popen`` and waits on it, so the only handle is the child process itself;
    it is found through /proc (Linux). Elsewhere cancellation takes effect after the solve.
    """
    canceled = threading.Event()
    expired = threading.Event()  # the run's deadline passed: CBC is stopped the same way
    done = threading.Event()
    name = os.path.basename(solver_path)
    progress = _LogProgress(log_path, feedback, sign) if log_path else None

    def watch() -> None:
        while not done.wait(0.05 if canceled.is_set() or expired.is_set() else 0.1):
            if progress is not None:
                progress.poll()
            if not canceled.is_set() and feedback.is_canceled():
                canceled.set()
            if not expired.is_set() and deadline is not None and time.perf_counter() >= deadline:
                expired.set()
            if canceled.is_set() or expired.is_set():
                # keep at it until PuLP returns: a cancel that comes while PuLP still writes
                # the model file finds no CBC yet, and CBC must not start and run on
                for pid in _child_pids(name):
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)

    thread = threading.Thread(target=watch, daemon=True, name="citydesk-solver-cancel")
    thread.start()
    try:
        yield canceled, expired
    finally:
        done.set()
        thread.join()


#: CBC's search lines: "Cbc0010I After 1200 nodes, 35 on tree, 123.4 best solution, best
#: possible 130.1 (4.52 seconds)" and "Cbc0012I Integer solution of 125 found by ..."
_CBC_PROGRESS = re.compile(
    r"Cbc0010I After (\d+) nodes, \d+ on tree, (\S+) best solution, best possible (\S+) "
    r"\(([\d.]+) seconds\)"
)
_CBC_FOUND = re.compile(r"Cbc0012I Integer solution of (\S+) found .* \(([\d.]+) seconds\)")


class _LogProgress:
    """Reads the lines CBC has added to its log and reports the newest search state."""

    def __init__(self, path: str, feedback: Feedback, sign: float = 1.0) -> None:
        self.sign = sign  # CBC minimises: a maximisation's values come out negated
        self.path = path
        self.feedback = feedback
        self.offset = 0
        self.last = 0.0
        self.started = time.perf_counter()

    def poll(self) -> None:
        now = time.perf_counter()
        if now - self.last < PROGRESS_EVERY_S:
            return
        self.last = now
        try:
            with open(self.path, encoding="utf-8", errors="replace") as f:
                f.seek(self.offset)
                text = f.read()
                self.offset = f.tell()
        except OSError:
            return
        message = None
        for line in text.splitlines():
            if m := _CBC_PROGRESS.search(line):
                nodes, best, bound, secs = m.groups()
                message = _("solver: {nodes} nodes, best {best}, bound {bound} ({secs} s)").format(
                    nodes=nodes, best=self._value(best), bound=self._value(bound), secs=secs
                )
            elif m := _CBC_FOUND.search(line):
                message = _("solver: a solution of {value} found ({secs} s)").format(
                    value=self._value(m.group(1)), secs=m.group(2)
                )
        if message is None:
            message = _("solver: searching ({secs:.0f} s)").format(secs=now - self.started)
        log.debug(message)  # the feedback says it (the CLI's logs it at -v: not twice)
        self.feedback.push_info(message)

    def _value(self, text: str) -> str:
        try:
            return f"{self.sign * float(text):,.6g}"
        except ValueError:
            return text


def _child_pids(name: str) -> list[int]:
    me = os.getpid()
    pids: list[int] = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return pids
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.find("(") + 1 : stat.rfind(")")]
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == me and name.startswith(comm[:15]):
            pids.append(int(entry))
    return pids


# --- HiGHS ----------------------------------------------------------------------------------


def _solve_highs(
    problem: pulp.LpProblem, options: SolveOptions, feedback: Feedback, warm: bool
) -> tuple[SolveStatus, float | None, float | None]:
    """HiGHS on ``problem`` in a child process (:mod:`.highs_process`): a step of HiGHS that
    never looks at the clock cannot hold a run past its deadline or a Cancel."""
    if not highs_available():
        raise CityDeskError(
            _("The HiGHS solver is not installed."),
            _("Install it with 'pip install highspy', or choose the CBC solver."),
        )
    builder = pulp.HiGHS(msg=False)
    builder.createAndConfigureSolver(problem)
    builder.buildSolverModel(problem)  # PuLP's own translation: the columns get their index
    arrays = model_arrays(problem.solverModel)
    problem.solverModel = None  # the child has the model; the parent needs no second copy
    sign = -1.0 if problem.sense == pulp.LpMaximize else 1.0  # PuLP hands HiGHS a minimum
    deadline = options.ends_at()
    run = run_in_child(
        arrays,
        _highs_options(options, deadline),
        _start_of(problem) if warm else None,
        deadline,
        feedback.is_canceled,
        _progress_reporter(feedback, sign),
        progress_s=PROGRESS_EVERY_S,
    )
    return _classify_highs(problem, run, bool(np.any(arrays["integrality"])))


def _highs_options(options: SolveOptions, deadline: float | None) -> dict[str, object]:
    """HiGHS's options for a solve: the gap asked (HiGHS's default is 0.01 %, called optimal),
    the threads, and only the time left before the run's deadline: PuLP builds the model in
    Python first (0.7 s for a 2,000-client p-median), which HiGHS's clock would not count."""
    out: dict[str, object] = {"mip_rel_gap": float(options.mip_gap)}
    if options.threads is not None:
        out["threads"] = int(options.threads)
    if deadline is not None:
        left = max(0.05, deadline - time.perf_counter())
        out["time_limit"] = float(left)
        if left < PROBING_NEEDS_S:
            # two steps of HiGHS do not look at the clock: presolve's probing and the
            # feasibility-jump heuristic ran 0.8-1.5 s past a short limit on a 2,000-client
            # p-median. With little time left they are off (HiGHS's own advice for probing:
            # presolve rule 2^15), so the child is seldom stopped from outside
            out["presolve_rule_off"] = 1 << 15
            out["mip_heuristic_run_feasibility_jump"] = False
    return out


def _start_of(problem: pulp.LpProblem) -> tuple[np.ndarray, np.ndarray] | None:
    """The variables' initial values as HiGHS's (partial) first solution."""
    given = [v for v in problem.variables() if v.varValue is not None]
    if not given:
        return None
    index = np.array([v.index for v in given], dtype=np.int32)
    return index, np.array([float(v.varValue) for v in given])


def _progress_reporter(feedback: Feedback, sign: float):
    """The child's reports as progress lines, in the model's sense, as CBC's log gives them."""

    def report(message: tuple) -> None:
        if message[0] == "found":
            feedback.push_info(
                _("solver: a solution of {value} found ({secs} s)").format(
                    value=_shown(sign * message[1]), secs=f"{message[2]:.2f}"
                )
            )
        elif message[0] == "progress":
            nodes, best, bound, secs = message[1:]
            feedback.push_info(
                _("solver: {nodes} nodes, best {best}, bound {bound} ({secs} s)").format(
                    nodes=nodes,
                    best=_shown(sign * best),
                    bound=_shown(sign * bound),
                    secs=f"{secs:.2f}",
                )
            )

    return report


def _shown(value: float) -> str:
    """A solver figure for a progress line; "-" for none yet (HiGHS's infinities)."""
    return f"{value + 0.0:,.6g}" if math.isfinite(value) and abs(value) < 1e30 else "-"


#: with less time than this left before a run's deadline, HiGHS solves without probing
PROBING_NEEDS_S = 30.0


def _classify_highs(
    problem: pulp.LpProblem, run: HighsRun, is_mip: bool
) -> tuple[SolveStatus, float | None, float | None]:
    """The child's report as a verdict; its best plan goes into the PuLP variables."""
    import highspy

    status = None if run.status is None else highspy.HighsModelStatus(run.status)
    if run.stopped == "canceled":
        return SolveStatus.CANCELED, None, None
    if status == highspy.HighsModelStatus.kInfeasible:
        return SolveStatus.INFEASIBLE, None, None
    if status in (
        highspy.HighsModelStatus.kUnbounded,
        highspy.HighsModelStatus.kUnboundedOrInfeasible,
    ):
        return SolveStatus.UNBOUNDED, None, None
    if run.values is None:
        return SolveStatus.NO_SOLUTION, None, None
    values = run.values
    for var in problem.variables():
        value = float(values[var.index])
        if var.cat == pulp.LpInteger and abs(value - round(value)) <= INTEGRALITY_TOLERANCE:
            value = float(round(value))  # HiGHS leaves them at 1.0000000000000366
        var.varValue = value
    objective = float(pulp.value(problem.objective) or 0.0)
    bound: float | None = objective
    if is_mip:  # HiGHS minimises -f for a maximisation and leaves out the constant term
        sign = -1.0 if problem.sense == pulp.LpMaximize else 1.0
        raw = None if run.bound is None else sign * run.bound
        finite = raw is not None and math.isfinite(raw) and abs(raw) < 1e30
        bound = raw + problem.objective.constant if finite else None
    if status == highspy.HighsModelStatus.kOptimal and (
        not is_mip or (bound is not None and relative_gap(objective, bound) <= PROVEN_GAP)
    ):
        return SolveStatus.OPTIMAL, objective, bound
    return SolveStatus.FEASIBLE, objective, bound
