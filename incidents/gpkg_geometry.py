"""GeoPackage point geometry blobs, so the case table opens in QGIS as a point layer.

A GeoPackage geometry is a small header ("GP", version, flags, SRS id) followed by WKB
(OGC GeoPackage 1.2, clause 2.1.3). Cases are points, so only points are written here.
"""

from __future__ import annotations

import struct

import numpy as np
import shapely

_FLAGS_LE_NO_ENVELOPE = 0b0000_0001


def point_blobs(x, y, srs_id: int = 4326) -> list[bytes | None]:
    """GeoPackage point blobs (header + little-endian WKB) for many points at once; None
    where a coordinate is missing."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y)
    header = b"GP" + struct.pack("<BBi", 0, _FLAGS_LE_NO_ENVELOPE, srs_id)
    out: list[bytes | None] = [None] * len(x)
    wkbs = shapely.to_wkb(shapely.points(x[ok], y[ok]), byte_order=1)
    for i, wkb in zip(np.flatnonzero(ok), wkbs, strict=True):
        out[i] = header + wkb
    return out
