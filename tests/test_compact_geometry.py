"""Layers held as coordinate arrays (issue 22, the 500k render's memory): the arrays give back
exactly the geometry that was read, the reader and the layer keep them until something asks
for shapely, and drawing and validation work on them without building a GeoDataFrame."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citydesk.layers.compact_geometry import CompactFeatures, CompactGeometry
from citydesk.layers.io import read_layer, write_frame
from citydesk.layers.layer import VectorLayer
from citydesk.layers.readers import vector as vector_reader
from citydesk.layers.readers.vector import read_vector
from citydesk.layers.validation import validate_frame, validate_layer


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Identical geometries: same nulls, same type, same coordinates in the same order."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if (x is None) != (y is None):
            return False
        if x is not None and shapely.to_wkb(x, flavor="iso") != shapely.to_wkb(y, flavor="iso"):
            return False
    return True


coord = st.integers(-1000, 1000).map(lambda v: v / 8)


@st.composite
def rings(draw, z: bool):
    x0, y0 = draw(coord), draw(coord)
    w, h = draw(st.integers(1, 50)), draw(st.integers(1, 50))
    pts = [(x0, y0), (x0 + w, y0), (x0 + w, y0 + h), (x0, y0 + h)]
    pts = pts[: draw(st.integers(3, 4))]
    if z:
        pts = [(x, y, draw(coord)) for x, y in pts]
    return [*pts, pts[0]]


@st.composite
def geometries(draw, family: str, z: bool):
    kind = draw(st.sampled_from(["none", "empty", "single", "multi", "multi_empty"]))
    if kind == "none":
        return None

    def single():
        if family == "point":
            return shapely.Point(draw(rings(z))[0])
        if family == "line":
            return shapely.LineString(draw(rings(z))[: draw(st.integers(2, 4))])
        holes = [draw(rings(z)) for _ in range(draw(st.integers(0, 2)))]
        return shapely.Polygon(draw(rings(z)), holes)

    empty_single = {"point": "POINT", "line": "LINESTRING", "polygon": "POLYGON"}[family]
    multi = {"point": shapely.MultiPoint, "line": shapely.MultiLineString}
    if kind == "empty":
        return shapely.from_wkt(f"{empty_single}{' Z' if z else ''} EMPTY")
    if kind == "multi_empty":
        return multi.get(family, shapely.MultiPolygon)()
    if kind == "single":
        return single()
    parts = [single() for _ in range(draw(st.integers(1, 3)))]
    return multi.get(family, shapely.MultiPolygon)(parts)


@st.composite
def layers_of_geometry(draw):
    family = draw(st.sampled_from(["point", "line", "polygon"]))
    z = draw(st.booleans())
    geoms = draw(st.lists(geometries(family, z), min_size=0, max_size=12))
    return np.array(geoms, dtype=object)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layers_of_geometry(), st.data())
def test_arrays_give_back_exactly_what_was_read(geoms, data):
    compact = CompactGeometry.from_shapely(geoms)
    if _mixed_dimensions(geoms):  # (shapely calls MULTIPOLYGON Z EMPTY 2D): left as shapely
        assert compact is None
        return
    assert compact is not None
    assert _same(compact.to_shapely(), geoms)
    # any subset, in any order
    which = data.draw(st.lists(st.integers(0, max(0, len(geoms) - 1)), max_size=8))
    which = [w for w in which if w < len(geoms)]
    assert _same(compact.take(which).to_shapely(), geoms[which])
    # the batches of a read, put end to end
    cut = data.draw(st.integers(0, len(geoms)))
    pieces = [c for c in (compact.slice(0, cut), compact.slice(cut, len(geoms))) if len(c)]
    if pieces:
        assert _same(CompactGeometry.concat(pieces).to_shapely(), geoms)
    # bounds of each feature's coordinates (shapely's for valid polygons, whose holes lie
    # inside), NaN where there is nothing to bound
    expected = np.full((len(geoms), 4), np.nan)
    for i, g in enumerate(geoms):
        xy = shapely.get_coordinates(g) if g is not None else np.zeros((0, 2))
        if len(xy):
            expected[i] = [xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max()]
    np.testing.assert_array_equal(compact.bounds, expected)
    chunks = list(compact.chunks(5))
    assert _same(np.concatenate(chunks) if chunks else np.array([], dtype=object), geoms)


def _mixed_dimensions(geoms: np.ndarray) -> bool:
    present = [g for g in geoms if g is not None]
    return len({shapely.get_coordinate_dimension(g) for g in present}) > 1


def test_what_cannot_round_trip_is_not_held():
    box = shapely.box(0, 0, 1, 1)
    mixed_families = np.array([box, shapely.Point(0, 0)], dtype=object)
    collection = np.array([shapely.GeometryCollection([box])], dtype=object)
    mixed_z = np.array([box, shapely.Polygon([(0, 0, 1), (1, 0, 1), (1, 1, 1)])], dtype=object)
    ring = np.array([shapely.LinearRing([(0, 0), (1, 0), (1, 1)])], dtype=object)
    for geoms in (mixed_families, collection, mixed_z, ring):
        assert CompactGeometry.from_shapely(geoms) is None
    # drawing still gets the layer's family out of them
    drawn = CompactGeometry.for_drawing(np.concatenate([mixed_families, collection]), "polygon")
    assert drawn.family == "polygon"
    assert list(~drawn.missing) == [True, False, True]


def _parcels(n: int = 7) -> gpd.GeoDataFrame:
    geoms = [
        shapely.box(i, 0, i + 0.8, 1)
        if i % 3
        else shapely.MultiPolygon([shapely.box(i, 0, i + 1, 2)])
        for i in range(n)
    ]
    geoms[2] = None
    geoms[4] = shapely.Polygon()
    return gpd.GeoDataFrame(
        {"name": [f"p{i}" for i in range(n)], "value": np.arange(n) * 1.5},
        geometry=geoms,
        crs="EPSG:2249",
    )


def test_a_read_layer_is_the_file_and_stays_arrays_until_asked(tmp_path, monkeypatch):
    path = tmp_path / "parcels.gpkg"
    write_frame(_parcels(), path)
    monkeypatch.setattr(vector_reader, "COMPACT_BATCH_SIZE", 3)  # several batches
    layer = read_layer(path)
    assert isinstance(layer, VectorLayer) and layer.compact
    expected, _facts = read_vector(path)
    # what the layer tree, the legend and the map ask leave it as arrays
    assert layer.feature_count == 7 and layer.fields == ["name", "value"]
    assert layer.geometry_type == "Polygon"
    assert layer.extent == tuple(float(v) for v in expected.total_bounds)
    assert layer.crs == expected.crs
    assert list(layer.attributes["value"]) == list(expected["value"])
    report = validate_layer(layer, path=str(path))
    assert report.to_dict() == validate_frame(expected, path=str(path)).to_dict()
    assert report.get("empty_geometry") is not None and report.get("missing_geometry") is not None
    in_lonlat = layer.drawing_geometry("EPSG:4326")
    np.testing.assert_allclose(
        in_lonlat.bounds, shapely.bounds(expected.to_crs(4326).geometry.values)
    )
    assert layer.compact
    # an analysis asks: the GeoDataFrame the reader would have made, fids kept
    assert_geodataframe_equal(layer.data, expected)
    assert list(layer.data.index) == list(expected.index)
    assert not layer.compact
    assert repr(layer).startswith("VectorLayer(")
    # a caller that wants the frame at once reads it so
    direct = read_layer(path, compact=False)
    assert not direct.compact
    assert_geodataframe_equal(direct.data, expected)


def test_a_file_mixing_families_is_read_as_before(tmp_path, monkeypatch):
    frame = gpd.GeoDataFrame(
        {"n": [1, 2, 3, 4]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3), shapely.Point(5, 5), None],
        crs="EPSG:3857",
    )
    path = tmp_path / "mixed.geojson"
    frame.to_file(path, engine="pyogrio")
    monkeypatch.setattr(vector_reader, "COMPACT_BATCH_SIZE", 2)  # the points come in batch 2
    layer = read_layer(path)
    assert not layer.compact
    assert_geodataframe_equal(layer.data, read_vector(path)[0])


def test_invalid_geometry_is_reported_the_same_from_arrays():
    bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2), (0, 0)])
    frame = _parcels()
    frame.loc[5, "geometry"] = bowtie
    held = CompactGeometry.from_shapely(frame.geometry.values)
    assert held is not None
    layer = VectorLayer(
        name="held", data=CompactFeatures(frame.drop(columns="geometry"), held, frame.crs)
    )
    report = validate_layer(layer)
    assert report.get("invalid_geometry").feature_ids == [5]
    assert report.to_dict() == validate_frame(frame).to_dict()
    assert layer.compact


def test_set_data_replaces_the_arrays():
    frame = _parcels()
    held = CompactGeometry.from_shapely(frame.geometry.values)
    assert held is not None
    layer = VectorLayer(
        name="x", data=CompactFeatures(frame.drop(columns="geometry"), held, frame.crs)
    )
    layer.set_data(frame.iloc[:2])
    assert not layer.compact and layer.feature_count == 2
    with pytest.raises(ValueError):
        VectorLayer(name="y", data=None)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layers_of_geometry())
def test_wkb_is_read_into_the_same_arrays_as_through_shapely(geoms):
    """The numpy WKB reader gives the arrays shapely's parts and rings give, byte for byte."""
    from unittest import mock

    import pyarrow as pa

    from citydesk.layers import wkb_arrays
    from citydesk.layers.wkb_arrays import compact_from_wkb

    wkb = [None if g is None else shapely.to_wkb(g, flavor="iso", byte_order=1) for g in geoms]
    column = pa.array(wkb, type=pa.binary())
    held = compact_from_wkb(column.slice(0))
    with mock.patch.object(wkb_arrays, "_FEW", 0):  # every ring through the vectorised steps
        vectorised = compact_from_wkb(column)
    assert (held is None) == (vectorised is None)
    if held is not None and vectorised is not None:
        for name in ("coords", "ring_offsets", "part_offsets", "feature_offsets", "multi"):
            np.testing.assert_array_equal(getattr(held, name), getattr(vectorised, name))
    through_shapely = CompactGeometry.from_shapely(geoms)
    if held is None or through_shapely is None:  # both leave mixed 2D / 3D to shapely
        assert _mixed_dimensions(geoms)
        return
    assert _same(held.to_shapely(), geoms)
    if len(through_shapely.coords):
        assert held.family == through_shapely.family
    for name in ("ring_offsets", "part_offsets", "feature_offsets", "multi", "missing"):
        np.testing.assert_array_equal(getattr(held, name), getattr(through_shapely, name))
    np.testing.assert_array_equal(held.coords, through_shapely.coords)


