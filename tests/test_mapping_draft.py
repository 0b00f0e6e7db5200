"""`citydesk cases mapping`: a column mapping drafted from a case system's export, for the
user to check, that the import then reads the file with. Exports of systems CityDesk ships
no mapping for: a Boston-style 311 CSV, a 数字城管 Excel list with x/y in the city's CRS,
a Finnish semicolon export with decimal commas; and the real NYC sample."""

from __future__ import annotations

import datetime as dt
import shutil
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from citydesk.incidents.case_files import import_case_file
from citydesk.incidents.categories import Catalogue
from citydesk.incidents.import_csv import CaseImportError
from citydesk.incidents.mapping_draft import draft_mapping, write_draft
from citydesk.incidents.stores import open_project_store
from citydesk.workbench.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "layers" / "demo_data" / "cambridge_demo.gpkg"
NYC = ROOT.parent / "shared" / "data" / "nyc311_sample" / "nyc_311_2022-05-01_sample.csv"


@pytest.fixture()
def project(tmp_path):
    path = tmp_path / "cambridge.gpkg"
    shutil.copy(DEMO, path)
    return path


def _boston(tmp_path) -> Path:
    """A Boston-style 311 export (its column names; values made up near Cambridge)."""
    frame = pd.DataFrame(
        {
            "case_enquiry_id": ["101004", "101005", "101006", "101007"],
            "open_dt": [
                "2024-03-01 08:15:00",
                "2024-03-01 09:00:00",
                "2024-03-02 10:30:00",
                "2024-03-03 11:00:00",
            ],
            "sla_target_dt": ["2024-03-04 08:15:00", "", "2024-03-05 10:30:00", ""],
            "closed_dt": ["2024-03-02 12:00:00", "", "", "2024-03-03 15:00:00"],
            "case_status": ["Closed", "Open", "Open", "Closed"],
            "case_title": ["Street Light Outages", "Pothole", "Graffiti", "Street Light Outages"],
            "subject": ["Street Lights", "Public Works", "Property Management", "Street Lights"],
            "reason": ["Street Lights", "Highway Maintenance", "Graffiti", "Street Lights"],
            "type": [
                "Street Light Outages",
                "Request for Pothole Repair",
                "Graffiti Removal",
                "Street Light Outages",
            ],
            "Department": ["PWDx", "PWDx", "PROP", "PWDx"],
            "location": ["1 Main St", "2 Main St", "3 Broadway", "4 Broadway"],
            "latitude": ["42.3736", "42.3751", "42.3702", ""],
            "longitude": ["-71.1097", "-71.1050", "-71.0990", ""],
            "source": [
                "Citizens Connect App",
                "Constituent Call",
                "Employee Generated",
                "Citizens Connect App",
            ],
        }
    )
    path = tmp_path / "boston_311.csv"
    frame.to_csv(path, index=False)
    return path


def test_a_boston_style_export_is_drafted_and_imports(tmp_path, project):
    out, draft, lines = write_draft(_boston(tmp_path), project=project)
    assert out == tmp_path / "boston_311_mapping.toml"
    columns = tomllib.loads(out.read_text(encoding="utf-8"))["columns"]
    assert columns["reported_at"] == "open_dt"
    assert columns["closed_at"] == "closed_dt"
    assert columns["due_at"] == "sla_target_dt"
    assert (columns["lon"], columns["lat"]) == ("longitude", "latitude")
    assert columns["source_id"] == "case_enquiry_id"
    assert columns["category"] == "type"
    assert columns["status"] == "case_status"
    assert columns["department"] == "Department"
    assert columns["channel"] == "source"
    assert draft.timezone == "America/New_York"  # the project's city
    proposals = {v.text: v.proposal for v in draft.categories}
    assert proposals["Street Light Outages"] == "component:0111"  # by name
    assert proposals["Request for Pothole Repair"] is None  # nothing to tell: left to the user
    assert {v.text: v.proposal for v in draft.statuses} == {"Closed": "closed", "Open": "open"}
    assert lines[-1].startswith("The import reads all 4 rows")
    result = import_case_file(project, tmp_path / "boston_311.csv", str(out))
    assert result["added"] == 4
    with open_project_store(project) as store:
        cases = store.query()
    assert cases["status"].value_counts().to_dict() == {"closed": 2, "reported": 2}


def test_a_chinese_excel_list_with_city_xy_is_drafted(tmp_path, project):
    """A 数字城管 list: Chinese headers, x/y in the city's projected CRS (here the Cambridge
    project's, US feet), which the draft names from the project's area."""
    frame = pd.DataFrame(
        {
            "案卷编号": ["2024001", "2024002", "2024003"],
            "上报时间": [
                dt.datetime(2024, 12, 5, 15, 4),
                dt.datetime(2024, 12, 6, 9, 0),
                dt.datetime(2024, 12, 6, 10, 0),
            ],
            "结案时间": [dt.datetime(2024, 12, 6, 11, 0), None, None],
            "大类名称": ["公用设施", "街面秩序", "市容环境"],
            "小类名称": ["路灯损坏", "机动车乱停放", "暴露垃圾"],
            "问题描述": ["路灯不亮", "占用人行道", "垃圾堆放"],
            "X坐标": [759000.0, 760500.0, 762000.0],
            "Y坐标": [2960000.0, 2961000.0, 2962500.0],
            "案卷状态": ["已结案", "处置中", "待派遣"],
        }
    )
    path = tmp_path / "案卷列表.xlsx"
    frame.to_excel(path, index=False)
    out, draft, lines = write_draft(path, project=project)
    columns = draft.columns
    assert (columns["reported_at"], columns["closed_at"]) == ("上报时间", "结案时间")
    assert (columns["lon"], columns["lat"]) == ("X坐标", "Y坐标")
    assert columns["category"] == "小类名称" and columns["status"] == "案卷状态"
    assert draft.crs == "EPSG:2249"
    proposals = {v.text: v.proposal for v in draft.categories}
    assert proposals == {
        "路灯损坏": "component:0111",
        "机动车乱停放": "event:0505",
        "暴露垃圾": "event:0102",
    }
    assert {v.text: v.proposal for v in draft.statuses}["已结案"] == "closed"
    assert lines[-1].startswith("The import reads all 3 rows")
    result = import_case_file(project, path, str(out))
    assert result["added"] == 3


