"""Plugin indicators joined to scenario comparison, imported only when first computed.

An ``[[indicators]]`` contribution names ``compute = "module:function"``; the function
takes a scenario's per-parcel state (a DataFrame with a ``geometry`` column added, in the
scenario's metric CRS) and returns one number in the declared unit. It is computed for the
city and for each neighbourhood like the built-in ones. If it raises, the scenario still
runs: the indicator is left out with a note and the plugin is marked failed.
"""

from __future__ import annotations

from citydesk.planning.indicators import INDICATORS, Indicator, register_indicator

from .host import PluginHost


def install(host: PluginHost | None = None) -> list[str]:
    """Register every usable plugin's indicators (lazily); returns their keys."""
    host = host or PluginHost()
    keys = []
    for record, contribution in host.contributions("indicators"):
        data = contribution.data

        def compute(state, record=record, contribution=contribution):
            return host.call(record, contribution, state)

        register_indicator(
            Indicator(
                key=contribution.id,
                label=data["label"],
                unit=data["unit"],
                formula=data.get("formula", contribution.target),
                better=data.get("better", ""),
                function=compute,
            )
        )
        keys.append(contribution.id)
    return keys


def uninstall(keys: list[str]) -> None:
    for key in keys:
        INDICATORS.pop(key, None)
