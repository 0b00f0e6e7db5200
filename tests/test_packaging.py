"""The install story: pyproject and environment.yml agree, the CLI entry point exists, the
README starts with the two commands and CI runs exactly the test one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml_free_parse

ROOT = Path(__file__).resolve().parents[1]

#: PyPI name -> conda-forge name where they differ
CONDA_NAMES = {"pyqt5": "pyqt"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject_requirements() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = list(data["project"]["dependencies"])
    for extra in data["project"].get("optional-dependencies", {}).values():
        reqs += extra
    out = {}
    for req in reqs:
        # extras ("psycopg[binary]") choose PyPI wheels; conda-forge's package has them
        m = re.match(r"^\s*([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*(.*)$", req)
        name = _norm(m.group(1))
        out[CONDA_NAMES.get(name, name)] = m.group(2).split(";")[0].strip()
    return out


def _environment_requirements() -> dict[str, str]:
    text = (ROOT / "environment.yml").read_text()
    deps = yaml_free_parse.dependencies(text)
    out = {}
    for dep in deps:
        m = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", dep)
        name = _norm(m.group(1))
        if name in ("python", "pip"):
            continue
        out[name] = m.group(2).strip()
    return out


def test_environment_yml_matches_pyproject():
    py = _pyproject_requirements()
    env = _environment_requirements()
    assert set(py) == set(env), (
        f"only in pyproject: {sorted(set(py) - set(env))}; "
        f"only in environment.yml: {sorted(set(env) - set(py))}"
    )
    for name, spec in py.items():
        assert spec.replace(" ", "") == env[name].replace(" ", ""), name


def test_environment_yml_is_conda_forge_strict():
    text = (ROOT / "environment.yml").read_text()
    assert "conda-forge" in text
    assert "nodefaults" in text
    assert "python=3.11" in text


def test_citydesk_entry_point_runs():
    exe = Path(sys.executable).parent / "citydesk"
    assert exe.exists(), "pip install -e . must provide a citydesk command"
    out = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    for command in ("layers", "project", "demo", "gui"):
        assert command in out.stdout


def test_readme_starts_with_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", readme, re.S)
    first = blocks[0].strip().splitlines()
    assert first[0].startswith("bash scripts/demo.sh")
    assert first[1].startswith("bash scripts/test.sh")
    ci = (ROOT / ".ci" / "run").read_text()
    runs = [line for line in ci.splitlines() if line.strip().endswith("bash scripts/test.sh")]
    assert len(runs) == 2, "CI runs the test command as a fresh clone and in full"
    assert any("CITYDESK_AS_CLONE=1" in line for line in runs)


def test_layout_has_the_design_packages():
    for pkg in ("layers", "planning", "optimization", "incidents", "plugins", "workbench"):
        assert (ROOT / pkg / "__init__.py").exists(), pkg
    for folder in ("tests", "benchmarks", "docs"):
        assert (ROOT / folder).is_dir(), folder


def test_every_subpackage_is_installed_under_citydesk():
    """pyproject lists the packages explicitly (the repository root is ``citydesk``): a new
    folder with an __init__.py must be added there, or the wheel would leave it out."""
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {"citydesk"}
    for pkg in ("layers", "planning", "optimization", "incidents", "plugins", "workbench"):
        for init in (ROOT / pkg).rglob("__init__.py"):
            found.add(".".join(["citydesk", *init.parent.relative_to(ROOT).parts]))
    assert listed == found


def _fake_wheel(folder: Path, name: str) -> Path:
    """A minimal wheel of a distribution ``name`` with a top-level package ``name``, like the
    real ``planning`` and ``workbench`` projects on PyPI."""
    import base64
    import hashlib
    import zipfile

    files = {
        f"{name}/__init__.py": f"WHO = 'the {name} distribution from PyPI'\n",
        f"{name}-1.0.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
        f"{name}-1.0.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
        f"{name}-1.0.dist-info/top_level.txt": f"{name}\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{name}-1.0.dist-info/RECORD,,")
    files[f"{name}-1.0.dist-info/RECORD"] = "\n".join(record) + "\n"
    wheel = folder / f"{name}-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, text in files.items():
            zf.writestr(path, text)
    return wheel


def test_pypi_planning_and_workbench_live_beside_citydesk(tmp_path):
    """CityDesk 0.1 installed top-level ``planning`` and ``workbench``, which PyPI projects of
    those names overwrote. Now both kinds import side by side, and the CLI still works."""
    target = tmp_path / "site"
    wheels = [str(_fake_wheel(tmp_path, name)) for name in ("planning", "workbench")]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(target),
            *wheels,
        ],
        check=True,
        timeout=300,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    code = (
        "import planning, workbench, citydesk.planning.scenario, citydesk.workbench.cli.main;"
        "print(planning.WHO); print(workbench.WHO)"
    )
    out = subprocess.run(
        [sys.executable, "-P", "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "the planning distribution from PyPI" in out.stdout
    cli = subprocess.run(
        [sys.executable, "-P", "-m", "citydesk", "--version"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.startswith("CityDesk ")


@pytest.mark.slow
def test_the_wheel_installs_nothing_but_citydesk(tmp_path):
    """Every file of CityDesk's wheel is under citydesk/ (or its dist-info), so installing or
    uninstalling another distribution can never touch CityDesk's files, nor the reverse."""
    import zipfile

    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = tmp_path.glob("citydesk-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"citydesk"}
    assert "citydesk/layers/demo_data/cambridge_demo.gpkg" in names
    assert not any(n.startswith("citydesk/tests/") for n in names)


def test_the_shipped_projects_are_not_in_wal_mode():
    """A copy of a WAL-mode file taken without its -wal loses data; the demo is copied by
    every user and test, so it ships with a rollback journal (SQLite header bytes 18-19)."""
    for name in ("cambridge_demo.gpkg", "sf_dem_demo.gpkg"):
        header = (ROOT / "layers" / "demo_data" / name).read_bytes()[:20]
        assert (header[18], header[19]) == (1, 1), name
