"""p-median, 1,000 demand points x 100 candidate sites, p = 10 (optimization issue, target 1).

The instance of the issue: ``default_rng(seed)``, clients then sites uniform in [0, 10000]^2,
weights ``integers(1, 12)``, Euclidean distances. CityDesk (radius formulation, truncated,
vertex-substitution start) against spopt's ``PMedian`` (the textbook assignment model) on the
same matrix, each with CBC and with HiGHS, each run with the same time limit. A run that hits
the limit reports its status honestly: CityDesk reads the solver's own bound, and spopt's
model is re-checked with ``sol_status``, because PuLP reports "Optimal" for a CBC run stopped
at its time limit.

    .venv/bin/python benchmarks/optimization.py pmedian [--seeds 0 1 42] [--limit 300]

Pareto front at city scale (target 2): every Cambridge parcel a candidate, economic value
against social benefit (additive per parcel), housing target, budget and change cap;
CityDesk's epsilon-constraint front (LP + marginal-parcel MIP, proven gap per point) against
pymoo's NSGA-II given the same
wall-clock time, compared by point count and hypervolume (same reference point: the
"change nothing" plan, economic 0 and social 0).

    .venv/bin/python benchmarks/optimization.py front [--points 22]

Land-use allocation scaling (target 3): 1k, 5k and 13k candidate parcels, one weighted
objective: build time, solve time, gap reached within 60 s, peak memory (Python allocations
while building the model, traced; the CBC process's peak resident set, from /proc).

    .venv/bin/python benchmarks/optimization.py scaling

The whole published 3kp40 front (three objectives, 389 points; needs ../shared): AUGMECON2
must find exactly the published points. The test suite checks a box of it (59 points); the
full front takes minutes, so it is run here.

    .venv/bin/python benchmarks/optimization.py knapsack

The p-median at city scale on real roads (issue 25): 10,000 demand points placed on the
streets x 1,000 candidate nodes, p = 30, against spopt given the same matrix (in its own
process, stopped after its limit plus a minute).

    .venv/bin/python benchmarks/optimization.py road [--city cambridge|helsinki] [--limit 60]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from common import ROOT, peak_rss_mib, peer_json, print_peak_rss, print_results

sys.path.insert(0, str(ROOT))

import pulp

from citydesk.optimization.facility_problem import FacilityProblem
from citydesk.optimization.pmedian import solve_pmedian
from citydesk.optimization.solve import SolveOptions


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
    try:
        model.solve(backend)
    except RuntimeError:  # spopt raises when the solver stopped at its limit with no plan
        return None, False, time.perf_counter() - started
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
                    ours.outcome.solver,
                    f"{ours.outcome.seconds:.2f}",
                    "-" if peer_obj is None else f"{peer_obj:,.2f}",
                    "optimal"
                    if peer_proven
                    else "no plan (time limit)"
                    if peer_obj is None
                    else "NOT proven (time limit)",
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
            "proven by",
            "CityDesk s",
            "spopt objective",
            "spopt status",
            "spopt s",
            "speed-up",
        ],
        rows,
    )


DEMO = ROOT / "layers" / "demo_data" / "cambridge_demo.gpkg"
FRONT_SCENARIO = {"targets": {"housing": 2000.0}, "budget": 3e8, "max_changed": 600}


def run_front(points: int, names: list[str], limit: float | None, where: str = "") -> None:
    """The city-scale front on every Cambridge parcel against NSGA-II given the same time.

    With ``compatibility`` among ``names`` the neighbour penalty is an objective (issue 25):
    the model then carries the parcel adjacency, and each plan's penalty is checked against
    the plan's own, recomputed from its uses."""
    from citydesk.optimization.landuse import (
        build_landuse_model,
        compatibility_penalty,
        objectives_for,
    )
    from citydesk.optimization.pareto_large import epsilon_front
    from citydesk.planning.landuse_inputs import project_landuse_problem

    neighbours = "compatibility" in names
    started = time.perf_counter()
    inputs = project_landuse_problem(DEMO, compatibility=neighbours, where=where, **FRONT_SCENARIO)
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    model = build_landuse_model(inputs, compatibility=neighbours)
    front = epsilon_front(
        model.problem, model.groups(), objectives_for(model, names), points, time_limit=limit
    )
    ours_s = time.perf_counter() - started
    ours = np.array([p.values for p in front.points])
    gaps = [p.outcome.gap for p in front.points]
    within = sum(1 for g in gaps if g is not None and g <= 0.001)
    for p in front.points:
        shown = "  ".join(f"{n} {v:,.1f}" for n, v in zip(names, p.values, strict=True))
        gap = "-" if p.outcome.gap is None else f"{p.outcome.gap:.4%}"
        print(f"  {shown}  gap {gap}  {p.outcome.seconds:.1f} s")
        if neighbours:  # the modelled penalty must be the plan's own
            own = compatibility_penalty(inputs, model.plan_from(p.solution))
            modelled = p.values[names.index("compatibility")]
            if abs(own - modelled) > 1e-6 * max(1.0, own):
                print(f"    MISMATCH: the plan's own penalty is {own:,.3f}")
    for note in front.notes:
        print("  " + note)
    print(
        f"  reading the project {read_s:.1f} s; solves {front.solves}; grid points answered"
        f" by the plan below them or closed as infeasible {front.skipped}; unexplored"
        f" {front.unexplored}"
    )
    signs = np.array([1.0 if OBJECTIVE_SENSES[n] == "max" else -1.0 for n in names])
    peer, peer_feasible = nsga2_front(inputs, ours_s, names)
    sparse, sparse_feasible = nsga2_front(inputs, ours_s, names, change_share=0.02)
    g_all = np.vstack([f for f in (ours, peer, sparse) if len(f)]) * signs
    ideal = g_all.max(axis=0)
    reference = np.where(signs > 0, 0.0, g_all.min(axis=0))  # nothing gained, most conflicts
    worst = max((g for g in gaps if g is not None), default=float("nan"))
    rows = [
        [
            "CityDesk epsilon-constraint, LP + marginal MIP (HiGHS)",
            f"{ours_s:.0f}",
            str(len(ours)),
            f"{within} of {len(ours)}",
            f"{worst:.3%}",
            f"{hypervolume(ours * signs, reference, ideal):.4f}",
        ],
        [
            "pymoo NSGA-II, same time",
            f"{ours_s:.0f}",
            f"{len(peer)} ({peer_feasible} feasible evaluations)",
            "-",
            "-",
            f"{hypervolume(peer * signs, reference, ideal):.4f}",
        ],
        [
            "pymoo NSGA-II, sparse start (2 % of parcels changed), same time",
            f"{ours_s:.0f}",
            f"{len(sparse)} ({sparse_feasible} feasible evaluations)",
            "-",
            "-",
            f"{hypervolume(sparse * signs, reference, ideal):.4f}",
        ],
    ]
    print_results(
        f"Pareto front, {' vs '.join(names)}, {inputs.n_parcels:,} Cambridge parcels x 7 uses"
        + (f", budget {limit:.0f} s" if limit else ""),
        ["method", "seconds", "points", "within 0.1 %", "worst proven gap", "hypervolume"],
        rows,
    )


