"""Styles: classification via mapclassify, JSON round trip, QML that QGIS can read."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import mapclassify
import numpy as np
import pytest
from conftest import PARCELS

from citydesk.layers.io import read_layer
from citydesk.layers.land_use import classify, classify_codes, load_system
from citydesk.layers.qml import style_to_qml
from citydesk.layers.style import Style, categorized, class_breaks, color_for_values, graduated


@pytest.fixture(scope="module")
def values():
    return read_layer(PARCELS).data["land_value_usd"]


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("method", "cls"),
    [
        ("quantile", "Quantiles"),
        ("equal_interval", "EqualInterval"),
        ("natural_breaks", "NaturalBreaks"),
        ("jenks", "FisherJenks"),
    ],
)
def test_breaks_match_mapclassify(values, method, cls):
    data = values.dropna().to_numpy()
    if method == "jenks":  # mapclassify's exact Jenks is quadratic without numba: compare on 2k
        data = data[:2000]
    ours = class_breaks(data, method, 5)
    if method == "natural_breaks":  # k-means based, seeded differently each run
        assert len(ours) == 5 and ours[-1] == data.max()
        return
    theirs = getattr(mapclassify, cls)(data, k=5).bins
    np.testing.assert_allclose(ours, theirs)


@pytest.mark.shared_data
def test_jenks_runs_exactly_on_all_parcels(values):
    data = values.dropna().to_numpy()
    breaks = class_breaks(data, "jenks", 5)
    assert len(breaks) == 5 and breaks[-1] == data.max()
    assert breaks == sorted(breaks)


@pytest.mark.shared_data
def test_pretty_breaks_are_round(values):
    breaks = class_breaks(values.dropna().to_numpy(), "pretty", 5)
    assert all(b % 1_000_000 == 0 for b in breaks[:-1])


@pytest.mark.shared_data
def test_graduated_colours_features_by_class(values):
    style = graduated(values, "land_value_usd", "quantile", 4, "viridis")
    colors = color_for_values(style, values, len(values))
    assert len(set(colors)) == 5  # four classes + grey for missing values
    assert json.loads(json.dumps(style.to_dict()))
    assert Style.from_dict(style.to_dict()) == style


@pytest.mark.shared_data
def test_categorized_style_round_trip():
    layer = read_layer(PARCELS)
    style = categorized(classify_codes(layer.data["use_code"], load_system("ma_dor")), "land_use")
    assert {c.value for c in style.categories} >= {"residential", "commercial", "unknown"}
    assert Style.from_dict(json.loads(json.dumps(style.to_dict()))) == style


@pytest.mark.shared_data
@pytest.mark.parametrize("geom", ["MultiPolygon", "LineString", "Point"])
def test_qml_is_well_formed_for_each_geometry(values, geom):
    style = graduated(values, "land_value_usd", "jenks", 5)
    style.label_field = "address"
    root = ET.fromstring(style_to_qml(style, geom, 0.7).split("\n", 1)[1])
    renderer = root.find("renderer-v2")
    assert renderer.get("type") == "graduatedSymbol"
    assert len(renderer.find("ranges")) == 5
    kind = {"MultiPolygon": "fill", "LineString": "line", "Point": "marker"}[geom]
    assert {s.get("type") for s in renderer.find("symbols")} == {kind}
    assert root.find("layerOpacity").text == "0.7"
    assert root.find("labeling/settings/text-style").get("fieldName") == "address"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("101", "residential"),
        ("1091", "residential"),
        ("0353", "mixed"),
        ("325", "commercial"),
        ("400", "industrial"),
        ("9600", "institutional"),
        ("130", "vacant"),
        ("337", "parking"),
        (None, "unknown"),
        (float("nan"), "unknown"),
        ("0112", "mixed"),
    ],
)
def test_land_use_classes(code, expected):
    assert classify(code, load_system("ma_dor")) == expected
