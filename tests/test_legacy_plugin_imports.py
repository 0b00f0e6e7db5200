"""The deprecation rule for plugins (docs/PLUGINS.md): a plugin written for CityDesk 0.1, which
imported ``layers.x`` and named ``plugins.builtin...`` targets, still loads in the 0.2 series
with a DeprecationWarning, sharing CityDesk's one copy of each module; the alias goes in 0.3."""

from __future__ import annotations

import sys
import textwrap
import warnings
from pathlib import Path

import pytest
from packaging.version import Version

from citydesk import __version__
from citydesk.layers.errors import CityDeskError
from citydesk.plugins import legacy_imports
from citydesk.plugins.algorithms import run_algorithm
from citydesk.plugins.host import PluginHost

MANIFEST = """
[plugin]
name = "old-style"
version = "0.9.0"
author = "A plugin author"
description = "A plugin written against CityDesk 0.1"
license = "MIT"
requires-citydesk = ">=0.1"

[[algorithms]]
id = "old:check"
name = "Refuse a value"
run = "old_style_pkg.algo:run"
[algorithms.parameters.value]
type = "number"
default = 1
"""

CODE = """
from layers.errors import CityDeskError   # the 0.1 spelling
from layers.expressions import filter_mask


def run(params, context, feedback):
    if params["value"] < 0:
        raise CityDeskError("the value is negative", "Give a positive value.")
    return {"filter": filter_mask.__module__}
"""


ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def old_plugin(tmp_path, monkeypatch):
    # as in an installed CityDesk: the repository root is not an import path, so the folder
    # layers/ is not a top-level package of its own (``python -m pytest`` puts the current
    # folder first on sys.path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if Path(p or ".").resolve() != ROOT])
    folder = tmp_path / "old_style"
    (folder / "old_style_pkg").mkdir(parents=True)
    (folder / "citydesk_plugin.toml").write_text(MANIFEST)
    (folder / "old_style_pkg" / "__init__.py").write_text("")
    (folder / "old_style_pkg" / "algo.py").write_text(textwrap.dedent(CODE))
    monkeypatch.setattr("citydesk.plugins.host.user_plugins_dir", lambda: tmp_path)
    yield PluginHost(entry_points=False)
    legacy_imports.uninstall()
    for name in [m for m in sys.modules if m.split(".")[0] in (*legacy_imports.OLD_ROOTS,)]:
        if sys.modules[name].__name__.startswith("citydesk."):
            del sys.modules[name]
    sys.modules.pop("old_style_pkg.algo", None)
    sys.modules.pop("old_style_pkg", None)


def test_a_01_plugin_runs_with_a_deprecation_warning(old_plugin):
    assert old_plugin.plugin("old-style").status == "ok"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_algorithm(old_plugin, "old:check", {"value": 2}, record=False)
    assert result.outputs["filter"] == "citydesk.layers.expressions"
    messages = [str(w.message) for w in caught if w.category is DeprecationWarning]
    assert any("'layers.errors'" in m and "citydesk.layers.errors" in m for m in messages)
    assert any("removed in CityDesk 0.3" in m for m in messages)


def test_old_names_are_the_same_modules(old_plugin):
    """One copy: the error the plugin raises is CityDesk's own, so the host explains it to the
    user instead of disabling the plugin as crashed."""
    with pytest.raises(CityDeskError, match="the value is negative"):
        run_algorithm(old_plugin, "old:check", {"value": -1}, record=False)
    assert old_plugin.plugin("old-style").status == "ok"


def test_a_real_top_level_package_wins_over_the_alias(tmp_path, monkeypatch):
    (tmp_path / "planning").mkdir()
    (tmp_path / "planning" / "__init__.py").write_text("WHO = 'pypi planning'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "planning", raising=False)
    legacy_imports.install()
    try:
        import planning

        assert planning.WHO == "pypi planning"
    finally:
        legacy_imports.uninstall()
        sys.modules.pop("planning", None)


def test_the_alias_is_removed_on_schedule():
    """The deprecation rule: old names work for one minor series, then go."""
    assert Version(__version__) < Version(legacy_imports.REMOVED_IN), (
        "CityDesk reached the release that removes the 0.1 import names: delete "
        "citydesk/plugins/legacy_imports.py and its use in the plugin host"
    )
