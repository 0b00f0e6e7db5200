"""Large multiple-choice models: LP relaxation, then a MIP over the marginal groups only.

City-scale land-use allocation has one group of binaries per parcel (one use each) and a
handful of coupling rows (targets, budget, change cap, an epsilon row). Its LP relaxation
is nearly integral, and the integer optimum differs from it only in *marginal* parcels:
those left fractional, and those whose best unused alternative has the smallest reduced
cost. Fixing every other parcel at its LP use and solving the MIP over the marginal ones
gives a plan whose gap to the LP bound (valid for the whole MIP) is proven; on the 13k
Cambridge parcels, 200 marginal parcels give gaps near 0.004 % in a quarter of a second,
where freeing 3,000 took HiGHS a minute.

When no parcel left fixed could have moved in a better plan (reduced-cost fixing,
:mod:`citydesk.optimization.reduced_cost`), the MIP's own bound holds for the whole model.

The LP model is built once in HiGHS and kept: moving an epsilon row or the objective
re-solves it from the previous basis in milliseconds. The MIP runs in a copy, so the LP
keeps its basis.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pulp

from citydesk.layers.errors import CityDeskError
from citydesk.layers.feedback import Feedback, NullFeedback, check_canceled
from citydesk.layers.i18n import _

from .highs_process import model_arrays, run_in_child
from .reduced_cost import SwitchCosts, column_switch, switch_costs
from .solve import PROVEN_GAP, SolveOutcome, SolveStatus, quiet_highs, relative_gap

#: large-neighbourhood search (:meth:`PersistentLp._improve`): rounds, and groups taken from
#: each of its two rankings per round
LNS_ROUNDS = 4
LNS_WINDOW = 300


@dataclass(frozen=True)
class GroupFixResult:
    outcome: SolveOutcome  # objective: the plan's; bound: the LP relaxation's
    values: np.ndarray  # column values, in ``PersistentLp.variables`` order
    freed: int  # groups left free in the MIP
    #: groups a MIP must free for its bound to hold for the whole model (reduced-cost fixing
    #: with this plan: the LP's fractional groups and those whose switch costs less than
    #: the plan's distance to the LP bound)
    needed: int = 0


class PersistentLp:
    """One HiGHS LP of a PuLP model with binary groups, re-solved as rows and costs move."""

    def __init__(
        self,
        problem: pulp.LpProblem,
        groups: Mapping[str, int],
        feedback: Feedback | None = None,
    ) -> None:
        try:
            import highspy
        except ImportError as exc:  # pragma: no cover - highspy is a dependency
            raise CityDeskError(
                _("The HiGHS solver is not installed."),
                _("Install it with 'pip install highspy', or choose the CBC solver."),
            ) from exc
        self._highspy = highspy
        quiet_highs()
        if problem.objective is None:
            problem.setObjective(pulp.LpAffineExpression())
        builder = pulp.HiGHS(msg=False, mip=False)
        builder.createAndConfigureSolver(problem)
        builder.buildSolverModel(problem)
        self.problem = problem
        self.model = problem.solverModel
        self.variables = problem.variables()
        self.n = len(self.variables)
        self.index = {v.name: v.index for v in self.variables}
        self.group = np.full(self.n, -1)
        for name, g in groups.items():
            self.group[self.index[name]] = g
        self.binary = self.group >= 0
        self._matrix, pairs, per_row = self._read_matrix()
        self._linked = self._group_links(pairs, per_row)
        self._coupling = per_row >= 3  # targets, budget, epsilon rows: see _coupling_switch
        self._lower = np.array(
            [-np.inf if v.lowBound is None else v.lowBound for v in self.variables], dtype=float
        )
        self._upper = np.array(
            [np.inf if v.upBound is None else v.upBound for v in self.variables], dtype=float
        )
        self._cols = np.arange(self.n, dtype=np.int32)
        self._n_groups = int(self.group.max()) + 1
        self._forbidden = np.zeros(self.n, dtype=bool)
        self._is_open = self._open_mask()
        self._sign = -1.0
        self._constant = 0.0
        self.feedback = feedback or NullFeedback()
        self._listen(self.model)

    def _listen(self, highs) -> None:
        """Let a Cancel stop the kept LP inside a solve: its interrupt callbacks ask the
        feedback, so the land-use front stops within a fraction of a second instead of
        finishing the LP under way (4.4 s with the MIP, issue 20's target is 2 s). The MIPs
        run in the HiGHS child process, which the parent stops (:mod:`.highs_process`)."""
        feedback = self.feedback

        def interrupt(event) -> None:
            if feedback.is_canceled():
                event.interrupt()

        highs.cbSimplexInterrupt += interrupt
        highs.cbIpmInterrupt += interrupt
        highs.cbMipInterrupt += interrupt

    def vector(self, expression: pulp.LpAffineExpression) -> np.ndarray:
        """The expression's coefficients in column order (plans are evaluated with a dot)."""
        out = np.zeros(self.n)
        for var, coef in expression.items():
            out[self.index[var.name]] = coef
        return out

    def maximise(self, expression: pulp.LpAffineExpression) -> None:
        """Replace the objective (HiGHS minimises, so it gets the negated costs).

        The next solve starts cold: HiGHS re-solves from a basis without presolve, and after
        a new objective that was the slower way (the least-conflict end of the 13k-parcel
        front: 14.4 s warm, 8.4 s cold); a moved row keeps its basis (0.1 s against 23 s)."""
        self._constant = float(expression.constant)
        self.model.changeColsCost(self.n, self._cols, -self.vector(expression))
        self.model.clearSolver()

    def set_row_lower(self, name: str, lower: float, constant: float = 0.0) -> None:
        """Lower bound of a ``>=`` row's expression; ``constant`` is the expression's own
        constant term, which HiGHS keeps in the bound rather than in the row."""
        row = self.problem.get_constraint_by_name(name)
        self.model.changeRowBounds(row.index, lower - constant, self._highspy.kHighsInf)

    def forbid(self, columns: np.ndarray) -> None:
        """Hold these columns (a bool per column) at 0 until the next call, which releases
        them: reduced-cost fixing from another LP (:mod:`.reduced_cost`) tells a grid point
        which uses no plan of it can have. The LP keeps them out too, so its bound tightens."""
        changed = np.flatnonzero(columns != self._forbidden)
        self._forbidden = columns.copy()
        self._is_open = self._open_mask()
        if changed.size:
            lower, upper = self._bounds()
            self.model.changeColsBounds(
                changed.size, changed.astype(np.int32), lower[changed], upper[changed]
            )

    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The columns' bounds, with the forbidden ones held at 0."""
        upper = self._upper.copy()
        upper[self._forbidden] = 0.0
        return self._lower.copy(), upper

    def _open_mask(self) -> np.ndarray:
        """Per group, whether it has something to decide: two or more columns not forbidden
        (kept as ``_is_open``, which changes only with :meth:`forbid`)."""
        allowed = self.binary & ~self._forbidden
        return np.bincount(self.group[allowed], minlength=self._n_groups) > 1

    def switch_costs(self) -> SwitchCosts | None:
        """What the LP optimum last solved proves about every plan (:mod:`.reduced_cost`);
        None when the last LP did not end optimal."""
        if self.model.getModelStatus() != self._highspy.HighsModelStatus.kOptimal:
            return None
        return self._lesson(self.model.getSolution())

    def _limit_to(
        self, deadline: float | None, least: float = 0.05, now: float | None = None
    ) -> None:
        """HiGHS's time limit for the next run: what is left before ``deadline`` (at least
        ``least``) from ``now`` (read when not given), none without one. HiGHS's clock runs
        on over every solve of the same object, so the limit is its run time so far plus
        what is left."""
        left = self._highspy.kHighsInf
        if deadline is not None:
            left = max(least, deadline - (time.perf_counter() if now is None else now))
        self.model.setOptionValue("time_limit", float(self.model.getRunTime() + left))

    def run_lp(self, deadline: float | None = None) -> str:
        """Solve the LP as it stands (objective, rows, forbidden columns) by ``deadline``:
        "optimal", "infeasible", or in words why it ended without an optimum."""
        self._limit_to(deadline, least=0.0)  # a deadline already gone stops it at once
        self.model.run()
        check_canceled(self.feedback)
        status = self.model.getModelStatus()
        known = self._highspy.HighsModelStatus
        if status == known.kOptimal:
            return "optimal"
        if status == known.kInfeasible:
            return "infeasible"
        if status == known.kTimeLimit:
            return _("stopped at the time limit")
        return self.model.modelStatusToString(status)

    def lp_value(self) -> float:
        """The objective (as :meth:`maximise` was given it) at the last LP's solution."""
        return self._objective(self.model)

    def ceiling(
        self, expression: pulp.LpAffineExpression, free_row: str, deadline: float | None = None
    ) -> float | None:
        """The LP's best value of ``expression`` with the ``>=`` row ``free_row`` lifted and
        every other row and forbidden use as it is; None when the LP does not end optimal.
        The objective and the row are put back (the next solve starts cold).

        It settles an epsilon point whose own LP HiGHS cannot decide: a level above this
        ceiling has no plan, relaxed or not. On the 13k Cambridge parcels at one conflict,
        social >= 8,370 went to "unknown" warm and after 28-45 s cold; the ceiling LP
        (social's best there: 6,986) took 14 s."""
        row = self.problem.get_constraint_by_name(free_row).index
        lp = self.model.getLp()
        lower, upper = lp.row_lower_[row], lp.row_upper_[row]
        cost, constant = np.asarray(lp.col_cost_).copy(), self._constant
        try:
            self.model.changeRowBounds(row, -self._highspy.kHighsInf, upper)
            self.maximise(expression)
            self._limit_to(deadline)
            self.model.run()
            check_canceled(self.feedback)
            optimal = self.model.getModelStatus() == self._highspy.HighsModelStatus.kOptimal
            return self.lp_value() if optimal else None
        finally:
            self.model.changeRowBounds(row, lower, upper)
            self.model.changeColsCost(self.n, self._cols, cost)
            self._constant = constant
            self.model.clearSolver()

    def _lesson(self, solution) -> SwitchCosts:
        """:meth:`switch_costs` of an optimal LP ``solution`` of the kept model."""
        return switch_costs(
            self._allowed_group(),
            np.asarray(solution.col_value),
            np.asarray(solution.col_dual),
            self._objective(self.model),
            self.model.getInfo().sum_dual_infeasibilities,
            self._n_groups,
        )

    def _objective(self, model) -> float:
        return -model.getInfo().objective_function_value + self._constant

    def solve(
        self,
        target_gap: float = 0.001,
        marginal: int = 200,
        most_marginal: int = 800,
        time_limit: float | None = 4.0,
        deadline: float | None = None,
        retry_cold: bool = True,
    ) -> GroupFixResult:
        """LP, then MIPs over 200, 400, ... marginal groups until the proven gap is within
        ``target_gap`` (or ``most_marginal`` groups were tried and the last MIP was not
        quick, see :meth:`_quick`, nor would one more MIP over the groups that could still
        move be at most four times as large, see ``GroupFixResult.needed``; or every group
        was free; or a MIP ran out of its time for nothing, see :func:`_stalled`: the gap
        is then reported). Where no MIP in reach could prove the bound (more than four times
        ``most_marginal`` groups could still move) the plan is improved instead by a
        large-neighbourhood search (:meth:`_improve`).
        ``time_limit`` bounds each MIP (None: no bound), and ``deadline`` (a
        ``time.perf_counter()`` moment) the whole call: a MIP stopped by either still
        returns its best plan, and no larger MIP starts after the deadline.
        ``retry_cold``: an LP the warm basis cannot decide is solved once more from scratch;
        a caller with a cheaper way to settle the point (:meth:`ceiling`) turns it off."""
        started = time.perf_counter()
        # the LP re-solves count against the deadline too (a cold retry after numerical
        # trouble took 29 s at the least-conflict end and overran a 300 s front by 21 s)
        self._limit_to(deadline, now=started)

        def limit() -> float | None:
            if deadline is None:
                return time_limit
            left = max(0.05, deadline - time.perf_counter())
            return left if time_limit is None else min(time_limit, left)

        result = self._solve_once(
            target_gap, marginal, limit(), deadline=deadline, retry_cold=retry_cold
        )
        check_canceled(self.feedback)
        last = result
        n_open = int(np.count_nonzero(self._is_open))
        while (
            result.outcome.bound is not None  # no LP optimum: a larger MIP cannot help
            and (result.outcome.gap is None or result.outcome.gap > target_gap)
            and last.freed < n_open  # something left to free
            and (deadline is None or time.perf_counter() < deadline)
        ):
            if result.needed > 4 * most_marginal and not self._quick(last, limit()):
                # no MIP in reach would prove the LP's bound, so the point needs plans:
                # other neighbourhoods of the plan find them faster than larger MIPs
                result = self._improve(result, target_gap, limit, deadline)
                break
            if marginal < most_marginal or self._quick(last, limit()):
                marginal *= 2
            elif marginal < result.needed <= 4 * marginal:
                # one MIP over every group that could move makes its bound hold for the
                # whole model (reduced-cost fixing): worth it just past the usual size
                marginal = result.needed
            else:
                break
            start = None if result.outcome.objective is None else result.values
            mip_limit = limit()
            last = self._solve_once(target_gap, marginal, mip_limit, start, deadline)
            check_canceled(self.feedback)
            before, result = result.outcome.objective, _better(result, last)
            if _stalled(last, mip_limit, before):
                break
        outcome = result.outcome
        seconds = time.perf_counter() - started
        return GroupFixResult(
            SolveOutcome(outcome.status, outcome.objective, outcome.bound, seconds, "highs"),
            result.values,
            result.freed,
            result.needed,
        )

    def _improve(
        self, result: GroupFixResult, target_gap: float, limit, deadline: float | None = None
    ) -> GroupFixResult:
        """Large-neighbourhood search from the plan: each round holds every group at the
        plan's use but a window of the point's LP's cheapest switches (ranked two ways, see
        :meth:`_coupling_switch`), their linked groups, and the groups where the plan and
        the LP differ; up to ``LNS_ROUNDS`` rounds, each MIP given half of ``limit()``,
        until the gap is met or two rounds in a row find nothing better.

        At the tight interior points of the 13k-parcel front the marginal MIPs around the
        LP's vertex could not reach the gap however long they ran: the best plan in the 400
        groups next to the vertex was 668.6 M where the LP bound was 670.5 M (a full MIP
        found 669.7 M in 150 s, differing from the LP in 37 parcels ranked up to 3,032nd).
        Held at the plan instead, with new windows (one instrumented 300 s run of that
        front), the three worst interior points went from 0.27, 0.18 and 0.17 % after their
        first MIP to 0.14, 0.024 and 0.095 %, in 24-31 s each, where doubling had left them
        at 0.24, 0.18 and 0.15 % in 31-43 s."""
        solution = self.model.getSolution()
        lp = np.asarray(solution.col_value)
        allowed = self._allowed_group()
        orders = [
            self._ranked(column_switch(allowed, lp, np.asarray(solution.col_dual))),
            self._ranked(column_switch(allowed, lp, self._coupling_switch(solution))),
        ]
        fractional = self.group[self._fractional(lp)].tolist()
        plan, best, bound = result.values, result.outcome.objective, result.outcome.bound
        if best is None or bound is None:
            return result
        misses = 0
        for k in range(LNS_ROUNDS):
            window: list[int] = []
            for order in orders:
                window += order[k * LNS_WINDOW : (k + 1) * LNS_WINDOW].tolist()
            if not window:
                break
            differ = self.group[self.binary & (np.round(plan) != np.round(lp))].tolist()
            linked = []
            if self._linked is not None:
                near = self._linked[window].indices
                linked = near[self._is_open[near]][: LNS_WINDOW // 2].tolist()
            free = np.array(list(dict.fromkeys(fractional + differ + window + linked)))
            mip_limit = limit()
            values, objective, _ = self._restricted_mip(
                plan,
                free,
                target_gap / 2,
                None if mip_limit is None else mip_limit / 2,
                plan,
                rins=False,
                deadline=deadline,
                enough=enough(bound, target_gap),
            )
            check_canceled(self.feedback)
            if values is not None and objective > best + 1e-9 * max(1.0, abs(best)):
                plan, best, misses = values, objective, 0
            else:
                misses += 1
            if relative_gap(best, bound) <= target_gap or misses >= 2:
                break
            if mip_limit is not None and mip_limit <= 0.05:  # the deadline has passed
                break
        if plan is result.values:
            return result
        outcome = plan_outcome(best, bound, result.outcome.seconds)
        return GroupFixResult(outcome, plan, result.freed, result.needed)

    def _ranked(self, switch: np.ndarray) -> np.ndarray:
        """Open groups by their cheapest switch, cheapest first (each group once)."""
        finite = np.isfinite(switch) & (self.group >= 0)
        columns = np.flatnonzero(finite)[np.argsort(switch[finite], kind="stable")]
        groups = self.group[columns]
        _, first = np.unique(groups, return_index=True)
        ranked = groups[np.sort(first)]
        return ranked[self._is_open[ranked]]

    def _coupling_switch(self, solution) -> np.ndarray:
        """Reduced costs priced by the coupling rows' duals alone (rows over three or more
        groups: targets, budget, epsilon rows), the one-use and pair rows left out.

        The LP is degenerate at the tight rows: 1,267 columns switch at zero cost and the
        pair rows carry duals of 10^8, an artefact of the vertex. Priced by the coupling
        rows, 28 of the 37 parcels where a better plan differed from the LP ranked in the
        first 800, against 10 by the full reduced costs."""
        duals = np.where(self._coupling, np.asarray(solution.row_dual), 0.0)
        cost = np.asarray(self.model.getLp().col_cost_)
        return cost - self._matrix.T @ duals

    @staticmethod
    def _quick(last: GroupFixResult, limit: float | None) -> bool:
        """Past ``most_marginal`` groups, go on doubling while a MIP takes under a quarter
        of its time: on a model of a few thousand parcels (Helsinki's) the MIPs take
        tenths of a second, and freeing every group gives the MIP's own bound, which holds
        for the whole model, where 800 groups left points at 0.2-0.6 % from the LP's."""
        return limit is not None and last.outcome.seconds < limit / 4

    def _solve_once(
        self,
        target_gap: float,
        marginal: int,
        time_limit: float | None,
        start: np.ndarray | None = None,
        deadline: float | None = None,
        retry_cold: bool = True,
    ) -> GroupFixResult:
        """The LP, then one MIP over ``marginal`` groups, asked for half of ``target_gap``
        against its own bound and stopped once its plan is within ``target_gap`` of the
        LP's (:meth:`_restricted_mip`); ``start`` is a plan of a smaller MIP over the same
        LP, handed to HiGHS as its first incumbent; ``deadline`` is the run's."""
        started = time.perf_counter()
        self.model.run()
        check_canceled(self.feedback)
        status = self.model.getModelStatus()
        if retry_cold and status == self._highspy.HighsModelStatus.kUnknown:
            # the warm basis ran into numerical trouble (seen at the least-conflict end of
            # the 13k-parcel front): once more from scratch, with presolve
            self.model.clearSolver()
            self.model.run()
            check_canceled(self.feedback)
            status = self.model.getModelStatus()
        if status != self._highspy.HighsModelStatus.kOptimal:
            verdict = (
                SolveStatus.INFEASIBLE
                if status == self._highspy.HighsModelStatus.kInfeasible
                else SolveStatus.NO_SOLUTION
            )
            outcome = SolveOutcome(verdict, None, None, time.perf_counter() - started, "highs")
            return GroupFixResult(outcome, np.zeros(self.n), 0)
        bound = self._objective(self.model)
        solution = self.model.getSolution()
        lesson = self._lesson(solution)
        lp = np.asarray(solution.col_value)
        free_groups = self._marginal_groups(lp, lesson.switch, marginal)
        held = self._is_open.copy()  # the open groups the MIP holds at the LP's use
        held[free_groups] = False
        values, objective, needed = lp, bound, 0
        if free_groups.size or self._fractional(lp).any():
            values, objective, mip_bound = self._restricted_mip(
                lp,
                free_groups,
                target_gap / 2,
                time_limit,
                start,
                deadline=deadline,
                enough=enough(bound, target_gap),
            )
            if values is not None:
                # reduced-cost fixing with the plan as the level: when no held group could
                # have moved in a better plan, the MIP's bound holds for the whole model
                kept = lesson.kept(objective)
                if np.isfinite(mip_bound) and kept[held].all():
                    bound = min(bound, max(objective, mip_bound))
                needed = int(np.count_nonzero(self._is_open & ~kept))
        if values is None:
            # with every group free, a MIP with no plan and no bound proved there is none
            proven = not held.any() and np.isinf(mip_bound)
            verdict = SolveStatus.INFEASIBLE if proven else SolveStatus.NO_SOLUTION
            outcome = SolveOutcome(verdict, None, bound, time.perf_counter() - started, "highs")
            return GroupFixResult(outcome, lp, int(free_groups.size))
        outcome = plan_outcome(objective, bound, time.perf_counter() - started)
        return GroupFixResult(outcome, values, int(free_groups.size), needed)

    def _fractional(self, lp: np.ndarray) -> np.ndarray:
        return self.binary & (np.abs(lp - np.round(lp)) > 1e-6)

    def _read_matrix(self):
        """The model's constraint matrix (rows x columns, scipy CSR) and, per row, how many
        groups it touches."""
        from scipy import sparse

        lp = self.model.getLp()
        matrix = lp.a_matrix_
        arrays = (np.asarray(matrix.value_), np.asarray(matrix.index_), np.asarray(matrix.start_))
        if matrix.format_ == self._highspy.MatrixFormat.kColwise:
            a = sparse.csc_matrix(arrays, shape=(lp.num_row_, lp.num_col_)).tocsr()
        else:
            a = sparse.csr_matrix(arrays, shape=(lp.num_row_, lp.num_col_))
        rows = np.repeat(np.arange(a.shape[0]), np.diff(a.indptr))
        grouped = self.group[a.indices] >= 0
        pairs = np.unique(np.column_stack([rows[grouped], self.group[a.indices[grouped]]]), axis=0)
        per_row = np.bincount(pairs[:, 0], minlength=a.shape[0])
        return a, pairs, per_row

    def _group_links(self, pairs: np.ndarray, per_row: np.ndarray):
        """Pairs of groups some row ties together alone (a neighbour penalty's row), as a
        sparse (groups x groups) matrix; None when no row does. ``pairs`` are the (row,
        group) pairs of the matrix, sorted, and ``per_row`` the groups each row touches.

        Fixing one parcel of such a pair at its LP use can forbid the joint change that
        pays off (two touching factories both turned into homes), so the marginal set
        takes the linked groups of its own groups too."""
        from scipy import sparse

        two = per_row[pairs[:, 0]] == 2
        if not two.any():
            return None
        ends = pairs[two, 1].reshape(-1, 2)  # sorted by row: the two groups of each row
        n_groups = int(self.group.max()) + 1
        ones = np.ones(len(ends), dtype=bool)
        links = sparse.coo_matrix((ones, (ends[:, 0], ends[:, 1])), shape=(n_groups,) * 2)
        return (links + links.T).tocsr()

    def _marginal_groups(self, lp: np.ndarray, switch: np.ndarray, count: int) -> np.ndarray:
        """Groups with a fractional variable, then those whose switch to their best unused
        alternative costs least (:func:`.reduced_cost.column_switch`), up to ``count`` in all;
        then, where rows link groups in pairs, the linked groups of those (at most ``count``
        more). Only open groups are taken: the others have one use left.

        Ranked by the alternative's reduced cost alone, the 11 parcels in which a 13k-parcel
        optimum differed from the LP ranked up to 2,671st; by the switch, all within the
        first 338."""
        chosen = list(dict.fromkeys(self.group[self._fractional(lp)].tolist()))
        seen = set(chosen)
        cheapest = [g for g in self._ranked(switch).tolist() if g not in seen]
        chosen += cheapest[: max(0, count - len(chosen))]
        seen.update(chosen)
        if self._linked is not None and chosen:  # their linked groups, in the same order
            near = dict.fromkeys(self._linked[chosen].indices.tolist())
            chosen += [h for h in near if h not in seen and self._is_open[h]][:count]
        return np.array(chosen, dtype=int)

    def _allowed_group(self) -> np.ndarray:
        """Each column's group, -1 for forbidden columns: they cannot be switched to."""
        return np.where(self._forbidden, -1, self.group)

    def _restricted_mip(
        self,
        lp,
        free_groups,
        mip_gap,
        time_limit,
        start=None,
        rins=True,
        deadline=None,
        enough: float | None = None,
    ):
        """The MIP with every group but ``free_groups`` held at its use in ``lp``, in the
        HiGHS child process (:mod:`.highs_process`): (plan, objective, bound), or (None,
        nan, -inf) when it is infeasible and (None, nan, nan) when it found no plan.
        The child is stopped from outside at the run's ``deadline``, or a little past
        ``time_limit`` without one (HiGHS keeps that limit itself wherever it looks).

        With continuous columns in the model (a neighbour penalty's corrections, a coverage
        share), the plan's are put at their best for its binaries by one LP (the child's
        polish): a column whose cost is only the front's tiny augmentation may be left
        anywhere the MIP's relative gap allows, which overstates that objective.

        ``enough`` is a plan value that meets the caller's gap against a bound the MIP does
        not know (the LP's, for the whole model): HiGHS stops at a plan above it
        (``objective_target``) instead of going on to prove its own, smaller gap."""
        arrays = model_arrays(self.model)  # the LP as it stands: this point's costs and rows
        free = self.binary & np.isin(self.group, free_groups)
        fixed = self.binary & ~free
        lower, upper = self._bounds()
        lower[fixed] = upper[fixed] = np.round(lp[fixed])
        arrays["col_lower"], arrays["col_upper"] = lower, upper
        arrays["integrality"] = self.binary.astype(np.int32)
        options: dict[str, object] = {"mip_rel_gap": float(mip_gap)}
        if not rins:
            # HiGHS's own RINS sub-MIP, from a plan the search already holds everything
            # else at, repeats the search; once (HiGHS 1.16.0, Cambridge's front) its
            # presolve sat in strengthenInequalities for over 20 minutes, past every limit
            options["mip_heuristic_run_rins"] = False
        if time_limit is not None:
            options["time_limit"] = float(time_limit)
        if enough is not None:
            options["objective_target"] = float(self._constant - enough)  # HiGHS minimises
        first = None
        if start is not None and np.array_equal(np.round(start[fixed]), lower[fixed]):
            # the smaller MIP's plan: its groups are free here too, so it is feasible and
            # HiGHS prunes and searches around it from the start instead of rediscovering it
            first = (self._cols, start)
        run = run_in_child(
            arrays,
            options,
            first,
            deadline if deadline is not None else _past(time_limit),
            self.feedback.is_canceled,
            polish=not self.binary.all(),
        )
        check_canceled(self.feedback)
        if run.values is None or run.objective is None:
            infeasible = run.status == int(self._highspy.HighsModelStatus.kInfeasible)
            return None, float("nan"), -np.inf if infeasible else float("nan")
        bound = float("nan") if run.bound is None else -run.bound + self._constant
        return run.values, -run.objective + self._constant, bound


def enough(bound: float, gap: float) -> float:
    """The least plan value within ``gap`` of ``bound`` as :func:`.solve.relative_gap`
    measures it (relative to the plan, at least 1), with 2 % of the gap to spare for the
    solvers' tolerances."""
    g = 0.98 * gap
    value = bound / (1.0 + g) if bound >= 0 else bound / (1.0 - g)
    return value if abs(value) >= 1.0 else bound - g


def _past(time_limit: float | None) -> float | None:
    """A moment a little past a MIP's own limit from now (the limit's 10 %, at least 1 s),
    when its child is stopped from outside; None without a limit."""
    if time_limit is None:
        return None
    return time.perf_counter() + time_limit + max(1.0, 0.1 * time_limit)


def _better(result: GroupFixResult, other: GroupFixResult) -> GroupFixResult:
    """The better plan of two solves of the same LP, with the tighter of their bounds (a MIP
    that freed every group has a bound of its own, below the LP's)."""
    plan = result
    if other.outcome.objective is not None and (
        result.outcome.objective is None or other.outcome.objective > result.outcome.objective
    ):
        plan = other
    bounds = [r.outcome.bound for r in (result, other) if r.outcome.bound is not None]
    bound = min(bounds) if bounds else None
    objective = plan.outcome.objective
    if objective is None or bound is None or bound == plan.outcome.bound:
        return plan
    outcome = plan_outcome(objective, bound, plan.outcome.seconds)
    return GroupFixResult(outcome, plan.values, plan.freed, plan.needed)


def _stalled(last: GroupFixResult, limit: float | None, before: float | None) -> bool:
    """A MIP that ran out of its time without bettering the plan it started from: a larger
    one would be slower still. On the 13k-parcel three-objective front, 800-group MIPs after
    a fruitless 400-group one spent 5-17 s a point for nothing, time the last row lacked."""
    if limit is None or last.outcome.seconds < 0.9 * limit:
        return False
    mine = last.outcome.objective
    return mine is None or (before is not None and mine <= before + 1e-7 * max(1.0, abs(before)))


def plan_outcome(objective: float, bound: float, seconds: float) -> SolveOutcome:
    """A plan with its bound: proven optimal when they meet, else feasible with its gap."""
    proven = relative_gap(objective, bound) <= PROVEN_GAP
    status = SolveStatus.OPTIMAL if proven else SolveStatus.FEASIBLE
    return SolveOutcome(status, objective, bound, seconds, "highs")
