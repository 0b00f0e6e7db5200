"""A routable road network from street centerlines, and the nearest crew by travel time.

The graph is a ``networkx.DiGraph``: nodes are the centerlines' from/to node ids, edges carry
their length (metres, measured in a projected CRS) and travel time (seconds, from a speed per
road class). One-way streets get one edge: the direction column is 1 when traffic goes from
the from-node to the to-node (the digitised direction), -1 against it, 0 both ways. Which
columns those are, and the speeds, come from the city profile's ``[streets]`` table
(:func:`network_spec`).

Node ids come from the layer's from/to columns when the profile names them; otherwise
segment endpoints closer than a tolerance are snapped into one node, the way most municipal
centerlines without topology have to be read. Either way the build is described by a
:class:`NetworkReport` (nodes, edges, snapped endpoints, disconnected parts) so that a
planner sees how much of the street layer is routable before trusting a result.

The nearest crew is found with one Dijkstra search from the case *backwards* along the
edges, in the shared engine :mod:`citydesk.layers.shortest_paths` (csgraph), not once per
crew.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from .crs import suggest_projected_crs, to_lonlat_bounds
from .errors import CityDeskError
from .i18n import _
from .shortest_paths import GraphMatrix
from .street_junctions import JUNCTIONS, cut_at_junctions, junction_hint

if TYPE_CHECKING:
    from .city_profile import CityProfile

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NetworkSpec:
    """Which columns mean what, and how fast each road class is driven (km/h)."""

    from_node: str | None = None  # the city's columns: the city profile's [streets]
    to_node: str | None = None
    direction: str | None = None  # 1 = from->to only, -1 = to->from only, else both
    road_class: str | None = None
    speeds_kmh: dict = field(default_factory=dict)  # road-class value -> km/h
    default_speed_kmh: float = 30.0
    access_speed_kmh: float = 15.0  # from a point to the nearest node: slow, off the road
    speed_field: str | None = None  # a posted speed per segment, when the layer has one
    speed_field_unit: str = "kmh"  # or "mph"
    snap_tolerance_m: float = 1.0  # endpoints closer than this are one node (no id columns)
    junctions: str = "ends"  # "ends", "shared" or "crossings": see street_junctions
    use_node_ids: bool = True  # False: always snap endpoints, even if id columns exist
    include_field: str | None = None  # only segments where this column is true (drive/walk)
    two_way: bool = False  # every segment both ways (walking), whatever the direction column
    mode: str = "drive"


#: below this share of nodes in the largest strongly connected part, a build warns: most
#: likely the lines were not split at crossings, or one-way tags point the wrong way
LOW_CONNECTIVITY = 0.8

MODES = ("drive", "walk")


def network_spec(profile: CityProfile | None, mode: str = "drive", **changes: Any) -> NetworkSpec:
    """The spec a city profile's ``[streets]`` table describes (its column names and road
    speeds) for driving or walking; ``changes`` override fields, e.g. ``use_node_ids=False``.
    No profile: every column unknown, so endpoints are snapped and every road has the
    default speed.

    Walking uses the segments the profile's ``walk_field`` allows, both ways, at the walking
    speed; driving the ones ``drive_field`` allows, with one-way streets and road speeds."""
    if mode not in MODES:
        raise NetworkError(
            _("unknown travel mode '{mode}'").format(mode=mode),
            _("Use one of: {names}.").format(names=", ".join(MODES)),
        )
    if profile is None:
        base = NetworkSpec(mode=mode)
        if mode == "walk":
            base = replace(base, two_way=True, default_speed_kmh=4.8)
        return replace(base, **changes)
    s = profile.streets
    spec = NetworkSpec(
        from_node=s.from_node,
        to_node=s.to_node,
        direction=s.direction,
        road_class=s.road_class,
        speeds_kmh={_class_key(k): float(v) for k, v in s.speeds_kmh.items()},
        default_speed_kmh=s.default_speed_kmh,
        speed_field=s.speed_field,
        speed_field_unit=s.speed_field_unit,
        include_field=s.drive_field,
        junctions=s.junctions,
        mode=mode,
    )
    if mode == "walk":
        spec = replace(
            spec,
            include_field=s.walk_field,
            two_way=True,
            speeds_kmh={},
            default_speed_kmh=s.walk_speed_kmh,
            speed_field=None,
        )
    return replace(spec, **changes)


def _class_key(value: Any) -> str:
    """A road class as a lookup key: numbers compare as numbers ("1", 1 and 1.0 are one
    class), anything else as its text ("residential")."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    try:
        return format(float(value), "g")
    except (TypeError, ValueError):
        return str(value).strip()


