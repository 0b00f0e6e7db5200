"""The 0.1 import names, for plugins written against them: deprecated, removed in 0.3.

CityDesk 0.1 installed its packages as top-level names (``layers``, ``planning``, ...). 0.2 put
them under one root, ``citydesk`` (docs/ARCHITECTURE.md). A plugin that still says
``from layers.expressions import filter_mask`` keeps working for the 0.2 series under the
deprecation rule in docs/PLUGINS.md: the plugin host installs this finder, which aliases an old
name to its ``citydesk.`` module and warns once per name with the new spelling.

A real distribution with a top-level ``planning`` or ``workbench`` package (they exist on
PyPI) is always found first: the alias only answers for names nothing else provides.
``tests/test_legacy_plugin_imports.py`` fails once the version reaches 0.3 while this module
still exists.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from importlib.machinery import ModuleSpec
from types import ModuleType

#: the CityDesk 0.1 top-level packages
OLD_ROOTS = ("layers", "planning", "optimization", "incidents", "plugins", "workbench")
#: the release that removes the aliases
REMOVED_IN = "0.3"


class _AliasLoader(importlib.abc.Loader):
    """Loads an old name as the very module object of its new name (one copy, one
    ``CityDeskError`` class), warning once."""

    def __init__(self, new_name: str) -> None:
        self.new_name = new_name
        self._spec: ModuleSpec | None = None

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        warnings.warn(
            f"'{spec.name}' is the CityDesk 0.1 name of '{self.new_name}': import "
            f"'{self.new_name}' instead (the old name is removed in CityDesk {REMOVED_IN})",
            DeprecationWarning,
            stacklevel=2,
        )
        module = importlib.import_module(self.new_name)
        self._spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        # already executed under its new name; importlib set __spec__ to the alias's spec
        module.__spec__ = self._spec


class LegacyImportFinder(importlib.abc.MetaPathFinder):
    """Answers ``layers.x`` with ``citydesk.layers.x`` when nothing else provides ``layers``.

    First on ``sys.meta_path`` so a submodule of an aliased package resolves to the one
    ``citydesk`` copy (not a second copy of the same file), but it declines a top-level name
    that any other finder can provide: a real ``planning`` distribution always wins.
    """

    def find_spec(self, fullname: str, path=None, target=None) -> ModuleSpec | None:
        root = fullname.split(".", 1)[0]
        if root not in OLD_ROOTS:
            return None
        if "." in fullname:
            parent = sys.modules.get(root)
            if parent is None or not parent.__name__.startswith("citydesk."):
                return None  # a real top-level package of that name: not ours
        elif any(
            finder is not self
            and hasattr(finder, "find_spec")
            and finder.find_spec(fullname, None) is not None
            for finder in sys.meta_path
        ):
            return None
        new_name = f"citydesk.{fullname}"
        try:
            if importlib.util.find_spec(new_name) is None:
                return None
        except ImportError:
            return None
        return ModuleSpec(fullname, _AliasLoader(new_name))


_FINDER = LegacyImportFinder()


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, LegacyImportFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _FINDER)


def uninstall() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, LegacyImportFinder)]
