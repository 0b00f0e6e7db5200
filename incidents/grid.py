"""Unit grids (单元网格) for grid-based city management, coded the CJ/T 213 way.

A city is cut into square cells (100 m by default) in a projected CRS, clipped to its boundary;
clipped fragments too small to patrol on their own are merged into the neighbour they share
the longest edge with. Every cell gets a 14-digit code:

    county (6) + street (3) + community (3) + sequence (2)

The street and community parts come from the city's own boundary layers (in Cambridge: the 13
planning neighborhoods as "streets", the 2020 census tracts as "communities"), each cell going
to the community it overlaps most. Sequences run west to east, then north to south, inside each
community, as CJ/T 213-2005 prescribes for unit grids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from citydesk.layers.crs import linear_unit_to_metres, suggest_projected_crs, to_lonlat_bounds
from citydesk.layers.errors import CityDeskError
from citydesk.layers.feedback import Feedback, NullFeedback, check_canceled
from citydesk.layers.i18n import _


class GridError(CityDeskError):
    """The grid cannot be built as asked (codes would overflow, inputs do not overlap...)."""


@dataclass
class GridSpec:
    """What to build. Codes are strings of digits; ``county_code`` has 6 of them."""

    county_code: str
    cell_size_m: float = 100.0
    min_share: float = 0.1  # fragments below this share of a full cell are merged
    crs: Any = None  # projected CRS for the cells; chosen automatically when None
    street_code_field: str | None = None  # 3-digit street codes from this field
    street_name_field: str | None = None
    community_id_field: str | None = None
    community_codes: dict[str, str] = field(default_factory=dict)  # id -> 3-digit code

    def validate(self) -> None:
        if not (self.county_code.isdigit() and len(self.county_code) == 6):
            raise GridError(
                _("the county code {county_code!r} is not 6 digits").format(
                    county_code=self.county_code
                ),
                _("Give the 6-digit administrative division code, e.g. 110101."),
            )
        if not 10 <= self.cell_size_m <= 2000:
            raise GridError(
                _("a cell size of {cell_size_m} m is not sensible").format(
                    cell_size_m=self.cell_size_m
                ),
                _("Unit grids are usually 50-200 m; give --cell-size in metres."),
                gui_fix=_(
                    "Unit grids are usually 50-200 m; set the cell size in metres in "
                    "Processing > Unit grid."
                ),
            )


def _metric_crs(boundary: gpd.GeoDataFrame, spec: GridSpec):
    if spec.crs is not None:
        from citydesk.layers.crs import parse_crs

        return parse_crs(spec.crs)
    lonlat = to_lonlat_bounds(tuple(boundary.total_bounds), boundary.crs)
    return suggest_projected_crs(lonlat, boundary.crs)


def square_cells(area: Any, size: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Squares of ``size`` aligned to multiples of ``size`` that intersect ``area``:
    (geometries, column index, row index counted from the north)."""
    minx, miny, maxx, maxy = area.bounds
    x0, y0 = np.floor(minx / size) * size, np.floor(miny / size) * size
    xs = np.arange(x0, maxx, size)
    ys = np.arange(y0, maxy, size)
    gx, gy = np.meshgrid(xs, ys)
    boxes = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + size, gy.ravel() + size)
    cols = np.tile(np.arange(len(xs)), len(ys))
    rows = (len(ys) - 1) - np.repeat(np.arange(len(ys)), len(xs))  # 0 = northernmost row
    shapely.prepare(area)
    keep = shapely.intersects(area, boxes)
    return boxes[keep], cols[keep], rows[keep]


def _merge_fragments(cells: gpd.GeoDataFrame, min_area: float) -> gpd.GeoDataFrame:
    """Merge each fragment smaller than ``min_area`` into the neighbour sharing the longest
    edge; smallest first, so fragments chain into real cells rather than into each other."""
    geoms = list(cells.geometry.values)
    alive = np.ones(len(geoms), bool)
    tree = shapely.STRtree(cells.geometry.values)
    order = np.argsort(shapely.area(cells.geometry.values))
    for i in order:
        if shapely.area(geoms[i]) >= min_area:
            break
        best, best_len = -1, 0.0
        for j in tree.query(geoms[i], predicate="intersects"):
            if j == i or not alive[j]:
                continue
            shared = shapely.length(
                shapely.intersection(shapely.boundary(geoms[i]), shapely.boundary(geoms[j]))
            )
            if shared > best_len:
                best, best_len = j, shared
        if best >= 0:
            geoms[best] = shapely.union(geoms[best], geoms[i])
            alive[i] = False
    out = cells.copy()
    out["geometry"] = geoms
    return out[alive].reset_index(drop=True)