OBJECTIVE_SENSES = {"economic": "max", "social": "max", "compatibility": "min", "cost": "min"}


def hypervolume(g: np.ndarray, reference: np.ndarray, ideal: np.ndarray) -> float:
    """Hypervolume of maximised points ``g`` above ``reference``, each axis scaled so that
    ``reference`` is 0 and ``ideal`` 1 (pymoo's exact indicator, in its minimising form).
    With two objectives and reference (0, 0) it is the figure the earlier runs printed."""
    from pymoo.indicators.hv import HV

    if not len(g):
        return 0.0
    scaled = (g - reference) / np.maximum(ideal - reference, 1e-12)
    scaled = scaled[(scaled > 0).all(axis=1)]
    if not len(scaled):
        return 0.0
    return float(HV(ref_point=np.ones(g.shape[1]))(1.0 - scaled))


def nsga2_front(inputs, seconds: float, names, change_share: float | None = None):
    """NSGA-II over one integer per parcel (its index among the parcel's allowed uses).

    ``change_share`` replaces the uniform random start by one where each parcel changes with
    that probability: a fairer start, since a uniform one changes most parcels at once.
    """
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.problem import Problem
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM
    from pymoo.operators.repair.rounding import RoundingRepair
    from pymoo.operators.sampling.rnd import IntegerRandomSampling
    from pymoo.optimize import minimize
    from pymoo.termination import get_termination

    from citydesk.optimization.landuse import effective_allowed

    allowed = effective_allowed(inputs)
    choices = [np.flatnonzero(row) for row in allowed]
    width = max(len(c) for c in choices)
    table = np.array([np.pad(c, (0, width - len(c)), mode="edge") for c in choices])
    upper = np.array([len(c) - 1 for c in choices])
    rows = np.arange(inputs.n_parcels)
    housing, cost = inputs.yields["housing"], inputs.cost
    target = FRONT_SCENARIO["targets"]["housing"]
    feasible_seen = [0]

    def minimised(name: str, uses: np.ndarray) -> np.ndarray:
        """Objective ``name`` of each plan (a row of uses), negated when maximised."""
        if name == "compatibility":
            from citydesk.optimization.landuse import use_class_of

            klass, pairs = use_class_of(inputs), np.asarray(inputs.adjacency)
            a, b = pairs[:, 0], pairs[:, 1]
            penalty = inputs.incompatible[klass[a, uses[:, a]], klass[b, uses[:, b]]].sum(axis=1)
            return penalty + inputs.outside_penalty[rows[None, :], uses].sum(axis=1)
        source = inputs.cost if name == "cost" else inputs.coefficients[name]
        total = source[rows[None, :], uses].sum(axis=1)
        return total if OBJECTIVE_SENSES[name] == "min" else -total

    class Allocation(Problem):
        def __init__(self):
            super().__init__(
                n_var=inputs.n_parcels,
                n_obj=len(names),
                n_ieq_constr=3,
                xl=0,
                xu=upper,
                vtype=int,
            )

        def _evaluate(self, x, out, *args, **kwargs):
            uses = table[rows[None, :], np.clip(np.rint(x).astype(int), 0, upper)]
            h = housing[rows[None, :], uses].sum(axis=1)
            c = cost[rows[None, :], uses].sum(axis=1)
            g = np.column_stack(
                [
                    target - h,
                    c - FRONT_SCENARIO["budget"],
                    (uses != 0).sum(axis=1) - FRONT_SCENARIO["max_changed"],
                ]
            )
            feasible_seen[0] += int((g <= 0).all(axis=1).sum())
            out["F"] = np.column_stack([minimised(name, uses) for name in names])
            out["G"] = g

    from pymoo.core.sampling import Sampling

    class SparseSampling(Sampling):
        def _do(self, problem, n_samples, **kwargs):
            rng = np.random.default_rng(1)
            change = rng.random((n_samples, inputs.n_parcels)) < change_share
            pick = rng.integers(0, upper + 1, (n_samples, inputs.n_parcels))
            return np.where(change, pick, 0)

    algorithm = NSGA2(
        pop_size=100,
        sampling=SparseSampling() if change_share else IntegerRandomSampling(),
        crossover=SBX(prob=0.9, eta=15, vtype=float, repair=RoundingRepair()),
        mutation=PM(eta=20, vtype=float, repair=RoundingRepair()),
        eliminate_duplicates=True,
    )
    hms = time.strftime("%H:%M:%S", time.gmtime(max(1, int(seconds))))
    result = minimize(Allocation(), algorithm, get_termination("time", hms), seed=1, verbose=False)
    if result.F is None:
        return np.empty((0, len(names))), feasible_seen[0]
    senses = np.array([1.0 if OBJECTIVE_SENSES[n] == "min" else -1.0 for n in names])
    return np.atleast_2d(result.F) * senses, feasible_seen[0]


