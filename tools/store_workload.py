"""A command centre's mixed workload against one case store, from many processes at once.

Used by ``tests/test_store_load.py`` (correctness under concurrency: nothing lost, history
and state agree, no deadlock escapes) and ``benchmarks/store.py`` (throughput, latency).

Each process plays several simulated staff members (intake clerks, shift chiefs,
dispatchers, department crews, inspectors) who for a bounded time report cases, move them
round the loop, and query their lists, picking cases from the shared store so that they
collide on the same cases as real desks do. A move that loses a race gets a
``VersionConflict`` (counted, never an error). Each process writes what it did as JSON.

    python tools/store_workload.py worker PLACE SECONDS SEED STAFF OUT.json
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

#: (role, actions it takes, and the state each action starts from)
ROLES = {
    "intake_clerk": [("report", None), ("accept", "reported"), ("query", None)],
    "shift_chief": [("register", "accepted"), ("close", "checked"), ("query", None)],
    "dispatcher": [("dispatch", "registered"), ("query", None)],
    "department": [("start", "dispatched"), ("handle", "in_process")],
    "inspector": [("check_pass", "handled"), ("check_fail", "handled")],
}
STAFF_ROLES = ["intake_clerk"] * 3 + ["shift_chief", "dispatcher", "department"] * 2 + ["inspector"]
CAMBRIDGE = (-71.16, 42.353, -71.064, 42.404)  # lon/lat box


def worker(place: str, seconds: float, seed: int, staff: int, out: Path) -> dict:
    sys.path.insert(0, str(ROOT))
    from citydesk.incidents.case_store import VersionConflict
    from citydesk.incidents.lifecycle import TransitionError
    from citydesk.incidents.new_cases import NewCase
    from citydesk.incidents.stores import open_store

    rng = random.Random(seed)
    people = [(f"p{seed}-{k}", STAFF_ROLES[k % len(STAFF_ROLES)]) for k in range(staff)]
    done = {"reports": 0, "moves": 0, "conflicts": 0, "queries": 0, "errors": []}
    latency: dict[str, list[float]] = {"write": [], "query": []}
    with open_store(place) as store:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            actor, role = rng.choice(people)
            action, source = rng.choice(ROLES[role])
            t0 = time.perf_counter()
            try:
                if action == "report":
                    lon = rng.uniform(CAMBRIDGE[0], CAMBRIDGE[2])
                    lat = rng.uniform(CAMBRIDGE[1], CAMBRIDGE[3])
                    store.report(NewCase("event", "0490", lon=lon, lat=lat), actor, role)
                    done["reports"] += 1
                    latency["write"].append(time.perf_counter() - t0)
                elif action == "query":
                    store.query(status=["registered", "dispatched"], department="police",
                                columns=["case_id", "status", "due_at"], ordered=False)  # fmt: skip
                    done["queries"] += 1
                    latency["query"].append(time.perf_counter() - t0)
                else:
                    rows = store.query(
                        status=[source], columns=["case_id", "version"], ordered=False
                    )
                    if rows.empty:
                        continue
                    pick = rows.iloc[rng.randrange(min(len(rows), 20))]  # the oldest few
                    t0 = time.perf_counter()
                    note = "not done yet" if action == "check_fail" else ""
                    store.transition(
                        pick["case_id"], action, actor, role, int(pick["version"]), note
                    )
                    done["moves"] += 1
                    latency["write"].append(time.perf_counter() - t0)
            except (VersionConflict, TransitionError):
                done["conflicts"] += 1  # another desk got there first: the desk reloads
                latency["write"].append(time.perf_counter() - t0)
            except Exception as exc:  # anything else is a failure of the store
                done["errors"].append(f"{type(exc).__name__}: {exc}")
    done["latency"] = latency
    out.write_text(json.dumps(done))
    return done


@dataclass
class LoadResult:
    processes: int
    seconds: float
    reports: int
    moves: int
    conflicts: int
    queries: int
    errors: list[str]
    write_p95_ms: float
    query_p95_ms: float

    @property
    def transitions_per_second(self) -> float:
        return (self.reports + self.moves) / self.seconds


def run_load(place: str, processes: int, seconds: float, staff: int, folder: Path) -> LoadResult:
    """Start ``processes`` workers sharing ``staff`` people; wait; add up what they did."""
    folder.mkdir(parents=True, exist_ok=True)
    per = [staff // processes + (1 if k < staff % processes else 0) for k in range(processes)]
    procs = []
    for k in range(processes):
        out = folder / f"worker-{k}.json"
        cmd = [sys.executable, str(Path(__file__)), "worker", place, str(seconds), str(k),
               str(per[k]), str(out)]  # fmt: skip
        procs.append((subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True), out))
    results = []
    for proc, out in procs:
        _, err = proc.communicate(timeout=seconds + 300)
        if proc.returncode != 0:
            raise RuntimeError(f"a worker failed:\n{err}")
        results.append(json.loads(out.read_text()))
    writes = [x for r in results for x in r["latency"]["write"]]
    queries = [x for r in results for x in r["latency"]["query"]]
    return LoadResult(
        processes=processes,
        seconds=seconds,
        reports=sum(r["reports"] for r in results),
        moves=sum(r["moves"] for r in results),
        conflicts=sum(r["conflicts"] for r in results),
        queries=sum(r["queries"] for r in results),
        errors=[e for r in results for e in r["errors"]],
        write_p95_ms=float(np.percentile(writes, 95) * 1000) if writes else 0.0,
        query_p95_ms=float(np.percentile(queries, 95) * 1000) if queries else 0.0,
    )


if __name__ == "__main__":
    if sys.argv[1] == "worker":
        _, _, place, secs, seed, staff, out = sys.argv
        worker(place, float(secs), int(seed), int(staff), Path(out))