def _assign_by_overlap(cells: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> np.ndarray:
    """For each cell, the position in ``zones`` of the zone it overlaps most (nearest if none)."""
    tree = shapely.STRtree(zones.geometry.values)
    left, right = tree.query(cells.geometry.values, predicate="intersects")
    result = np.full(len(cells), -1)
    if len(left):
        inter = shapely.area(
            shapely.intersection(cells.geometry.values[left], zones.geometry.values[right])
        )
        best = (
            pd.DataFrame({"cell": left, "zone": right, "a": inter})
            .sort_values(["cell", "a"], ascending=[True, False])
            .drop_duplicates("cell")
        )
        result[best["cell"].to_numpy()] = best["zone"].to_numpy()
    missing = np.flatnonzero(result < 0)
    if len(missing):
        result[missing] = tree.query_nearest(
            cells.geometry.values[missing], return_distance=False, all_matches=False
        )[1]
    return result


def build_unit_grid(
    boundary: gpd.GeoDataFrame,
    streets: gpd.GeoDataFrame,
    spec: GridSpec,
    communities: gpd.GeoDataFrame | None = None,
    feedback: Feedback | None = None,
) -> gpd.GeoDataFrame:
    """Build the coded unit grid. Returns cells in the metric CRS used to cut them.

    ``streets`` are the street-level (街道) units; ``communities`` (社区) are optional, and
    without them each street is one community ``001``.
    """
    feedback = feedback or NullFeedback()
    spec.validate()
    for name, frame in (("boundary", boundary), ("streets", streets), ("communities", communities)):
        if frame is not None and frame.crs is None:
            raise GridError(
                _("the {name} layer has no CRS").format(name=name), _("Assign its CRS first.")
            )
    crs = _metric_crs(boundary, spec)
    size = spec.cell_size_m / linear_unit_to_metres(crs)
    area = shapely.union_all(shapely.make_valid(boundary.to_crs(crs).geometry.values))
    feedback.push_info("cutting cells")
    boxes, cols, rows = square_cells(area, size)
    clipped = shapely.intersection(boxes, area)
    keep = ~shapely.is_empty(clipped) & (shapely.area(clipped) > 0)
    cells = gpd.GeoDataFrame(
        {"col": cols[keep], "row": rows[keep]}, geometry=clipped[keep], crs=crs
    )
    feedback.set_progress(30)
    check_canceled(feedback)
    cells = _merge_fragments(cells, spec.min_share * size * size)
    feedback.set_progress(60)

    streets_m = streets.to_crs(crs).reset_index(drop=True)
    street_codes = _street_codes(streets_m, spec)
    street_names = (
        streets_m[spec.street_name_field].astype(str).to_numpy()
        if spec.street_name_field
        else street_codes
    )
    if communities is None:
        zones = streets_m.assign(_street=np.arange(len(streets_m)))
    else:
        zones = communities.to_crs(crs).reset_index(drop=True)
        zones["_street"] = _assign_by_overlap(zones, streets_m)
    zone_of_cell = _assign_by_overlap(cells, zones)
    cells["_zone"] = zone_of_cell
    cells["street_code"] = street_codes[zones["_street"].to_numpy()[zone_of_cell]]
    cells["street_name"] = street_names[zones["_street"].to_numpy()[zone_of_cell]]
    if spec.community_id_field and communities is not None:
        cells["community_id"] = zones[spec.community_id_field].astype(str).to_numpy()[zone_of_cell]
    feedback.set_progress(80)
    cells = _number_cells(cells, zones, spec)
    cells["code"] = (
        spec.county_code
        + cells["street_code"]
        + cells["community_code"]
        + cells["seq"].map("{:02d}".format)
    )
    cells["area_m2"] = shapely.area(cells.geometry.values) * linear_unit_to_metres(crs) ** 2
    cells["supervisor_area"] = cells["street_name"] + " / " + cells["community_code"]
    feedback.set_progress(100)
    return cells[
        [
            "code",
            "street_code",
            "street_name",
            "community_code",
            *(["community_id"] if "community_id" in cells else []),
            "seq",
            "row",
            "col",
            "area_m2",
            "supervisor_area",
            "geometry",
        ]
    ]


def _street_codes(streets: gpd.GeoDataFrame, spec: GridSpec) -> np.ndarray:
    if spec.street_code_field:
        raw = streets[spec.street_code_field]
        codes = [f"{int(v):03d}" if str(v).replace(".0", "").isdigit() else str(v) for v in raw]
    else:  # number west to east, then north to south, by representative point
        pts = shapely.get_coordinates(streets.geometry.representative_point().values)
        order = np.lexsort((pts[:, 0], -pts[:, 1]))
        codes = [""] * len(streets)
        for n, i in enumerate(order, start=1):
            codes[i] = f"{n:03d}"
    bad = [c for c in codes if not (c.isdigit() and len(c) == 3)]
    if bad or len(set(codes)) != len(codes):
        raise GridError(
            _("street codes must be unique 3-digit numbers (got {value0})").format(
                value0=sorted(set(bad))[:5] or codes
            ),
            _("Map the street layer's field to codes 001-999 (a code table)."),
        )
    return np.asarray(codes)


MAX_SEQ = 99


def _number_cells(cells: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, spec: GridSpec):
    """Community codes and 2-digit sequences.

    Communities are numbered west to east, then north to south, inside their street, unless
    ``spec.community_codes`` fixes a code. Cells are numbered the same way inside their
    community. A community with more than 99 cells (a large park, a reservoir) takes the next
    community codes for its further parts, in the same reading order; a community whose code is
    fixed by the code table cannot be split, and that is an error with a fix.
    """
    pts = shapely.get_coordinates(zones.geometry.representative_point().values)
    cells = cells.sort_values(["row", "col"]).reset_index(drop=True)
    community = np.empty(len(cells), dtype=object)
    seq = np.zeros(len(cells), dtype=int)
    for street_code, in_street in cells.groupby("street_code").groups.items():
        zone_ids = np.unique(cells.loc[in_street, "_zone"])
        zone_ids = zone_ids[np.lexsort((pts[zone_ids, 0], -pts[zone_ids, 1]))]
        counter = 0
        for z in zone_ids:
            members = np.asarray(in_street[cells.loc[in_street, "_zone"].to_numpy() == z])
            key = str(zones.at[z, spec.community_id_field]) if spec.community_id_field else None
            fixed = spec.community_codes.get(key) if key else None
            parts = int(np.ceil(len(members) / MAX_SEQ))
            if fixed is not None and parts > 1:
                raise GridError(
                    _(
                        "community {street_code}-{fixed} ({key}) would have {cells} cells; the "
                        "2-digit sequence of CJ/T 213 codes allows {limit}"
                    ).format(
                        street_code=street_code,
                        fixed=fixed,
                        key=key,
                        cells=len(members),
                        limit=MAX_SEQ,
                    ),
                    _("Split the community in the code table, or use larger cells (--cell-size)."),
                    gui_fix=_(
                        "Split the community in the code table, or use larger cells "
                        "(the cell size of Processing > Unit grid)."
                    ),
                )
            for part in range(parts):
                chunk = members[part * MAX_SEQ : (part + 1) * MAX_SEQ]
                counter += 1
                community[chunk] = fixed or f"{counter:03d}"
                seq[chunk] = np.arange(1, len(chunk) + 1)
    if any(len(c) != 3 or not c.isdigit() for c in community):
        raise GridError(_("community codes must be 3 digits"), _("Fix the community code table."))
    cells["community_code"] = community.astype(str)
    cells["seq"] = seq
    return (
        cells.drop(columns="_zone")
        .sort_values(["street_code", "community_code", "seq"])
        .reset_index(drop=True)
    )