class SolverMemory:
    """Peak resident memory of this process's CBC children (VmHWM from /proc, Linux)."""

    def __init__(self) -> None:
        import threading

        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        from citydesk.optimization.solve import _child_pids

        while not self._stop.wait(0.05):
            for pid in _child_pids("cbc"):
                try:
                    with open(f"/proc/{pid}/status") as f:
                        for line in f:
                            if line.startswith("VmHWM:"):
                                self.peak_kb = max(self.peak_kb, int(line.split()[1]))
                except OSError:
                    continue

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def run_scaling(sizes: list[int], limit: float) -> None:
    import tracemalloc

    from citydesk.optimization.landuse import build_landuse_model
    from citydesk.optimization.solve import SolveOptions, solve
    from citydesk.planning.landuse_inputs import project_landuse_problem

    rows = []
    full = project_landuse_problem(DEMO)
    for size in sizes:
        size = min(size, full.n_parcels)
        keep = np.zeros(full.n_parcels, dtype=bool)
        keep[np.random.default_rng(0).choice(full.n_parcels, size, replace=False)] = True
        inputs = project_landuse_problem(
            DEMO,
            candidates=keep,
            targets={"housing": 2000.0 * size / full.n_parcels},
            budget=3e8 * size / full.n_parcels,
            max_changed=int(600 * size / full.n_parcels),
        )
        tracemalloc.start()
        started = time.perf_counter()
        model = build_landuse_model(inputs)
        model.problem.setObjective(
            model.expressions["economic"] + 1000 * model.expressions["social"]
        )
        built = time.perf_counter() - started
        me = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        with SolverMemory() as memory:
            outcome = solve(model.problem, SolveOptions(time_limit=limit))
        child = memory.peak_kb / 1024
        rows.append(
            [
                f"{size:,}",
                f"{len(model.x):,}",
                f"{built:.1f}",
                f"{outcome.seconds:.1f}",
                outcome.status.value,
                "-" if outcome.gap is None else f"{outcome.gap:.4%}",
                f"{me:,.0f} / {child:,.0f}",
            ]
        )
        print(rows[-1], flush=True)
    print_results(
        f"Land-use allocation scaling, CBC, time limit {limit:g} s",
        [
            "parcels",
            "variables",
            "build s",
            "solve s",
            "status",
            "gap",
            "peak MB (model build / CBC)",
        ],
        rows,
    )


