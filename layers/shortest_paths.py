"""The one shortest-path engine: ``scipy.sparse.csgraph`` over a road graph.

networkx stays the graph *model* (building, editing, attributes, one-way streets); every
shortest-path query runs here, on the graph converted once to a sparse matrix. csgraph's
Dijkstra is compiled: 23x faster than networkx from one source and 29x from 100 sources on
a 100k-node graph (docs/BENCHMARKS.md). Dispatch (the nearest crew), planning (access,
2SFCA, service areas) and optimization (facility-location cost matrices) all ask this
module, so a change of engine or of how ties are broken happens in one place.

Nodes are addressed by their *index* in :attr:`GraphMatrix.nodes` (``index_of`` maps the
graph's node ids); results come back as arrays over all nodes.
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from .feedback import Feedback, NullFeedback, check_canceled


def _symmetric_min(m: sparse.csr_array) -> sparse.csr_array:
    """Both directions of every edge, the shorter length where both exist (walking ignores
    one-way streets)."""
    t = m.T.tocsr()
    both_max = m.maximum(t)
    both_min = m.minimum(t)  # non-zero only where both directions exist
    return sparse.csr_array(both_max + (both_min - both_max).multiply(both_min != 0))


def _int32_indices(m: sparse.csr_array) -> sparse.csr_array:
    """The matrix with 32-bit index arrays, as csgraph's compiled searches take them: given
    64-bit ones (what scipy makes here), every call cast both arrays again, 0.3 of a 0.8 ms
    nearest-crew search on a 100k-node graph."""
    if m.nnz >= np.iinfo(np.int32).max or m.shape[0] >= np.iinfo(np.int32).max:
        return m
    out = sparse.csr_array(
        (m.data, m.indices.astype(np.int32), m.indptr.astype(np.int32)), shape=m.shape
    )
    out.has_sorted_indices = m.has_sorted_indices
    return out


class GraphMatrix:
    """A graph's edge weight as a csgraph matrix, forward and reversed, converted once."""

    def __init__(self, graph: nx.DiGraph, weight: str, directed: bool = True) -> None:
        self.nodes = np.array(list(graph.nodes), dtype=np.int64)
        self._index = {int(n): i for i, n in enumerate(self.nodes)}
        m = sparse.csr_array(
            nx.to_scipy_sparse_array(graph, nodelist=list(graph.nodes), weight=weight)
        )
        self.forward = _int32_indices(m if directed else _symmetric_min(m))
        self.backward = _int32_indices(self.forward.T.tocsr()) if directed else self.forward
        # the first cost limit of first_to_reach: some fifty typical edges, then 1.3 times
        # the last answer (what a nearest crew costs changes little from one case to the next)
        weights = self.forward.data
        self._reach_floor = 50.0 * float(np.median(weights)) if len(weights) else 1.0
        self._reach = self._reach_floor
        self._longest = float(weights.sum()) if len(weights) else 1.0  # no path is longer

    def __len__(self) -> int:
        return len(self.nodes)

    def index_of(self, node_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        return np.array([self._index[int(n)] for n in node_ids], dtype=np.int64)

    def matrix(self, reverse: bool = False) -> sparse.csr_array:
        return self.backward if reverse else self.forward

    def first_to_reach(
        self, target: int, sources: np.ndarray, offsets: np.ndarray
    ) -> tuple[int, float, np.ndarray] | None:
        """Which of ``sources`` (node positions, each starting ``offsets`` seconds late)
        reaches the node ``target`` first: ``(position in sources, cost, predecessors)``,
        the predecessors pointing towards ``target``; None when none can.

        A search backwards from the target that stops early: it explores only the nodes
        within a cost limit, and widens the limit (x2) until the best source found lies
        within it, which proves no farther one can beat it (offsets are not negative). A
        nearest crew is usually a few minutes away, so on a 100k-node street grid this
        settles a few thousand nodes instead of all of them (issue 22 measured the
        whole-graph search at 26 ms against networkx's early-stopping search at 7 ms)."""
        matrix = self.backward
        limit = self._reach
        while True:
            dist, pred = dijkstra(
                matrix, directed=True, indices=target, limit=limit, return_predecessors=True
            )
            totals = dist[sources] + offsets
            best = int(np.argmin(totals))
            if np.isfinite(totals[best]) and totals[best] <= limit:
                self._reach = max(self._reach_floor, 1.3 * float(totals[best]))
                return best, float(totals[best]), pred
            if not np.isfinite(limit):
                return None
            # widen; past every path the graph can hold, search without a limit
            limit = limit * 2 if limit * 2 < self._longest else np.inf

    def multi_source(
        self,
        sources: np.ndarray,
        offsets: np.ndarray | None = None,
        limit: float = np.inf,
        reverse: bool = False,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One Dijkstra from many sources at once, each starting at its own cost (a crew's
        walk to the street, a facility entrance's access): ``(cost, source, predecessor)``
        per node, where ``source`` is the position in ``sources`` of the source that reaches
        the node first (-1 unreached) and ``predecessor`` the previous node on that path
        (-1 at a source). ``reverse`` walks the edges backwards (trips *to* the sources).

        A virtual node joined to every source by its offset turns this into one search;
        csgraph drops explicit zeros, so a zero offset becomes 1e-9.
        """
        matrix = self.matrix(reverse)
        n = matrix.shape[0]
        sources = np.asarray(sources, dtype=np.int64)
        offsets = np.zeros(len(sources)) if offsets is None else np.asarray(offsets, float)
        if len(sources) == 0:
            return np.full(n, np.inf), np.full(n, -1), np.full(n, -1)
        order = np.lexsort((offsets, sources))  # the cheapest source first on a shared node
        keep = order[np.unique(sources[order], return_index=True)[1]]
        extra = sparse.csr_array(
            (np.maximum(offsets[keep], 1e-9), (np.full(len(keep), n), sources[keep])),
            shape=(n + 1, n + 1),
        )
        full = sparse.csr_array(sparse.block_diag([matrix, sparse.csr_array((1, 1))])) + extra
        dist, pred = dijkstra(full, directed=True, indices=n, limit=limit, return_predecessors=True)
        # which source each node came through: jump up the predecessor tree to the child of
        # the virtual node (pointer doubling: log(depth) numpy passes)
        up = np.where(pred == n, np.arange(n + 1), pred)
        up[n] = n
        up = np.where(up < 0, n, up)
        while not np.array_equal(nxt := up[up], up):
            up = nxt
        source_at = np.full(n + 1, -1)
        source_at[sources[keep]] = keep
        owner = np.where(np.isfinite(dist), source_at[up], -1)
        pred = np.where((pred == n) | (pred < 0), -1, pred)
        return dist[:n], owner[:n], pred[:n]

    def cost_matrix(
        self,
        sources: np.ndarray,
        targets: np.ndarray,
        feedback: Feedback | None = None,
        chunk: int = 64,
        reverse: bool = False,
    ) -> np.ndarray:
        """Cost from each source to each target (targets x sources); unreachable is inf.
        One Dijkstra per source, in chunks so Cancel is honoured between them."""
        feedback = feedback or NullFeedback()
        sources, targets = np.asarray(sources), np.asarray(targets)
        out = np.empty((len(targets), len(sources)))
        for start in range(0, len(sources), chunk):
            check_canceled(feedback)
            block = sources[start : start + chunk]
            dist = dijkstra(self.matrix(reverse), directed=True, indices=block)
            out[:, start : start + len(block)] = dist[:, targets].T
            feedback.set_progress(100.0 * min(len(sources), start + chunk) / max(1, len(sources)))
        return out


def path_to(pred: np.ndarray, node: int) -> list[int]:
    """The node indices from the path's start to ``node``, following ``pred`` back."""
    path = [int(node)]
    while pred[path[-1]] >= 0:
        path.append(int(pred[path[-1]]))
    return path[::-1]
