"""A layer's geometry held as flat coordinate and offset arrays, shapely made on demand.

Why: a shapely geometry is a GEOS object tree (the collection, each polygon, each ring, each
coordinate sequence) plus a Python wrapper. For 500,000 parcels that is about 725 bytes a
feature against 160 bytes of coordinates: 350 MiB of objects that drawing never needs.
QGIS streams features from the file as it draws; CityDesk keeps what it read in memory (an
analysis needs it, and a render must not re-read the file), so it keeps it the way the
coordinates are laid out in GeoArrow: one ``(m, 2)`` (or ``(m, 3)``) float array, and offsets
from features to parts, parts to rings, rings to coordinates. Drawing reads these arrays
directly (``workbench.gui.geometry_cache``); an analysis asks for shapely geometries, which
are rebuilt exactly (same types, same coordinates, same ring order, Z kept) through
:meth:`CompactGeometry.to_shapely`.

Only what round-trips exactly is held compact: one family (points, lines or polygons, single
and multi mixed), all 2D or all 3D. Anything else (a geometry collection, a layer mixing
families, a lone LinearRing, mixed Z) makes :meth:`CompactGeometry.from_shapely` return
``None``, and the caller keeps the shapely objects. ``shapely.from_ragged_array`` is not
used: it crashes the interpreter on an empty polygon (shapely 2.2, measured here).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import shapely

from .memory import release_freed_memory

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

#: shapely type ids of each family: (single, multi)
_TYPES = {"point": (0, 4), "line": (1, 5), "polygon": (3, 6)}
_FAMILY_OF = {t: family for family, ids in _TYPES.items() for t in ids}
#: parts -> multi-geometries, per family (for drawing what cannot be held exactly)
_COLLECT: dict[str, Any] = {
    "point": shapely.multipoints,
    "line": shapely.multilinestrings,
    "polygon": shapely.multipolygons,
}


def _offsets(owner: np.ndarray, count: int) -> np.ndarray:
    """Offsets into a sorted owner array: item ``k`` owns ``[off[k], off[k + 1])``."""
    return np.searchsorted(owner, np.arange(count + 1)).astype(np.int64)


def offsets_of(counts: np.ndarray) -> np.ndarray:
    """Offsets from counts: item ``k`` owns ``[off[k], off[k + 1])``, ``off[0] = 0``."""
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def children(offsets: np.ndarray, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The children of the items ``which`` (flat positions) and their new offsets."""
    starts = offsets[which]
    lengths = offsets[which + 1] - starts
    new = offsets_of(lengths)
    flat = np.repeat(starts - new[:-1], lengths) + np.arange(new[-1], dtype=np.int64)
    return flat, new


def owners(offsets: np.ndarray) -> np.ndarray:
    """Inverse of :func:`_offsets`: the owner of each child."""
    return np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))


def spread(starts: np.ndarray, counts: np.ndarray, step: int = 1) -> np.ndarray:
    """Positions ``start, start + step, ...`` (``count`` of them) for each group, flat: the
    byte position of every coordinate of every ring, from the rings' first ones."""
    first = np.cumsum(counts) - counts
    return (
        np.repeat(starts, counts) + (np.arange(int(counts.sum())) - np.repeat(first, counts)) * step
    )


