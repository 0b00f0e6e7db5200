"""p-median, 1,000 demand points x 100 candidate sites, p = 10 (optimization issue, target 1).

The instance of the issue: ``default_rng(seed)``, clients then sites uniform in [0, 10000]^2,
weights ``integers(1, 12)``, Euclidean distances. CityDesk (radius formulation, truncated,
vertex-substitution start) against spopt's ``PMedian`` (the textbook assignment model) on the
same matrix, each with CBC and with HiGHS, each run with the same time limit. A run that hits
the limit reports its status honestly: CityDesk reads the solver's own bound, and spopt's
model is re-checked with ``sol_status``, because PuLP reports "Optimal" for a CBC run stopped
at its time limit.

    .venv/bin/python benchmarks/optimization.py pmedian [--seeds 0 1 42] [--limit 300]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from common import ROOT, print_results

sys.path.insert(0, str(ROOT))

import pulp

from optimization.facility_problem import FacilityProblem
from optimization.pmedian import solve_pmedian
from optimization.solve import SolveOptions


def pmedian_instance(seed: int, n: int = 1000, m: int = 100):
    rng = np.random.default_rng(seed)
    clients = rng.uniform(0, 10000, (n, 2))
    sites = rng.uniform(0, 10000, (m, 2))
    weights = rng.integers(1, 12, n)
    costs = np.sqrt(((clients[:, None, :] - sites[None, :, :]) ** 2).sum(-1))
    return costs, weights


def spopt_pmedian(costs, weights, p: int, solver: str, limit: float):
    from spopt.locate import PMedian

    if solver == "cbc":
        backend = pulp.PULP_CBC_CMD(msg=False, timeLimit=limit)
    else:
        backend = pulp.HiGHS(msg=False, timeLimit=limit)
    started = time.perf_counter()
    model = PMedian.from_cost_matrix(costs, weights, p)
    model.solve(backend)
    seconds = time.perf_counter() - started
    proven = model.problem.sol_status == pulp.LpSolutionOptimal
    if solver == "highs":
        import highspy

        proven = model.problem.solverModel.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return pulp.value(model.problem.objective), proven, seconds


def run_pmedian(seeds: list[int], limit: float, solvers: list[str]) -> None:
    rows = []
    for seed in seeds:
        costs, weights = pmedian_instance(seed)
        for solver in solvers:
            ours = solve_pmedian(
                FacilityProblem(costs, weights), 10, SolveOptions(solver=solver, time_limit=limit)
            )
            peer_obj, peer_proven, peer_s = spopt_pmedian(costs, weights, 10, solver, limit)
            ratio = peer_s / ours.outcome.seconds
            rows.append(
                [
                    str(seed),
                    solver,
                    f"{ours.objective:,.2f}",
                    ours.outcome.status.value,
                    f"{ours.outcome.seconds:.1f}",
                    f"{peer_obj:,.2f}",
                    "optimal" if peer_proven else "NOT proven (time limit)",
                    f"{peer_s:.1f}",
                    f"{'>= ' if not peer_proven else ''}{ratio:.1f}x",
                ]
            )
            print(rows[-1], flush=True)
    print_results(
        f"p-median 1000 x 100, p = 10, time limit {limit:g} s per run",
        [
            "seed",
            "solver",
            "CityDesk objective",
            "CityDesk status",
            "CityDesk s",
            "spopt objective",
            "spopt status",
            "spopt s",
            "speed-up",
        ],
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="which", required=True)
    pm = sub.add_parser("pmedian")
    pm.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 42])
    pm.add_argument("--limit", type=float, default=300.0)
    pm.add_argument("--solvers", nargs="+", default=["cbc", "highs"])
    args = parser.parse_args()
    if args.which == "pmedian":
        run_pmedian(args.seeds, args.limit, args.solvers)


if __name__ == "__main__":
    main()
