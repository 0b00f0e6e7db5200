"""Street lines cut at their junctions, so a graph built from their endpoints has them.

A road network's nodes are the lines' endpoints (:mod:`.road_network`). Many street files
are not cut at every junction: OpenStreetMap's ways run through the nodes they share with
side streets, a city's centerlines may run a long avenue as one line that side streets end
on, and a hand-drawn grid crosses without shared points. Built from endpoints alone, such
a network falls apart into pieces (the raw Helsinki ways: a third of the nodes routable).

Which points are junctions depends on how the file was made, so the city profile says it
(``[layers.streets] junctions``); nothing here guesses:

* ``"ends"`` (the default): the file is split at its junctions, so they are the lines' ends.
  A city's centerlines are: there a point one line passes through and another ends at is a
  bridge over a road (Cambridge's Longfellow Bridge has its vertex on Memorial Drive's line,
  and the Gilmore Bridge ends 0.3 m from Education Circle's: neither is a junction);
* ``"shared"``: also a **shared vertex** (a point inside one line that another line also
  passes through or ends at) and a **line ending on another** (an endpoint within the
  snapping tolerance of another line's interior). OSM's ways as they come: they run through
  the nodes they share, and a bridge shares none with the road beneath;
* ``"crossings"``: also where lines **cross without a shared point**: hand-drawn data
  without bridges.

When few nodes are routable, :func:`junction_hint` says which setting the file's geometry
points to, as a hint the user acts on.

Pure: shapely arrays in, shapely lines out.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import cast, get_args

import numpy as np
import shapely
from shapely.ops import substring

from .city_layers import Junctions
from .i18n import ngettext

JUNCTIONS: tuple[str, ...] = get_args(Junctions)


@dataclass(frozen=True)
class CutLines:
    """The lines after cutting: each piece with the row of the line it came from (its
    speed, class and direction), and how many lines were cut."""

    lines: list[shapely.LineString]
    rows: np.ndarray  # index into the input lines, one per piece
    cut_lines: int  # input lines cut into more than one piece


def cut_at_junctions(
    lines: list[shapely.LineString], tolerance: float, crossings: bool = False
) -> CutLines:
    """Every line cut at its shared vertices and where another line ends on it (within
    ``tolerance`` metres), and where lines cross if ``crossings``; pieces keep their line's
    direction of digitising, so one-way rules still apply to them."""
    if not lines:
        return CutLines([], np.zeros(0, dtype=np.int64), 0)
    array = np.asarray(lines, dtype=object)
    lengths = shapely.length(array)
    pieces: list[shapely.LineString] = []
    rows: list[int] = []
    cut = 0
    for i, (line, at) in enumerate(zip(lines, _cuts(array, tolerance, crossings), strict=True)):
        if not at:
            pieces.append(line)
            rows.append(i)
            continue
        cut += 1
        for start, end in itertools.pairwise([0.0, *at, float(lengths[i])]):
            # a piece is longer than the tolerance (see _distinct): a line, not a point
            pieces.append(cast(shapely.LineString, substring(line, start, end)))
            rows.append(i)
    return CutLines(pieces, np.asarray(rows, dtype=np.int64), cut)


def _cuts(lines: np.ndarray, tolerance: float, crossings: bool) -> list[list[float]]:
    """Per line, the distances along it to cut at (sorted, inside it): what
    :func:`cut_at_junctions` cuts and :func:`junction_hint` counts."""
    lengths = shapely.length(lines)
    found = _shared_vertices(lines) + _ends_on_lines(lines, lengths, tolerance)
    if crossings:
        found += _crossings(lines)
    cuts: list[list[float]] = [[] for _ in range(len(lines))]
    for k, distance in found:
        cuts[k].append(distance)
    return [_distinct(at, float(n), tolerance) for at, n in zip(cuts, lengths, strict=True)]


def _shared_vertices(lines: np.ndarray) -> list[tuple[int, float]]:
    """(line, distance along it) of each interior vertex that another line also has."""
    xy, owner = shapely.get_coordinates(lines, return_index=True)
    counts = np.bincount(owner, minlength=len(lines))
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.arange(len(xy)) - first[owner]
    interior = (position > 0) & (position < counts[owner] - 1)
    # group equal points: sort by x then y, a group is a run of equal rows
    order = np.lexsort((xy[:, 1], xy[:, 0]))
    sorted_xy = xy[order]
    starts = np.concatenate([[True], np.any(sorted_xy[1:] != sorted_xy[:-1], axis=1)])
    group = np.cumsum(starts) - 1
    group_of = np.empty(len(xy), dtype=np.int64)
    group_of[order] = group
    # a group is a junction when more than one line has a vertex in it
    pairs = np.unique(np.column_stack([group_of, owner]), axis=0)
    lines_in_group = np.bincount(pairs[:, 0], minlength=group.max() + 1)
    shared = interior & (lines_in_group[group_of] > 1)
    out: list[tuple[int, float]] = []
    for line in np.unique(owner[shared]):
        part = slice(first[line], first[line] + counts[line])
        coords = xy[part]
        along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(coords, axis=0).T))])
        for k in np.flatnonzero(shared[part]):
            out.append((int(line), float(along[k])))
    return out


def _ends_on_lines(
    lines: np.ndarray, lengths: np.ndarray, tolerance: float
) -> list[tuple[int, float]]:
    """(line, distance along it) where another line's endpoint lies within ``tolerance`` of
    its interior (farther than ``tolerance`` from its own ends: those are snapped anyway)."""
    starts = shapely.get_point(lines, 0)
    ends = shapely.get_point(lines, -1)
    points = np.concatenate([starts, ends])
    owner = np.concatenate([np.arange(len(lines)), np.arange(len(lines))])
    tree = shapely.STRtree(lines)
    point_i, line_i = tree.query(points, predicate="dwithin", distance=tolerance)
    keep = owner[point_i] != line_i
    point_i, line_i = point_i[keep], line_i[keep]
    at = shapely.line_locate_point(lines[line_i], points[point_i])
    inside = (at > tolerance) & (at < lengths[line_i] - tolerance)
    return [(int(i), float(d)) for i, d in zip(line_i[inside], at[inside], strict=True)]


def _crossings(lines: np.ndarray) -> list[tuple[int, float]]:
    """(line, distance along it) of each point where two lines cross."""
    a, b = _crossing_pairs(lines)
    out: list[tuple[int, float]] = []
    for i, j, meet in zip(a, b, shapely.intersection(lines[a], lines[b]), strict=True):
        points = shapely.get_parts(meet)
        points = points[shapely.get_type_id(points) == 0]  # overlaps are not crossings
        for line in (i, j):
            for at in shapely.line_locate_point(lines[line], points):
                out.append((int(line), float(at)))
    return out


def _crossing_pairs(lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pairs of lines (each pair once) that cross without sharing a point there."""
    a, b = shapely.STRtree(lines).query(lines, predicate="crosses")
    return a[a < b], b[a < b]


