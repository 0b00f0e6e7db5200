"""Feature selection, independent of any widget.

The map canvas, the attribute table and the Python API all change the same ``Selection``;
listeners (the GUI registers two) are told which layer changed, so the table and the map stay
linked both ways without knowing about each other. Spatial queries use the layer's STRtree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import shapely

Mode = Literal["replace", "add", "remove"]


def ids_at_point(frame: gpd.GeoDataFrame, x: float, y: float, tolerance: float) -> list[Any]:
    """Features within ``tolerance`` (map units) of a click, topmost (last drawn) first."""
    probe = shapely.Point(x, y).buffer(tolerance)
    hits = frame.sindex.query(probe, predicate="intersects")
    return list(frame.index[np.sort(hits)[::-1]])


def ids_in_geometry(frame: gpd.GeoDataFrame, area: shapely.Geometry) -> list[Any]:
    """Features intersecting a box or a drawn polygon."""
    hits = frame.sindex.query(area, predicate="intersects")
    return list(frame.index[np.sort(hits)])


class Selection:
    """Selected feature ids per layer id, with change listeners."""

    def __init__(self) -> None:
        self._ids: dict[str, set[Any]] = {}
        self._listeners: list[Callable[[str], None]] = []

    def subscribe(self, listener: Callable[[str], None]) -> None:
        self._listeners.append(listener)

    def ids(self, layer_id: str) -> set[Any]:
        return set(self._ids.get(layer_id, set()))

    def count(self, layer_id: str) -> int:
        return len(self._ids.get(layer_id, ()))

    def set(self, layer_id: str, ids: Iterable[Any], mode: Mode = "replace") -> None:
        new = set(ids)
        current = self._ids.get(layer_id, set())
        if mode == "add":
            new = current | new
        elif mode == "remove":
            new = current - new
        if new == current:
            return
        self._ids[layer_id] = new
        for listener in list(self._listeners):
            listener(layer_id)

    def clear(self, layer_id: str | None = None) -> None:
        for lid in [layer_id] if layer_id else list(self._ids):
            self.set(lid, [])