@dataclass(frozen=True, eq=False)
class CompactGeometry:
    """Features of one geometry family as flat arrays (GeoArrow's layout, three levels).

    ``family`` is "point", "line" or "polygon". Feature ``f`` has parts
    ``feature_offsets[f]:feature_offsets[f + 1]``; part ``p`` has rings (lines: one "ring",
    the line itself; points: one, the point) ``part_offsets[p]:...``; ring ``r`` has
    coordinates ``coords[ring_offsets[r]:ring_offsets[r + 1]]``. ``multi`` says which
    features were Multi* geometries, ``missing`` which had none (null).
    """

    family: str
    coords: np.ndarray
    ring_offsets: np.ndarray
    part_offsets: np.ndarray
    feature_offsets: np.ndarray
    multi: np.ndarray
    missing: np.ndarray

    def __len__(self) -> int:
        return len(self.feature_offsets) - 1

    @property
    def has_z(self) -> bool:
        return self.coords.shape[1] == 3

    @property
    def xy(self) -> np.ndarray:
        """The coordinates in two dimensions (a view, no copy)."""
        return self.coords[:, :2]

    def coordinate_offsets(self) -> np.ndarray:
        """Feature ``f``'s coordinates are ``coords[off[f]:off[f + 1]]``."""
        return self.ring_offsets[self.part_offsets[self.feature_offsets]]

    @functools.cached_property
    def bounds(self) -> np.ndarray:
        """``(n, 4)`` minx, miny, maxx, maxy per feature; NaN for missing and empty ones.
        Computed once per geometry: the map's cache and a click's search share it."""
        n = len(self)
        out = np.full((n, 4), np.nan)
        off = self.coordinate_offsets()
        has = off[1:] > off[:-1]
        if not has.any():
            return out
        starts = off[:-1][has]
        x, y = self.coords[:, 0], self.coords[:, 1]
        # segments run from one start to the next; empty features have no coordinates between
        out[has, 0] = np.minimum.reduceat(x, starts)
        out[has, 1] = np.minimum.reduceat(y, starts)
        out[has, 2] = np.maximum.reduceat(x, starts)
        out[has, 3] = np.maximum.reduceat(y, starts)
        return out

    def meeting(self, box: tuple[float, float, float, float]) -> np.ndarray:
        """The features whose bounds meet ``box``, in order: a comparison of the bounds
        array (a few ms for 500k features) instead of an R-tree, which would need every
        feature as a shapely object."""
        x0, y0, x1, y1 = box
        b = self.bounds
        with np.errstate(invalid="ignore"):
            return np.flatnonzero(
                (b[:, 0] <= x1) & (b[:, 2] >= x0) & (b[:, 1] <= y1) & (b[:, 3] >= y0)
            )

    def total_bounds(self) -> tuple[float, float, float, float]:
        if len(self.coords) == 0:
            return (np.nan, np.nan, np.nan, np.nan)
        x, y = self.coords[:, 0], self.coords[:, 1]
        return (float(x.min()), float(y.min()), float(x.max()), float(y.max()))

    @classmethod
    def from_shapely(cls, geoms: np.ndarray) -> CompactGeometry | None:
        """The arrays of ``geoms``, or None when they cannot be held exactly (see module)."""
        geoms = np.asarray(geoms, dtype=object)
        missing = shapely.is_missing(geoms)
        types = shapely.get_type_id(geoms[~missing])
        families = {_FAMILY_OF.get(int(t), "other") for t in np.unique(types)}
        if len(families) > 1 or "other" in families:
            return None
        family = families.pop() if families else "polygon"
        present = geoms[~missing]
        dims = set(np.unique(shapely.get_coordinate_dimension(present)).tolist())
        if len(dims) > 1:
            return None  # 2D and 3D mixed (a 2D empty among 3D features included)
        include_z = dims == {3}
        multi = np.zeros(len(geoms), dtype=bool)
        multi[~missing] = types == _TYPES[family][1]
        parts, part_owner = shapely.get_parts(geoms, return_index=True)
        if family == "polygon":
            rings, ring_owner = shapely.get_rings(parts, return_index=True)
            part_offsets = _offsets(ring_owner, len(parts))
        else:
            rings = parts
            part_offsets = np.arange(len(parts) + 1, dtype=np.int64)
        coords, coord_owner = shapely.get_coordinates(rings, include_z=include_z, return_index=True)
        return cls(
            family=family,
            coords=np.ascontiguousarray(coords, dtype=np.float64),
            ring_offsets=_offsets(coord_owner, len(rings)),
            part_offsets=part_offsets,
            feature_offsets=_offsets(part_owner, len(geoms)),
            multi=multi,
            missing=missing,
        )

    @classmethod
    def for_drawing(cls, geoms: np.ndarray, family: str) -> CompactGeometry:
        """What a map draws of ``geoms`` as ``family``: the parts of that family, flattened
        out of collections; other parts are left out (as drawing a polygon layer always left
        out a stray line). Used for geometry that :meth:`from_shapely` cannot hold exactly."""
        geoms = np.asarray(geoms, dtype=object)
        exact = cls.from_shapely(geoms)
        if exact is not None and (exact.family == family or len(exact.coords) == 0):
            return exact
        parts, owner = shapely.get_parts(geoms, return_index=True)
        while np.isin(shapely.get_type_id(parts), (4, 5, 6, 7)).any():  # nested collections
            parts, inner = shapely.get_parts(parts, return_index=True)
            owner = owner[inner]
        keep = shapely.get_type_id(parts) == _TYPES[family][0]
        rebuilt = np.full(len(geoms), None, dtype=object)
        if keep.any():
            _COLLECT[family](shapely.force_2d(parts[keep]), indices=owner[keep], out=rebuilt)
        compact = cls.from_shapely(rebuilt)
        if compact is None:  # pragma: no cover - one family in 2D always fits
            raise ValueError("drawing geometry did not fit")
        return compact

    def take(self, which: np.ndarray | Sequence[int]) -> CompactGeometry:
        """The features ``which``, in that order."""
        which = np.asarray(which, dtype=np.int64)
        parts, feature_offsets = children(self.feature_offsets, which)
        rings, part_offsets = children(self.part_offsets, parts)
        coords, ring_offsets = children(self.ring_offsets, rings)
        return CompactGeometry(
            family=self.family,
            coords=self.coords[coords],
            ring_offsets=ring_offsets,
            part_offsets=part_offsets,
            feature_offsets=feature_offsets,
            multi=self.multi[which],
            missing=self.missing[which],
        )

    def slice(self, start: int, stop: int) -> CompactGeometry:
        return self.take(np.arange(start, min(stop, len(self))))

    def chunks(self, size: int) -> Iterator[np.ndarray]:
        """Shapely geometries ``size`` features at a time: a whole-layer check (validity)
        without the whole layer as objects at once."""
        for start in range(0, len(self), size):
            yield self.slice(start, start + size).to_shapely()

    @classmethod
    def concat(cls, pieces: list[CompactGeometry]) -> CompactGeometry:
        """Pieces of one family and dimension end to end (the batches of a read). The
        pieces are taken out of the list as they are copied, so a read never holds the
        layer twice (measured: 88 MiB more at 500k parcels when it did)."""
        if not pieces:
            raise ValueError("nothing to concatenate")
        kinds = {(p.family, p.coords.shape[1]) for p in pieces if len(p.coords)}
        if len(kinds) > 1:
            raise ValueError("pieces of different families or dimensions")
        family, dims = kinds.pop() if kinds else (pieces[0].family, pieces[0].coords.shape[1])
        sizes = {
            "coords": sum(len(p.coords) for p in pieces),
            "ring_offsets": sum(len(p.ring_offsets) - 1 for p in pieces) + 1,
            "part_offsets": sum(len(p.part_offsets) - 1 for p in pieces) + 1,
            "feature_offsets": sum(len(p.feature_offsets) - 1 for p in pieces) + 1,
        }
        coords = np.empty((sizes["coords"], dims))
        offsets = {
            name: np.zeros(sizes[name], dtype=np.int64)
            for name in ("ring_offsets", "part_offsets", "feature_offsets")
        }
        multi = np.empty(sizes["feature_offsets"] - 1, dtype=bool)
        missing = np.empty(sizes["feature_offsets"] - 1, dtype=bool)
        at = dict.fromkeys(("coords", "ring_offsets", "part_offsets", "feature_offsets"), 0)
        while pieces:
            piece = pieces.pop(0)
            k = len(piece.coords)
            coords[at["coords"] : at["coords"] + k] = piece.coords.reshape(-1, dims)
            n = len(piece)
            multi[at["feature_offsets"] : at["feature_offsets"] + n] = piece.multi
            missing[at["feature_offsets"] : at["feature_offsets"] + n] = piece.missing
            # each level's offsets shift by the children of the pieces before
            child = {
                "ring_offsets": "coords",
                "part_offsets": "ring_offsets",
                "feature_offsets": "part_offsets",
            }
            for name, below in child.items():
                own = getattr(piece, name)
                start = at[name]
                offsets[name][start + 1 : start + len(own)] = own[1:] + at[below]
            counts = {name: len(getattr(piece, name)) - 1 for name in child}
            del piece
            release_freed_memory()  # its arrays went back to the heap, not to the system
            at["coords"] += k
            for name, count in counts.items():
                at[name] += count
        return cls(
            family=family,
            coords=coords,
            ring_offsets=offsets["ring_offsets"],
            part_offsets=offsets["part_offsets"],
            feature_offsets=offsets["feature_offsets"],
            multi=multi,
            missing=missing,
        )

    def with_coords(self, coords: np.ndarray) -> CompactGeometry:
        """The same shapes with new coordinates (a reprojection)."""
        return CompactGeometry(
            family=self.family,
            coords=np.ascontiguousarray(coords, dtype=np.float64),
            ring_offsets=self.ring_offsets,
            part_offsets=self.part_offsets,
            feature_offsets=self.feature_offsets,
            multi=self.multi,
            missing=self.missing,
        )

    def to_shapely(self) -> np.ndarray:
        """The features as shapely geometries, exactly as they were read: their WKB written
        from the arrays with numpy, then parsed in slices (``gpkg.from_wkb_in_slices``, so a
        worker thread building a big layer lets the window's thread run). Building the same
        objects with shapely's constructors took 2.8 s for 500k polygons (every ring and
        polygon cloned once more), this 1.8 s."""
        from .gpkg import from_wkb_in_slices
        from .wkb_arrays import wkb_of

        return from_wkb_in_slices(wkb_of(self))


