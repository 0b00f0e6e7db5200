"""The project: an ordered layer tree with groups, a project CRS, an extent and metadata.

The tree is the one thing the layer dock, the legend, the renderer and the project file all
agree on. Order is top-to-bottom as shown in the layer dock; drawing goes bottom-to-top.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pyproj import CRS

from .crs import crs_label, parse_crs
from .errors import CityDeskError
from .i18n import _
from .layer import Layer, slugify


@dataclass(eq=False)
class LayerNode:
    layer_id: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": "layer", "id": self.layer_id}


@dataclass(eq=False)
class GroupNode:
    name: str
    children: list[LayerNode | GroupNode] = field(default_factory=list)
    visible: bool = True
    expanded: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "group",
            "name": self.name,
            "visible": self.visible,
            "expanded": self.expanded,
            "children": [c.to_dict() for c in self.children],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GroupNode:
        if data.get("type") != "group":
            raise ValueError("the root of a layer tree must be a group")
        children: list[LayerNode | GroupNode] = []
        for child in data.get("children", []):
            if child.get("type") == "layer":
                children.append(LayerNode(str(child["id"])))
            elif child.get("type") == "group":
                children.append(cls.from_dict(child))
            else:
                raise ValueError(f"unknown layer tree node {child.get('type')!r}")
        return cls(
            name=str(data.get("name", "")),
            children=children,
            visible=bool(data.get("visible", True)),
            expanded=bool(data.get("expanded", True)),
        )

    def walk(self) -> Iterator[tuple[GroupNode, LayerNode | GroupNode]]:
        """(parent, node) pairs, depth-first, top to bottom."""
        for child in self.children:
            yield self, child
            if isinstance(child, GroupNode):
                yield from child.walk()


class Project:
    """Layers plus their tree, CRS and metadata. No Qt, no files: see ``project_store``."""

    def __init__(self, name: str = "Untitled", crs: Any = "EPSG:4326") -> None:
        self.name = name
        self.crs: CRS = parse_crs(crs)
        self.layers: dict[str, Layer] = {}
        self.root = GroupNode("")
        self.metadata: dict[str, Any] = {}
        self.path: str | None = None
        # layers the file lists but that could not be read (a table deleted or damaged by
        # another tool): id -> why. The rest of the project opens; a save keeps their tables.
        self.unreadable: dict[str, str] = {}
        self.unreadable_records: list[dict[str, Any]] = []  # their settings, saved back as read

    # --- layers -----------------------------------------------------------------------------
    def add_layer(self, layer: Layer, group: str | None = None, index: int = 0) -> Layer:
        """Add ``layer`` at ``index`` (0 = top) of ``group`` (created if missing)."""
        layer.id = self._unique_id(layer.id or slugify(layer.name))
        self.layers[layer.id] = layer
        parent = self.group(group, create=True) if group else self.root
        parent.children.insert(max(0, min(index, len(parent.children))), LayerNode(layer.id))
        return layer

    def add_in_drawing_order(self, layers: list[Layer]) -> None:
        """Add a new project's layers so none hides another: points on top, then lines,
        then polygons, the finest (least area per feature) highest. Added in file-name order,
        a city's districts ("Barrios") covered its parcels ("Predios") in an opaque fill."""
        rank = {"Point": 0, "LineString": 1, "Polygon": 2}

        def key(layer: Layer) -> tuple[int, float]:
            kind = getattr(layer, "geometry_type", "Unknown")
            try:
                x0, y0, x1, y1 = layer.extent
                count = max(1, getattr(layer, "feature_count", 1))
                spread = abs((x1 - x0) * (y1 - y0)) / count  # area per feature, from the extent
            except (ValueError, TypeError, IndexError):  # an empty layer: no extent
                spread = float("inf")
            return rank.get(kind, 3), spread if spread == spread else float("inf")

        for layer in sorted(layers, key=key):
            self.add_layer(layer, index=len(self.layer_order()))

    def _unique_id(self, base: str) -> str:
        candidate, n = base, 2
        while candidate in self.layers or candidate.startswith(("gpkg_", "rtree_", "citydesk_")):
            candidate = f"{base}_{n}"
            n += 1
        return candidate

    def remove_layer(self, layer_id: str) -> None:
        self.layer(layer_id)
        del self.layers[layer_id]
        for parent, node in list(self.root.walk()):
            if isinstance(node, LayerNode) and node.layer_id == layer_id:
                parent.children.remove(node)

    def layer(self, key: str) -> Layer:
        """A layer by id or by (unique) name."""
        if key in self.layers:
            return self.layers[key]
        matches = [lyr for lyr in self.layers.values() if lyr.name == key]
        if len(matches) == 1:
            return matches[0]
        raise CityDeskError(
            _("the project has no layer '{key}'").format(key=key),
            _("layers are: {value0}").format(value0=", ".join(self.layers) or "(none)"),
        )

    # --- tree -------------------------------------------------------------------------------
    def group(self, name: str, create: bool = False) -> GroupNode:
        for _parent, node in self.root.walk():
            if isinstance(node, GroupNode) and node.name == name:
                return node
        if not create:
            raise CityDeskError(
                _("the project has no group '{name}'").format(name=name), _("create it first")
            )
        node = GroupNode(name)
        self.root.children.append(node)
        return node

    def add_group(
        self, name: str, parent: str | None = None, index: int | None = None
    ) -> GroupNode:
        target = self.group(parent) if parent else self.root
        node = GroupNode(name)
        target.children.insert(len(target.children) if index is None else index, node)
        return node

    def _find(self, layer_id: str) -> tuple[GroupNode, LayerNode]:
        for parent, node in self.root.walk():
            if isinstance(node, LayerNode) and node.layer_id == layer_id:
                return parent, node
        raise CityDeskError(
            _("the project has no layer '{layer_id}'").format(layer_id=layer_id),
            _("check the layer id"),
        )

    def move_layer(self, layer_id: str, index: int, group: str | None = None) -> None:
        """Move a layer to ``index`` inside ``group`` (None = its current group)."""
        parent, node = self._find(layer_id)
        target = self.group(group) if group else parent
        parent.children.remove(node)
        target.children.insert(max(0, min(index, len(target.children))), node)

    def layer_order(self) -> list[str]:
        """Layer ids top to bottom, as the layer dock shows them."""
        return [n.layer_id for _p, n in self.root.walk() if isinstance(n, LayerNode)]

    def is_visible(self, layer_id: str) -> bool:
        """A layer shows when it and every group above it are visible."""

        def search(group: GroupNode, visible: bool) -> bool | None:
            for child in group.children:
                if isinstance(child, LayerNode) and child.layer_id == layer_id:
                    return visible and self.layers[layer_id].visible
                if isinstance(child, GroupNode):
                    found = search(child, visible and child.visible)
                    if found is not None:
                        return found
            return None

        return bool(search(self.root, True))

    def drawing_order(self) -> list[Layer]:
        """Visible layers bottom to top (the order a renderer paints them)."""
        return [self.layers[i] for i in reversed(self.layer_order()) if self.is_visible(i)]

    # --- geometry ---------------------------------------------------------------------------
    def set_crs(self, crs: Any) -> None:
        self.crs = parse_crs(crs)

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """Union of the layers' extents in the project CRS."""
        return layers_extent(self.layers.values(), self.crs)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "crs": crs_label(self.crs),
            "extent": [round(v, 3) for v in self.extent],
            "layers": [self.layers[i].describe() for i in self.layer_order()],
            "tree": self.root.to_dict(),
            "metadata": self.metadata,
            "unreadable_layers": dict(self.unreadable),
        }


