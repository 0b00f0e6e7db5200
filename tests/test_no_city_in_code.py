"""Nothing city-specific in code (issue 18): the domain packages name no Cambridge layer id
or field. What a city's data is called belongs in its profile or a data file; a name in code
is how "it works on the demo" became "other cities crash or silently get zeros".

The scan reads every string literal of the domain packages (docstrings excepted: they may
cite the demo as an example) and fails on a demo layer id or field name in it, as a whole
word, so filters such as ``"MajorRoad = 1"`` are caught too.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("layers", "planning", "optimization", "incidents", "plugins")

#: the Cambridge demo's layer ids and field names (layers/data/profiles/cambridge.toml)
DEMO_NAMES = (
    "zoning_districts", "fema_floodplain_100yr", "street_centerlines", "all_facilities",
    "water_bodies", "city_boundary", "res_units_est", "gross_bldg_area_sqft", "land_value_usd",
    "improvement_value_usd", "total_value_usd", "land_area_sqft", "ZONE_TYPE", "N_HOOD",
    "SITE_NAME", "FromNode", "ToNode", "MajorRoad", "L_From", "L_To", "R_From", "R_To",
    "use_code", "crash_number", "object_1", "object_2", "fire_station", "public_school",
)  # fmt: skip
PATTERN = re.compile(r"\b(" + "|".join(map(re.escape, DEMO_NAMES)) + r")\b")


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def demo_names_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    hits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            for match in PATTERN.finditer(node.value):
                hits.append(f"{path.relative_to(ROOT)}:{node.lineno}: {match.group(1)}")
    return hits


def test_the_scan_finds_a_demo_name():
    """The scan is not vacuous: a module that reads a demo field is caught, a docstring is
    not."""
    import tempfile

    with tempfile.TemporaryDirectory(dir=ROOT) as folder:
        bad = Path(folder) / "bad.py"
        bad.write_text(
            '"""Reads L_From in Cambridge."""\nunits = frame["res_units_est"]\n'
            'roads = filter_mask(streets, "MajorRoad = 1")\n',
            encoding="utf-8",
        )
        hits = demo_names_in(bad)
    assert [h.rsplit(": ", 1)[1] for h in hits] == ["res_units_est", "MajorRoad"]


@pytest.mark.parametrize("package", PACKAGES)
def test_domain_code_names_no_demo_layer_or_field(package):
    hits = [h for p in sorted((ROOT / package).rglob("*.py")) for h in demo_names_in(p)]
    assert not hits, "city-specific names in code (move them to the city profile):\n" + "\n".join(
        hits
    )
