"""Travel-cost matrices on a road graph, for the facility-location models.

networkx stays the graph model; the bulk shortest paths run in ``scipy.sparse.csgraph``, which
is about 25x faster than networkx from one source on a 100k-node graph. The graph is converted
once, then one Dijkstra per candidate site gives that site's column of the matrix.
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np
from scipy.sparse.csgraph import dijkstra

from citydesk.layers.feedback import Feedback, NullFeedback, check_canceled


def travel_cost_matrix(
    graph: nx.DiGraph,
    sites: Sequence[int],
    clients: Sequence[int],
    weight: str = "travel_s",
    feedback: Feedback | None = None,
    chunk: int = 64,
) -> np.ndarray:
    """Cost from each site node to each client node along directed edges (clients x sites).

    Travel goes *from* the site, as a fire engine does, so one-way streets count in the
    right direction. Unreachable pairs are ``inf``.
    """
    feedback = feedback or NullFeedback()
    nodes = list(graph.nodes)
    index = {node: i for i, node in enumerate(nodes)}
    matrix = nx.to_scipy_sparse_array(graph, nodelist=nodes, weight=weight, format="csr")
    site_idx = np.array([index[s] for s in sites])
    client_idx = np.array([index[c] for c in clients])
    out = np.empty((len(client_idx), len(site_idx)))
    for start in range(0, len(site_idx), chunk):
        check_canceled(feedback)
        block = site_idx[start : start + chunk]
        dist = dijkstra(matrix, directed=True, indices=block)
        out[:, start : start + len(block)] = dist[:, client_idx].T
        feedback.set_progress(100.0 * min(len(site_idx), start + chunk) / len(site_idx))
    return out