def batch_geometry(
    held: CompactGeometry | None, parse: Callable[[], np.ndarray]
) -> CompactGeometry | np.ndarray:
    """One batch of a read: the numpy WKB reader's arrays (``held``), else what ``parse``
    makes with shapely, held as arrays when they fit (its objects then handed back to the
    system at once), else those shapely objects."""
    if held is not None:
        return held
    geoms = parse()
    arrays = CompactGeometry.from_shapely(geoms)
    if arrays is None:
        return geoms
    del geoms
    release_freed_memory()
    return arrays


def joined(pieces: list[CompactGeometry | np.ndarray]) -> CompactGeometry | np.ndarray:
    """The batches of one read end to end: arrays when every batch is arrays of one family
    and dimension (the list is emptied as they are copied), else shapely geometries."""
    held = [p for p in pieces if isinstance(p, CompactGeometry)]
    kinds = {(p.family, p.has_z) for p in held if len(p.coords)}
    if len(held) < len(pieces) or len(kinds) > 1:
        shapes = [p.to_shapely() if isinstance(p, CompactGeometry) else p for p in pieces]
        return np.concatenate(shapes)
    if not held:
        nothing = CompactGeometry.from_shapely(np.array([], dtype=object))
        assert nothing is not None
        return nothing
    pieces.clear()  # concat takes them out of ``held`` one by one
    geometry = CompactGeometry.concat(held)
    release_freed_memory()  # the pieces, freed into the heap as they were copied
    return geometry


