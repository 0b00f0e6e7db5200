"""Oracle (issue 19): the real NYC 311 export, imported with the shipped mapping that keeps
the agency and the due date, gives per agency the same closed count, median time to close
and 311 on-time rate as a plain pandas computation on the raw file, on both backends.

The sample's ``Due Date`` column is empty (NYC fills it for few complaint types), so the 311
rate is undefined for every agency on both sides. To check the measure itself, the same
file is imported again with a due date written in: 30 minutes after creation for every
row with a closed date (a deterministic edit, shown in the test), and both sides must agree on
rates that are neither 0 nor 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import NYC311

from citydesk.incidents.import_csv import ColumnMapping, import_csv
from citydesk.incidents.kpi import KpiSpec, kpis_from_store

pytestmark = pytest.mark.shared_data
FMT = "%m/%d/%Y %I:%M:%S %p"


def pandas_oracle(raw: pd.DataFrame, departments: dict[str, str]) -> pd.DataFrame:
    """Per agency (named as CityDesk names it): closed count, median hours to close, and
    the share of closed cases with a due date that closed by it."""
    created = pd.to_datetime(raw["Created Date"], format=FMT)
    closed = pd.to_datetime(raw["Closed Date"], format=FMT)
    due = pd.to_datetime(raw["Due Date"], format=FMT)
    agency = raw["Agency"].str.strip().map(lambda a: departments.get(a, a))
    frame = pd.DataFrame({"agency": agency, "created": created, "closed": closed, "due": due})
    done = frame[frame["closed"].notna()]
    hours = (done["closed"] - done["created"]).dt.total_seconds() / 3600
    targeted = done[done["due"].notna()]
    out = pd.DataFrame(
        {
            "closed": done.groupby("agency").size(),
            "median_hours_to_close": hours.groupby(done["agency"]).median(),
            "on_time_311": (targeted["closed"] <= targeted["due"])
            .groupby(targeted["agency"])
            .mean(),
        }
    ).reindex(sorted(frame["agency"].unique()))
    out["closed"] = out["closed"].fillna(0).astype(int)
    return out


def citydesk_kpis(store) -> pd.DataFrame:
    table = kpis_from_store(store, KpiSpec(by="department", measure="311"))
    table = table[table["department"] != "ALL"].set_index("department")
    return table[["closed", "median_hours_to_close", "on_time_close_rate"]].rename(
        columns={"on_time_close_rate": "on_time_311"}
    )


def _compare(ours: pd.DataFrame, oracle: pd.DataFrame) -> None:
    print("\nCityDesk:\n", ours.to_string(), "\npandas on the raw file:\n", oracle.to_string())
    assert list(ours.index) == list(oracle.index)
    assert (ours["closed"] == oracle["closed"]).all()
    for col in ("median_hours_to_close", "on_time_311"):
        a, b = ours[col].to_numpy(float), oracle[col].to_numpy(float)
        assert np.array_equal(np.isnan(a), np.isnan(b)), col
        assert np.allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=0, atol=1e-9), col


@pytest.fixture()
def store(store_target):
    with store_target.open() as s:
        yield s


def test_311_rates_per_agency_match_the_raw_file(store, tmp_path):
    mapping = ColumnMapping.load("nyc311")
    raw = pd.read_csv(NYC311, dtype=str, keep_default_na=False, na_values=[""])
    assert import_csv(store, NYC311, mapping)["added"] == len(raw)
    _compare(citydesk_kpis(store), pandas_oracle(raw, mapping.departments))
    assert raw["Due Date"].isna().all()  # hence every 311 rate above is undefined

    # the measure itself: the same rows with a due date 30 minutes after creation if closed
    created = pd.to_datetime(raw["Created Date"], format=FMT)
    due = (created + pd.Timedelta(minutes=30)).dt.strftime(FMT)
    edited = raw.assign(**{"Due Date": np.where(raw["Closed Date"].notna(), due, None)})
    edited["Unique Key"] = "due-" + edited["Unique Key"]  # another source's ids: new cases
    path = tmp_path / "with_due.csv"
    edited.to_csv(path, index=False)
    assert import_csv(store, path, mapping)["added"] == len(raw)
    both = pd.concat([raw, edited], ignore_index=True)
    ours = citydesk_kpis(store)
    oracle = pandas_oracle(both, mapping.departments)
    _compare(ours, oracle)
    rates = ours["on_time_311"].dropna()
    assert len(rates) and ((rates > 0) & (rates < 1)).any()
