"""Planning issue benchmarks, each against a named peer on the same Cambridge input.

Accessibility: walking distance from all 13k parcels to the nearest facility of every kind
(public school, fire station, library, clinic, park), CityDesk's one multi-source csgraph
Dijkstra per kind against (a) networkx's own multi-source Dijkstra per kind, the best plain
networkx can do, and (b) the plain per-parcel networkx loop (one Dijkstra per parcel, timed
on a sample and scaled to 13k). Results are checked equal before the times are printed.

    .venv/bin/python benchmarks/planning.py access

Zonal statistics: the mean of a 5 m raster (a crash-density surface over Cambridge, made
from the real crash points) over all 13k parcels, CityDesk's rasterize-once method against
a per-polygon ``rasterio.mask`` loop; means checked equal.

    .venv/bin/python benchmarks/planning.py zonal

End to end: the baseline scenario on the demo project (read the layers, build the network,
indicators per neighbourhood, write the plan layer and the indicator rows into the project),
then the two allocation scenarios. Target: baseline under 30 s.

    .venv/bin/python benchmarks/planning.py scenarios

Land-use inputs: the social gain of a new school or park (the homes within 800 m of each of
the 13k parcels, summed), CityDesk's KD-tree sum from the weighted parcels against the 0/1
"within" matrix times the weights (scipy's query_pairs and a sparse product: what
CityDesk did before session 34), every home weighted (the heaviest case); sums checked equal.
Then a target's most possible under the change cap, zoning and protected land (what an
infeasible plan's explanation asks four times): CityDesk's sort against the MIP (CBC),
values checked equal.

    .venv/bin/python benchmarks/planning.py landuse-inputs

Phasing: the housing_first scenario's schedule (its plan's 447 changed parcels over three
five-year periods with a budget and a cumulative housing target each), CityDesk's model
("developed by period t") against the "develops in period t" model it replaced (session
35), both on CBC proving optimality; the optima checked equal.

    .venv/bin/python benchmarks/planning.py phasing
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import ROOT, print_peak_rss, print_results

sys.path.insert(0, str(ROOT))

import networkx as nx

DEMO = ROOT / "layers" / "demo_data" / "cambridge_demo.gpkg"
KINDS = {
    "public school": ("all_facilities", "category = 'public_school'"),
    "fire station": ("all_facilities", "category = 'fire_station'"),
    "library": ("all_facilities", "category = 'public_library'"),
    "clinic": ("all_facilities", "category IN ('health_clinic', 'hospital')"),
    "park": ("open_space", "NAME <> 'Surface Water'"),
}


def _inputs():
    from citydesk.planning.scenario import read_scenario
    from citydesk.planning.scenario_run import prepare_inputs

    scenario = read_scenario(ROOT / "planning" / "data" / "scenarios" / "baseline.toml")
    return prepare_inputs(DEMO, scenario)


def run_access(sample: int) -> None:
    from citydesk.layers.expressions import filter_mask

    inputs = _inputs()
    costs = inputs.walk
    frames = {}
    for kind, (layer, where) in KINDS.items():
        frame = inputs.layer(layer, layer)
        frames[kind] = frame[filter_mask(frame, where).to_numpy()]
    # CityDesk: parcels snapped once, one csgraph Dijkstra per kind
    started = time.perf_counter()
    node, access = costs.snap_places(inputs.parcels.geometry)
    ours = {}
    for kind, frame in frames.items():
        dist, _owner = costs.to_facilities(costs.entrances(frame.geometry))
        ours[kind] = dist[node] + access
    ours_s = time.perf_counter() - started
    # networkx: the same undirected walking graph, one multi-source Dijkstra per kind
    graph = nx.Graph()
    for a, b, d in inputs.walk.network.graph.edges(data=True):
        if not graph.has_edge(a, b) or graph.edges[a, b]["length_m"] > d["length_m"]:
            graph.add_edge(a, b, length_m=d["length_m"])
    started = time.perf_counter()
    peer = {}
    entrances = {kind: costs.entrances(frame.geometry) for kind, frame in frames.items()}
    for kind, ent in entrances.items():
        g = graph  # the virtual source is removed again below: no copy in the timing
        for n, c in zip(ent.node, ent.cost, strict=True):
            target = int(costs.nodes[n])
            if not g.has_edge("src", target) or g.edges["src", target]["length_m"] > c:
                g.add_edge("src", target, length_m=max(c, 1e-9))  # two schools, one node
        lengths = nx.single_source_dijkstra_path_length(g, "src", weight="length_m")
        g.remove_node("src")
        peer[kind] = np.array([lengths.get(int(costs.nodes[n]), np.inf) for n in node]) + access
    peer_s = time.perf_counter() - started
    for kind in frames:
        bad = ~np.isclose(ours[kind], peer[kind])
        assert not bad.any(), (kind, bad.sum(), ours[kind][bad][:5], peer[kind][bad][:5])
    # the plain per-parcel loop, on a sample of parcels, scaled to all of them
    rng = np.random.default_rng(0)
    picked = rng.choice(len(node), size=sample, replace=False)
    started = time.perf_counter()
    for i in picked:
        lengths = nx.single_source_dijkstra_path_length(
            graph, int(costs.nodes[node[i]]), weight="length_m"
        )
        for kind, ent in entrances.items():
            best = min(
                lengths.get(int(costs.nodes[n]), np.inf) + c
                for n, c in zip(ent.node, ent.cost, strict=True)
            )
            assert np.isclose(best + access[i], ours[kind][i])
    loop_s = (time.perf_counter() - started) * len(node) / sample
    n = len(node)
    print_results(
        f"Walking distance from {n:,} parcels to the nearest of 5 facility kinds",
        ["method", "seconds", "CityDesk faster by"],
        [
            ["CityDesk (csgraph, one multi-source Dijkstra per kind)", f"{ours_s:.3f}", "1x"],
            ["networkx multi-source Dijkstra per kind", f"{peer_s:.3f}", f"{peer_s / ours_s:.1f}x"],
            [
                f"networkx per-parcel loop (timed on {sample}, scaled)",
                f"{loop_s:.1f}",
                f"{loop_s / ours_s:,.0f}x",
            ],
        ],
    )


def _density_raster(inputs, cell: float = 5.0) -> Path:
    """A crash-density surface (crashes per hectare within 100 m) over the parcels' extent,
    written as a GeoTIFF: a real-data raster for the zonal benchmark."""
    import rasterio
    from rasterio.transform import from_origin
    from scipy.ndimage import uniform_filter

    crashes = inputs.layer("crashes", "crashes")
    minx, miny, maxx, maxy = inputs.parcels.total_bounds
    width, height = int(np.ceil((maxx - minx) / cell)), int(np.ceil((maxy - miny) / cell))
    counts = np.zeros((height, width), dtype="float32")
    cols = ((crashes.geometry.x - minx) / cell).astype(int).clip(0, width - 1)
    rows = ((maxy - crashes.geometry.y) / cell).astype(int).clip(0, height - 1)
    np.add.at(counts, (rows.to_numpy(), cols.to_numpy()), 1)
    size = int(200 / cell)
    density = uniform_filter(counts, size) * size * size / (200 * 200 / 10_000)
    path = Path(tempfile.mkdtemp()) / "crash_density.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=width, height=height, count=1, dtype="float32",
        crs=inputs.crs.to_wkt(), transform=from_origin(minx, maxy, cell, cell), nodata=-1,
    ) as dst:  # fmt: skip
        dst.write(density.astype("float32"), 1)
    return path


def run_zonal() -> None:
    import rasterio
    import rasterio.mask

    from citydesk.layers.readers.raster import read_raster
    from citydesk.layers.zonal_stats import zonal_stats

    inputs = _inputs()
    path = _density_raster(inputs)
    parcels = inputs.parcels.geometry
    started = time.perf_counter()
    raster = read_raster(path)
    stats = zonal_stats(parcels, raster, ("mean",))
    ours_s = time.perf_counter() - started
    ours, ours_n = stats["mean"].to_numpy(), stats["pixels"].to_numpy()
    started = time.perf_counter()
    peer = np.full(len(parcels), np.nan)
    peer_n = np.zeros(len(parcels), dtype=int)
    with rasterio.open(path) as src:
        for i, geom in enumerate(parcels.values):
            if geom is None or geom.is_empty:
                continue
            try:
                data, _ = rasterio.mask.mask(src, [geom], crop=True, filled=False)
            except ValueError:  # outside the raster
                continue
            values = data.compressed()
            values = values[values != src.nodata]
            if values.size:
                peer[i], peer_n[i] = values.mean(), values.size
    peer_s = time.perf_counter() - started
    both = np.isfinite(peer)
    same = np.isclose(ours, peer, rtol=1e-5)
    # a pixel centre on the line two parcels share is claimed by both in the mask loop and
    # given to one of them by CityDesk (one label per pixel): the only kind of difference
    differ = both & ~same
    assert (ours_n[differ] < peer_n[differ]).all(), "a difference not due to shared pixels"
    small = int((~both & np.isfinite(ours)).sum())
    with rasterio.open(path) as src:
        shape = f"{src.width} x {src.height}"
    print_results(
        f"Mean of a 5 m raster ({shape} cells) over {len(parcels):,} parcels",
        ["method", "seconds", "CityDesk faster by"],
        [
            ["CityDesk (rasterize once, bincount)", f"{ours_s:.2f}", "1x"],
            ["rasterio.mask per polygon", f"{peer_s:.2f}", f"{peer_s / ours_s:.0f}x"],
        ],
    )
    print(
        f"\nmeans equal on {int((same & both).sum()):,} of {int(both.sum()):,} parcels; on "
        f"{int(differ.sum())} pixels shared with a touching or overlapping parcel went to "
        f"that parcel ({int((peer_n - ours_n)[differ].sum())} pixels in all); {small} parcels "
        "smaller than a cell get the value under their inner point from CityDesk, nothing "
        "from the mask loop"
    )


SCENARIO_CHILD = r"""
import json, logging, os, re, sys, time
started, cpu0 = time.perf_counter(), os.times()
from pathlib import Path
project, name = sys.argv[1:3]
solves = []