def _coded_list(tmp_path, kinds: list[str] | None, codes: list[str]) -> Path:
    """A 数字城管 list that gives each case's catalogue code (小类编码), with its kind
    (案件类型) where ``kinds`` is given; names a system of its own (not the standard's)."""
    n = len(codes)
    columns = {
        "案卷编号": [f"2024{i:03d}" for i in range(n)],
        "上报时间": [f"2024-12-0{1 + i % 5} 09:00:00" for i in range(n)],
        "小类编码": codes,
        "小类名称": [f"本地名称{i}" for i in range(n)],
        "经度": [-71.11 + 0.001 * i for i in range(n)],
        "纬度": [42.37 + 0.001 * i for i in range(n)],
    }
    if kinds is not None:
        columns["案件类型"] = kinds
    path = tmp_path / "coded.csv"
    pd.DataFrame(columns).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def test_catalogue_codes_are_read_with_the_kind_beside_them(tmp_path, project):
    """The standard gives components and events the same codes (0101: 上水井盖, 私搭乱建):
    a code column is read with the column saying each case's kind, and every pair proposed
    as the catalogue's category of that kind and code, which the import files it under.
    The local names (本地名称) are not what the draft goes by."""
    path = _coded_list(tmp_path, ["部件", "事件", "事件", "部件"], ["0101", "0101", "0102", "0111"])
    out, draft, _lines = write_draft(path, project=project)
    assert draft.columns["category"] == ["案件类型", "小类编码"]
    assert {v.text: v.proposal for v in draft.categories} == {
        "部件 / 0101": "component:0101",
        "事件 / 0101": "event:0101",
        "事件 / 0102": "event:0102",
        "部件 / 0111": "component:0111",
    }
    assert draft.default_category is None
    written = tomllib.loads(out.read_text(encoding="utf-8"))
    assert written["categories"]["事件 / 0101"] == "event:0101"
    result = import_case_file(project, path, str(out))
    assert result["added"] == 4
    with open_project_store(project) as store:
        cases = store.query().set_index("source_id")
    filed = [(cases.loc[f"2024{i:03d}", "kind"], cases.loc[f"2024{i:03d}", "category_code"])
             for i in range(4)]  # fmt: skip
    assert filed == [("component", "0101"), ("event", "0101"), ("event", "0102"),
                     ("component", "0111")]  # fmt: skip


def test_codes_of_one_kind_need_no_kind_column_and_mixed_ones_are_not_guessed(tmp_path, project):
    """Codes that name one category each (0111 is only a component) are read alone; codes
    that could be either kind, with nothing saying which, are not read as codes at all
    (the draft falls back to the names, and a wrong kind is never proposed)."""
    alone = write_draft(_coded_list(tmp_path, None, ["0111", "0111", "0505"]), project=project)[1]
    assert alone.columns["category"] == "小类编码"
    assert {v.text: v.proposal for v in alone.categories} == {
        "0111": "component:0111",
        "0505": "event:0505",
    }
    mixed = _coded_list(tmp_path, None, ["0101", "0102", "0111"])
    draft = write_draft(mixed, tmp_path / "mixed.toml", project=project)[1]
    assert draft.columns["category"] != "小类编码"
    assert not any(str(v.proposal or "").endswith(":0101") for v in draft.categories)


def test_values_that_are_the_catalogues_own_keys_are_proposed_as_they_are(tmp_path, project):
    path = tmp_path / "keys.csv"
    pd.DataFrame(
        {
            "id": ["1", "2", "3"],
            "created": ["2024-12-01 09:00", "2024-12-01 10:00", "2024-12-02 09:00"],
            "category": ["event:0102", "component:0111", "Something local"],
        }
    ).to_csv(path, index=False)
    draft = write_draft(path, project=project)[1]
    assert {v.text: v.proposal for v in draft.categories} == {
        "event:0102": "event:0102",
        "component:0111": "component:0111",
        "Something local": None,
    }


def test_an_import_keyed_by_two_columns_names_the_unmapped_pairs(tmp_path, project):
    """A mapping may read the category from two columns; a pair it does not map (and no
    default) is refused naming the pair as [categories] would key it."""
    path = _coded_list(tmp_path, ["部件", "事件"], ["0101", "0101"])
    mapping = tmp_path / "two.toml"
    mapping.write_text(
        '[columns]\nsource_id = "案卷编号"\nreported_at = "上报时间"\nlon = "经度"\n'
        'lat = "纬度"\ncategory = ["案件类型", "小类编码"]\n[dates]\ntimezone = "Asia/Shanghai"\n'
        '[categories]\n"部件 / 0101" = "component:0101"\n',
        encoding="utf-8",
    )
    with pytest.raises(CaseImportError, match=r"1 row has a complaint type with no category: "
                       r"事件 / 0101 \(1\)"):  # fmt: skip
        import_case_file(project, path, str(mapping))


def test_a_type_column_of_one_value_gives_way_to_one_that_tells_types_apart(tmp_path, project):
    """A Mexican-style export (SUAC's column names; values made up near Cambridge): its
    tipo_solicitud says "Servicio" in every row, its tema_solicitud the types; the draft
    took the first ("tipo" is a category word, "tema" was none) and filed every row under
    the default. Its estatus is the status."""
    n = 8
    themes = ["Alumbrado", "Poda de árboles", "Fuga de agua", "Bacheo"] * 2
    path = tmp_path / "suac.csv"
    pd.DataFrame(
        {
            "folio": [f"SUAC-{i}" for i in range(n)],
            "fecha_solicitud": [f"0{1 + i}/05/2024 10:00" for i in range(n)],
            "tipo_solicitud": ["Servicio"] * n,
            "tema_solicitud": themes,
            "estatus": ["Cerrada", "En proceso"] * 4,
            "latitud": [42.37 + 0.001 * i for i in range(n)],
            "longitud": [-71.11] * n,
        }
    ).to_csv(path, index=False, encoding="latin-1")
    draft = write_draft(path, project=project)[1]
    assert draft.columns["category"] == "tema_solicitud"
    assert draft.columns["status"] == "estatus"
    assert {v.text: v.proposal for v in draft.categories}["Alumbrado"] == "component:0111"
    alone = tmp_path / "alone.csv"  # one value, and no other column: still the category
    pd.read_csv(path, encoding="latin-1").drop(columns="tema_solicitud").to_csv(alone, index=False)
    assert write_draft(alone, project=project)[1].columns["category"] == "tipo_solicitud"