#: pyaugmecon's own test settings for the published instances (grid points, nadir points):
#: a step of one unit from the nadir to the payoff table's best, so its front is exact too
PYAUGMECON_SETTINGS = {"3kp40": (540, [1031, 1069]), "3kp50": (847, [1124, 1041])}


def run_pyaugmecon(python: str, folder, instance: str, cuts: bool, timeout: float) -> dict | None:
    """pyaugmecon 1.0.8 on the same folder, in its own environment (``python``), with the
    same CBC binary; its JSON, or None when it failed or ran past ``timeout``."""
    import json
    import subprocess

    grid, nadir = PYAUGMECON_SETTINGS[instance]
    cbc_dir = Path(pulp.PULP_CBC_CMD().path).parent
    args = [python, str(ROOT / "benchmarks" / "pyaugmecon_peer.py"), str(folder), str(cbc_dir)]
    args += [str(grid), json.dumps(nadir)] + (["cuts"] if cuts else [])
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"pyaugmecon: no front after {timeout:.0f} s", flush=True)
        return None
    return peer_json(out)


def run_knapsack(
    instance: str,
    folder_arg: str | None = None,
    workers=(1, 2),
    runs: int = 1,
    peer_python: str | None = None,
    peer_timeout: float = 3600.0,
) -> None:
    """The full published front of a multi-objective knapsack, found and compared exactly,
    ``runs`` times per number of ``workers`` (one solve at a time, then AUGMECON2's slabs on
    two), and with ``peer_python`` pyaugmecon on the same folder after each of CityDesk's runs
    (CBC with cuts off, as CityDesk's walk runs it on small models, then with CBC's defaults
    in the first run only). ``folder_arg``: a folder in the same layout as
    ../shared/data/moo_knapsack/INSTANCE (the held-out 3kp50 is pyaugmecon's
    src/pyaugmecon/data/3kp50, MIT licence)."""
    import statistics

    import pandas as pd

    from citydesk.optimization.knapsack import knapsack_model, read_knapsack
    from citydesk.optimization.pareto import augmecon2

    folder = (
        Path(folder_arg)
        if folder_arg
        else ROOT.parent / "shared" / "data" / "moo_knapsack" / instance
    )
    data = read_knapsack(folder)
    fronts = pd.read_csv(folder / "pareto_sols.csv", index_col=0).to_numpy()
    published = {tuple(int(v) for v in row) for row in fronts}
    results = []
    seconds_by: dict[str, list[float]] = {}

    def row(who: str, run: int, found: set, solves: int, seconds: float, peak: str) -> None:
        same = "yes" if found == published else "NO"
        results.append(
            [who, str(run + 1), str(len(found)), str(len(published)), same, str(solves),
             f"{seconds:.1f}", peak]
        )  # fmt: skip
        print(results[-1], flush=True)
        if same == "yes":
            seconds_by.setdefault(who, []).append(seconds)

    for run in range(runs):
        for n in workers:
            model, objectives = knapsack_model(*data, name=instance)
            start = time.perf_counter()
            front = augmecon2(model, objectives, workers=n)
            seconds = time.perf_counter() - start
            found = {tuple(round(v) for v in p.values) for p in front.points}
            row(f"CityDesk, {n} worker(s)", run, found, front.solves, seconds, "-")
            if found != published:
                raise SystemExit(1)
        if peer_python:
            for cuts in (True, False) if run == 0 else (True,):
                peer = run_pyaugmecon(peer_python, folder, instance, cuts, peer_timeout)
                who = "pyaugmecon, CBC " + ("cuts off" if cuts else "defaults")
                if peer is None:
                    results.append([who, str(run + 1), "-", str(len(published)), "-", "-",
                                    f"> {peer_timeout:.0f}", "-"])  # fmt: skip
                    continue
                found = {tuple(p) for p in peer["points"]}
                row(who, run, found, peer["solved"], peer["seconds"], f"{peer['peak_rss_mib']:.0f}")
    print_results(
        f"exact front of {instance} (CBC); CityDesk's peak {peak_rss_mib():.0f} MiB for the "
        "whole run (pyaugmecon's column: its main process)",
        ["who", "run", "points found", "published", "identical", "solves", "seconds",
         "peak MiB"],
        results,
    )  # fmt: skip
    summary = [
        [who, str(len(v)), f"{statistics.median(v):.1f} ({min(v):.1f}-{max(v):.1f})"]
        for who, v in seconds_by.items()
    ]
    print()
    print_results("identical fronts only", ["who", "runs", "seconds, median (min-max)"], summary)


