"""Which road classes are arterials (``[layers.streets] major_classes``), proposed by
``city init``. A US portal's streets came with a road-class field and no major classes, and
the noise indicator (homes near major roads) failed at run time while ``city check`` called
planning ready. Named classes are now proposed; coded ones are listed to pick from, and the
check names the gap."""

from __future__ import annotations

import pandas as pd

from citydesk.layers.city_check import check_city
from citydesk.layers.city_init import LayerSample, profile_toml, propose
from citydesk.layers.city_profile import parse_profile


def _streets(classes: list[object]) -> LayerSample:
    frame = pd.DataFrame({"street_name": [f"S{k}" for k in range(len(classes))], "fclass": classes})
    return LayerSample("roads", "roads", "line", frame)


def _proposed(classes: list[object]) -> tuple[str, object]:
    proposal = propose([_streets(classes)])
    text = profile_toml(proposal, name="X", timezone="America/Denver", crs="EPSG:32613")
    return text, parse_profile(text)


def test_osm_and_functional_class_names_are_proposed():
    _text, profile = _proposed(["primary", "residential", "secondary", "trunk", "service", None])
    assert profile.layers.streets.major_classes == ["primary", "secondary", "trunk"]
    _text, profile = _proposed(["Principal Arterial", "Minor Arterial", "Collector", "Local"])
    assert profile.layers.streets.major_classes == ["Minor Arterial", "Principal Arterial"]
    _text, profile = _proposed(["主干路", "次干路", "支路", "快速路"])
    assert profile.layers.streets.major_classes == ["主干路", "快速路"]


def test_coded_classes_are_listed_to_pick_from_and_the_check_names_the_gap():
    text, profile = _proposed([2.0, 1.0, 2.0, None, 0.0])
    assert profile.layers.streets.major_classes == []
    listed = '# major_classes = [...]  # which road classes are arterials? "2.0", "1.0", "0.0"'
    assert listed in text
    fields = {"roads": ["street_name", "fclass"]}
    planning = next(c for c in check_city(profile, fields) if c.feature == "Planning scenarios")
    assert "no [layers.streets] major_classes" in planning.missing
