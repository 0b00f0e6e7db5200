"""Menu and toolbar commands contributed by plugins: ``run(context)``, imported when clicked."""

from __future__ import annotations

from citydesk.layers.i18n import _

from .api import Context
from .host import PluginError, PluginHost


def run_command(host: PluginHost, command_id: str, context: Context) -> None:
    """Run a command; plugin code that raises marks its plugin failed and is reported."""
    record, contribution = host.find("commands", command_id)

    def failed(exc: Exception) -> PluginError:
        return PluginError(
            _("command {id} of plugin {name} failed: {err}").format(
                id=command_id, name=record.name, err=exc
            ),
            _("The plugin is disabled for this session; report it to its author."),
        )

    host.call(record, contribution, context, wrap=failed)
