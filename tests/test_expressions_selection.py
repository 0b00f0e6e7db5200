"""The filter language against plain pandas, its error messages, and selections."""

from __future__ import annotations

import pytest
import shapely
from conftest import PARCELS

from citydesk.layers.expressions import ExpressionError, filter_mask
from citydesk.layers.io import read_layer
from citydesk.layers.selection import Selection, ids_at_point, ids_in_geometry


@pytest.fixture(scope="module")
def parcels():
    return read_layer(PARCELS).data


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("expr", "reference"),
    [
        ("use_code = '101'", lambda p: p.use_code == "101"),
        ("\"use_code\" <> '101'", lambda p: p.use_code.notna() & (p.use_code != "101")),
        (
            "land_value_usd > 1e6 AND year_built < 1900",
            lambda p: (p.land_value_usd > 1e6) & (p.year_built < 1900),
        ),
        (
            "res_units_est >= 3 OR stories_max > 4",
            lambda p: (p.res_units_est >= 3) | (p.stories_max > 4),
        ),
        ("use_code IN ('101', '104', '105')", lambda p: p.use_code.isin(["101", "104", "105"])),
        ("address LIKE '%MASS%'", lambda p: p.address.str.contains("MASS", na=False)),
        (
            "address ILIKE '%mass ave%'",
            lambda p: p.address.str.lower().str.contains("mass ave", na=False),
        ),
        ("use_code IS NULL", lambda p: p.use_code.isna()),
        ("NOT (use_code IS NULL)", lambda p: p.use_code.notna()),
        (
            # a zero area divides to NULL, as in QGIS, so those parcels are not picked
            "land_value_usd / land_area_sqft > 200",
            lambda p: ((p.land_value_usd / p.land_area_sqft) > 200) & (p.land_area_sqft != 0),
        ),
        ("-year_built < -2000", lambda p: p.year_built > 2000),
    ],
)
def test_filters_match_pandas(parcels, expr, reference):
    got = filter_mask(parcels, expr)
    expected = reference(parcels).fillna(False).astype(bool)
    assert got.sum() == expected.sum() > 0 or got.sum() == expected.sum()
    assert (got == expected).all()


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("expr", "needle"),
    [
        ("use_code = ", "expected a field"),
        ("no_such_field > 3", "there is no field"),
        ("use_code = '101", "never closed"),
        ("(land_value_usd > 3", r"expected '\)'"),
        ("use_code = '101' land_value_usd", "unexpected text"),
        ("__import__('os')", "there is no field"),
        ("__import__('os').system('x')", "unexpected character"),
        ("1 = 1", "does not depend on any field"),
        ("address > 5", "cannot compare"),
    ],
)
def test_malformed_filters_get_clear_messages(parcels, expr, needle):
    with pytest.raises(ExpressionError, match=needle):
        filter_mask(parcels, expr)


@pytest.mark.shared_data
def test_blank_filter_selects_everything(parcels):
    assert filter_mask(parcels, "  ").all()


@pytest.mark.shared_data
def test_box_selection_matches_a_geopandas_query(parcels):
    box = shapely.box(-71.110, 42.370, -71.100, 42.376)
    ids = ids_in_geometry(parcels, box)
    expected = parcels[parcels.intersects(box)].index
    assert sorted(ids) == sorted(expected) and len(ids) > 50


@pytest.mark.shared_data
def test_click_identifies_a_known_parcel(parcels):
    row = parcels[parcels.ML == "127-123"].iloc[0]  # 23 Rockwell St
    pt = row.geometry.representative_point()
    ids = ids_at_point(parcels, pt.x, pt.y, 1e-6)
    assert parcels.loc[ids[0], "address"] == "23 ROCKWELL ST"


def test_selection_modes_and_listeners():
    sel = Selection()
    seen = []
    sel.subscribe(seen.append)
    sel.set("parcels", [1, 2, 3])
    sel.set("parcels", [3, 4], mode="add")
    assert sel.ids("parcels") == {1, 2, 3, 4}
    sel.set("parcels", [1], mode="remove")
    assert sel.count("parcels") == 3
    sel.set("parcels", [2, 3, 4])  # no change, no notification
    sel.clear()
    assert sel.count("parcels") == 0
    assert seen == ["parcels"] * 4
