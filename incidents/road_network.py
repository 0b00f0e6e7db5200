"""A routable road network from street centerlines, and the nearest crew by travel time.

The graph is a ``networkx.DiGraph``: nodes are the centerlines' from/to node ids, edges carry
their length (metres, measured in a projected CRS) and travel time (seconds, from a speed per
road class). One-way streets get one edge: Cambridge's ``Direction`` is 1 when traffic goes
from ``FromNode`` to ``ToNode`` (the digitised direction), -1 against it, 0 both ways.

The nearest crew is found with one Dijkstra search from the case *backwards* along the
edges, stopped as soon as no unsettled crew can beat the best one found: a crew five minutes
away is found after exploring the five-minute neighbourhood of the case, not the whole city,
and not once per crew.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from layers.crs import suggest_projected_crs, to_lonlat_bounds
from layers.errors import CityDeskError
from layers.i18n import _


@dataclass(frozen=True)
class NetworkSpec:
    """Which columns mean what, and how fast each road class is driven (km/h)."""

    from_node: str = "FromNode"
    to_node: str = "ToNode"
    direction: str = "Direction"  # 1 = from->to only, -1 = to->from only, else both
    road_class: str | None = "MajorRoad"
    speeds_kmh: dict = field(default_factory=lambda: {1.0: 40.0, 2.0: 40.0})
    default_speed_kmh: float = 30.0  # Cambridge's default limit is 20-25 mph
    access_speed_kmh: float = 15.0  # from a point to the nearest node: slow, off the road


class NetworkError(CityDeskError):
    """The streets layer cannot be made into a routable graph."""


@dataclass
class RoadNetwork:
    graph: nx.DiGraph
    crs: object  # the projected CRS the lengths and node coordinates are in
    node_ids: np.ndarray  # the nodes points may snap to (the main connected part)
    node_xy: np.ndarray
    spec: NetworkSpec
    _tree: cKDTree = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._tree = cKDTree(self.node_xy)

    def project(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(self.crs)
        return np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])

    def snap(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node of each point, and the seconds to get there off the road."""
        xy = self.project(np.atleast_1d(lon), np.atleast_1d(lat))
        dist, idx = self._tree.query(xy)
        return self.node_ids[idx], dist / (self.spec.access_speed_kmh / 3.6)

    def snap_named(self, names, lon, lat) -> dict[object, tuple[int, float]]:
        """``snap`` keyed by name: {crew or case id: (node, access seconds)}, the form
        :meth:`nearest` takes its sources in."""
        nodes, access = self.snap(np.asarray(lon), np.asarray(lat))
        return {
            name: (int(n), float(a)) for name, n, a in zip(list(names), nodes, access, strict=True)
        }

    def nearest(
        self, target: int, sources: dict[object, tuple[int, float]]
    ) -> tuple[object, float, list[int]] | None:
        """The source (a crew: its node and access seconds) that reaches ``target`` first.

        Dijkstra from ``target`` on the reversed graph; stops when the next node to settle
        is farther than the best crew found so far (every crew's total is its node's
        distance plus a non-negative access time, so nothing later can win). Returns
        (crew, seconds, path of nodes from the crew to the target) or None if no crew can
        reach the target."""
        at_node: dict[int, list[object]] = {}
        for crew, (node, _access) in sources.items():
            at_node.setdefault(node, []).append(crew)
        dist = {target: 0.0}
        parent: dict[int, int] = {}
        heap = [(0.0, target)]
        settled: set[int] = set()
        best: tuple[float, object, int] | None = None
        adjacency = self.graph._pred  # {node: {predecessor: edge}}: edges walked backwards
        while heap:
            d, node = heapq.heappop(heap)
            if node in settled:
                continue
            if best is not None and d > best[0]:
                break
            settled.add(node)
            for crew in at_node.get(node, ()):
                total = d + sources[crew][1]
                if best is None or total < best[0]:
                    best = (total, crew, node)
            for nxt, attrs in adjacency[node].items():
                nd = d + attrs["travel_s"]
                if nd < dist.get(nxt, float("inf")):
                    dist[nxt] = nd
                    parent[nxt] = node
                    heapq.heappush(heap, (nd, nxt))
        if best is None:
            return None
        total, crew, node = best
        path = [node]
        while path[-1] != target:
            path.append(parent[path[-1]])
        return crew, total, path

    def nearest_to_every_node(
        self, sources: dict[object, tuple[int, float]]
    ) -> tuple[dict[int, float], dict[int, object]]:
        """For every node: the seconds from the source that reaches it first, and that
        source. One forward Dijkstra seeded with every source at its access time, so it
        agrees with :meth:`nearest` while all sources stay put (replaying a history);
        cheaper than one search per case when the cases outnumber the nodes."""
        dist: dict[int, float] = {}
        owner: dict[int, object] = {}
        heap = [(access, i, node, src) for i, (src, (node, access)) in enumerate(sources.items())]
        heapq.heapify(heap)
        successors = self.graph._succ
        while heap:
            d, i, node, src = heapq.heappop(heap)
            if node in dist:
                continue
            dist[node], owner[node] = d, src
            for nxt, attrs in successors[node].items():
                if nxt not in dist:
                    heapq.heappush(heap, (d + attrs["travel_s"], i, nxt, src))
        return dist, owner

    def route_geometry(self, path: list[int]) -> shapely.LineString | None:
        """The route along the street geometries, in EPSG:4326 (for drawing)."""
        if len(path) < 2:
            return None
        coords: list[tuple[float, float]] = []
        for a, b in itertools.pairwise(path):
            part = list(self.graph.edges[a, b]["coords"])
            coords.extend(part if not coords else part[1:])
        line = shapely.LineString(coords)
        return gpd.GeoSeries([line], crs=self.crs).to_crs(4326).iloc[0]