def test_of_two_type_columns_the_one_the_catalogue_knows_is_the_category(tmp_path, project):
    """A San Francisco-style export (its column names; values made up near Cambridge): a
    Category and, under it, a Request Type. The header words chose the Request Type, whose
    values the catalogue hardly knows, and filed most rows under the default; now the
    column whose values get the most rows proposed is the category, and the finer type is
    kept in each case's description. Its "2022/05/01 02:15:09 PM" times get their format
    (the draft's list had no year-first date with AM/PM)."""
    rows = [
        ("Streetlights", "Streetlight - Light_Burnt_Out"),
        ("Streetlights", "Streetlight - Pole_Knocked_Down"),
        ("Abandoned Vehicle", "Abandoned Vehicle - Car4door"),
        ("Abandoned Vehicle", "Abandoned Vehicle - Pickuptruck"),
        ("Illegal Parking", "Blocking_Driveway_Cite_Only"),
        ("Illegal Parking", "Double_Parking"),
        ("Noise - Residential", "Loud Music/Party"),
        ("Tree Maintenance", "Overgrown_Tree"),
    ] * 3
    n = len(rows)
    path = tmp_path / "sf311.csv"
    pd.DataFrame(
        {
            "CaseID": range(15_000_000, 15_000_000 + n),
            "Opened": [f"2022/05/{1 + i % 28:02d} 0{1 + i % 9}:15:09 PM" for i in range(n)],
            "Closed": [f"2022/05/{2 + i % 27:02d} 10:00:00 AM" for i in range(n)],
            "Status": ["Closed"] * n,
            "Responsible Agency": ["DPW Ops Queue"] * n,
            "Category": [c for c, _t in rows],
            "Request Type": [t for _c, t in rows],
            "Address": [f"{10 + i} Main St" for i in range(n)],
            "Latitude": [42.37 + 0.0005 * i for i in range(n)],
            "Longitude": [-71.11] * n,
        }
    ).to_csv(path, index=False)
    out, draft, lines = write_draft(path, project=project)
    assert draft.columns["category"] == "Category"
    assert draft.columns["description"] == ["Category", "Request Type", "Address"]
    proposed = {v.text: v.proposal for v in draft.categories}
    assert proposed["Illegal Parking"] == "event:0505"
    assert sum(v.rows for v in draft.categories if v.proposal) >= n * 5 // 8
    assert draft.formats == ["%Y/%m/%d %I:%M:%S %p"]
    assert lines[-1].startswith("The import reads all 24 rows")
    assert import_case_file(project, path, str(out))["added"] == n
    with open_project_store(project) as store:
        cases = store.query()
    case = cases[cases["source_id"] == "15000000"].iloc[0]
    assert "Streetlight - Light_Burnt_Out" in case["description"]
    assert case["reported_at"].startswith("2022-05-01T17:15:09")  # 1:15 PM in Boston, in UTC


@pytest.mark.parametrize(
    "values, fmt",
    [
        (["2022-05-13T14:30:00.123", "2022-05-14T09:00:00.5"], "%Y-%m-%dT%H:%M:%S.%f"),
        (["2022-05-13 02:30 PM", "2022-05-14 11:00 AM"], "%Y-%m-%d %I:%M %p"),
        (["05/13/2022 2:30 PM", "05/14/2022 11:00 AM"], "%m/%d/%Y %I:%M %p"),
        (["13-05-2022 14:30", "14-05-2022 09:00"], "%d-%m-%Y %H:%M"),
        (["2022.05.13 14:30:00", "2022.05.14 09:00:00"], "%Y.%m.%d %H:%M:%S"),
        (["13.05.2022 14.30", "14.05.2022 9.00"], "%d.%m.%Y %H.%M"),
    ],
)
def test_date_columns_get_the_format_they_are_written_in(tmp_path, values, fmt):
    path = tmp_path / "cases.csv"
    pd.DataFrame({"id": [1, 2], "created": values, "type": ["a", "b"]}).to_csv(path, index=False)
    draft = write_draft(path)[1]
    assert draft.columns["reported_at"] == "created" and draft.formats == [fmt]


def test_a_semicolon_export_with_decimal_commas_and_day_first_dates(tmp_path):
    path = tmp_path / "palaute.csv"
    path.write_text(
        "Tunnus;Luotu;Suljettu;Tyyppi;Tila;Kuvaus;Leveysaste;Pituusaste\n"
        "H-1;25.02.2024 14:30;26.02.2024 09:00;Katuvalo;Suljettu;ei pala;60,1704;24,9384\n"
        "H-2;26.02.2024 08:05;;Roskat;Avoin;;60,1699;24,9410\n",
        encoding="utf-8",
    )
    draft = draft_mapping(path, Catalogue.default(), "Europe/Helsinki")
    assert draft.columns["reported_at"] == "Luotu" and draft.columns["closed_at"] == "Suljettu"
    assert draft.formats == ["%d.%m.%Y %H:%M"]
    assert (draft.columns["lon"], draft.columns["lat"]) == ("Pituusaste", "Leveysaste")
    assert draft.columns["source_id"] == "Tunnus" and draft.columns["category"] == "Tyyppi"
    assert {v.text: v.proposal for v in draft.statuses} == {"Suljettu": "closed", "Avoin": "open"}


def test_finnish_times_with_dots_are_read_and_every_category_proposed_is_said(tmp_path, project):
    """Finnish writes times with dots (CLDR's H.mm: "13.10.2026 17.45"); such a column was not
    taken for dates at all, and the draft stopped with "no column of report dates". When
    every category is proposed the summary says so (it said "the other 0 rows go to -")."""
    path = tmp_path / "palaute.csv"
    path.write_text(
        "Tunnus;Luotu;Tyyppi;Leveysaste;Pituusaste\n"
        "H-1;1.10.2026 8.15;Katuvalo rikki;42,3736;-71,1097\n"
        "H-2;13.10.2026 17.45;Katuvalo rikki;42,3740;-71,1101\n",
        encoding="utf-8",
    )
    out, draft, said = write_draft(path, project=project)
    assert draft.columns["reported_at"] == "Luotu" and draft.formats == ["%d.%m.%Y %H.%M"]
    assert "The one category is proposed (2 rows): check it in [categories]." in said
    assert 'category = "Tyyppi"  # ? header and 1 value\n' in out.read_text(encoding="utf-8")
    assert said[-1] == "The import reads all 2 rows with this mapping (0 without a place)."
    assert import_case_file(project, path, str(out))["added"] == 2
    with open_project_store(project) as store:
        reported = sorted(store.query()["reported_at"].astype(str))
    # the demo project is Cambridge's: local times in America/New_York (EDT, UTC-4)
    assert reported == ["2026-10-01T12:15:00.000Z", "2026-10-13T21:45:00.000Z"]


