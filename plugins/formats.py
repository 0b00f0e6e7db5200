"""File formats contributed by plugins: ``[[readers]]`` and ``[[writers]]``.

``install()`` registers :func:`resolve` in ``citydesk.layers.format_registry``, which
``citydesk.layers.io`` asks only for an extension it does not know itself: the data layer
never imports the plugin host (an import-linter contract). Every ``PluginHost`` installs it,
and so does the command line at start-up. A
reader is ``read(path) -> GeoDataFrame``; a writer is ``write(frame, path) -> None``. Both
are imported on first use, and a plugin whose code raises is marked failed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from citydesk.layers.errors import LayerReadError, LayerWriteError
from citydesk.layers.format_registry import Kind, register_resolver
from citydesk.layers.i18n import _

if TYPE_CHECKING:
    from .host import PluginHost

_KEY = {"readers": "read", "writers": "write"}


def _find(kind: str, extension: str, host: PluginHost | None = None):
    from .host import PluginHost  # late: the CLI installs this resolver at start-up

    host = host or PluginHost()
    ext = extension.lower()
    for record, contribution in host.contributions(kind):
        if ext in {e.lower() for e in contribution.data["extensions"]}:
            return host, record, contribution
    return None


def plugin_reader(extension: str, host: PluginHost | None = None) -> Callable | None:
    found = _find("readers", extension, host)
    if found is None:
        return None
    host, record, contribution = found

    def read(path: Path):
        def failed(exc: Exception) -> LayerReadError:
            return LayerReadError(
                _("the {name} plugin could not read the file ({err})").format(
                    name=record.name, err=exc
                ),
                _("Check the file; if it is right, report this to the plugin's author."),
                path=str(path),
            )

        frame = host.call(record, contribution, path, wrap=failed)
        return frame, {"path": str(path), "driver": f"plugin {record.name}"}

    return read


def plugin_writer(extension: str, host: PluginHost | None = None) -> Callable | None:
    found = _find("writers", extension, host)
    if found is None:
        return None
    host, record, contribution = found

    def write(frame, path: Path) -> None:
        def failed(exc: Exception) -> LayerWriteError:
            return LayerWriteError(
                _("the {name} plugin could not write the file ({err})").format(
                    name=record.name, err=exc
                ),
                _("Report this to the plugin's author."),
                path=str(path),
            )

        host.call(record, contribution, frame, path, wrap=failed)

    return write


def resolve(kind: Kind, extension: str) -> Callable | None:
    """The resolver the data layer calls: a plugin's reader or writer for ``extension``."""
    return plugin_reader(extension) if kind == "reader" else plugin_writer(extension)


def install() -> None:
    """Let ``citydesk.layers.io`` read and write the formats installed plugins contribute."""
    register_resolver(resolve)
