"""A saved project opens in real QGIS (Debian's python3-qgis) with CityDesk's symbology.

QGIS runs in its own process with the system Python, never inside the CityDesk venv.
Skipped when QGIS is not installed (it is installed for benchmarks, not for users).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from citydesk.layers.demo import SHIPPED_DEMO

ROOT = Path(__file__).resolve().parents[1]
SYSTEM_PY = "/usr/bin/python3"


def _has_qgis() -> bool:
    if not Path(SYSTEM_PY).exists():
        return False
    probe = subprocess.run([SYSTEM_PY, "-c", "import qgis.core"], capture_output=True, timeout=60)
    return probe.returncode == 0


@pytest.mark.skipif(not _has_qgis(), reason="QGIS (python3-qgis) is not installed")
def test_demo_project_opens_in_qgis_with_our_styles(tmp_path):
    project = tmp_path / "demo.gpkg"
    shutil.copyfile(SHIPPED_DEMO, project)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("PYTHONPATH", None)
    out = subprocess.run(
        [SYSTEM_PY, str(ROOT / "tools" / "qgis_check.py"), str(project)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    layers = {d["layer"]: d for d in map(json.loads, filter(None, out.stdout.strip().splitlines()))}
    assert layers["parcels"]["valid"] and layers["parcels"]["features"] == 13116
    assert layers["parcels"]["style_loaded"]
    assert layers["parcels"]["renderer"] == "categorizedSymbol"
    assert layers["parcels"]["attr"] == "land_use"
    assert layers["all_facilities"]["renderer"] == "categorizedSymbol"
    assert layers["crashes"]["renderer"] == "singleSymbol"
    assert layers["fema_floodplain_100yr"]["opacity"] == pytest.approx(0.45, abs=0.01)
