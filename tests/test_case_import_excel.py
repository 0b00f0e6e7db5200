"""Case exports in Excel (.xlsx), as city systems often give them: read through the same
mapping as a CSV, date cells and typed text alike, a bad row named by its sheet row, a
damaged workbook refused in one line with nothing written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from citydesk.incidents.case_files import import_case_file
from citydesk.incidents.import_csv import CaseImportError
from citydesk.incidents.stores import open_project_store
from citydesk.layers.project import Project
from citydesk.layers.project_store import save_project

MAPPING = """
source = "city"
[columns]
source_id = "编号"
reported_at = "上报时间"
closed_at = "结案时间"
lat = "纬度"
lon = "经度"
category = "问题类型"
[dates]
formats = ["%Y/%m/%d %H:%M"]
timezone = "Asia/Shanghai"
[categories]
"暴露垃圾" = "event:0101"
"井盖缺失" = "component:0102"
"""


@pytest.fixture()
def project(tmp_path):
    path = tmp_path / "city.gpkg"
    save_project(Project("city", crs="EPSG:4544"), path)
    return path


def _workbook(tmp_path, reported):
    frame = pd.DataFrame(
        {
            "编号": ["A1", "A2", "A3"],
            "上报时间": reported,
            "结案时间": [dt.datetime(2024, 3, 5, 16, 0), None, None],
            "纬度": [30.65, 30.66, None],
            "经度": [104.08, 104.09, None],
            "问题类型": ["暴露垃圾", "井盖缺失", "暴露垃圾"],
        }
    )
    path = tmp_path / "案件.xlsx"
    frame.to_excel(path, index=False)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return path, mapping


def test_an_excel_export_imports_like_its_csv(project, tmp_path):
    reported = [dt.datetime(2024, 3, 5, 9, 30), "2024/03/06 10:00", dt.datetime(2024, 3, 7, 8, 0)]
    path, mapping = _workbook(tmp_path, reported)  # date cells and typed text in one column
    result = import_case_file(project, path, mapping)
    assert (result["added"], result["closed"], result["needs_location"]) == (3, 1, 1)
    with open_project_store(project) as store:
        cases = store.query().set_index("source_id")
    assert pd.Timestamp(cases.loc["A1", "reported_at"]) == pd.Timestamp("2024-03-05T01:30Z")
    assert pd.Timestamp(cases.loc["A2", "reported_at"]) == pd.Timestamp("2024-03-06T02:00Z")
    assert cases.loc["A2", "category_code"] == "0102" and cases.loc["A1", "lat"] == 30.65
    assert import_case_file(project, path, mapping)["added"] == 0  # an upsert, as a CSV's


def test_a_bad_row_is_named_by_its_sheet_row(project, tmp_path):
    path, mapping = _workbook(tmp_path, ["2024/03/05 09:30", "2024/03/06 10:00", "next week"])
    with pytest.raises(CaseImportError, match=r"file line 4\)"):  # Excel's row 4
        import_case_file(project, path, mapping)


def test_a_damaged_workbook_is_refused_and_nothing_is_written(project, tmp_path):
    path, mapping = _workbook(tmp_path, ["2024/03/05 09:30"] * 3)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(CaseImportError, match="cannot read the spreadsheet"):
        import_case_file(project, path, mapping)
    with open_project_store(project) as store:
        assert store.query().empty


SHEETS = Path(__file__).parent / "data" / "spreadsheets"


@pytest.mark.parametrize("name", ["案卷列表.xls", "palaute.ods"])
def test_old_excel_and_opendocument_exports_are_drafted_and_imported(tmp_path, name):
    """The old Excel format (.xls, many 数字城管 systems) and LibreOffice's .ods, both with
    real date cells (the fixtures were written by xlwt and odfpy, which CityDesk does not
    use): drafted and imported like an .xlsx, no 'save it as .xlsx first'."""
    import shutil

    from citydesk.incidents.mapping_draft import write_draft

    project = tmp_path / "cambridge.gpkg"
    shutil.copy(Path(__file__).parents[1] / "layers" / "demo_data" / "cambridge_demo.gpkg", project)
    export = Path(shutil.copy(SHEETS / name, tmp_path / name))
    out, draft, lines = write_draft(export, project=project)
    assert draft.formats == ["%Y-%m-%d %H:%M:%S"]  # date cells come as ISO text
    assert lines[-1].startswith("The import reads all"), lines
    result = import_case_file(project, export, str(out))
    assert result["added"] == draft.rows
    with open_project_store(project) as store:
        cases = store.query()
    closed = cases[cases["source"] == draft.source]["status"].eq("closed").sum()
    assert closed == 1


def test_a_damaged_old_workbook_is_refused_in_one_line(tmp_path, project):
    bad = tmp_path / "cases.xls"
    bad.write_bytes((SHEETS / "案卷列表.xls").read_bytes()[:700])
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    with pytest.raises(CaseImportError, match="cannot read the spreadsheet"):
        import_case_file(project, bad, str(mapping))


def test_a_title_row_above_the_header_is_skipped_and_rows_keep_their_excel_numbers(tmp_path):
    """数字城管 lists put a merged title across the first row and the column names under it;
    the header was taken from the title (every column 'Unnamed'). A bad row is still named
    by the row number Excel shows."""
    from openpyxl import Workbook

    from citydesk.incidents.import_csv import ColumnMapping, read_cases

    book = Workbook()
    sheet = book.active
    sheet.append(["锦江区数字城管案卷统计表（2024年12月）"])
    sheet.merge_cells("A1:D1")
    sheet.append(["编号", "上报时间", "结案时间", "问题类型"])
    sheet.append(["A1", "2024/03/05 09:30", "2024/03/05 16:00", "暴露垃圾"])
    sheet.append(["A2", "not a date", None, "井盖缺失"])
    path = tmp_path / "案卷.xlsx"
    book.save(path)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(MAPPING.replace('lat = "纬度"\nlon = "经度"\n', ""), encoding="utf-8")
    with pytest.raises(CaseImportError, match="file line 4"):  # Excel's row 4
        read_cases(path, ColumnMapping.load(mapping))
    sheet.delete_rows(4)
    book.save(path)
    assert read_cases(path, ColumnMapping.load(mapping)).rows == 1