def _distinct(at: list[float], length: float, tolerance: float) -> list[float]:
    """The cut distances strictly inside the line, sorted, none closer than ``tolerance``
    to another or to an end: two cuts that near are one junction drawn twice."""
    out: list[float] = []
    for d in sorted(at):
        if d <= tolerance or d >= length - tolerance:
            continue
        if out and d - out[-1] <= tolerance:
            continue
        out.append(d)
    return out


def junction_hint(lines: list[shapely.LineString], tolerance: float, junctions: str) -> str:
    """What the user could set when few nodes are routable: lines that pass through points
    other streets share or end at (``junctions = "shared"``), or lines that cross without a
    shared point (``"crossings"``); empty when the geometry points to neither."""
    array = np.asarray(lines, dtype=object)
    if junctions == "ends":
        n = sum(1 for at in _cuts(array, tolerance, crossings=False) if at)
        if n:
            return ngettext(
                "{n} line passes through a point where another street joins it: if such "
                'points are junctions, not bridges, set junctions = "shared" in the city '
                "profile's [layers.streets]",
                "{n} lines pass through points where other streets join them: if such "
                'points are junctions, not bridges, set junctions = "shared" in the city '
                "profile's [layers.streets]",
                n,
            ).format(n=n)
    if junctions != "crossings":
        n = len(_crossing_pairs(array)[0])
        if n:
            return ngettext(
                "{n} pair of lines crosses without a shared point: if the data has no "
                'bridges or tunnels, set junctions = "crossings" in the city profile\'s '
                "[layers.streets]",
                "{n} pairs of lines cross without a shared point: if the data has no "
                'bridges or tunnels, set junctions = "crossings" in the city profile\'s '
                "[layers.streets]",
                n,
            ).format(n=n)
    return ""
