"""pyaugmecon's side of ``benchmarks/optimization.py knapsack --peer-python``.

Runs under a separate environment that has pyaugmecon (its pins, numpy 1.x and pandas 2.0,
do not fit CityDesk's), for example::

    python3.11 -m venv /tmp/pav && /tmp/pav/bin/pip install pyaugmecon==1.0.8
    /tmp/pav/bin/python benchmarks/pyaugmecon_peer.py FOLDER CBC_DIR GRID NADIR_JSON [cuts]

The model is the same knapsack as CityDesk's (``c.csv`` profits, ``a.csv`` weights, ``b.csv``
capacities), in Pyomo, solved by the same CBC binary (PuLP's, in ``CBC_DIR``) with a relative
gap of 0. GRID and NADIR are the grid points and nadir points of pyaugmecon's own test of the
instance (a step of one unit, so the front is exact). ``cuts`` turns CBC's cut generators off,
as CityDesk does for small models; pyaugmecon's Options drop every truthy solver option, so it
is set on the options after they are made. Prints one JSON line: seconds, models solved, the
unique Pareto points, and the process's peak memory (its workers are separate processes,
whose memory is not counted).
"""

import json
import os
import sys
import tempfile
import time

import pandas as pd
import pyomo.environ as pyo
from pyaugmecon import PyAugmecon


def knapsack(folder: str) -> pyo.ConcreteModel:
    profits, weights, capacity = (
        pd.read_csv(f"{folder}/{name}.csv", index_col=0).to_numpy(dtype=float)
        for name in ("c", "a", "b")
    )
    model = pyo.ConcreteModel()
    model.I = pyo.Set(initialize=range(profits.shape[1]))
    model.x = pyo.Var(model.I, within=pyo.Binary)
    model.capacity = pyo.ConstraintList()
    for r in range(weights.shape[0]):
        model.capacity.add(sum(weights[r, i] * model.x[i] for i in model.I) <= capacity.ravel()[r])
    model.obj_list = pyo.ObjectiveList()
    for k in range(profits.shape[0]):
        model.obj_list.add(
            expr=sum(profits[k, i] * model.x[i] for i in model.I), sense=pyo.maximize
        )
        model.obj_list[k + 1].deactivate()
    return model


def main() -> None:
    folder, cbc_dir, grid, nadir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    os.environ["PATH"] = cbc_dir + os.pathsep + os.environ["PATH"]
    model = knapsack(folder)
    os.chdir(tempfile.mkdtemp(prefix="pyaugmecon-"))  # its logs and pickled model go here
    options = {
        "name": "peer",
        "grid_points": grid,
        "nadir_points": json.loads(nadir),
        "solver_name": "cbc",
        "solver_io": "lp",
        "output_excel": False,
    }
    started = time.perf_counter()
    peer = PyAugmecon(model, options, {"MIPGap": None, "NonConvex": None, "ratioGap": 0})
    if "cuts" in sys.argv[5:]:
        peer.opts.solver_opts["cuts"] = "off"
    peer.solve()
    seconds = time.perf_counter() - started
    with open("/proc/self/status", encoding="ascii") as fh:
        peak = next(int(line.split()[1]) / 1024 for line in fh if line.startswith("VmHWM:"))
    # the unique Pareto points are the keys (objective vectors) of a dict of decisions
    points = [[round(v) for v in key] for key in peer.unique_pareto_sols]
    print(
        json.dumps(
            {
                "seconds": seconds,
                "solved": int(peer.model.models_solved.value()),
                "points": points,
                "peak_rss_mib": peak,
            }
        )
    )


if __name__ == "__main__":
    main()
