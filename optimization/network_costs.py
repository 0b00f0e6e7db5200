"""Travel-cost matrices on a road graph, for the facility-location models.

networkx stays the graph model; the shortest paths run in the one engine,
:mod:`citydesk.layers.shortest_paths` (``scipy.sparse.csgraph``). The graph is converted once,
then one Dijkstra per candidate site gives that site's column of the matrix.
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np

from citydesk.layers.feedback import Feedback
from citydesk.layers.shortest_paths import GraphMatrix


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
    paths = GraphMatrix(graph, weight)
    return paths.cost_matrix(paths.index_of(sites), paths.index_of(clients), feedback, chunk)