class LaterColumns(Protocol):
    """Where the attribute columns a read left for later come from (a file's table)."""

    @property
    def names(self) -> list[str]:
        """Every attribute column of the source, in its order."""
        ...

    def read(self, names: list[str], index: pd.Index) -> pd.DataFrame:
        """The columns ``names`` for the features ``index`` (the source's feature ids, in
        the order first read), or an error naming the file if they no longer match."""
        ...


@dataclass(eq=False)
class CompactFeatures:
    """A vector layer as read, before anything asked for shapely: the attribute table (its
    index the source's feature ids), the geometry as arrays, and the CRS.

    The attribute table may be read column by column when first asked for (``later``), as
    QGIS reads only the attributes it draws with: a first map of the demo's parcels needs
    one of their 21 columns, and reading all of them through sqlite3 was a third of the
    time to that map (issue 22). ``table`` holds the columns read so far, always with the
    full index."""

    table: pd.DataFrame
    geometry: CompactGeometry
    crs: Any = None
    later: LaterColumns | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __len__(self) -> int:
        return len(self.table)

    @property
    def fields(self) -> list[str]:
        """The attribute columns, in the source's order, read or not."""
        return list(self.later.names) if self.later is not None else list(self.table.columns)

    def columns(self, names: Sequence[str]) -> pd.DataFrame:
        """The attribute columns ``names`` (unknown names left out), reading from the source
        those not read yet."""
        with self._lock:
            known = set(self.fields)
            wanted = [n for n in names if n in known]
            missing = [n for n in wanted if n not in self.table.columns]
            if missing and self.later is not None:
                import pandas as pd

                read = self.later.read(missing, self.table.index)
                table = pd.concat([self.table, read], axis=1)
                order = [n for n in self.later.names if n in table.columns]
                self.table = table[order]
                if len(order) == len(self.later.names):
                    self.later = None  # all read: nothing left to fetch
            return self.table[wanted]

    @property
    def attributes(self) -> pd.DataFrame:
        """The whole attribute table (the columns not read yet are read now)."""
        return self.columns(self.fields) if self.later is not None else self.table

    def to_frame(self) -> gpd.GeoDataFrame:
        """The GeoDataFrame the file's reader would have made (geometry last, as pyogrio's)."""
        import geopandas as gpd

        attributes = self.attributes
        series = gpd.GeoSeries(self.geometry.to_shapely(), index=attributes.index, crs=self.crs)
        return gpd.GeoDataFrame(attributes, geometry=series, crs=self.crs)
