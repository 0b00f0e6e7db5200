"""Network distances from places (parcels) to facilities: nearest, within reach, service areas.

The road graph is :class:`citydesk.layers.road_network.RoadNetwork` (networkx, one model for
dispatch, siting and planning). Bulk shortest paths run on a ``scipy.sparse.csgraph`` copy
made once per travel mode, which is about 25x faster than networkx here.

Two travel modes:

* **walk**: street length in metres, both directions of every street (one-way rules do not
  apply to pedestrians); used for "within 800 m of a school" and for 2SFCA catchments.
* **drive**: travel seconds along one-way streets in their legal direction; used for fire
  response ("from the station to the parcel").

A place reaches the network at its nearest routable node; the straight-line leg is added to
the cost (at the mode's access speed for drive). A facility drawn as a polygon (a park) is
entered at every node within ``entrance_m`` of its outline, so a long park is near everyone
along it, not only near its centroid.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from shapely.ops import substring

from citydesk.layers.errors import CRSError
from citydesk.layers.feedback import Feedback, NullFeedback, check_canceled
from citydesk.layers.i18n import _
from citydesk.layers.road_network import RoadNetwork
from citydesk.layers.shortest_paths import GraphMatrix

WALK_KMH = 4.8


@dataclass(frozen=True)
class TravelMode:
    name: str
    weight: str  # the edge attribute summed along a path
    directed: bool  # one-way streets respected
    access_per_m: float  # cost of one metre off the network, in the mode's unit
    unit: str


WALK = TravelMode("walk", "length_m", directed=False, access_per_m=1.0, unit="m")
DRIVE = TravelMode("drive", "travel_s", directed=True, access_per_m=1 / (15 / 3.6), unit="s")
MODES = {m.name: m for m in (WALK, DRIVE)}


@dataclass
class Entrances:
    """Where each facility meets the network: parallel arrays, several rows per facility
    when it is a polygon."""

    facility: np.ndarray  # facility row number
    node: np.ndarray  # csgraph index of the node
    cost: np.ndarray  # cost from the facility to that node (mode unit)
    count: int  # number of facilities


class NetworkCosts:
    """One travel mode's csgraph of a road network, and the queries planning needs."""

    def __init__(self, network: RoadNetwork, mode: TravelMode = WALK) -> None:
        self.network, self.mode = network, mode
        self.paths = GraphMatrix(network.graph, mode.weight, directed=mode.directed)
        self.nodes = self.paths.nodes
        self.index = self.paths._index
        self.matrix = self.paths.forward
        self.reverse = self.paths.backward

    # -- places on the network ------------------------------------------------------------
    def project(self, geoms: gpd.GeoSeries) -> gpd.GeoSeries:
        if geoms.crs is None:
            raise CRSError(
                _("the points have no coordinate reference system"),
                _("Assign the layer's CRS (citydesk layers convert --assign-crs)."),
                gui_fix=_("Add the layer again through {place}, giving its CRS.").format(
                    place=_("Project > Add layer with options...")
                ),
            )
        return geoms.to_crs(self.network.crs)

    def snap_places(self, geoms: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
        """(csgraph node index, access cost) of each place, from a point inside it."""
        projected = self.project(geoms).values
        present = ~(shapely.is_missing(projected) | shapely.is_empty(projected))
        idx = np.zeros(len(projected), dtype=np.int64)
        access = np.full(len(projected), np.inf)  # no geometry: reaches nothing
        xy = shapely.get_coordinates(shapely.point_on_surface(projected[present]))
        nodes, dist = self.network.snap_xy(xy)
        idx[present] = [self.index[int(n)] for n in nodes]
        access[present] = dist * self.mode.access_per_m
        return idx, access

    def entrances(self, geoms: gpd.GeoSeries, entrance_m: float = 30.0) -> Entrances:
        """Network entry points of facilities: a point enters at its nearest node; a polygon
        at every node within ``entrance_m`` of its outline, or the node closest to the
        outline if none is that close."""
        projected = self.project(geoms).values
        fac, node, cost = [], [], []
        points = shapely.point_on_surface(projected)
        nearest, near_dist = self.network.snap_xy(shapely.get_coordinates(points))
        polygonal = np.isin(shapely.get_type_id(projected), (3, 6))
        for i, geom in enumerate(projected):
            found = []
            if polygonal[i]:
                box = shapely.buffer(geom, entrance_m)
                minx, miny, maxx, maxy = shapely.bounds(box)
                half = max(maxx - minx, maxy - miny) / 2 + entrance_m
                centre = ((minx + maxx) / 2, (miny + maxy) / 2)
                candidates = self.network.nodes_near(np.array(centre), half * 1.5)[0]
                if candidates:
                    cand_xy = np.array([self.network.graph.nodes[n]["xy"] for n in candidates])
                    d = shapely.distance(geom, shapely.points(cand_xy))
                    found = [
                        (n, dd) for n, dd in zip(candidates, d, strict=True) if dd <= entrance_m
                    ]
                    if not found:  # set back from every street: its closest node to the outline
                        k = int(np.argmin(d))
                        found = [(candidates[k], float(d[k]))]
            if not found:
                found = [(int(nearest[i]), float(near_dist[i]))]
            for n, d in found:
                fac.append(i)
                node.append(self.index[int(n)])
                cost.append(d * self.mode.access_per_m)
        return Entrances(np.array(fac), np.array(node), np.array(cost), len(projected))

    # -- queries --------------------------------------------------------------------------
    def from_facilities(
        self, entrances: Entrances, limit: float = np.inf
    ) -> tuple[np.ndarray, np.ndarray]:
        """Cost from the nearest facility to every node, and which facility:
        (cost per node, facility row per node or -1). One Dijkstra for all facilities,
        from a virtual source joined to each entrance by its access cost."""
        return self._multi_source(entrances, self.matrix, limit)

    def to_facilities(
        self, entrances: Entrances, limit: float = np.inf
    ) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`from_facilities`, for trips from each node *to* the facilities."""
        return self._multi_source(entrances, self.reverse, limit)

    def _multi_source(self, ent: Entrances, matrix, limit: float):
        dist, source, _pred = self.paths.multi_source(
            ent.node, ent.cost, limit, reverse=matrix is self.reverse and self.mode.directed
        )
        owner = np.where(source >= 0, ent.facility[np.maximum(source, 0)], -1)
        return dist, owner

    def facility_costs(
        self,
        entrances: Entrances,
        places: tuple[np.ndarray, np.ndarray],
        limit: float = np.inf,
        feedback: Feedback | None = None,
        to_facility: bool = True,
    ) -> np.ndarray:
        """Dense places x facilities cost matrix (inf beyond ``limit``), one Dijkstra per
        facility from all its entrances; used by 2SFCA where every facility in reach counts,
        not only the nearest."""
        feedback = feedback or NullFeedback()
        place_node, place_access = places
        matrix = self.reverse if to_facility else self.matrix
        out = np.full((len(place_node), entrances.count), np.inf)
        for j in range(entrances.count):
            check_canceled(feedback)
            mine = entrances.facility == j
            dist, _owner = self._multi_source(
                Entrances(np.zeros(mine.sum(), int), entrances.node[mine], entrances.cost[mine], 1),
                matrix,
                limit,
            )
            out[:, j] = dist[place_node] + place_access
            feedback.set_progress(100.0 * (j + 1) / entrances.count)
        out[out > limit] = np.inf
        return out


def nearest_facility(
    costs: NetworkCosts, places: gpd.GeoSeries, facilities: gpd.GeoSeries, to_facility=True
) -> tuple[np.ndarray, np.ndarray]:
    """(cost to the nearest facility, its row number or -1) for each place."""
    ent = costs.entrances(facilities)
    node, access = costs.snap_places(places)
    dist, owner = costs.to_facilities(ent) if to_facility else costs.from_facilities(ent)
    return dist[node] + access, owner[node]


def service_areas(
    costs: NetworkCosts, origins: gpd.GeoSeries, thresholds: list[float], width_m: float = 50.0
) -> gpd.GeoDataFrame:
    """Isochrones: the streets reachable from any origin within each threshold (mode unit),
    with partly reached streets cut where the budget runs out, buffered by ``width_m``.
    One polygon per threshold, in the network CRS."""
    ent = costs.entrances(origins)
    dist, _owner = costs.from_facilities(ent, limit=max(thresholds))
    starts, lines, weight = [], [], []
    for a, b, data in costs.network.graph.edges(data=True):
        line = shapely.LineString(data["coords"])
        starts.append(costs.index[int(a)])
        lines.append(line)
        weight.append(data[costs.mode.weight])
        if not costs.mode.directed:  # walkers go both ways along a one-way street
            starts.append(costs.index[int(b)])
            lines.append(shapely.reverse(line))
            weight.append(data[costs.mode.weight])
    start_cost = dist[np.array(starts)]
    weights = np.array(weight)
    rows = []
    for t in sorted(thresholds):
        left = t - start_cost
        parts = []
        for i in np.flatnonzero(np.isfinite(start_cost) & (left > 0)):
            share = min(1.0, left[i] / weights[i]) if weights[i] > 0 else 1.0
            line = lines[i]
            parts.append(line if share >= 1 else substring(line, 0, share * line.length))
        area = shapely.union_all(shapely.buffer(parts, width_m)) if parts else shapely.Polygon()
        rows.append({"threshold": t, "unit": costs.mode.unit, "geometry": area})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=costs.network.crs)