@pytest.mark.parametrize(
    ("header", "rows", "zone", "expected"),
    [
        (  # a Chilean municipality's reclamos, accents dropped in two headers
            "N° Reclamo;Fecha de ingreso;Fecha de cierre;Tipo de reclamo;Estado;Prioridad;"
            "Direccion;Latitud;Longitud",
            [
                "R-1;01/10/2026 08:05;01/10/2026 10:15;Bache;Cerrado;Alta;C 1;-33,4388;-70,6529",
                "R-2;02/10/2026 09:05;;Luminaria apagada;En proceso;Baja;C 2;-33,4391;-70,6534",
            ],
            "America/Santiago",
            (
                "N° Reclamo",
                "Fecha de ingreso",
                "Fecha de cierre",
                "Tipo de reclamo",
                "Estado",
                "Prioridad",
                "Latitud",
                "Longitud",
                "Cerrado",
                "En proceso",
            ),
        ),
        (  # a Brazilian 156 export
            "Protocolo;Data de abertura;Data de encerramento;Assunto;Situação;Latitude;Longitude",
            [
                "156-1;01/10/2026 08:05;01/10/2026 10:15;Buraco na via;Encerrado;-23,55;-46,63",
                "156-2;02/10/2026 09:05;;Poda de árvore;Em andamento;-23,56;-46,64",
            ],
            "America/Sao_Paulo",
            (
                "Protocolo",
                "Data de abertura",
                "Data de encerramento",
                "Assunto",
                "Situação",
                None,
                "Latitude",
                "Longitude",
                "Encerrado",
                "Em andamento",
            ),
        ),
        (  # a German Mängelmelder export
            "Meldungsnummer;Erstellt;Erledigt am;Kategorie;Status;Priorität;Breitengrad;Längengrad",
            [
                "M-1;01.10.2026 08:05;01.10.2026 10:15;Schlagloch;erledigt;hoch;52,52;13,40",
                "M-2;02.10.2026 09:05;;Laterne defekt;in Bearbeitung;niedrig;52,53;13,41",
            ],
            "Europe/Berlin",
            (
                "Meldungsnummer",
                "Erstellt",
                "Erledigt am",
                "Kategorie",
                "Status",
                "Priorität",
                "Breitengrad",
                "Längengrad",
                "erledigt",
                "in Bearbeitung",
            ),
        ),
    ],
)
def test_exports_in_spanish_portuguese_and_german_are_drafted(
    tmp_path, header, rows, zone, expected
):
    """The header words of other languages (data/mapping_words.toml), compared without
    accents: a city outside the English, Chinese and Finnish examples gets its columns
    named too, not only its dates."""
    sid, reported, closed, category, status, priority, lat, lon, shut, open_ = expected
    path = tmp_path / "cases.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    draft = draft_mapping(path, Catalogue.default(), zone)
    assert draft.columns["source_id"] == sid and draft.columns["category"] == category
    assert (draft.columns["reported_at"], draft.columns["closed_at"]) == (reported, closed)
    assert (draft.columns["lat"], draft.columns["lon"]) == (lat, lon)
    assert draft.columns["status"] == status and draft.columns.get("priority") == priority
    assert {v.text: v.proposal for v in draft.statuses} == {shut: "closed", open_: "open"}


def test_statuses_without_a_close_time_are_kept_not_applied(tmp_path):
    """A closed status needs the time the case closed; without one the import would refuse
    every closed row, so the draft keeps the status as the source's word and says why."""
    path = tmp_path / "cases.csv"
    path.write_text(
        "id,created,type,status\n1,2024-03-01 10:00,a,Closed\n2,2024-03-02 10:00,b,Open\n",
        encoding="utf-8",
    )
    out, draft, lines = write_draft(path)
    assert not draft.statuses_apply
    assert "statuses" not in tomllib.loads(out.read_text(encoding="utf-8"))
    assert any("no close or update time" in line for line in lines)
    assert lines[-1].startswith("The import reads all 2 rows")


