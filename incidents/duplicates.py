"""Possible duplicates of a new report, and merging a duplicate into its original.

Ten people phone about the same fallen tree. Before a case is registered, intake sees the
open cases of the same category within a radius and a time window (50 m and 72 h by default)
and can merge the new one into the original: the duplicate is cancelled with the reason
"duplicate of ..." and keeps a link to the original, so no report is lost and the crew is
sent once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _
from citydesk.layers.measure import geodesic_distance_m

from .lifecycle import Role


@dataclass(frozen=True)
class DuplicateRule:
    radius_m: float = 50.0
    window_hours: float = 72.0


_CLOSED = ("closed", "cancelled")


def possible_duplicates(
    store,
    kind: str,
    category_code: str,
    lon: float | None,
    lat: float | None,
    reported_at: dt.datetime,
    rule: DuplicateRule | None = None,
    exclude: str | None = None,
) -> pd.DataFrame:
    """Open cases of the same category near the point within the window either side of
    ``reported_at``, nearest first, with ``distance_m`` and ``hours_apart``."""
    rule = rule or DuplicateRule()
    if lon is None or lat is None or pd.isna(lon) or pd.isna(lat):
        return pd.DataFrame(columns=["case_id", "distance_m", "hours_apart"])
    window = dt.timedelta(hours=rule.window_hours)
    reported_at = store.calendar.localize(reported_at)
    near = store.query(
        category_code=category_code, since=reported_at - window, until=reported_at + window
    )
    near = near[(near["kind"] == kind) & ~near["status"].isin(_CLOSED) & near["lon"].notna()]
    if exclude is not None:
        near = near[near["case_id"] != exclude]
    near = near.assign(distance_m=geodesic_distance_m(near["lon"], near["lat"], lon, lat))
    when = pd.to_datetime(near["reported_at"], utc=True)
    near["hours_apart"] = ((when - pd.Timestamp(reported_at)).dt.total_seconds() / 3600).abs()
    return near[near["distance_m"] <= rule.radius_m].sort_values("distance_m")


def merge_duplicate(
    store, duplicate_id: str, original_id: str, actor: str, role: Role | str, version: int
):
    """Cancel ``duplicate_id`` as a duplicate of ``original_id`` (both must exist; the
    original must not itself be a merged duplicate, so chains never form)."""
    original = store.get(original_id)
    if original.duplicate_of:
        original_id = original.duplicate_of
    if original_id == duplicate_id:
        raise CityDeskError(
            _("case {id} cannot be a duplicate of itself").format(id=duplicate_id),
            _("Give the original case as the second case number."),
        )
    return store.transition(
        duplicate_id,
        "cancel",
        actor,
        role,
        version,
        _("duplicate of {id}").format(id=original_id),
        duplicate_of=original_id,
    )
