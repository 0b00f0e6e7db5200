"""The architecture rule: domain packages (and the CLI/headless paths) never import Qt.

Each module is imported in a fresh interpreter where any import of a Qt binding fails, so a
stray ``import PyQt5`` anywhere in the import graph breaks this test, not a user's server.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

BLOCKER = """
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PyQt5', 'PyQt6', 'PySide2', 'PySide6', 'qtpy', 'sip'):
            raise ImportError('Qt is not allowed here: ' + name)
        return None
sys.meta_path.insert(0, Block())
import importlib
for mod in sys.argv[1:]:
    importlib.import_module(mod)
    # Importing must not pull Qt in behind our back either.
    assert not any(m.startswith(('PyQt5', 'PySide')) for m in sys.modules), mod
"""


def _domain_modules() -> list[str]:
    mods = []
    for pkg in ("layers", "planning", "optimization", "incidents", "plugins"):
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            mods.append(".".join(["citydesk", *parts]))
    return mods


HEADLESS_WORKBENCH = [
    "citydesk.workbench",
    "citydesk.workbench.cli.main",
    "citydesk.workbench.headless_demo",
]


@pytest.mark.parametrize("group", ["domain", "headless_workbench"])
def test_modules_import_without_qt(group):
    mods = _domain_modules() if group == "domain" else HEADLESS_WORKBENCH
    assert mods
    result = subprocess.run(
        [sys.executable, "-c", BLOCKER, *mods],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_no_qt_import_statements_in_domain_sources():
    for pkg in ("layers", "planning", "optimization", "incidents"):
        for path in (ROOT / pkg).rglob("*.py"):
            text = path.read_text()
            for binding in ("PyQt5", "PySide", "qtpy"):
                assert f"import {binding}" not in text and f"from {binding}" not in text, path