def build_network(streets: gpd.GeoDataFrame, spec: NetworkSpec | None = None) -> RoadNetwork:
    """The directed graph of a centerline layer with from/to node ids."""
    spec = spec or NetworkSpec()
    missing = [c for c in (spec.from_node, spec.to_node) if c not in streets.columns]
    if missing:
        raise NetworkError(
            _("the streets layer has no column(s) {cols}").format(cols=", ".join(missing)),
            _("Routing needs the from/to node ids of each centerline segment."),
        )
    if streets.crs is None:
        raise NetworkError(_("the streets layer has no CRS"), _("Set the layer's CRS first."))
    usable = streets[streets[spec.from_node].notna() & streets[spec.to_node].notna()]
    usable = usable[~usable.geometry.is_empty & usable.geometry.notna()]
    # always metres: a state-plane source in US feet would make every speed wrong
    crs = suggest_projected_crs(
        to_lonlat_bounds(tuple(usable.total_bounds), usable.crs), usable.crs.geodetic_crs
    )
    lines = shapely.line_merge(usable.to_crs(crs).geometry.values)
    graph = nx.DiGraph()
    speeds = spec.speeds_kmh
    # numbers may come as text (Cambridge's Direction is "1", "-1", "0"): read them as numbers
    classes = _numbers(usable, spec.road_class)
    directions = _numbers(usable, spec.direction)
    for i, (a, b, line) in enumerate(
        zip(usable[spec.from_node], usable[spec.to_node], lines, strict=True)
    ):
        a, b = int(a), int(b)
        if line.geom_type != "LineString":  # a gap inside a segment: join its parts
            line = shapely.LineString([c for g in line.geoms for c in g.coords])
        coords = list(line.coords)
        graph.add_node(a, xy=coords[0])
        graph.add_node(b, xy=coords[-1])
        road_class = classes[i]
        kmh = speeds.get(road_class, spec.default_speed_kmh)
        travel = line.length / (kmh / 3.6)
        direction = directions[i]
        if direction != -1:
            _add_edge(graph, a, b, line.length, travel, coords)
        if direction != 1:
            _add_edge(graph, b, a, line.length, travel, coords[::-1])
    # Points snap only to the largest strongly connected part: real centerlines have
    # one-way dead ends (Cambridge: 22 nodes in 16 pockets), and a case snapped into one
    # could be reached by no crew at all.
    if graph.number_of_nodes() == 0:
        raise NetworkError(
            _("the streets layer has no segments with from/to nodes"),
            _("Routing needs the from/to node ids of each centerline segment."),
        )
    main = max(nx.strongly_connected_components(graph), key=len)
    ids = np.array(sorted(main), dtype=np.int64)
    xy = np.array([graph.nodes[n]["xy"] for n in ids], dtype=float)
    return RoadNetwork(graph, crs, ids, xy, spec)


def _add_edge(graph: nx.DiGraph, a: int, b: int, length: float, travel: float, coords) -> None:
    """Keep the faster of two parallel segments (a divided road drawn twice)."""
    if graph.has_edge(a, b) and graph.edges[a, b]["travel_s"] <= travel:
        return
    graph.add_edge(a, b, length_m=length, travel_s=travel, coords=coords)


def _numbers(frame: gpd.GeoDataFrame, column: str | None) -> np.ndarray:
    if column is None or column not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(float)
