"""Messages with counts read right at one: "1 case in 1 cell", not "1 cases in 1 cells".

Each count in a message is its own plural form (``ngettext``), so a message with two counts
says each one right, in English and in the catalogue's Chinese.
"""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from citydesk.incidents.backup import StoreSummary, counted
from citydesk.layers.i18n import set_language
from citydesk.layers.readers.osm import OsmExtract
from citydesk.layers.validation import validate_frame


@pytest.fixture()
def zh():
    set_language("zh_CN")
    yield
    set_language("en")


def test_a_backup_of_one_case_says_case_and_events_each_in_its_number():
    assert counted(StoreSummary(1, 3, "x")) == {"cases": "1 case", "events": "3 events"}
    assert counted(StoreSummary(2, 1, "x")) == {"cases": "2 cases", "events": "1 event"}


def test_a_backup_count_in_chinese(zh):
    assert counted(StoreSummary(1, 3, "x")) == {"cases": "1 件案件", "events": "3 条事件"}


def test_one_broken_osm_feature_is_one_feature():
    extract = OsmExtract("x.osm.pbf", {}, {"buildings": ["42"], "roads": ["1", "2"]})
    assert extract.report() == [
        "buildings: 1 feature with broken geometry left out (OSM id 42)",
        "roads: 2 features with broken geometry left out (OSM ids 1, 2)",
    ]


def test_one_repeated_id_says_it_repeats():
    frame = gpd.GeoDataFrame(
        {"pid": ["a", "a", "b"]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(2, 0, 3, 1)],
        crs=3857,
    )
    issue = validate_frame(frame, id_field="pid").get("duplicate_ids")
    assert issue is not None
    assert issue.message == "2 features share an id in 'pid' (1 distinct id repeats)"
