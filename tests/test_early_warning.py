"""Early warnings that mean something (issue 23): no warnings against a zero baseline on a
short history, false discoveries controlled over many cells, a real cluster caught with its
reason, placeholder points found and left out, hotspots that need evidence."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from test_forecast import DAY0, simulate, square_grid

from citydesk.incidents.early_warning import early_warnings, reason
from citydesk.incidents.forecast import CaseHistory, unit_neighbours
from citydesk.incidents.hotspots import getis_ord
from citydesk.incidents.placeholders import find_placeholders


def on_grid(history: CaseHistory, grid) -> CaseHistory:
    history.units = grid["code"].to_numpy(dtype=object)
    history.neighbours = unit_neighbours(grid, history.units, "cell")
    return history


def with_extra(history: CaseHistory, unit: int, days: list[int]) -> CaseHistory:
    """The history with one more case in ``unit`` on each of ``days``."""
    extra = np.asarray(days)
    return CaseHistory(
        history.day0,
        history.n_days,
        history.units,
        history.categories,
        np.concatenate([history.day, extra]),
        np.concatenate([history.unit, np.full(len(extra), unit)]),
        np.concatenate([history.category, np.zeros(len(extra), dtype=np.int64)]),
        history.holiday,
        history.neighbours,
    )


def test_one_year_of_ordinary_weeks_raises_almost_no_warning():
    """The 311 city with one year of data: the old seasonal baseline compared it with
    zeros and flagged every busy cell; ordinary weeks now give (almost) nothing."""
    grid = square_grid(20)
    rng = np.random.default_rng(11)
    history = on_grid(simulate(rng.gamma(1.5, 0.3, size=400), 364, seed=12), grid)
    flagged = 0
    for end in range(364 - 5 * 7, 365, 7):
        warnings = early_warnings(history, end - 7, end)
        flagged += int(warnings["warning"].sum())
        assert warnings["expected"].min() > 0  # never a zero baseline
    assert flagged <= 2  # 5 weeks × 400 cells tested: the FDR keeps chance at bay


def test_a_cluster_is_caught_with_its_reason_and_its_weeks():
    grid = square_grid(20)
    history = on_grid(simulate(np.full(400, 0.15), 2 * 364, seed=3), grid)
    end = history.n_days
    cell = 210
    days = [d for week in range(3) for d in range(end - 7 * (week + 1), end - 7 * week)]
    days = [d for d in days for _twice in range(2)]  # 14 extra cases a week, 3 weeks
    warnings = early_warnings(with_extra(history, cell, days), end - 7, end).set_index("unit")
    row = warnings.loc[grid["code"].iloc[cell]]
    assert row["warning"] and row["count"] >= 14 and row["expected"] < 3
    assert row["weeks_over"] == 3
    assert row["reason"].startswith(f"observed {int(row['count'])}, expected ")
    assert row["reason"].endswith("3 weeks in a row") and "(90% up to" in row["reason"]
    assert warnings["warning"].sum() == 1
    assert reason(11, 2.1, 5, 0.9, 4) == "observed 11, expected 2.1 (90% up to 5), 4 weeks in a row"
    assert reason(3, 0.04, 0, 0.9, 1) == "observed 3, expected 0.04 (90% up to 0)"


def test_a_short_history_warns_less_for_the_same_surprise():
    """Six weeks of data: the same burst is less certain than against two years."""
    grid = square_grid(10)
    long = on_grid(simulate(np.full(100, 0.3), 2 * 364, seed=8), grid)
    start = long.n_days - 6 * 7
    keep = long.day >= start
    short = CaseHistory(
        long.date(start),
        6 * 7,
        long.units,
        long.categories,
        long.day[keep] - start,
        long.unit[keep],
        long.category[keep],
        long.holiday[start:],
        long.neighbours,
    )
    burst = [short.n_days - 1 - k % 7 for k in range(6)]
    p_short = early_warnings(with_extra(short, 55, burst), short.n_days - 7, short.n_days)
    burst_long = [long.n_days - 1 - k % 7 for k in range(6)]
    p_long = early_warnings(with_extra(long, 55, burst_long), long.n_days - 7, long.n_days)
    code = grid["code"].iloc[55]
    q_short = p_short.set_index("unit").loc[code, "p_value"]
    q_long = p_long.set_index("unit").loc[code, "p_value"]
    assert q_short > q_long


def test_placeholder_points_are_told_from_busy_corners():
    rng = np.random.default_rng(2)
    stacks = pd.DataFrame(
        {
            "lon": rng.uniform(-74, -73, 300),
            "lat": rng.uniform(40, 41, 300),
            "cases": np.minimum(rng.geometric(0.25, 300) + 1, 40),
        }
    )
    city_hall = pd.DataFrame({"lon": [-73.5], "lat": [40.7], "cases": [1573]})
    found = find_placeholders(pd.concat([city_hall, stacks]), 60_000)
    assert [(p.lon, p.lat, p.cases) for p in found] == [(-73.5, 40.7, 1573)]
    # a crash history geocoded to intersections: the busiest holds 50 of 9,110 (Cambridge's
    # real figures are checked in test_hotspots.py)
    corners = pd.DataFrame(
        {"lon": np.arange(1410.0), "lat": 0.0, "cases": np.r_[50, rng.geometric(0.2, 1409) + 1]}
    )
    assert find_placeholders(corners, 9110) == []


def test_a_hot_spot_needs_cases_and_survives_the_false_discovery_correction():
    grid = square_grid(20)
    counts = pd.Series(0, index=grid["code"])
    counts.iloc[210] = 3  # the dashboard once said "hot spot 99 %" of this
    result = getis_ord(grid, counts, permutations=99)
    assert (result["hotspot"] == "not significant").all()
    rng = np.random.default_rng(4)
    busy = pd.Series(rng.poisson(2, len(grid)), index=grid["code"])
    block = [r * 20 + c for r in range(8, 12) for c in range(8, 12)]
    busy.iloc[block] += 12
    result = getis_ord(grid, busy, permutations=199).set_index("code")
    inside = result.loc[grid["code"].iloc[[9 * 20 + 9, 10 * 20 + 10]]]
    assert inside["hotspot"].str.startswith("hot").all()
    assert (result["q"] >= result["p_norm"] - 1e-12).all()  # adjusted, never smaller
    far = result.loc[grid["code"].iloc[[0, 399]]]
    assert not far["hotspot"].str.startswith("hot").any()


def test_whole_days_of_a_period_in_the_city():
    from citydesk.incidents.early_warning import whole_days

    history = simulate(np.full(2, 1.0), 60)
    tz = "America/New_York"
    start = pd.Timestamp("2021-02-01 10:00", tz=tz)
    end = pd.Timestamp("2021-02-08 10:00", tz=tz)
    first, last = whole_days(history, start, end, tz)
    assert history.date(first) == dt.date(2021, 2, 2) and history.date(last) == dt.date(2021, 2, 8)
    first, last = whole_days(history, end - pd.Timedelta(hours=3), end, tz)
    assert last - first == 7  # a period of hours: the week before it
    assert history.day0 == DAY0


def test_facts_carry_positions_and_the_last_registration_on_both_backends(store_target):
    """What placeholders and forecasts read from a store, the same on SQLite and PostGIS: the
    facts' positions, a fallback point found among them, and when the last case came."""
    from citydesk.incidents.new_cases import NewCase
    from citydesk.incidents.placeholders import placeholder_facts

    store = store_target.open()
    try:
        first = dt.datetime(2024, 5, 1, 9, tzinfo=dt.UTC)
        cases = [
            NewCase(
                "event",
                "0102",
                lon=-71.1 + 0.001 * (i % 40) if i >= 60 else -71.10561,
                lat=42.37,
                source="import",
                source_id=f"p{i}",
                reported_at=first + dt.timedelta(hours=i),
            )
            for i in range(300)
        ]
        store.import_batch(cases)
        facts = store.case_facts()
        assert {"lon", "lat"} <= set(facts.columns) and facts["lon"].notna().all()
        points, mask = placeholder_facts(facts)
        assert [(p.lon, p.cases) for p in points] == [(-71.10561, 60)] and mask.sum() == 60
        assert store.last_registered() == first + dt.timedelta(hours=299)
    finally:
        store.close()