def road_instance(city: str, clients: int = 10_000, sites: int = 1_000, seed: int = 0):
    """The issue's city-scale instance on a real road graph, with demand on the streets.

    The drive networks have far fewer routable nodes than 10,000 (Cambridge 1,850, central
    Helsinki 1,260), so demand is placed on street segments (``citydesk.layers.edge_points``):
    Cambridge: ``clients`` parcels drawn at random (``seed``), each at its point on surface,
    weighing 1 plus the crashes of the demo's history nearest to it; Helsinki (needs
    ../shared): ``clients`` points spread along the drive network's streets by length,
    weight 1. Sites: ``sites`` routable nodes drawn at random. Costs: driving seconds from
    the site to the point along one-way streets, with the city profile's speeds."""
    import shapely
    from scipy.spatial import cKDTree

    from citydesk.layers.city_profile import parse_profile, profile_or_none
    from citydesk.layers.edge_points import cost_to_edge_points, locate_on_edges
    from citydesk.layers.project_store import load_project
    from citydesk.layers.road_network import build_network, network_spec

    rng = np.random.default_rng(seed)
    if city == "cambridge":
        project = load_project(DEMO)
        streets = project.layers["street_centerlines"].data
        network = build_network(streets, network_spec(profile_or_none(DEMO)))
        parcels = project.layers["parcels"].data.to_crs(network.crs)
        pick = np.sort(rng.choice(len(parcels), clients, replace=False))
        xy = shapely.get_coordinates(shapely.point_on_surface(parcels.geometry.values[pick]))
        crashes = project.layers["crashes"].data.to_crs(network.crs)
        _, nearest = cKDTree(xy).query(shapely.get_coordinates(crashes.geometry.values))
        weights = 1.0 + np.bincount(nearest, minlength=len(xy))
    else:
        from citydesk.layers.osm_city import city_from_osm

        extract = ROOT.parent / "shared" / "data" / "helsinki_osm" / "Helsinki.osm.pbf"
        built = city_from_osm(extract, name="Helsinki", timezone="Europe/Helsinki", crs="EPSG:3067")
        network = build_network(
            built.layers["streets"], network_spec(parse_profile(built.profile_text))
        )
        graph = network.graph  # one line per street segment: a two-way street once
        lines = [
            shapely.LineString(data["coords"])
            for a, b, data in graph.edges(data=True)
            if not (graph.has_edge(b, a) and b < a)
        ]
        lengths = np.array([line.length for line in lines])
        along = rng.choice(len(lines), clients, p=lengths / lengths.sum())
        points = shapely.line_interpolate_point(
            np.asarray(lines, dtype=object)[along], rng.uniform(0, 1, clients), normalized=True
        )
        xy = shapely.get_coordinates(points)
        weights = np.ones(clients)
    located = locate_on_edges(network, xy)
    site_nodes = np.sort(rng.choice(network.node_ids, sites, replace=False))
    costs = cost_to_edge_points(network, site_nodes.tolist(), located)
    facts = {
        "routable nodes": len(network.node_ids),
        "median metres from point to street": round(float(np.median(located.offset_m)), 1),
        "total weight": float(weights.sum()),
    }
    return costs, weights, facts