def test_dates_that_read_both_ways_are_left_for_the_user(tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text("id,date,type\n1,05/02/2024,a\n2,06/03/2024,b\n", encoding="utf-8")
    out, draft, lines = write_draft(path)
    assert draft.formats == [] and draft.dayfirst is None
    assert any("dayfirst" in line for line in lines)
    assert "refuse" in lines[-1]  # the import says which lines, as it would
    # once the user says which, the same draft imports
    fixed = out.read_text(encoding="utf-8").replace(
        'timezone = "UTC"', 'timezone = "UTC"\ndayfirst = true'
    )
    out.write_text(fixed, encoding="utf-8")
    from citydesk.incidents.mapping_draft import check_draft

    assert check_draft(path, out)[0].startswith("The import reads all 2 rows")


def test_values_are_written_as_valid_toml_whatever_they_hold(tmp_path):
    path = tmp_path / "odd.csv"
    frame = pd.DataFrame(
        {
            "Created": ["2024-01-01 10:00", "2024-01-02 10:00", "2024-01-03 10:00"],
            "Type": ['Say "hi"', "back\\slash", "tab\there"],
        }
    )
    frame.to_csv(path, index=False)
    out, _draft, _lines = write_draft(path)
    data = tomllib.loads(out.read_text(encoding="utf-8"))
    assert data["columns"]["category"] == "Type"
    assert data["defaults"]["category"]  # every type unplaced: they go to the default


def test_bad_inputs_are_refused_in_one_line(tmp_path, capsys):
    no_dates = tmp_path / "no_dates.csv"
    no_dates.write_text("id,type\n1,a\n", encoding="utf-8")
    assert main(["cases", "mapping", str(no_dates)]) == 2
    assert "no column of report dates" in capsys.readouterr().err
    _boston(tmp_path)
    assert main(["cases", "mapping", str(tmp_path / "boston_311.csv")]) == 0
    # a second draft does not overwrite the first (the user may have edited it)
    assert main(["cases", "mapping", str(tmp_path / "boston_311.csv")]) == 2
    assert "does not overwrite" in capsys.readouterr().err


@pytest.mark.skipif(not NYC.exists(), reason="needs ../shared (the real NYC 311 sample)")
def test_the_real_nyc_export_drafts_to_what_its_shipped_mapping_says(tmp_path, project):
    out, draft, lines = write_draft(NYC, tmp_path / "nyc.toml", project=project)
    shipped = tomllib.loads((ROOT / "incidents/data/mappings/nyc311.toml").read_text())
    for role in (
        "source_id",
        "reported_at",
        "closed_at",
        "department",
        "status",
        "lat",
        "lon",
        "category",
        "description",
        "channel",
        "updated_at",
    ):
        assert draft.columns[role] == shipped["columns"][role], role
    assert draft.formats == ["%m/%d/%Y %I:%M:%S %p"]
    assert lines[-1] == "The import reads all 924 rows with this mapping (11 without a place)."
    ours = import_case_file(project, NYC, str(out))
    assert ours["added"] == 924


# -- case exports that are GIS layers ---------------------------------------------------------


def _cambridge_cases_layer(tmp_path, name: str, crs: int | None = 2249) -> Path:
    """A portal's cases as a GIS layer in Massachusetts state plane feet (shapefile names
    cut to 10 characters)."""
    import geopandas as gpd
    import shapely

    frame = gpd.GeoDataFrame(
        {
            "CaseNumber": ["C-1", "C-2", "C-3"],
            "OpenedDate": ["2024-05-01 08:00:00", "2024-05-02 09:30:00", "2024-05-03 10:00:00"],
            "ClosedDate": ["2024-05-01 12:00:00", None, None],
            "IssueType": ["Street Light Outages", "Graffiti Removal", "Street Light Outages"],
            "Status": ["Closed", "Open", "Open"],
        },
        geometry=[shapely.Point(760100, 2960100), shapely.Point(761000, 2961000), None],
        crs=crs,
    )
    path = tmp_path / name
    frame.to_file(path)
    return path


@pytest.mark.parametrize("name", ["cases.shp", "cases.geojson", "cases.gpkg"])
def test_a_cases_layer_is_drafted_and_imported_with_its_points(tmp_path, project, name):
    layer = _cambridge_cases_layer(tmp_path, name)
    out, draft, lines = write_draft(layer, project=project)
    assert draft.columns["location"] == "geometry"  # the features' points, as lon/lat WKT
    assert draft.columns["reported_at"] == "OpenedDate" and draft.columns["category"] == "IssueType"
    assert lines[-1] == "The import reads all 3 rows with this mapping (1 without a place)."
    assert import_case_file(project, layer, str(out))["added"] == 3
    with open_project_store(project) as store:
        cases = store.query()
    placed = cases[(cases["source"] == draft.source) & cases["lon"].notna()]
    assert len(placed) == 2
    assert placed["lon"].between(-71.2, -71.0).all() and placed["lat"].between(42.3, 42.45).all()


def test_a_geojson_named_json_is_a_layer_not_open311(tmp_path):
    from citydesk.incidents.case_files import is_open311

    geojson = _cambridge_cases_layer(tmp_path, "cases.geojson", crs=4326)
    named_json = geojson.rename(tmp_path / "cases.json")
    assert not is_open311(named_json)
    open311 = tmp_path / "requests.json"
    open311.write_text('[{"service_request_id": "1"}]', encoding="utf-8")
    assert is_open311(open311)


def test_a_layer_without_a_crs_gets_the_one_its_points_fit(tmp_path, project):
    layer = _cambridge_cases_layer(tmp_path, "noprj.shp", crs=None)
    draft = write_draft(layer, project=project)[1]
    assert draft.crs == "EPSG:2249"  # the x/y fit the project's CRS


def test_a_file_of_several_layers_is_refused_naming_them(tmp_path):
    import geopandas as gpd
    import shapely

    path = tmp_path / "two.gpkg"
    for layer in ("cases", "crews"):
        gpd.GeoDataFrame(
            {"created": ["2024-05-01 08:00:00"]}, geometry=[shapely.Point(0, 0)], crs=4326
        ).to_file(path, layer=layer)
    with pytest.raises(CaseImportError, match="the file holds 2 layers: cases, crews"):
        draft_mapping(path, Catalogue.default())


@pytest.mark.skipif(not NYC.exists(), reason="needs ../shared (the real NYC 311 sample)")
def test_the_nyc_export_as_geojson_imports_the_same_cases_as_its_csv(tmp_path, project):
    """The real sample made a GeoJSON layer (its points, no coordinate columns), drafted and
    imported: the same cases, places and times as the CSV through the shipped mapping."""
    import geopandas as gpd

    rows = pd.read_csv(NYC, dtype=str, keep_default_na=False, na_values=[""])
    coords = ["Latitude", "Longitude", "Location", "X Coordinate (State Plane)",
              "Y Coordinate (State Plane)"]  # fmt: skip
    points = gpd.points_from_xy(rows["Longitude"].astype(float), rows["Latitude"].astype(float))
    layer = tmp_path / "nyc.geojson"
    gpd.GeoDataFrame(rows.drop(columns=coords), geometry=points, crs=4326).to_file(layer)
    out, draft, _lines = write_draft(layer, project=project)
    assert draft.columns["location"] == "geometry"
    other = tmp_path / "other.gpkg"
    shutil.copy(DEMO, other)
    assert import_case_file(project, layer, str(out))["added"] == 924
    assert import_case_file(other, NYC, "nyc311")["added"] == 924
    facts = ["source_id", "reported_at", "closed_at", "lon", "lat", "source_status"]
    with open_project_store(project) as store:
        ours = store.query()
    with open_project_store(other) as store:
        theirs = store.query()
    ours = ours[ours["source"] == draft.source][facts].sort_values("source_id")
    theirs = theirs[theirs["source"] == "nyc311"][facts].sort_values("source_id")
    pd.testing.assert_frame_equal(
        ours.reset_index(drop=True), theirs.reset_index(drop=True), check_exact=False, atol=1e-9
    )


def test_a_fixmystreet_dashboard_export_closes_fixed_reports_at_their_fix_time(tmp_path, project):
    """FixMyStreet's dashboard CSV (its header as FixMyStreet's own tests give it): a report
    fixed has a Fixed time and no Closed one, so the draft reads closed_at from both, in
    order; its status words ("fixed - council", "unable to fix") read as closed."""
    header = ["Report ID", "Title", "Detail", "User Name", "Category", "Created", "Confirmed",
              "Acknowledged", "Fixed", "Closed", "Status", "Latitude", "Longitude", "Query",
              "Ward", "Easting", "Northing", "Report URL", "Site Used", "Reported As"]  # fmt: skip
    rows = [
        ["11", "Light out", "", "A", "Street lighting", "2024-03-01T10:15:00",
         "2024-03-01T10:16:00", "", "2024-03-04T09:00:00", "", "fixed - council", "42.3736",
         "-71.1097", "", "", "", "", "", "fixmystreet", ""],
        ["12", "Bins", "", "B", "Bins", "2024-03-02T11:00:00", "2024-03-02T11:01:00", "", "",
         "2024-03-05T16:00:00", "unable to fix", "42.3751", "-71.1050", "", "", "", "", "",
         "council", ""],
        ["13", "Hole", "", "C", "Potholes", "2024-03-03T08:00:00", "2024-03-03T08:05:00",
         "2024-03-03T12:00:00", "", "", "action scheduled", "42.3702", "-71.0990", "", "", "",
         "", "", "app", ""],
    ]  # fmt: skip
    path = tmp_path / "fms.csv"
    pd.DataFrame(rows, columns=header).to_csv(path, index=False)
    out, draft, lines = write_draft(path, project=project)
    assert draft.columns["source_id"] == "Report ID" and draft.columns["category"] == "Category"
    assert draft.columns["reported_at"] == "Created"
    assert draft.columns["closed_at"] == ["Closed", "Fixed"]
    assert (draft.columns["lon"], draft.columns["lat"]) == ("Longitude", "Latitude")
    statuses = {v.text: v.proposal for v in draft.statuses}
    assert statuses == {
        "fixed - council": "closed",
        "unable to fix": "closed",
        "action scheduled": "open",
    }
    assert lines[-1].startswith("The import reads all 3 rows"), lines
    import_case_file(project, path, str(out))
    with open_project_store(project) as store:
        cases = store.query().set_index("source_id")
    assert str(cases.loc["11", "closed_at"]).startswith("2024-03-04T14:00")  # its fix, UTC
    assert str(cases.loc["12", "closed_at"]).startswith("2024-03-05T21:00")
    assert cases.loc["13", "status"] == "reported"


def test_chinese_and_unix_dates_are_read_without_a_format_or_a_false_warning(tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text(
        "编号,上报时间,结案时间,问题类型\n"
        "1,2024年12月5日 下午3时04分,1733450400,暴露垃圾\n"
        "2,2024年12月6日 上午9时00分,,路灯损坏\n",
        encoding="utf-8",
    )
    _out, draft, lines = write_draft(path, timezone="Asia/Shanghai")
    assert (draft.columns["reported_at"], draft.columns["closed_at"]) == ("上报时间", "结案时间")
    assert draft.formats == [] and draft.dayfirst is None
    assert not any("day-first" in line for line in lines)
    assert lines[-1].startswith("The import reads all 2 rows"), lines


def test_another_systems_open311_file_gets_its_service_codes_drafted(tmp_path, project):
    """GeoReport v2 from another city's server: its service codes are its own, so the import
    refused it without a mapping; the draft lists each code with its service name and
    proposes by the name."""
    import json

    requests = [
        {"service_request_id": "1", "service_code": "4fd3b167e750846744000005",
         "service_name": "Potholes", "status": "open",
         "requested_datetime": "2010-04-19T06:37:38Z", "lat": 42.3736, "long": -71.1097},
        {"service_request_id": "2", "service_code": "4fd3b167e750846744000006",
         "service_name": "Street Light Out", "status": "closed",
         "requested_datetime": "2010-04-19T07:37:38Z",
         "updated_datetime": "2010-04-20T07:37:38Z", "lat": 42.3751, "long": -71.1050},
        {"service_request_id": "3", "service_code": "E0490", "service_name": "crash",
         "status": "open", "requested_datetime": "2010-04-19T08:37:38Z"},
    ]  # fmt: skip
    path = tmp_path / "requests.json"
    path.write_text(json.dumps(requests), encoding="utf-8")
    with pytest.raises(CaseImportError):
        import_case_file(project, path)  # foreign codes, no mapping: refused
    out, draft, lines = write_draft(path, project=project)
    assert draft.open311 and "[columns]" not in out.read_text(encoding="utf-8")
    proposals = {v.text: (v.proposal, v.name) for v in draft.categories}
    assert proposals == {  # CityDesk's own E0490 needs no entry
        "4fd3b167e750846744000006": ("component:0111", "Street Light Out"),
        "4fd3b167e750846744000005": (None, "Potholes"),
    }
    assert lines[-1] == "The import reads all 3 rows with this mapping (1 without a place)."
    assert import_case_file(project, path, str(out))["added"] == 3


def test_the_import_says_which_types_fell_to_the_default(tmp_path, project):
    """A type the mapping does not list is filed under the default category; the summary
    names them with their rows (a renamed or new type used to vanish into the default)."""
    from citydesk.incidents.case_files import import_summary

    out, _draft, _lines = write_draft(_boston(tmp_path), project=project)
    result = import_case_file(project, tmp_path / "boston_311.csv", str(out))
    assert result["defaulted"] == {"Request for Pothole Repair": 1, "Graffiti Removal": 1}
    line = import_summary(result)[-1]
    assert line.startswith("2 rows filed under the default category event:0699")
    assert "Request for Pothole Repair (1)" in line


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Bache en calzada", None),  # a pothole: no category of its own, as "Potholes"
        ("Luminaria apagada", "component:0111"),
        ("Árbol caído", "component:0401"),
        ("Arbol caido", "component:0401"),  # accents dropped by the export
        ("Ruidos molestos", "event:0590"),
        ("Schlagloch", None),
        ("Katuvalo rikki", "component:0111"),
        ("Papierkorb voll", "component:0302"),
        ("Dépôt sauvage", "event:0103"),
        ("Grafiti", None),  # no category says it: left for the user
        ("Árbol sobre luminaria", None),  # two categories: no guess
    ],
)
def test_case_types_in_other_languages_are_proposed_by_their_words(value, expected):
    """The catalogue names its categories in English and Chinese; a Chilean, German or
    Finnish case type is proposed by the words of [category_words], and only when one
    category says it: a wrong guess filed under a real category is worse than none."""
    from citydesk.incidents.mapping_words import category_by_name

    match = category_by_name(value, Catalogue.default())
    assert (None if match is None else f"{match.kind}:{match.code}") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # FixMyStreet's categories (UK councils)
        ("Street lighting", "component:0111"),  # "street" is the street tree's too
        ("Fly-tipping", "event:0103"),
        ("Flytipping", "event:0103"),
        ("Abandoned vehicles", "event:0505"),  # the nyc311 mapping has only the singular
        ("Road traffic signs", "component:0203"),
        ("Rubbish (refuse and recycling)", "event:0102"),
        ("Potholes", None),  # no category of its own, as in every language
        ("Graffiti", None),
        ("Dog fouling", None),
        # a 311's or SeeClickFix's
        ("Traffic lights", "component:0202"),
        ("Street cleaning", "event:0104"),
        ("Snow removal", "event:0406"),
        ("Icy road", "event:0406"),
        ("Water leak", "event:0402"),
        ("Sinkhole", "event:0401"),
        ("Street vendor", "event:0501"),
        ("Catch basin clogged", "component:0104"),
        # three covers share "manhole cover": the shorter name is no reason to pick one
        ("Manhole cover missing", None),
        # a 数字城管 list's everyday names for the standard's types
        ("违章建筑", "event:0101"),  # the standard's 私搭乱建
        ("违法建设", "event:0101"),
        ("共享单车乱停放", "event:0506"),  # 非机动车乱停放
        ("出店经营", "event:0504"),  # 店外经营
        ("渣土遗撒", "event:0303"),  # 道路遗撒
        ("供水管破裂", "event:0402"),  # 自来水管破裂
        ("乱张贴", "event:0202"),
        ("井盖破损", None),  # which cover: water, sewer or storm drain
        ("道路破损", None),  # a pothole, as in every language
    ],
)
def test_case_types_in_other_systems_words_are_proposed_by_them(value, expected):
    """FixMyStreet, 311 systems and 数字城管 lists name types other than the catalogue does
    ("Street lighting", "Fly-tipping", 违章建筑): their words in [category_words] propose
    them, also where the name shares a word with two categories alike; a value that says
    nothing to tell categories apart gets no guess."""
    from citydesk.incidents.mapping_words import category_by_name

    match = category_by_name(value, Catalogue.default())
    assert (None if match is None else f"{match.kind}:{match.code}") == expected


