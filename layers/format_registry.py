"""Where ``citydesk.layers.io`` finds readers and writers for formats it does not know.

The data model imports no other CityDesk package (an import-linter contract). Formats that
plugins contribute reach it the other way round: the plugin host registers a *resolver* here
(``citydesk.plugins.formats.install``, called whenever a ``PluginHost`` is made and by the
command line at start-up), and ``io`` asks the registered resolvers for an extension it does
not read or write natively.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

Kind = Literal["reader", "writer"]
#: ``resolver(kind, extension) -> callable or None``; the extension keeps its dot (".xyz")
Resolver = Callable[[Kind, str], Callable[..., Any] | None]

_RESOLVERS: list[Resolver] = []


def register_resolver(resolver: Resolver) -> None:
    """Add a resolver once; registering the same one again does nothing."""
    if resolver not in _RESOLVERS:
        _RESOLVERS.append(resolver)


def unregister_resolver(resolver: Resolver) -> None:
    if resolver in _RESOLVERS:
        _RESOLVERS.remove(resolver)


def find_format(kind: Kind, path: Path) -> Callable[..., Any] | None:
    """The first registered reader or writer for the file's extension, or None."""
    for resolver in list(_RESOLVERS):
        found = resolver(kind, path.suffix)
        if found is not None:
            return found
    return None