def _spopt_child(costs, weights, p, solver, limit, queue) -> None:
    import resource

    cap = 20 * 2**30  # the machine has 24 GiB: stop the peer before it takes the box down
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    try:
        queue.put(("done", *spopt_pmedian(costs, weights, p, solver, limit)))
    except MemoryError:
        queue.put(("out of memory (20 GiB)", None, False, None))


def spopt_in_child(costs, weights, p: int, solver: str, limit: float, wall: float):
    """spopt in its own process, stopped at ``wall`` seconds: its textbook model has
    clients x sites assignment variables (10 million here), which PuLP builds one Python
    object at a time."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_spopt_child, args=(costs, weights, p, solver, limit, queue))
    started = time.perf_counter()
    child.start()
    child.join(wall)
    seconds = time.perf_counter() - started
    if child.is_alive():
        child.kill()
        child.join()
        return f"no answer after {wall:.0f} s (stopped)", None, False, seconds
    if queue.empty():
        return f"died (exit {child.exitcode})", None, False, seconds
    status, objective, proven, _own = queue.get()
    return status, objective, proven, seconds


def run_road(city: str, clients: int, sites: int, p: int, limit: float, solvers, peer_limit: float):
    """Issue 25, next scale: the p-median on a city's roads, and spopt on the same matrix."""
    from citydesk.layers.feedback import NullFeedback

    class Progress(NullFeedback):
        def push_info(self, message: str) -> None:
            print(f"  {time.perf_counter() - t0:7.1f} s  {message}", flush=True)

    t0 = time.perf_counter()
    costs, weights, facts = road_instance(city, clients, sites)
    print(f"{city}: matrix {costs.shape} in {time.perf_counter() - t0:.1f} s; {facts}", flush=True)
    assert np.isfinite(costs).all(), "every point reachable from every site"
    rows = []
    for solver in solvers:
        t0 = time.perf_counter()
        ours = solve_pmedian(
            FacilityProblem(costs, weights), p, SolveOptions(solver=solver, time_limit=limit),
            Progress(),
        )  # fmt: skip
        wall = time.perf_counter() - t0
        gap = ours.outcome.gap
        rows.append([
            "CityDesk", solver, f"{ours.objective:,.1f}", ours.outcome.status.value,
            "-" if gap is None else f"{gap:.3%}", f"{wall:.1f}",
        ])  # fmt: skip
        print(rows[-1], flush=True)
    for solver in solvers if peer_limit > 0 else []:
        status, objective, proven, seconds = spopt_in_child(
            costs, weights, p, solver, peer_limit, peer_limit + 60
        )
        if status == "done":
            status = "optimal" if proven else "NOT proven (time limit)"
        rows.append([
            "spopt", solver, "-" if objective is None else f"{objective:,.1f}", status, "-",
            f"{seconds:.1f}",
        ])  # fmt: skip
        print(rows[-1], flush=True)
    print_results(
        f"p-median on {city}'s roads, {clients:,} demand points on streets x {sites:,} sites, "
        f"p = {p}; CityDesk limit {limit:g} s, spopt limit {peer_limit:g} s",
        ["who", "solver", "objective (weighted s)", "status", "gap", "wall s"],
        rows,
    )
    print_peak_rss()