def test_wkb_the_numpy_reader_does_not_know_goes_to_shapely():
    import pyarrow as pa

    from citydesk.layers.wkb_arrays import compact_from_wkb

    box = shapely.box(0, 0, 1, 1)
    big_endian = shapely.to_wkb(box, byte_order=0)
    collection = shapely.to_wkb(shapely.GeometryCollection([box]), flavor="iso")
    truncated = shapely.to_wkb(box, flavor="iso")[:-9]
    measured = shapely.to_wkb(box, flavor="iso")  # an M type id written into it
    measured = measured[:1] + (2003).to_bytes(4, "little") + measured[5:]
    for blob in (big_endian, collection, truncated, measured):
        assert compact_from_wkb(pa.array([blob], type=pa.binary())) is None
    # and a slice of a longer column reads only its own rows
    column = pa.array([shapely.to_wkb(shapely.Point(i, i), flavor="iso") for i in range(5)])
    held = compact_from_wkb(column.slice(2, 2))
    assert held is not None and held.coords.tolist() == [[2.0, 2.0], [3.0, 3.0]]


def test_a_project_opens_as_arrays_and_saves_without_building_frames(tmp_path):
    """The layers of a project file are read into arrays too (through sqlite3, as every
    CityDesk file is), a save writes them without keeping a GeoDataFrame, and what it wrote
    reads back the same."""
    from citydesk.layers import gpkg
    from citydesk.layers.demo import SHIPPED_DEMO
    from citydesk.layers.project_store import load_project, save_project

    project = load_project(SHIPPED_DEMO)
    vectors = {k: v for k, v in project.layers.items() if isinstance(v, VectorLayer)}
    assert vectors and all(layer.compact for layer in vectors.values())
    target = tmp_path / "again.gpkg"
    save_project(project, target)
    assert all(layer.compact for layer in vectors.values())
    with gpkg.open_file(SHIPPED_DEMO) as before, gpkg.open_file(target) as after:
        for layer_id in vectors:
            assert_geodataframe_equal(
                gpkg.read_features(after, layer_id), gpkg.read_features(before, layer_id)
            )
    again = load_project(target)
    for layer_id, layer in vectors.items():
        assert_geodataframe_equal(again.layers[layer_id].data, layer.data)


