"""Which CRS could a file without one be in? Guessed from where its coordinates would land.

A shapefile without its ``.prj`` (common in city exchanges, and in most Chinese data
deliveries), or a CSV of x/y in a local grid, carries numbers but no CRS. The numbers alone
say a lot: values inside +-180 / +-90 are almost always longitude/latitude, and a projected
CRS is right only if it puts the data where the city is. So each candidate is tried: the
project's own CRS first, then lon/lat, then every EPSG projected CRS whose area of use meets
the project's area (pyproj's database: 35-52 of them for Cambridge, Helsinki or Beijing,
0.1 s), and a candidate is kept when the data lands on or beside the project's layers.

QGIS in its default setting draws such a layer in the project's CRS without checking; the
guess here is checked against the place, and the caller says which CRS it took.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pyproj import CRS
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_crs_info
from pyproj.enums import PJType
from pyproj.exceptions import ProjError

from .crs import boxes_meet, transformer

Bounds = tuple[float, float, float, float]

#: how far beyond the project's area the data may lie and still fit: half the area's size,
#: and at least this many degrees (a new district beside a one-street project)
MIN_MARGIN_DEG = 0.05


def _grown(near: Bounds) -> Bounds:
    pad = max(0.5 * max(near[2] - near[0], near[3] - near[1]), MIN_MARGIN_DEG)
    return (near[0] - pad, near[1] - pad, near[2] + pad, near[3] + pad)


def in_degrees(bounds: Bounds) -> bool:
    """Every value within +-180 / +-90: almost always longitude/latitude."""
    return max(abs(bounds[0]), abs(bounds[2])) <= 180 and max(abs(bounds[1]), abs(bounds[3])) <= 90


def placed_lonlat(bounds: Bounds, crs: CRS) -> Bounds | None:
    """Where data with these bounds lands in lon/lat if it is in ``crs`` (None: nowhere).
    The CRS's own datum is used: a datum shift of metres does not matter for a guess."""
    if crs.is_geographic:
        return bounds if in_degrees(bounds) else None
    # the corners and the middle, not transform_bounds: its densified edges raise "outside
    # of projection domain" for plain state-plane boxes in pyproj 3.7
    xs = [bounds[0], bounds[2], bounds[0], bounds[2], (bounds[0] + bounds[2]) / 2]
    ys = [bounds[1], bounds[1], bounds[3], bounds[3], (bounds[1] + bounds[3]) / 2]
    try:
        to_lonlat = transformer(crs, crs.geodetic_crs)
        lons, lats = to_lonlat.transform(xs, ys, errcheck=True)
    except (ProjError, TypeError):
        return None
    placed = (min(lons), min(lats), max(lons), max(lats))
    if not all(math.isfinite(v) for v in placed) or not in_degrees(placed):
        return None
    return placed


def _fits(bounds: Bounds, crs: CRS, near: Bounds | None) -> bool:
    placed = placed_lonlat(bounds, crs)
    if placed is None:
        return False
    if near is not None:
        return boxes_meet(placed, _grown(near))
    area = crs.area_of_use
    return area is None or boxes_meet(placed, area.bounds)


def _nearby_projected(near: Bounds) -> list[CRS]:
    infos = query_crs_info(
        auth_name="EPSG",
        pj_types=PJType.PROJECTED_CRS,
        area_of_interest=AreaOfInterest(*near),
        contains=False,
        allow_deprecated=False,
    )
    out = []
    for info in sorted(infos, key=lambda i: int(i.code)):
        try:
            out.append(CRS.from_epsg(int(info.code)))
        except Exception:  # pyproj raises its own CRSError for a few grid-system entries
            continue
    return out


def guess_crs(
    bounds: Bounds,
    *,
    near: Bounds | None = None,
    preferred: Sequence[CRS | None] = (),
    limit: int = 4,
) -> list[CRS]:
    """The CRSs data with ``bounds`` (in its own unknown units) could be in, best first.

    ``near`` is where the data should be, in lon/lat (the project's other layers); without
    it a projected CRS fits when the data lands inside the CRS's area of use, so only the
    ``preferred`` ones (the project's CRS) and lon/lat are tried. Empty: nothing fits.
    """
    if not all(math.isfinite(v) for v in bounds):
        return []
    candidates: list[CRS] = [c for c in preferred if c is not None]
    if in_degrees(bounds):
        # numbers within +-180/+-90 as projected metres or feet would be a patch a few
        # hundred metres across at the CRS's false origin: lon/lat, in the project's
        # geographic CRS if it has one (CGCS2000), else WGS 84
        return [c for c in candidates if c.is_geographic][:1] or [CRS.from_epsg(4326)]
    if near is not None:
        # the preferred CRSs' datum first: of NAD83, NAD83(HARN) and NAD83(2011) state
        # planes that place the data alike, the one matching the project; then an ellipsoid
        # of the same size (a GeoJSON's "EUREF-FIN" is ETRS89 by another name; CGCS2000
        # zones ahead of Xian 1980's and Beijing 1954's, which place Chinese data alike too)
        own = [c.geodetic_crs for c in candidates if c.geodetic_crs is not None]

        def unlike(c: CRS) -> tuple[bool, bool]:
            theirs = c.geodetic_crs
            if theirs is None or not own:
                return (True, True)
            size = theirs.ellipsoid.semi_major_metre if theirs.ellipsoid else math.nan
            return (
                not any(theirs == o for o in own),
                not any(
                    o.ellipsoid is not None and abs(o.ellipsoid.semi_major_metre - size) < 1
                    for o in own
                ),
            )

        candidates.extend(sorted(_nearby_projected(near), key=unlike))
    found: list[CRS] = []
    for crs in candidates:
        if any(crs == seen for seen in found):
            continue
        if _fits(bounds, crs, near):
            found.append(crs)
            if len(found) >= limit:
                break
    return found