def bounds_in(
    bounds: tuple[float, float, float, float], crs: CRS | None, target: CRS
) -> tuple[float, float, float, float] | None:
    """``bounds`` (in ``crs``; None: already in ``target``) as bounds in ``target``, or None
    when they are not finite or cannot be placed there (a latitude past the pole)."""
    from pyproj.exceptions import ProjError

    from .crs import transformer

    if not all(math.isfinite(v) for v in bounds):
        return None
    if crs is None or crs == target:
        return (bounds[0], bounds[1], bounds[2], bounds[3])
    try:
        out = transformer(crs, target).transform_bounds(*bounds, densify_pts=21)
    except ProjError:
        return None
    return out if all(math.isfinite(v) for v in out) else None


def layers_extent(layers: Iterable[Layer], crs: CRS) -> tuple[float, float, float, float]:
    """Union of the extents of ``layers`` (those with a CRS) in ``crs``; NaNs when none."""
    return union_of_boxes(
        bounds_in(layer.extent, layer.crs, crs) for layer in layers if layer.crs is not None
    )


def union_of_boxes(boxes: Iterable[Any]) -> tuple[float, float, float, float]:
    """The union of the (x0, y0, x1, y1) boxes that are whole (four finite numbers); NaNs
    when none is."""
    whole = [
        [float(v) for v in b]
        for b in boxes
        if b is not None and len(b) == 4 and all(math.isfinite(float(v)) for v in b)
    ]
    if not whole:
        return (math.nan, math.nan, math.nan, math.nan)
    return (
        min(b[0] for b in whole),
        min(b[1] for b in whole),
        max(b[2] for b in whole),
        max(b[3] for b in whole),
    )
