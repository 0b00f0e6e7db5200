"""Many desks at once: 8 processes with 50 simulated staff run the command centre's mixed
workload (report, accept, register, dispatch, start, handle, check, close, query) against
one store, on each backend. Afterwards nothing is lost and every case's state is the replay
of its history. (Throughput and latency are measured in benchmarks/store.py.)"""

from __future__ import annotations

import sys

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
from store_workload import run_load

pytestmark = pytest.mark.slow


def test_eight_processes_lose_nothing(store_target, tmp_path):
    with store_target.open() as store:
        assert store.count() == 0
    result = run_load(store_target.place, processes=8, seconds=8, staff=50, folder=tmp_path)
    assert result.errors == []  # no deadlock, no timeout, nothing but counted conflicts
    assert result.reports > 50 and result.moves > 50 and result.queries > 0
    assert result.conflicts > 0  # the desks really did collide on the same cases
    (cases,), (events,), (off,) = (
        store_target.sql(q)[0]
        for q in (
            "SELECT COUNT(*) FROM cases",
            "SELECT COUNT(*) FROM case_events",
            "SELECT COUNT(*) FROM cases c WHERE c.version != "
            "(SELECT COUNT(*) FROM case_events e WHERE e.case_id = c.case_id)",
        )
    )
    # every report and every successful move is exactly one event: no lost update
    assert cases == result.reports
    assert events == result.reports + result.moves
    assert off == 0  # each case's version counts its events
    with store_target.open() as store:
        assert store.verify_all() == []  # state = replay of history, for every case
    print(f"{store_target.backend}: {result}")
