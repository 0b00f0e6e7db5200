"""GCJ-02 and BD-09: the offset coordinates of Chinese web maps, detected and undone.

Coordinates copied from AMap (高德), Tencent or Google China are in GCJ-02, and from Baidu in
BD-09: WGS 84 pushed by a deliberate, smoothly varying offset of 100-700 m inside China
(none outside it). Files from those maps carry EPSG:4326 labels, so nothing in them says
they are off; a CityDesk user sees the points land in the wrong block.

**Method.** GCJ-02 is the published forward formula (the Krasovsky-ellipsoid polynomial
offset in every open implementation, e.g. the ``eviltransform`` and ``coordtransform``
projects); its inverse has no closed form, so :func:`gcj02_to_wgs84` iterates the forward
formula (fixed point: wgs = gcj - (f(wgs) - wgs)) until it moves less than 1e-9 degrees,
about 0.1 mm, in 3-5 steps. BD-09 is GCJ-02 rotated and scaled in polar coordinates plus a
constant shift: Baidu's published pair, whose closed-form inverse is good to about 0.2 m,
refined here by the same fixed-point iteration (:func:`bd09_to_gcj02`). Outside China's
rough bounding box the coordinates are returned unchanged, as the web maps do.

**Detection** (:func:`detect_offset`) needs a reference in true WGS 84 showing the same
kind of things (OSM points of interest for an AMap POI export, surveyed hydrants for
hydrants): each hypothesis (as labelled, GCJ-02, BD-09) is undone and the share of the
layer's points that land within 10 m of a reference feature compared. A median distance
would not do: in a dense street grid a point moved 500 m still lands 30 m from *some* street
(measured on the Chengdu fixture: 36 m as labelled, 38 m undone). An offset is reported
when undoing it puts at least half the points on the reference and at least twice as many
as before; with no reference, the file's name is the only hint, and that is said.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .i18n import _

Offset = Literal["gcj02", "bd09"]
A = 6378245.0  # Krasovsky 1940 semi-major axis, as the GCJ-02 formula uses
EE = 0.00669342162296594323  # its first eccentricity squared
X_PI = math.pi * 3000.0 / 180.0
NEAR_M = 10.0  # a point this close to a reference feature is on it


def in_china(lon, lat) -> np.ndarray:
    """The rough box inside which the web maps apply the offset."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (lon > 72.004) & (lon < 137.8347) & (lat > 0.8293) & (lat < 55.8271)