class Solves(logging.Handler):
    def emit(self, record):
        found = re.search(r"in ([0-9.]+) s$", record.getMessage())
        if found and record.name.endswith("optimization.solve"):
            solves.append(float(found.group(1)))

logging.getLogger("citydesk.optimization.solve").addHandler(Solves())
logging.getLogger("citydesk.optimization.solve").setLevel(logging.INFO)
from citydesk.planning.scenario_run import run_stored_scenarios
imported = time.perf_counter() - started
results, _inputs = run_stored_scenarios(project, [name])
r = results[0]
cpu = os.times()
print(json.dumps({
    "total": time.perf_counter() - started,
    "imports": imported,
    "run": r.seconds,
    "solve_calls": len(solves),
    "solve_wall": sum(solves),
    "cpu_self": cpu.user + cpu.system - cpu0.user - cpu0.system,
    "cpu_solver": cpu.children_user + cpu.children_system,
    "outcome": r.outcome.describe() if r.outcome else "-",
    "changed": int(r.state["changed"].sum()),
}))
"""


def run_scenarios(runs: int = 3) -> None:
    """The three demo scenarios, each in a fresh process (imports included, as a user
    running ``citydesk plan run`` pays them), ``runs`` times: wall time end to end, the
    scenario's own run, every solver call (CBC runs as a child process: its CPU is the
    children's), and this process's CPU."""
    import json
    import statistics
    import subprocess
    import sys

    from citydesk.planning.scenario_store import save_scenario

    folder = ROOT / "planning" / "data" / "scenarios"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "demo.gpkg"
        shutil.copyfile(DEMO, project)
        names = ("baseline", "housing_first", "balanced")
        for name in names:
            save_scenario(project, (folder / f"{name}.toml").read_text(encoding="utf-8"))
        for name in names:
            got = []
            for _ in range(runs):
                out = subprocess.run(
                    [sys.executable, "-c", SCENARIO_CHILD, str(project), name],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                got.append(json.loads(out.stdout.strip().splitlines()[-1]))
                print(name, got[-1], flush=True)

            def med(key: str, values=got) -> str:
                xs = [g[key] for g in values]
                return f"{statistics.median(xs):.1f} ({min(xs):.1f}-{max(xs):.1f})"

            rows.append(
                [
                    name,
                    med("total"),
                    med("imports"),
                    med("run"),
                    f"{got[0]['solve_calls']}: {med('solve_wall')}",
                    med("cpu_solver"),
                    med("cpu_self"),
                    got[0]["outcome"],
                    str(got[0]["changed"]),
                ]
            )
    print_results(
        f"Scenarios on the Cambridge demo (13,116 parcels), each in a fresh process, "
        f"median (min-max) of {runs} runs",
        [
            "scenario",
            "end to end s",
            "imports s",
            "run s",
            "solver calls: wall s",
            "solver CPU s",
            "Python CPU s",
            "last solve",
            "parcels changed",
        ],
        rows,
    )


def run_landuse_inputs(runs: int = 3) -> None:
    """See the module docstring: two answers per row, checked equal, then timed."""
    import tracemalloc

    import geopandas as gpd
    import pulp
    from scipy.sparse import coo_matrix
    from scipy.spatial import cKDTree

    from citydesk.optimization.landuse import build_landuse_model
    from citydesk.optimization.landuse_infeasibility import (
        GROUPS,
        _most_by_sorting,
        _relax,
    )
    from citydesk.optimization.solve import SolveOptions, solve
    from citydesk.planning.landuse_inputs import (
        _centroids,
        _sum_within,
        project_landuse_problem,
    )

    def matrix_sum(points: np.ndarray, weights: np.ndarray, radius: float) -> np.ndarray:
        pairs = cKDTree(points).query_pairs(radius, output_type="ndarray")
        n = len(points)
        rows = np.concatenate([pairs[:, 0], pairs[:, 1], np.arange(n)])
        cols = np.concatenate([pairs[:, 1], pairs[:, 0], np.arange(n)])
        return coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr() @ weights

    def timed(fn, repeat: int = runs):
        """(value, best seconds of ``repeat`` untraced runs, Python peak MiB of one traced
        run): tracemalloc slows numpy's allocations, so it stays out of the timing."""
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            value = fn()
            times.append(time.perf_counter() - started)
        tracemalloc.start()
        fn()
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return value, min(times), peak / 2**20

    parcels = gpd.read_file(DEMO, layer="parcels")
    points, _unusable = _centroids(parcels)  # as the inputs place them
    homes = np.nan_to_num(parcels["res_units_est"].astype(float).to_numpy())
    rows = []
    ours, t_ours, m_ours = timed(lambda: _sum_within(points, homes, 800.0))
    peer, t_peer, m_peer = timed(lambda: matrix_sum(points, homes, 800.0))
    assert np.allclose(ours, peer, rtol=1e-12), "the two sums differ"
    rows.append(
        [f"homes within 800 m, {len(points):,} parcels", f"{t_ours:.2f}", f"{t_peer:.2f}",
         f"{t_peer / t_ours:.1f}x", f"{m_ours:,.0f} / {m_peer:,.0f}"]
    )  # fmt: skip

    _, t_inputs, m_inputs = timed(lambda: project_landuse_problem(DEMO))
    rows.append(
        ["project_landuse_problem (read, build)", f"{t_inputs:.2f}", "-", "-", f"{m_inputs:,.0f}"]
    )
    base = project_landuse_problem(DEMO, targets={"housing": 200_000.0}, max_changed=600)
    variants = [base] + [v for g in GROUPS if (v := _relax(base, g)) is not None]

    def by_mip():
        out = []
        for inputs in variants:
            model = build_landuse_model(inputs, with_targets=False)
            model.problem.sense = pulp.LpMaximize
            model.problem.setObjective(model.expressions["target:housing"])
            out.append(float(solve(model.problem, SolveOptions()).objective))
        return out

    sorted_, t_sort, m_sort = timed(lambda: [_most_by_sorting(v, "housing") for v in variants])
    mip, t_mip, m_mip = timed(by_mip, repeat=1)  # about 40 s a pass
    assert np.allclose(sorted_, mip, rtol=1e-9), (sorted_, mip)
    rows.append(
        [f"most homes possible, {len(variants)} variants (explanation)", f"{t_sort:.3f}",
         f"{t_mip:.2f}", f"{t_mip / t_sort:.0f}x", f"{m_sort:,.0f} / {m_mip:,.0f}"]
    )  # fmt: skip
    print("most homes possible:", ", ".join(f"{v:,.0f}" for v in sorted_))
    print_results(
        f"Land-use inputs on the Cambridge demo, best of {runs} runs (the MIP: one); peers: "
        "the 0/1 within matrix (before session 34), CBC's MIP (the MIP's own memory is the "
        "CBC process's, not in the Python peak)",
        ["work", "CityDesk s", "peer s", "ratio", "Python peak MiB (CityDesk / peer)"],
        rows,
    )
    print_peak_rss()