def test_a_fixmystreet_export_gets_its_types_proposed(tmp_path, project):
    """A FixMyStreet council export (its CSV header, English types): the draft proposes five
    of its seven types and leaves potholes and dog fouling to the user; the import reads all
    rows through it."""
    rows = [
        ("Potholes", "confirmed"),
        ("Street lighting", "fixed - council"),
        ("Fly-tipping", "fixed - council"),
        ("Abandoned vehicles", "investigating"),
        ("Dog fouling", "confirmed"),
        ("Rubbish (refuse and recycling)", "action scheduled"),
        ("Traffic lights", "fixed - council"),
    ]
    header = "Report ID,Title,Detail,User Name,Category,Created,Confirmed,Fixed,Closed,Status,"
    header += "Latitude,Longitude,Ward,Report URL,Site Used"
    lines = [header]
    for k, (category, status) in enumerate(rows * 3):
        fixed = "2026-10-05T12:00:00" if status.startswith("fixed") else ""
        lines.append(
            f"{1000 + k},Issue {k},Near the corner,Anon,{category},2026-10-0{1 + k % 3}T08:15:00,"
            f"2026-10-0{1 + k % 3}T08:20:00,{fixed},,{status},42.37{k % 10},-71.10{k % 10},"
            f"Cambridgeport,https://example.org/report/{1000 + k},fixmystreet"
        )
    path = tmp_path / "fms_export.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, draft, said = write_draft(path, project=project)
    proposals = {v.text: v.proposal for v in draft.categories}
    assert proposals == {
        "Potholes": None,
        "Street lighting": "component:0111",
        "Fly-tipping": "event:0103",
        "Abandoned vehicles": "event:0505",
        "Dog fouling": None,
        "Rubbish (refuse and recycling)": "event:0102",
        "Traffic lights": "component:0202",
    }
    assert said[-1] == "The import reads all 21 rows with this mapping (0 without a place)."
    assert import_case_file(project, path, str(out))["added"] == 21
    with open_project_store(project) as store:
        filed = store.query()
    fly_tipping = (filed["kind"] == "event") & (filed["category_code"] == "0103")
    assert fly_tipping.sum() == 3  # as proposed