def test_geopackage_blobs_are_read_past_their_headers():
    """CityDesk's own files store GeoPackage blobs (header, envelope, WKB): the arrays are
    read in place, for each envelope size, and what the numpy reader does not take (an
    extended type, a damaged header) goes to the shapely path, which names the problem."""
    from citydesk.layers import gpkg
    from citydesk.layers.wkb_arrays import compact_from_gpkg_blobs

    geoms = np.array(
        [shapely.box(0, 0, 1, 1), None, shapely.Polygon(), shapely.box(2, 2, 3, 4)], dtype=object
    )
    blobs = gpkg.encode(geoms, 4326)
    held = compact_from_gpkg_blobs(blobs)
    assert held is not None and _same(held.to_shapely(), geoms)
    # every envelope size the header can declare
    wkb = shapely.to_wkb(shapely.box(0, 0, 1, 1), flavor="iso", byte_order=1)
    for code, size in enumerate((0, 32, 48, 48, 64)):
        blob = b"GP\x00" + bytes([code << 1]) + (4326).to_bytes(4, "little") + b"\x00" * size + wkb
        held = compact_from_gpkg_blobs([blob])
        assert held is not None and _same(held.to_shapely(), np.array([shapely.box(0, 0, 1, 1)]))
    extended = b"GP\x00" + bytes([0b0010_0000]) + (4326).to_bytes(4, "little") + wkb
    assert compact_from_gpkg_blobs([extended]) is None
    assert compact_from_gpkg_blobs([b"XX" + wkb]) is None
    with pytest.raises(ValueError, match="extended"):
        gpkg.decode([extended])