def _in_period_schedule(problem) -> float:
    """The peer: the same schedule with x[i, t] = "develops in period t" (at most once),
    the model CityDesk used before session 35; its optimum on CBC. Written for a schedule
    without infrastructure items (the demo scenarios have none)."""
    import pulp

    from citydesk.optimization.solve import SolveOptions, solve

    assert not problem.infrastructure, "the peer leaves out infrastructure precedence"

    n, periods = len(problem.parcel_ids), problem.periods
    model = pulp.LpProblem("phasing_in_period", pulp.LpMaximize)
    x = {(i, t): pulp.LpVariable(f"x_{i}_{t}", cat=pulp.LpBinary)
         for i in range(n) for t in range(periods)}  # fmt: skip
    for i in range(n):
        model += pulp.lpSum(x[i, t] for t in range(periods)) <= 1
    for t, budget in enumerate(problem.budgets):
        model += pulp.lpSum(float(problem.cost[i]) * x[i, t] for i in range(n)) <= float(budget)
    for name, series in problem.targets.items():
        amounts = np.asarray(problem.yields[name], dtype=float)
        for t, target in enumerate(series):
            reached = pulp.lpSum(
                float(amounts[i]) * x[i, s] for i in range(n) for s in range(t + 1)
            )
            model += reached >= float(target)
    factor = [(1 + problem.discount_rate) ** -(t * problem.years_per_period)
              for t in range(periods)]  # fmt: skip
    model.setObjective(
        pulp.lpSum(float(problem.value[i]) * factor[t] * x[i, t]
                   for i in range(n) for t in range(periods))
    )  # fmt: skip
    return float(solve(model, SolveOptions()).objective)