def _delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 105.0, lat - 35.0
    d_lat = (
        -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(y * math.pi) + 40.0 * np.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * math.pi) + 320 * np.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    )  # fmt: skip
    d_lon = (
        300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(x * math.pi) + 40.0 * np.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * math.pi) + 300.0 * np.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    )  # fmt: skip
    rad = lat / 180.0 * math.pi
    magic = 1 - EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((A * (1 - EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (A / sqrt_magic * np.cos(rad) * math.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    d_lon, d_lat = _delta(lon, lat)
    inside = in_china(lon, lat)
    return np.where(inside, lon + d_lon, lon), np.where(inside, lat + d_lat, lat)


def gcj02_to_wgs84(lon, lat, tolerance: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
    """The inverse of :func:`wgs84_to_gcj02` by fixed-point iteration (module docstring)."""
    gx, gy = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    wx, wy = gx.copy(), gy.copy()
    for _step in range(30):
        fx, fy = wgs84_to_gcj02(wx, wy)
        nx, ny = wx - (fx - gx), wy - (fy - gy)
        moved = float(np.max(np.abs(nx - wx), initial=0.0)) + float(
            np.max(np.abs(ny - wy), initial=0.0)
        )
        wx, wy = nx, ny
        if moved < tolerance:
            break
    return wx, wy


def bd09_to_gcj02(lon, lat, tolerance: float = 1e-10) -> tuple[np.ndarray, np.ndarray]:
    """Baidu's closed-form inverse (good to about 0.2 m), refined by fixed-point iteration
    of :func:`gcj02_to_bd09` until it is exact to ``tolerance`` degrees."""
    bx, by = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    x, y = bx - 0.0065, by - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * X_PI)
    gx, gy = z * np.cos(theta), z * np.sin(theta)
    for _step in range(20):
        fx, fy = gcj02_to_bd09(gx, gy)
        gx, gy = gx - (fx - bx), gy - (fy - by)
        if (
            max(np.max(np.abs(fx - bx), initial=0.0), np.max(np.abs(fy - by), initial=0.0))
            < tolerance
        ):
            break
    return gx, gy


def gcj02_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def to_wgs84(lon, lat, offset: Offset) -> tuple[np.ndarray, np.ndarray]:
    """Undo ``offset`` ("gcj02" or "bd09") on lon/lat arrays."""
    if offset == "bd09":
        lon, lat = bd09_to_gcj02(lon, lat)
    return gcj02_to_wgs84(lon, lat)


def undo_offset(frame, offset: Offset):
    """A copy of a layer whose lon/lat are in ``offset``, in true WGS 84 (EPSG:4326)."""
    import shapely

    if offset not in ("gcj02", "bd09"):
        from .errors import CityDeskError

        raise CityDeskError(
            _("unknown coordinate offset '{v}'").format(v=offset), _("Use gcj02 or bd09.")
        )
    geo = frame.to_crs(4326)

    def shift(xy: np.ndarray) -> np.ndarray:
        x, y = to_wgs84(xy[:, 0], xy[:, 1], offset)
        return np.column_stack([x, y])

    out = geo.copy()
    out["geometry"] = shapely.transform(np.asarray(geo.geometry.array), shift)
    return out.set_crs(4326, allow_override=True)


@dataclass(frozen=True)
class OffsetFinding:
    offset: Offset | None  # None: the layer is in WGS 84 as labelled (or cannot be told)
    median_m: dict[str, float]  # median distance to the reference per hypothesis
    note: str
    share_near: dict[str, float] | None = None  # share of points within 10 m, per hypothesis


NAME_HINTS: dict[Offset, tuple[str, ...]] = {
    "gcj02": ("gcj", "amap", "gaode", "高德", "腾讯", "火星"),
    "bd09": ("bd09", "baidu", "百度"),
}


def detect_offset(frame, reference=None, name: str = "") -> OffsetFinding:
    """Whether ``frame``'s EPSG:4326 coordinates are GCJ-02 or BD-09 (module docstring)."""
    from .measure import geodesic_distance_m

    geo = frame.to_crs(4326)
    points = geo.geometry.representative_point()
    lon, lat = points.x.to_numpy(), points.y.to_numpy()
    if not in_china(lon, lat).any():
        return OffsetFinding(None, {}, _("outside China: web maps do not offset it"))
    if reference is None or reference.empty:
        low = name.lower()
        hinted = next((o for o, words in NAME_HINTS.items() if any(w in low for w in words)), None)
        note = (
            _("no reference layer; the name suggests {offset}").format(offset=hinted)
            if hinted
            else _("no reference layer to compare with: give one in true WGS 84 (e.g. OSM)")
        )
        return OffsetFinding(hinted, {}, note)
    import shapely

    ref = np.asarray(reference.to_crs(4326).geometry.array)
    tree = shapely.STRtree(ref)
    medians, near = {}, {}
    for hypothesis in ("wgs84", "gcj02", "bd09"):
        x, y = (lon, lat) if hypothesis == "wgs84" else to_wgs84(lon, lat, hypothesis)  # type: ignore[arg-type]
        pts = shapely.points(x, y)
        nearest = tree.nearest(pts)
        near_pts = shapely.shortest_line(pts, ref[nearest])
        ends = shapely.get_coordinates(near_pts).reshape(-1, 2, 2)
        d = geodesic_distance_m(ends[:, 0, 0], ends[:, 0, 1], ends[:, 1, 0], ends[:, 1, 1])
        medians[hypothesis] = float(np.median(d))
        near[hypothesis] = float(np.mean(d <= NEAR_M))
    best = max(near, key=near.get)  # type: ignore[arg-type]
    if best != "wgs84" and near[best] >= 0.5 and near[best] >= 2 * near["wgs84"]:
        return OffsetFinding(
            best,  # type: ignore[arg-type]
            medians,
            _(
                "{offset}: undoing it brings the points from {before:.0f} m to {after:.0f} m "
                "of the reference (median)"
            ).format(offset=best, before=medians["wgs84"], after=medians[best]),
            near,
        )
    return OffsetFinding(
        None,
        medians,
        _("no offset found: undoing one puts no more points on the reference"),
        near,
    )