def major_road_mask(streets, columns) -> Any:
    """Which street segments are major roads: their road class (``columns.road_class``,
    numbers compared as numbers) is one of ``columns.major_classes`` (the city profile's
    ``[layers.streets]``)."""
    import numpy as np

    if not columns.road_class or columns.road_class not in streets.columns:
        return np.zeros(len(streets), dtype=bool)
    major = {_class_key(v) for v in columns.major_classes}
    return streets[columns.road_class].map(_class_key).isin(major).to_numpy()


@dataclass(frozen=True)
class NetworkReport:
    """How the street layer became a graph; shown to the user and checked in tests."""

    node_source: str  # "ids" (from/to columns) or "snapped" (endpoints within a tolerance)
    segments: int  # centerline rows used
    skipped_segments: int  # rows without geometry or node ids
    nodes: int
    edges: int  # directed edges after merging parallel segments
    one_way_segments: int
    snap_tolerance_m: float | None
    snapped_endpoints: int  # endpoints moved onto another one (0 when ids are used)
    cut_lines: int  # lines cut where other streets join them (0 when ids are used)
    weak_components: int  # parts not connected at all, ignoring direction
    routable_nodes: int  # nodes of the largest strongly connected part
    largest_share: float  # routable_nodes / nodes
    hint: str = ""  # when few nodes are routable: the junctions setting the geometry suggests

    def lines(self) -> list[str]:
        """A short, translated description for logs, the CLI and the planning report."""
        how = (
            _("endpoints snapped within {tol:g} m ({n} moved)").format(
                tol=self.snap_tolerance_m, n=self.snapped_endpoints
            )
            if self.node_source == "snapped"
            else _("node ids from the layer's from/to columns")
        )
        if self.cut_lines:
            how += "; " + _("{n} lines cut where other streets join them").format(n=self.cut_lines)
        return [
            _(
                "{segments} segments ({skipped} skipped), {nodes} nodes, {edges} edges; {how}"
            ).format(
                segments=self.segments,
                skipped=self.skipped_segments,
                nodes=self.nodes,
                edges=self.edges,
                how=how,
            ),
            _("{oneway} one-way; {parts} separate part(s); {share:.1%} of nodes routable").format(
                oneway=self.one_way_segments, parts=self.weak_components, share=self.largest_share
            ),
            *([self.hint] if self.hint else []),
        ]


class NetworkError(CityDeskError):
    """The streets layer cannot be made into a routable graph."""