def run_phasing(runs: int = 3) -> None:
    from citydesk.optimization.phasing import phasing_from_plan, solve_phasing
    from citydesk.planning.scenario import parse_scenario
    from citydesk.planning.scenario_run import allocate, candidate_mask, prepare_inputs

    folder = ROOT / "planning" / "data" / "scenarios"
    scenario = parse_scenario((folder / "housing_first.toml").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "demo.gpkg"
        shutil.copyfile(DEMO, project)
        inputs = prepare_inputs(project, scenario)
        candidates = candidate_mask(inputs, scenario)
        plan, _outcome, land = allocate(inputs, scenario, candidates, None)
    ph = scenario.phasing
    problem = phasing_from_plan(
        land, plan[candidates], ph.budgets, {"housing": ph.housing_units},
        years_per_period=ph.years_per_period,
    )  # fmt: skip
    ours, peers = [], []
    for _ in range(runs):
        started = time.perf_counter()
        result = solve_phasing(problem)
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        peer = _in_period_schedule(problem)
        peers.append(time.perf_counter() - started)
    value = float(result.outcome.objective)
    assert abs(value - peer) <= 1e-7 * abs(peer), (value, peer)
    print(f"optimum {value:,.2f} both ways ({result.outcome.status.value})")
    best, peer_best = min(ours), min(peers)
    print_results(
        f"Phasing of housing_first's plan ({len(problem.parcel_ids)} parcels, "
        f"{problem.periods} periods), CBC proving optimality, best of {runs} runs",
        ["work", "CityDesk s", "peer s (in-period model)", "ratio"],
        [["schedule, model built and solved", f"{best:.2f}", f"{peer_best:.2f}",
          f"{peer_best / best:.0f}x"]],
    )  # fmt: skip
    print_peak_rss()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    access = sub.add_parser("access")
    access.add_argument("--sample", type=int, default=200)
    sub.add_parser("zonal")
    sub.add_parser("scenarios")
    sub.add_parser("landuse-inputs")
    sub.add_parser("phasing")
    args = parser.parse_args()
    if args.what == "access":
        run_access(args.sample)
    elif args.what == "zonal":
        run_zonal()
    elif args.what == "landuse-inputs":
        run_landuse_inputs()
    elif args.what == "phasing":
        run_phasing()
    else:
        run_scenarios()


if __name__ == "__main__":
    main()