def _split_export(tmp_path, name: str, header: list[str], rows: list[list[str]]) -> Path:
    path = tmp_path / name
    lines = [";".join(header)] + [";".join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_time_of_day_beside_the_date_is_joined_to_it(tmp_path, project):
    """A Spanish-language export keeps the time of day apart ("Fecha de ingreso", "Hora de
    ingreso", and the same for the close): the draft pairs each with its date ([times]) and
    the import reads them as one time. Before, the draft took "Hora de ingreso" for the
    report date and every case was dated the day of the import."""
    header = ["N° Reclamo", "Fecha de ingreso", "Hora de ingreso", "Tipo de reclamo"]
    header += ["Fecha de cierre", "Hora de cierre", "Latitud", "Longitud"]
    rows = [
        ["R-1", "14/10/2026", "8:15", "Luminaria apagada", "15/10/2026", "17:40"],
        ["R-2", "20/10/2026", "13:05", "Luminaria apagada", "", ""],
    ]
    rows[0] += ["42,3736", "-71,1097"]
    rows[1] += ["42,3740", "-71,1101"]
    path = _split_export(tmp_path, "reclamos.csv", header, rows)
    out, draft, said = write_draft(path, project=project)
    assert draft.columns["reported_at"] == "Fecha de ingreso"
    assert draft.columns["closed_at"] == "Fecha de cierre"
    assert draft.times == {"reported_at": "Hora de ingreso", "closed_at": "Hora de cierre"}
    assert draft.formats == ["%d/%m/%Y %H:%M", "%d/%m/%Y"]
    assert "  [times] reported_at = Hora de ingreso" in said
    assert said[-1] == "The import reads all 2 rows with this mapping (0 without a place)."
    assert import_case_file(project, path, str(out))["added"] == 2
    with open_project_store(project) as store:
        cases = store.query().set_index("source_id")
    # the demo project is Cambridge's: America/New_York, EDT (UTC-4) in October
    assert str(cases.loc["R-1", "reported_at"]) == "2026-10-14T12:15:00.000Z"
    assert str(cases.loc["R-1", "closed_at"]) == "2026-10-15T21:40:00.000Z"
    assert str(cases.loc["R-2", "reported_at"]) == "2026-10-20T17:05:00.000Z"


def test_a_chinese_list_with_date_and_time_apart(tmp_path, project):
    """上报日期 and 上报时间: the time column's header says 时间, which names a report time, so
    the draft took it for the report date; now it is the date's time of day."""
    rows = [["A-1", "2026-10-14", "08:15:00", "路灯损坏", "-71,1097", "42,3736"]]
    path = _split_export(
        tmp_path, "案卷.csv", ["案卷编号", "上报日期", "上报时间", "小类名称", "经度", "纬度"], rows
    )
    out, draft, _said = write_draft(path, project=project)
    assert draft.columns["reported_at"] == "上报日期"
    assert draft.times == {"reported_at": "上报时间"}
    assert import_case_file(project, path, str(out))["added"] == 1
    with open_project_store(project) as store:
        assert str(store.query()["reported_at"].iloc[0]) == "2026-10-14T12:15:00.000Z"


def test_a_time_of_day_alone_is_never_a_report_date(tmp_path, project):
    """A hand-written mapping that names the time column as the date is refused with the
    lines and the [times] fix, not read as today at that time."""
    header = ["id", "Fecha", "Hora", "Tipo", "Latitud", "Longitud"]
    path = _split_export(
        tmp_path, "r.csv", header, [["1", "14/10/2026", "8:15", "Ruido", "42,37", "-71,11"]]
    )
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[columns]\nreported_at = "Hora"\nsource_id = "id"\nlat = "Latitud"\nlon = "Longitud"\n'
        '[defaults]\ncategory = "event:0699"\n',
        encoding="utf-8",
    )
    with pytest.raises(CaseImportError) as err:
        import_case_file(project, path, str(mapping))
    assert "1 Hora value has no date, just a time: '8:15' (file line 2)" in str(err.value)
    assert '[times] reported_at = "Hora"' in err.value.fix
    with open_project_store(project) as store:
        assert store.query().empty  # nothing written


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('[times]\nreported_on = "Hora"\n', "reported_on"),  # misspelt: the nearest key named
        ('[times]\nclosed_at = "Hora"\n', "columns.closed_at is not one column"),
    ],
)
def test_a_times_table_is_checked(tmp_path, project, table, expected):
    path = _split_export(tmp_path, "r.csv", ["id", "Fecha", "Hora"], [["1", "14/10/2026", "8:15"]])
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[columns]\nreported_at = "Fecha"\n[defaults]\ncategory = "event:0699"\n' + table,
        encoding="utf-8",
    )
    with pytest.raises(CaseImportError, match=expected):
        import_case_file(project, path, str(mapping))


