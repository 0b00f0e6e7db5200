"""Acceptance (issue 18): a Chinese-style city brought in with ``city init``.

The data are the fixture of :mod:`chinese_city` (real Cambridge layers renamed into Chinese,
land use recoded to the 2023 用地用海分类, moved to Chengdu in CGCS2000 / GK CM 105E). It is
made from the embedded demo, so this runs on a fresh clone too. What a Chinese city's GIS
officer does: propose the profile from a folder of files, edit the working hours (lunch
break) and road speeds, store it, check it, build the grid, and run a scenario, with due
times on China's 2026 calendar (Spring Festival holidays and the make-up Saturdays).
"""

from __future__ import annotations

import json

import pytest
from chinese_city import SPEC
from moved_city import cli, init_city, run_scenario

from citydesk.layers.city_profile import project_profile, read_profile
from citydesk.layers.project_store import read_project_meta

# one worker runs the whole module, so its module fixture (the city) is built once: split
# across both workers it was built two or three times per run
pytestmark = pytest.mark.xdist_group("city_chinese")


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    return init_city(
        tmp_path_factory.mktemp("city"), SPEC, "成都市锦江区（示例）",
        "--timezone", "Asia/Shanghai", "--currency", "CNY", "--admin-code", "510104",
        "--holidays", "CN",
    )  # fmt: skip


def test_init_proposes_roles_and_fields_from_chinese_names(city):
    project, proposal = city
    ids = {r["id"]: r["name"] for r in read_project_meta(project)["layers"]}
    # Chinese layer names keep their names and get readable pinyin ids
    assert ids["di_kuai"] == "地块" and ids["dao_lu_zhong_xin_xian"] == "道路中心线"
    text = proposal.read_text(encoding="utf-8")
    for line in (
        'crs = "EPSG:4544"',  # the data's own CGCS2000 Gauss-Krüger zone
        'land_use_system = "cn_2023"',  # 0701, 0901, 120803 ... are 用地用海分类 codes
        'layer = "di_kuai"',
        'housing_units = "住宅套数"',
        'floor_area = "建筑面积"',
        'land_use = "用地代码"',
        'direction = "单行"',
        'road_class = "道路等级"',
        'layer = "jie_dao"',  # 街道 is the sub-district, not a street
        'fire = ["消防站"]',
        'where = "\\"类型\\" IN (\'消防站\')"',
    ):
        assert line in text, line


def test_edited_profile_runs_grid_due_times_and_a_scenario(city, tmp_path, capsys):
    project, proposal = city
    edited = tmp_path / "edited.toml"
    lunch = 'periods = [["09:00", "12:00"], ["13:30", "17:30"]]'
    speeds = 'road_class = "道路等级"\nspeeds_kmh = { "1" = 50, "2" = 40 }'
    text = proposal.read_text(encoding="utf-8")
    text = text.replace('periods = [["09:00", "18:00"]]', lunch)
    edited.write_text(text.replace('road_class = "道路等级"', speeds), encoding="utf-8")
    assert cli("city", "set", project, edited) == 0
    stored = project_profile(project)
    assert stored.calendar.periods[1] == ["13:30", "17:30"]
    # the shipped 'chengdu' profile is this proposal, edited: they must not drift apart
    shipped = read_profile("chengdu").layers
    for role in ("parcels", "facilities", "neighborhoods", "boundary"):
        assert getattr(stored.layers, role) == getattr(shipped, role), role
    capsys.readouterr()
    assert cli("city", "check", project, "--json") == 0
    checks = {c["feature"]: c["status"] for c in json.loads(capsys.readouterr().out)}
    assert checks["Planning scenarios"] == "partly"  # no floodplain, open space or water
    assert checks["Unit grid and grid codes"] == checks["Dispatch crews"] == "ready"
    assert cli("grid", "build", "--out", project) == 0
    assert "51010400100101" in capsys.readouterr().out
    # Friday 13 February 2026, 17:00: half an hour left that day; Saturday 14 February is
    # a make-up working day (调休), so 3.5 more working hours end at 14:00 after lunch
    assert cli("city", "due", project, "--at", "2026-02-13 17:00", "--limit", 4) == 0
    assert capsys.readouterr().out.strip() == "2026-02-14T14:00:00+08:00"
    # one working day from the eve of the Spring Festival holiday: due when work resumes
    assert cli("city", "due", project, "--at", "2026-02-15 10:00", "--limit", 1,
               "--unit", "working_days") == 0  # fmt: skip
    assert capsys.readouterr().out.strip().startswith("2026-02-24T")
    values = run_scenario(
        project,
        tmp_path,
        "homes",
        'title = "住宅优先"\n[targets]\nhousing_units = 150.0\n'
        "[constraints]\nmax_changed_share = 0.3\n"
        "[candidates]\nwhere = \"用地代码 IN ('2301', '120803')\"\n",
        capsys,
    )
    assert values["housing_units_added"] >= 150
    assert values["residents_near_school"] > 0  # the city has homes figures: counted
    assert values["land_value_captured_usd"] > 0  # the key keeps its name; the money is CNY
    assert "green_space_per_resident" not in values  # no open space layer: left out
    capsys.readouterr()
    assert cli("--lang", "zh_CN", "plan", "compare", project, "homes") == 0
    table = capsys.readouterr().out
    assert "土地增值收益" in table and "CNY" in table and "亿" in table


