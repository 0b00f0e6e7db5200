"""The install story: pyproject and environment.yml agree, the CLI entry point exists, the
README starts with the two commands and CI runs exactly the test one."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

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
    assert "exec bash scripts/test.sh" in ci


def test_layout_has_the_design_packages():
    for pkg in ("layers", "planning", "optimization", "incidents", "plugins", "workbench"):
        assert (ROOT / pkg / "__init__.py").exists(), pkg
    for folder in ("tests", "benchmarks", "docs"):
        assert (ROOT / folder).is_dir(), folder