def test_a_spreadsheets_date_and_time_cells_are_joined(tmp_path, project):
    """Excel date cells come as midnight ("2026-10-14 00:00:00") and time cells as "08:15:00":
    the date column is still a column of dates alone, and its time of day is joined."""
    frame = pd.DataFrame(
        {
            "Folio": ["F1", "F2"],
            "Fecha": [dt.datetime(2026, 10, 14), dt.datetime(2026, 10, 20)],
            "Hora": [dt.time(8, 15), dt.time(17, 45, 30)],
            "Tipo": ["Luminaria apagada"] * 2,
            "Latitud": [42.3736, 42.3740],
            "Longitud": [-71.1097, -71.1101],
        }
    )
    path = tmp_path / "reclamos.xlsx"
    frame.to_excel(path, index=False)
    out, draft, _said = write_draft(path, project=project)
    assert draft.times == {"reported_at": "Hora"}
    assert import_case_file(project, path, str(out))["added"] == 2
    with open_project_store(project) as store:
        reported = sorted(store.query()["reported_at"].astype(str))
    assert reported == ["2026-10-14T12:15:00.000Z", "2026-10-20T21:45:30.000Z"]


def test_an_export_with_a_title_above_its_header_and_numbered_priorities(tmp_path, project):
    """A CSV with a title and the export's date above the column names was read as one
    column (the title), and the draft stopped: "no column of report dates". Priorities
    written P1-P3 were all proposed as normal (3); P1 is the most urgent, as CityDesk's 1."""
    rows = ["Service requests export", "Generated 2026-11-01", ""]
    rows.append("Request ID,Created,Category,Priority,Latitude,Longitude")
    for k in range(6):
        rows.append(f"R{k},2026-10-1{k} 08:15,Street lighting,P{1 + k % 3},42.37{k},-71.10{k}")
    path = tmp_path / "export.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out, draft, said = write_draft(path, project=project)
    assert draft.columns["reported_at"] == "Created" and draft.columns["priority"] == "Priority"
    assert {v.text: v.proposal for v in draft.priorities} == {"P1": 1, "P2": 2, "P3": 3}
    assert said[-1] == "The import reads all 6 rows with this mapping (0 without a place)."
    assert import_case_file(project, path, str(out))["added"] == 6


@pytest.mark.parametrize(
    ("cell", "order"),
    [("{lon:.5f},{lat:.5f}", "lon_lat"), ("{lat:.5f}, {lon:.5f}", "lat_lon")],
)
def test_one_column_of_two_numbers_gets_its_order(tmp_path, project, cell, order):
    """A 数字城管 list's 坐标 column ("-71.1097,42.3736", no brackets) was not taken for a
    place at all, and every case needed a location; now the order that puts the points near
    the project is proposed (Cambridge's longitude never passes 90, so the ranges cannot
    tell), and the import reads it."""
    rows = []
    for k in range(4):
        place = cell.format(lon=-71.1097 + k * 1e-3, lat=42.3736 + k * 1e-3)
        rows.append(f'A{k},2026-10-1{k} 08:15:00,路灯损坏,"{place}"')
    path = tmp_path / "案卷.csv"
    path.write_text("案卷编号,上报时间,小类名称,坐标\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out, draft, said = write_draft(path, project=project)
    assert draft.columns["location"] == "坐标" and draft.location_order == order
    assert said[-1] == "The import reads all 4 rows with this mapping (0 without a place)."
    assert import_case_file(project, path, str(out))["added"] == 4
    with open_project_store(project) as store:
        cases = store.query().sort_values("source_id")
    assert cases["lon"].round(4).tolist() == [-71.1097, -71.1087, -71.1077, -71.1067]


def test_two_numbers_that_tell_nothing_are_left_for_the_user(tmp_path):
    """Without a project, 42.37 and -71.11 both fit either way: the draft says to write the
    order, and the import refuses rather than guess."""
    path = tmp_path / "cases.csv"
    path.write_text(
        'id,opened,type,coords\n1,2026-10-10 08:15,Noise,"42.3736, -71.1097"\n', encoding="utf-8"
    )
    draft = draft_mapping(path, Catalogue.default(), "America/New_York")
    assert draft.columns["location"] == "coords" and draft.location_order == ""
    assert any("[coordinates] order" in note for note in draft.notes)


@pytest.mark.parametrize("y_first", [False, True])
def test_one_column_of_projected_x_y_gets_its_crs_and_order(tmp_path, project, y_first):
    """A 数字城管 list's 坐标 in the city's projected CRS ("759123.45,2959876.54", x first or
    y first, as systems differ): the draft finds the order and the CRS that put the points
    near the project, and the import places them."""
    from pyproj import Transformer

    to_city = Transformer.from_crs(4326, 2249, always_xy=True)
    rows = []
    for k in range(4):
        x, y = to_city.transform(-71.1097 + k * 1e-3, 42.3736 + k * 1e-3)
        rows.append(f'A{k},2026-10-1{k} 08:15:00,路灯损坏,"{y:.2f},{x:.2f}"' if y_first else
                    f'A{k},2026-10-1{k} 08:15:00,路灯损坏,"{x:.2f},{y:.2f}"')  # fmt: skip
    path = tmp_path / "案卷.csv"
    path.write_text("案卷编号,上报时间,小类名称,坐标\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out, draft, _said = write_draft(path, project=project)
    assert draft.crs == "EPSG:2249"
    assert draft.location_order == ("lat_lon" if y_first else "lon_lat")
    assert import_case_file(project, path, str(out))["added"] == 4
    with open_project_store(project) as store:
        cases = store.query().sort_values("source_id")
    assert cases["lon"].round(4).tolist() == [-71.1097, -71.1087, -71.1077, -71.1067]