def test_a_click_searches_only_the_features_near_it():
    """Identify and area selection on a layer held as arrays build a frame of the features
    whose bounds meet the box (in the map's CRS), not the whole layer."""
    from citydesk.layers.demo import SHIPPED_DEMO
    from citydesk.layers.project_store import load_project
    from citydesk.layers.selection import ids_at_point

    layer = load_project(SHIPPED_DEMO).layers["parcels"]
    assert layer.compact
    x, y = (np.array(layer.extent[:2]) + np.array(layer.extent[2:])) / 2
    for crs, reach in ((layer.crs, 0.0005), ("EPSG:2249", 150.0)):
        px, py = _to_crs((x, y), layer.crs, crs)
        near = layer.features_in((px - reach, py - reach, px + reach, py + reach), crs)
        assert layer.compact and 0 < len(near) < 200
        found = ids_at_point(near, px, py, reach / 3)
        assert found and list(found) == list(ids_at_point(layer.in_crs(crs), px, py, reach / 3))
        layer = load_project(SHIPPED_DEMO).layers["parcels"]  # arrays again


def _to_crs(xy, source, target):
    from pyproj import Transformer

    return Transformer.from_crs(source, target, always_xy=True).transform(*xy)


def _typed_project(tmp_path, journal: str = "WAL"):
    """A project file with one layer of every column type the GeoPackage reader converts."""
    import pandas as pd

    from citydesk.layers import gpkg
    from citydesk.layers.project import Project
    from citydesk.layers.project_store import save_project

    frame = _parcels()
    frame["count"] = pd.array([1, None, 3, 4, 5, 6, 7], dtype="Int64")
    frame["flag"] = [True, False, True, True, False, False, True]
    frame["when"] = pd.to_datetime(["2024-05-01T08:00:00Z"] * 7, utc=True).as_unit("ms")
    project = Project(crs="EPSG:2249")
    project.add_layer(VectorLayer(name="parcels", id="parcels", data=frame))
    path = save_project(project, tmp_path / "typed.gpkg")
    with gpkg.open_file(path) as con:
        con.execute(f"PRAGMA journal_mode={journal}")
    return path


