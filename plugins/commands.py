"""Menu and toolbar commands contributed by plugins: ``run(context)``, imported when clicked."""

from __future__ import annotations

from .api import Context
from .host import PluginError, PluginHost


def run_command(host: PluginHost, command_id: str, context: Context) -> None:
    """Run a command; plugin code that raises marks its plugin failed and is reported."""
    record, contribution = host.find("commands", command_id)
    function = host.load(record, contribution)
    try:
        function(context)
    except Exception as exc:
        host.fail(record, exc)
        raise PluginError(
            f"command {command_id} of plugin {record.name} failed: {exc}",
            "The plugin is disabled for this session; report it to its author.",
        ) from exc
