"""Merging the clients that choose alike (costs differing by a constant at every site): the
p-median's answer and every plan's cost stay what they are on the original clients."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from citydesk.optimization.client_groups import group_clients
from citydesk.optimization.facility_problem import FacilityProblem
from citydesk.optimization.pmedian import solve_pmedian


def _road_like(seed: int, nodes: int = 9, sites: int = 7, clients: int = 60):
    """Clients on 'streets': each reached through one node (one-way: its costs are the node's
    plus an offset) or through the nearer of two (two-way), like benchmarks' road instance."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 1000, (nodes, 2))
    node_to_site = np.sqrt(((xy[:, None] - xy[None, :sites]) ** 2).sum(-1))
    rows = []
    for _ in range(clients):
        u, v = rng.choice(nodes, 2, replace=False)
        a, b = rng.uniform(0, 50, 2)
        if rng.random() < 0.6:
            rows.append(a + node_to_site[u])
        else:
            rows.append(np.minimum(a + node_to_site[u], b + node_to_site[v]))
    costs = np.array(rows)
    weights = rng.integers(0, 5, clients).astype(float)  # some weight 0
    return costs, weights


@pytest.mark.parametrize("seed", range(6))
def test_every_plan_costs_the_same_on_the_merged_clients(seed):
    costs, w = _road_like(seed)
    groups = group_clients(costs, w)
    assert groups.count < int((w > 0).sum())  # one-way clients through one node merged
    assert (groups.group[w == 0] == -1).all()
    for sites in itertools.combinations(range(costs.shape[1]), 3):
        original = w @ costs[:, list(sites)].min(axis=1)
        merged = groups.weights @ groups.costs[:, list(sites)].min(axis=1) + groups.constant
        assert merged == pytest.approx(original, rel=1e-9)


def test_unreachable_sites_keep_clients_apart():
    costs = np.array([[1.0, np.inf, 3.0], [2.0, np.inf, 4.0], [1.0, 5.0, 3.0]])
    groups = group_clients(costs, np.ones(3))
    assert groups.count == 2  # rows 0 and 1 differ by 1 everywhere; row 2 reaches site 1
    assert groups.group[0] == groups.group[1] != groups.group[2]


@pytest.mark.parametrize("seed", range(4))
def test_the_pmedian_on_merged_clients_is_the_brute_force_optimum(seed):
    costs, w = _road_like(seed, nodes=12, sites=9, clients=80)
    p = 3
    best = min(
        float(w @ costs[:, list(s)].min(axis=1))
        for s in itertools.combinations(range(costs.shape[1]), p)
    )
    result = solve_pmedian(FacilityProblem(costs, w), p)
    assert result.outcome.status.value == "optimal"
    assert result.outcome.objective == pytest.approx(best, rel=1e-9)
    assert result.outcome.bound == pytest.approx(best, rel=1e-6)
    chosen = float(w @ costs[:, list(result.open_sites)].min(axis=1))
    assert chosen == pytest.approx(best, rel=1e-9)


@pytest.mark.parametrize("seed", [0, 5, 9, 14])  # seeds the bound alone does not settle
def test_chains_cut_at_a_useless_reach_are_extended_to_the_optimum(seed, monkeypatch):
    """The radius model's chains are cut at each client's Lagrangian reach; a reach that
    says nothing (all zeros, as from a bound stopped at once) costs extra rounds, never the
    optimum."""
    import citydesk.optimization.pmedian as pmedian

    costs, w = _road_like(seed, nodes=12, sites=9, clients=80)
    p = 3
    best = min(
        float(w @ costs[:, list(s)].min(axis=1))
        for s in itertools.combinations(range(costs.shape[1]), p)
    )
    monkeypatch.setattr(pmedian, "_reach", lambda multipliers, weights: np.zeros(len(weights)))
    rounds = []
    over_reached = pmedian._over_reached

    def counted(*args):
        rounds.append(int(over_reached(*args).sum()))
        return over_reached(*args)

    monkeypatch.setattr(pmedian, "_over_reached", counted)
    result = solve_pmedian(FacilityProblem(costs, w), p)
    assert len(rounds) > 1 and rounds[-1] == 0  # the solver ran, chains were extended
    assert result.objective == pytest.approx(best, rel=1e-9)
    assert result.outcome.status.value == "optimal"