def test_attributes_are_read_from_the_file_when_first_asked(tmp_path):
    """A layer read into arrays from a CityDesk GeoPackage reads no attribute column until
    asked, then only the ones asked (a style's field), and the whole table it finally reads
    is the one the eager reader gives: same columns, order, dtypes and fids."""
    from pandas.testing import assert_frame_equal

    path = _typed_project(tmp_path)
    eager = read_layer(path, "parcels", compact=False).data
    layer = read_layer(path, "parcels")
    held = layer.held_features
    assert held is not None and list(held.table.columns) == []
    assert layer.fields == ["name", "value", "count", "flag", "when"]
    assert layer.feature_count == 7
    values = layer.columns(["value", "nothing"])
    assert list(values.columns) == ["value"] and list(held.table.columns) == ["value"]
    assert_frame_equal(values, eager[["value"]])
    assert_frame_equal(layer.attributes, eager.drop(columns="geometry"))
    assert held.later is None  # everything read: nothing is fetched again
    assert_geodataframe_equal(layer.data, eager)


def test_a_first_map_reads_only_the_styled_column(tmp_path):
    from citydesk.layers.style import graduated

    pytest.importorskip("PyQt5")
    from citydesk.workbench.gui.renderer import prepare_vector

    path = _typed_project(tmp_path)
    layer = read_layer(path, "parcels")
    layer.style = graduated(read_layer(path, "parcels").attributes["value"], "value")
    _cache, colors, labels = prepare_vector(layer, layer.crs)
    assert list(layer.held_features.table.columns) == ["value"]
    assert len(colors) == 7 and labels is None


@pytest.mark.parametrize("change", ["row removed", "file moved"])
def test_attributes_of_a_file_changed_since_are_refused(tmp_path, change):
    """The geometry read first and attributes read later must describe the same features:
    a table that lost a row, or a file that is gone, gives a message, never a wrong join."""
    from citydesk.layers import gpkg
    from citydesk.layers.errors import LayerReadError

    path = _typed_project(tmp_path)
    layer = read_layer(path, "parcels")
    if change == "row removed":
        with gpkg.open_file(path) as con:
            con.execute("DELETE FROM parcels WHERE fid = (SELECT max(fid) FROM parcels)")
    else:
        path.rename(tmp_path / "elsewhere.gpkg")
    with pytest.raises(LayerReadError) as caught:
        layer.attributes  # noqa: B018
    assert "open" in caught.value.fix.lower() or "path" in caught.value.fix.lower()
    assert layer.compact  # nothing half-read: the layer is as it was


@pytest.mark.parametrize("journal", ["WAL", "DELETE"])
def test_saving_in_place_reads_pending_attributes_first(tmp_path, journal):
    """A save over the file a layer reads its attributes from: they are read before the
    save's write lock (a second connection inside it could wait on the save itself), in
    either journal mode, and the saved file holds them unchanged. The layer is the file's
    parcels added again as a layer of its own (the project's own parcels, unchanged, are not
    written at all)."""
    from citydesk.layers.project_store import load_project, save_project

    path = _typed_project(tmp_path, journal)
    project = load_project(path)
    before = read_layer(path, "parcels", compact=False).data
    again = read_layer(path, "parcels", name="parcels again")
    assert again.held_features.later is not None
    project.add_layer(again)
    save_project(project, path)
    assert again.held_features is not None and again.held_features.later is None
    assert_geodataframe_equal(read_layer(path, again.id, compact=False).data, before)
    assert_geodataframe_equal(load_project(path).layers["parcels"].data, before)


def test_a_style_reads_only_its_field_and_names_a_missing_one(tmp_path):
    """Styling a layer held as arrays reads the one field it classifies; a field the layer
    does not have is a message naming it, not a KeyError."""
    from citydesk.layers.errors import CityDeskError
    from citydesk.layers.style_builder import StyleRequest, build_style

    layer = read_layer(_typed_project(tmp_path), "parcels")
    style = build_style(layer, StyleRequest(kind="categorized", field="name"))
    assert style.field == "name" and len(style.categories) == 7
    assert list(layer.held_features.table.columns) == ["name"]
    with pytest.raises(CityDeskError, match="no field 'nmae'"):
        build_style(layer, StyleRequest(kind="categorized", field="nmae"))