@dataclass
class RoadNetwork:
    graph: nx.DiGraph
    crs: object  # the projected CRS the lengths and node coordinates are in
    node_ids: np.ndarray  # the nodes points may snap to (the main connected part)
    node_xy: np.ndarray
    spec: NetworkSpec
    report: NetworkReport | None = None
    _tree: cKDTree = field(init=False, repr=False)
    _paths: GraphMatrix | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._tree = cKDTree(self.node_xy)

    def project(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(self.crs)
        return np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])

    def snap(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node of each point, and the seconds to get there off the road."""
        nodes, dist = self.snap_xy(self.project(np.atleast_1d(lon), np.atleast_1d(lat)))
        return nodes, dist / (self.spec.access_speed_kmh / 3.6)

    def snap_xy(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest routable node of each point given in the network's CRS, and the
        straight-line metres to it."""
        dist, idx = self._tree.query(np.asarray(xy, dtype=float).reshape(-1, 2))
        return self.node_ids[idx], dist

    def nodes_near(self, xy: np.ndarray, radius: float) -> list[list[int]]:
        """Routable nodes within ``radius`` metres of each point (network CRS)."""
        hits = self._tree.query_ball_point(np.asarray(xy, dtype=float).reshape(-1, 2), radius)
        return [[int(self.node_ids[i]) for i in h] for h in hits]

    def snap_named(self, names, lon, lat) -> dict[str, tuple[int, float]]:
        """``snap`` keyed by name: {crew or case id: (node, access seconds)}, the form
        :meth:`nearest` takes its sources in."""
        nodes, access = self.snap(np.asarray(lon), np.asarray(lat))
        return {
            name: (int(n), float(a)) for name, n, a in zip(list(names), nodes, access, strict=True)
        }

    @property
    def paths(self) -> GraphMatrix:
        """The travel-time matrix of the graph for :mod:`.shortest_paths`, built once."""
        if self._paths is None:
            self._paths = GraphMatrix(self.graph, "travel_s")
        return self._paths

    def nearest(
        self, target: int, sources: dict[str, tuple[int, float]]
    ) -> tuple[str, float, list[int]] | None:
        """The source (a crew: its node and access seconds) that reaches ``target`` first:
        (crew, seconds, path of nodes from the crew to the target), or None if no crew can
        reach it. One search backwards from the target that stops once no crew farther away
        can beat the best found (``GraphMatrix.first_to_reach``); a crew's total is its
        node's cost plus its access time."""
        if not sources:
            return None
        paths = self.paths
        names = list(sources)
        crew_nodes = paths.index_of([sources[c][0] for c in names])
        access = np.array([sources[c][1] for c in names], dtype=float)
        found = paths.first_to_reach(int(paths.index_of([target])[0]), crew_nodes, access)
        if found is None:
            return None
        best, total, pred = found
        # pred points towards the target on the reversed search: the crew's path forward
        path = [int(crew_nodes[best])]
        while pred[path[-1]] >= 0:
            path.append(int(pred[path[-1]]))
        return names[best], total, [int(paths.nodes[i]) for i in path]

    def nearest_to_every_node(
        self, sources: dict[str, tuple[int, float]]
    ) -> tuple[dict[int, float], dict[int, object]]:
        """For every node: the seconds from the source that reaches it first, and that
        source. One forward search seeded with every source at its access time, so it agrees
        with :meth:`nearest` while all sources stay put (replaying a history); cheaper than
        one search per case when the cases outnumber the nodes."""
        paths = self.paths
        names = list(sources)
        nodes = paths.index_of([sources[c][0] for c in names])
        access = np.array([sources[c][1] for c in names], dtype=float)
        dist, owner, _pred = paths.multi_source(nodes, access)
        reached = np.flatnonzero(owner >= 0)
        ids = paths.nodes[reached]
        return (
            {int(n): float(d) for n, d in zip(ids, dist[reached], strict=True)},
            {int(n): names[o] for n, o in zip(ids, owner[reached], strict=True)},
        )

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


def build_network(
    streets: gpd.GeoDataFrame, spec: NetworkSpec | None = None, warn: bool = True
) -> RoadNetwork:
    """The directed graph of a centerline layer, with a report of how it was built.
    ``warn``: log a warning when few nodes are routable (False where the caller reports
    the network's state itself, as ``city check`` does in its line)."""
    spec = spec or NetworkSpec()
    if streets.crs is None:
        raise NetworkError(_("the streets layer has no CRS"), _("Set the layer's CRS first."))
    ids = spec.use_node_ids and all(
        c is not None and c in streets.columns for c in (spec.from_node, spec.to_node)
    )
    usable = streets[~streets.geometry.is_empty & streets.geometry.notna()]
    if spec.include_field is not None:
        if spec.include_field not in usable.columns:
            raise NetworkError(
                _("the streets layer has no column '{field}' ({mode} network)").format(
                    field=spec.include_field, mode=spec.mode
                ),
                _("Fix streets.{key} in the city profile (citydesk city show).").format(
                    key=f"{spec.mode}_field"
                ),
            )
        usable = usable[_truthy(usable[spec.include_field])]
    if ids:
        usable = usable[usable[spec.from_node].notna() & usable[spec.to_node].notna()]
    if len(usable) == 0:
        raise NetworkError(
            _("the streets layer has no usable line segments"),
            _("Routing needs line geometries (and from/to node ids if the layer has them)."),
        )
    # always metres: a state-plane source in US feet would make every speed wrong
    crs = suggest_projected_crs(
        to_lonlat_bounds(tuple(usable.total_bounds), usable.crs), usable.crs.geodetic_crs
    )
    lines = [_single_line(g) for g in shapely.line_merge(usable.to_crs(crs).geometry.values)]
    rows = np.arange(len(lines))  # the layer row of each line (speed, direction)
    cut_lines = 0
    if spec.junctions not in JUNCTIONS:
        raise NetworkError(
            _("unknown junctions setting '{value}'").format(value=spec.junctions),
            _("Use one of: {names}.").format(names=", ".join(JUNCTIONS)),
        )
    if ids:
        starts = usable[spec.from_node].astype(np.int64).to_numpy()
        ends = usable[spec.to_node].astype(np.int64).to_numpy()
        node_xy: dict[int, tuple[float, float]] = {}
        for a, b, line in zip(starts, ends, lines, strict=True):
            (ax, ay), (bx, by) = line.coords[0][:2], line.coords[-1][:2]
            node_xy.setdefault(a, (ax, ay))
            node_xy.setdefault(b, (bx, by))
        snapped = 0
    else:
        # without node ids the nodes are the lines' ends: cut the lines at their junctions
        # first where the profile says the file is not split at them
        if spec.junctions != "ends":
            cut = cut_at_junctions(lines, spec.snap_tolerance_m, spec.junctions == "crossings")
            lines, rows, cut_lines = cut.lines, cut.rows, cut.cut_lines
        starts, ends, node_xy, snapped = _snap_endpoints(lines, spec.snap_tolerance_m)
    graph = nx.DiGraph()
    graph.add_nodes_from((n, {"xy": xy}) for n, xy in node_xy.items())
    kmh = _speeds(usable, spec)[rows]
    # numbers may come as text (Cambridge's Direction is "1", "-1", "0"): read them as numbers
    directions = _numbers(usable, spec.direction)
    one_way = 0 if spec.two_way else int(np.isin(directions, (1, -1)).sum())
    directions = directions[rows]
    for a, b, line, speed, direction in zip(starts, ends, lines, kmh, directions, strict=True):
        coords = list(line.coords)
        if not ids:  # snapped: the line ends on its nodes exactly
            coords[0], coords[-1] = node_xy[a], node_xy[b]
        travel = line.length / (speed / 3.6)
        if spec.two_way:
            direction = 0
        if direction != -1:
            _add_edge(graph, int(a), int(b), line.length, travel, coords)
        if direction != 1:
            _add_edge(graph, int(b), int(a), line.length, travel, coords[::-1])
    # Points snap only to the largest strongly connected part: real centerlines have
    # one-way dead ends (Cambridge: 22 nodes in 16 pockets), and a case snapped into one
    # could be reached by no crew at all.
    main = max(nx.strongly_connected_components(graph), key=len)
    share = len(main) / graph.number_of_nodes()
    low = share < LOW_CONNECTIVITY
    node_ids = np.array(sorted(main), dtype=np.int64)
    xy = np.array([graph.nodes[n]["xy"] for n in node_ids], dtype=float)
    report = NetworkReport(
        node_source="ids" if ids else "snapped",
        segments=len(usable),
        skipped_segments=len(streets) - len(usable),
        nodes=graph.number_of_nodes(),
        edges=graph.number_of_edges(),
        one_way_segments=one_way,
        snap_tolerance_m=None if ids else spec.snap_tolerance_m,
        snapped_endpoints=snapped,
        cut_lines=cut_lines,
        weak_components=nx.number_weakly_connected_components(graph),
        routable_nodes=len(main),
        largest_share=share,
        hint=junction_hint(lines, spec.snap_tolerance_m, spec.junctions) if low and not ids else "",
    )
    if low and warn:
        log.warning(
            "road network: only %.1f%% of %d nodes are in the largest strongly connected "
            "part; points elsewhere snap to it and the rest is unreachable%s",
            100 * report.largest_share,
            report.nodes,
            f". {report.hint}" if report.hint else "",
        )
    return RoadNetwork(graph, crs, node_ids, xy, spec, report)


def _truthy(column: pd.Series) -> np.ndarray:
    """True for 1, true, yes, y (any case); False for everything else, missing included."""
    text = column.astype(object).where(column.notna(), "").astype(str).str.strip().str.lower()
    return text.isin(["1", "1.0", "true", "yes", "y", "t"]).to_numpy()


def _single_line(line) -> shapely.LineString:
    """A gap inside a segment (a MultiLineString after merging): join its parts in order."""
    if line.geom_type == "LineString":
        return line
    return shapely.LineString([c for g in line.geoms for c in g.coords])


def _snap_endpoints(
    lines: list[shapely.LineString], tolerance: float
) -> tuple[np.ndarray, np.ndarray, dict[int, tuple[float, float]], int]:
    """Node ids for both ends of every line: endpoints within ``tolerance`` of each other
    (transitively) become one node, placed at their mean. Returns (start ids, end ids,
    {node: xy}, how many endpoints were moved)."""
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    ends = np.array([(ln.coords[0], ln.coords[-1]) for ln in lines], dtype=float).reshape(-1, 2)
    pairs = cKDTree(ends).query_pairs(tolerance, output_type="ndarray")
    n = len(ends)
    links = coo_array((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _count, label = connected_components(links, directed=False)
    sums = np.zeros((label.max() + 1, 2))
    np.add.at(sums, label, ends)
    sizes = np.bincount(label)
    centres = sums / sizes[:, None]
    moved = int((np.hypot(*(ends - centres[label]).T) > 1e-9).sum())
    nodes = {int(i): (float(x), float(y)) for i, (x, y) in enumerate(centres)}
    return label[0::2], label[1::2], nodes, moved


def _speeds(frame: gpd.GeoDataFrame, spec: NetworkSpec) -> np.ndarray:
    """km/h per segment: the posted speed when the layer has it, else by road class."""
    classes = (
        frame[spec.road_class]
        if spec.road_class is not None and spec.road_class in frame
        else pd.Series([None] * len(frame))
    )
    by_class = np.array(
        [spec.speeds_kmh.get(_class_key(c), spec.default_speed_kmh) for c in classes],
        dtype=float,
    )
    if spec.speed_field is None or spec.speed_field not in frame:
        return by_class
    posted = _numbers(frame, spec.speed_field)
    if spec.speed_field_unit == "mph":
        posted = posted * 1.609344
    return np.where(np.isfinite(posted) & (posted > 0), posted, by_class)


def _add_edge(graph: nx.DiGraph, a: int, b: int, length: float, travel: float, coords) -> None:
    """Keep the faster of two parallel segments (a divided road drawn twice)."""
    if graph.has_edge(a, b) and graph.edges[a, b]["travel_s"] <= travel:
        return
    graph.add_edge(a, b, length_m=length, travel_s=travel, coords=coords)


def _numbers(frame: gpd.GeoDataFrame, column: str | None) -> np.ndarray:
    if column is None or column not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(float)
