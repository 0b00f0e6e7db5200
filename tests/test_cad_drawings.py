"""CAD drawings (DXF), as planning departments exchange plans: offered as one layer per CAD
layer and kind of geometry, closed polylines as areas, Chinese layer names and text from
the drawing's GBK codepage, placed by the CRS guess (a DXF has no CRS).

The fixture is a small drawing as AutoCAD R2000 saves it (ANSI_936), written once by ezdxf
(not a CityDesk dependency): three parcels as closed polylines on 地块, their numbers as text
on 注记, roads on 道路, a hatched green space on 绿地, in Massachusetts state plane feet."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from citydesk.layers.errors import LayerReadError
from citydesk.layers.project_store import load_project
from citydesk.layers.readers.vector import data_layer_names, read_vector
from citydesk.workbench.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
DRAWING = Path(__file__).parent / "data" / "cad" / "规划图.dxf"
DEMO = ROOT / "layers" / "demo_data" / "cambridge_demo.gpkg"


def test_a_drawing_is_offered_as_its_cad_layers_by_kind():
    assert data_layer_names(DRAWING) == [
        "地块 (polygons)",
        "注记 (points)",
        "绿地 (polygons)",
        "道路 (lines)",
    ]
    parcels, facts = read_vector(DRAWING, "地块 (polygons)")
    assert facts["driver"] == "DXF" and parcels.crs is None
    assert list(parcels.geom_type.unique()) == ["Polygon"]  # closed polylines are areas
    assert parcels.area.round().tolist() == [50_000.0] * 3  # 250 x 200 ft each
    labels, _facts = read_vector(DRAWING, "注记 (points)")
    assert sorted(labels["Text"]) == ["A-01", "A-02", "A-03"]  # the parcel numbers
    assert "SubClasses" not in labels.columns  # GDAL's bookkeeping left out
    roads, _facts = read_vector(DRAWING, "道路 (lines)")
    assert len(roads) == 3 and set(roads.geom_type) == {"LineString"}
    green, _facts = read_vector(DRAWING, "绿地 (polygons)")  # a hatch
    assert len(green) == 1 and green.area.iloc[0] == pytest.approx(40_000.0)


def test_a_layer_not_in_the_drawing_names_those_that_are():
    with pytest.raises(LayerReadError, match="Layers in it: 地块 \\(polygons\\)"):
        read_vector(DRAWING, "地块")


def test_a_damaged_drawing_is_refused_in_one_line(tmp_path, capsys):
    cut = tmp_path / "plan.dxf"
    cut.write_bytes(DRAWING.read_bytes()[:3000])
    assert main(["layers", "info", str(cut)]) == 2
    err = capsys.readouterr().err
    assert "cannot read the drawing (error at line" in err and ".cpp" not in err


def test_a_drawing_added_to_a_project_is_placed_by_the_crs_guess(tmp_path, capsys):
    project = tmp_path / "cambridge.gpkg"
    shutil.copy(DEMO, project)
    drawing = Path(shutil.copy(DRAWING, tmp_path / "plan.dxf"))
    assert main(["project", "add", str(project), str(drawing)]) == 2  # which layer?
    assert "地块 (polygons), 注记 (points)" in capsys.readouterr().err
    assert main(["project", "add", str(project), str(drawing), "--layer", "地块 (polygons)"]) == 0
    assert "fit EPSG:2249" in capsys.readouterr().err  # the project's own CRS
    layer = load_project(project).layers["di_kuai_polygons"]  # the CAD layer's name in pinyin
    assert layer.crs.to_epsg() == 2249 and len(layer.data) == 3


def test_a_project_made_from_a_drawing_needs_its_crs(tmp_path, capsys):
    out = tmp_path / "plan.gpkg"
    assert main(["project", "new", str(out), "--from", str(DRAWING)]) == 2
    assert "--crs" in capsys.readouterr().err and not out.exists()
    assert main(["project", "new", str(out), "--from", str(DRAWING), "--crs", "EPSG:2249"]) == 0
    project = load_project(out)
    assert sorted(project.layers) == [
        "dao_lu_lines",
        "di_kuai_polygons",
        "lv_di_polygons",
        "zhu_ji_points",
    ]
    assert all(layer.crs.to_epsg() == 2249 for layer in project.layers.values())


def test_gbk_text_under_a_western_codepage_is_read_as_chinese(tmp_path):
    """Some writers save GBK text under $DWGCODEPAGE ANSI_1252 (ezdxf did, for this very
    fixture, before its header was corrected), which GDAL reads as 'µØ¿é'."""
    lying = tmp_path / "plan.dxf"
    lying.write_bytes(DRAWING.read_bytes().replace(b"ANSI_936", b"ANSI_1252"))
    assert data_layer_names(lying) == data_layer_names(DRAWING)


def test_a_western_drawing_keeps_its_accents(tmp_path):
    """Finnish and French names have accented letters among plain ones: their bytes would
    decode as GBK too, into nonsense, so they are left as the drawing says."""
    text = DRAWING.read_bytes().replace(b"ANSI_936", b"ANSI_1252")
    for chinese, western in (
        ("地块", "Jäätie"),
        ("道路", "Façade"),
        ("注记", "Öljy"),
        ("绿地", "Vihreä"),
    ):
        text = text.replace(chinese.encode("gbk"), western.encode("cp1252"))
    drawing = tmp_path / "suunnitelma.dxf"
    drawing.write_bytes(text)
    names = data_layer_names(drawing)
    assert "Jäätie (polygons)" in names and "Façade (lines)" in names
