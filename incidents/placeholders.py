"""Placeholder locations: one point where a source system put every case it could not place
(a city hall, a district office, the centroid of the city).

Issue 23 found the top "hotspot" of a real 311 city at its city hall fallback point, holding
1,573 cases. Such a point is not a place where problems happen, so hotspots, forecasts and
early warnings leave its cases out and report them apart.

What tells one from a genuinely busy corner: a busy intersection in the Cambridge crash
history holds 50 of 9,110 crashes at one geocoded point, the 99th percentile of stacked
points 21; a fallback point holds an order of magnitude more than the city's other stacks,
or a large share of all located cases. The thresholds below are those two tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: a placeholder holds at least this many cases ...
MIN_CASES = 50
#: ... and either this share of all located cases ...
MIN_SHARE = 0.02
#: ... or this many times the 99th percentile of the points that hold two cases or more
OVER_TYPICAL = 10.0
#: the biggest stacks left out of "typical": a city has a few fallback points at most
LARGEST_LEFT_OUT = 3


@dataclass(frozen=True)
class Placeholder:
    lon: float
    lat: float
    cases: int
    share: float  # of all located cases


def find_placeholders(stacks: pd.DataFrame, located: int) -> list[Placeholder]:
    """The placeholder points among ``stacks`` (lon, lat, cases: the positions that hold two
    or more cases, as ``CaseStore.stacked_points`` gives them) of ``located`` cases."""
    if stacks.empty or located <= 0:
        return []
    # the typical stack, without the few biggest (the fallback points themselves)
    rest = np.sort(stacks["cases"].to_numpy(dtype=float))[::-1][LARGEST_LEFT_OUT:]
    typical = float(np.percentile(rest, 99)) if len(rest) >= 20 else 0.0
    out = []
    for row in stacks.itertuples(index=False):
        share = row.cases / located
        if row.cases >= MIN_CASES and (
            share >= MIN_SHARE or (typical > 0 and row.cases >= OVER_TYPICAL * typical)
        ):
            out.append(Placeholder(float(row.lon), float(row.lat), int(row.cases), share))
    return out


def placeholder_facts(facts: pd.DataFrame) -> tuple[list[Placeholder], np.ndarray]:
    """The placeholder points among the case facts' positions (``lon``, ``lat``) and which
    facts lie on them (a boolean mask): a value count of the positions read with the facts,
    not a second scan of the store."""
    located = facts[["lon", "lat"]].dropna()
    if located.empty:
        return [], np.zeros(len(facts), dtype=bool)
    counts = located.value_counts()
    stacks = counts[counts >= 2].rename("cases").reset_index()
    points = find_placeholders(stacks, len(located))
    if not points:
        return [], np.zeros(len(facts), dtype=bool)
    at = pd.MultiIndex.from_arrays([facts["lon"], facts["lat"]])
    chosen = pd.MultiIndex.from_tuples([(p.lon, p.lat) for p in points])
    return points, at.isin(chosen)