def test_a_szcg_case_list_is_drafted_placed_in_cgcs2000_and_imported(city, tmp_path, capsys):
    """A 数字城管 system's case list (Excel; the columns such systems export, x/y in the
    city's CGCS2000 zone): `cases mapping` proposes the columns, finds EPSG:4544 from the
    project, maps 暴露垃圾 and 路灯 by name, reads 已结案 as closed; the import places the
    cases in the city."""
    import shutil

    import pandas as pd

    from citydesk.incidents.stores import open_project_store
    from citydesk.layers.project_store import read_project_layer

    project = shutil.copy(city[0], tmp_path / "chengdu.gpkg")  # the fixture stays as it is
    # its own profile (the proposal): the test before stores one in the fixture's project,
    # but it may have run in the other test worker
    assert cli("city", "set", project, city[1]) == 0
    parcels = read_project_layer(project, "di_kuai")
    x0, y0, x1, y1 = parcels.to_crs(4544).total_bounds
    xs, ys = [x0 + (x1 - x0) * f for f in (0.3, 0.6)], [y0 + (y1 - y0) * f for f in (0.4, 0.7)]
    header = ["案卷编号", "问题来源", "问题类型", "大类", "小类", "问题描述", "发生地址",
              "所属街道", "所属社区", "单元网格", "上报时间", "立案时间", "派遣时间",
              "处置时间", "结案时间", "案卷状态", "处置部门", "X坐标", "Y坐标"]  # fmt: skip
    rows = [
        ["510104202412050001", "监督员上报", "事件", "市容环境", "暴露垃圾", "垃圾堆放",
         "华兴街49号", "督院街道", "华兴社区", "", "2024-12-05 09:10:00",
         "2024-12-05 09:20:00", "2024-12-05 09:30:00", "2024-12-05 15:00:00",
         "2024-12-05 16:00:00", "已结案", "环卫所", xs[0], ys[0]],
        ["510104202412050002", "公众举报", "部件", "公用设施", "路灯", "路灯不亮",
         "红星路二段8号", "督院街道", "红星社区", "", "2024-12-05 10:10:00",
         "2024-12-05 10:20:00", "2024-12-05 10:40:00", None, None, "处置中", "路灯所",
         xs[1], ys[1]],
    ]  # fmt: skip
    export = tmp_path / "案卷列表.xlsx"
    pd.DataFrame(rows, columns=header).to_excel(export, index=False)
    assert cli("cases", "mapping", export, "--project", project) == 0
    out = capsys.readouterr().out
    assert "The import reads all 2 rows" in out, out
    drafted = (tmp_path / "案卷列表_mapping.toml").read_text(encoding="utf-8")
    for line in (
        'reported_at = "上报时间"',
        'closed_at = "结案时间"',
        'category = "小类"',
        'crs = "EPSG:4544"',
        'timezone = "Asia/Shanghai"',
        '"暴露垃圾" = "event:0102"',
        '"路灯" = "component:0111"',
        '"已结案" = "closed"',
    ):
        assert line in drafted, line
    assert cli("cases", "import", export, "--mapping", tmp_path / "案卷列表_mapping.toml",
               "--project", project) == 0  # fmt: skip
    with open_project_store(project) as store:
        cases = store.query()
    cases = cases[cases["source"] == "案卷列表"]
    assert len(cases) == 2 and (cases["status"] == "closed").sum() == 1
    assert cases["lon"].between(103.9, 104.3).all() and cases["lat"].between(30.5, 30.8).all()