def run_limits(n: int, m: int, p: int, solvers: list[str]) -> None:
    """Issue 25, defect 4: the whole call holds its time limit (within 10 % or 1 s), and a
    p-center stopped by it reports the bound its search proved (defect 5)."""
    from citydesk.optimization.pcenter import solve_pcenter

    costs, weights = pmedian_instance(7, n, m)
    problem = FacilityProblem(costs, weights)
    rows = []
    for model, fn, limit in (("p-median", solve_pmedian, 5.0), ("p-center", solve_pcenter, 10.0)):
        for solver in solvers:
            started = time.perf_counter()
            result = fn(problem, p, SolveOptions(solver=solver, time_limit=limit))
            wall = time.perf_counter() - started
            gap = result.outcome.gap
            rows.append(
                [
                    model,
                    solver,
                    f"{limit:.0f}",
                    f"{wall:.2f}",
                    "yes" if wall <= max(limit * 1.1, limit + 1.0) else "NO",
                    result.outcome.status.value,
                    "-" if gap is None else f"{gap:.2%}",
                ]
            )
    print_results(
        f"time limits, {n:,} clients x {m} sites, p = {p}",
        ["model", "solver", "limit s", "wall s", "within 10 % or 1 s", "status", "gap"],
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="which", required=True)
    pm = sub.add_parser("pmedian")
    pm.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 42])
    pm.add_argument("--limit", type=float, default=300.0)
    pm.add_argument("--solvers", nargs="+", default=["cbc", "highs"])
    fr = sub.add_parser("front")
    fr.add_argument("--points", type=int, default=22)
    fr.add_argument("--objectives", default="economic,social")
    fr.add_argument("--limit", type=float, help="the whole front's budget, seconds")
    fr.add_argument(
        "--where", default="", help="only the parcels this filter picks (optimize --where)"
    )
    sc = sub.add_parser("scaling")
    sc.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 13116])
    sc.add_argument("--limit", type=float, default=60.0)
    kn = sub.add_parser("knapsack")
    kn.add_argument("--instance", default="3kp40")
    kn.add_argument("--folder", help="an instance folder outside ../shared (e.g. 3kp50)")
    kn.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    kn.add_argument("--runs", type=int, default=3)
    kn.add_argument("--peer-python", help="a Python with pyaugmecon 1.0.8 (see pyaugmecon_peer.py)")
    kn.add_argument("--peer-timeout", type=float, default=3600.0)
    rd = sub.add_parser("road")
    rd.add_argument("--city", choices=["cambridge", "helsinki"], default="cambridge")
    rd.add_argument("--clients", type=int, default=10_000)
    rd.add_argument("--sites", type=int, default=1_000)
    rd.add_argument("--p", type=int, default=30)
    rd.add_argument("--limit", type=float, default=60.0)
    rd.add_argument("--peer-limit", type=float, default=600.0)
    rd.add_argument("--solvers", nargs="+", default=["cbc", "highs"])
    lm = sub.add_parser("limits")
    lm.add_argument("--clients", type=int, default=2000)
    lm.add_argument("--sites", type=int, default=200)
    lm.add_argument("--p", type=int, default=20)
    lm.add_argument("--solvers", nargs="+", default=["cbc", "highs"])
    args = parser.parse_args()
    if args.which == "road":
        run_road(
            args.city, args.clients, args.sites, args.p, args.limit, args.solvers, args.peer_limit
        )
    elif args.which == "limits":
        run_limits(args.clients, args.sites, args.p, args.solvers)
    elif args.which == "knapsack":
        run_knapsack(
            args.instance, args.folder, args.workers, args.runs, args.peer_python,
            args.peer_timeout,
        )  # fmt: skip
    elif args.which == "pmedian":
        run_pmedian(args.seeds, args.limit, args.solvers)
    elif args.which == "front":
        run_front(args.points, args.objectives.split(","), args.limit, args.where)
    else:
        run_scaling(args.sizes, args.limit)


if __name__ == "__main__":
    main()
