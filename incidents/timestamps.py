"""How the case store writes moments: GeoPackage DATETIME text, always UTC, fixed width.

``2024-03-04T14:00:00.000Z`` is what the GeoPackage standard prescribes for DATETIME
columns, so GDAL and QGIS read the columns as real date-times (and GDAL hands a million of
them to Arrow already parsed). Always UTC with a fixed width means text order is time
order: range filters and ``ORDER BY`` are plain, portable string comparisons in SQLite and
PostgreSQL alike, with no daylight-saving offsets to trip over. Local time is for display.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # %f is trimmed to milliseconds


def to_text(value: dt.datetime | None) -> str | None:
    """UTC text of an aware datetime (naive ones are refused: their zone is unknown)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("a stored moment must be timezone-aware")
    return value.astimezone(dt.UTC).strftime(FORMAT)[:-4] + "Z"


def to_text_many(ns: np.ndarray) -> list[str | None]:
    """UTC text of many UTC nanosecond values at once; None where the value is NaT."""
    values = np.asarray(ns, dtype=np.int64).view("datetime64[ns]").astype("datetime64[ms]")
    text = np.datetime_as_string(values, unit="ms")
    missing = np.isnat(values)
    return [None if m else t + "Z" for t, m in zip(text.tolist(), missing.tolist(), strict=True)]


def from_text(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def utc_ns(values) -> np.ndarray:
    """UTC nanoseconds (int64; NaT for missing) of aware datetimes, a datetime series, or
    int64 nanoseconds already. Naive values would be read as UTC: localize them first."""
    if isinstance(values, np.ndarray) and values.dtype == np.int64:
        return values
    return pd.DatetimeIndex(pd.to_datetime(values, utc=True)).as_unit("ns").asi8
