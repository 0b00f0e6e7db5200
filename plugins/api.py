"""The host API plugins may use: small, versioned, and the same with or without a GUI.

A plugin's algorithm receives a :class:`Context`; a command or panel receives the same
object. It is all a plugin gets: never the main window (QGIS hands plugins its whole
``iface``, and they break when the window changes). What it offers:

* the current project: its path, its layer ids, a layer as a GeoDataFrame, the selection;
* add a layer (written into the project when the run finishes, all or nothing);
* push a message (the CLI prints it, the workbench shows it in the message bar);
* register a panel (the workbench docks it; headless, the request is kept).

**Versioning.** ``API_VERSION`` follows semantic versioning. Additions bump the minor
number; a removal or an incompatible change bumps the major number, and the old form keeps
working with a ``DeprecationWarning`` for at least one minor release of CityDesk before it
goes. A plugin states the CityDesk versions it supports in ``requires-citydesk``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _

API_VERSION = "1.0"


@dataclass
class NewLayer:
    frame: gpd.GeoDataFrame
    layer_id: str
    name: str
    group: str


@dataclass
class Context:
    project_path: Path | None = None
    selected: dict[str, list] = field(default_factory=dict)  # layer id -> selected row ids
    on_message: Callable[[str, str], None] | None = None
    on_panel: Callable[[str, Callable], None] | None = None
    new_layers: list[NewLayer] = field(default_factory=list)
    messages: list[tuple[str, str]] = field(default_factory=list)
    panels: list[tuple[str, Callable]] = field(default_factory=list)
    api_version: str = API_VERSION

    # -- the project ----------------------------------------------------------------------
    def _project(self) -> Path:
        if self.project_path is None:
            raise CityDeskError(
                _("this needs a project"),
                _("Give --project PROJECT.gpkg (or open one)."),
                gui_fix=_("Open or save a project first."),
            )
        return Path(self.project_path)

    def layer_ids(self) -> list[str]:
        from citydesk.layers.readers.vector import list_vector_layers

        return [name for name, _kind in list_vector_layers(self._project())]

    def read_layer(self, layer_id: str) -> gpd.GeoDataFrame:
        """A vector layer of the project, in its stored CRS."""
        from citydesk.layers.io import read_frame

        return read_frame(self._project(), layer_id)[0]

    def selection(self, layer_id: str) -> list:
        """The selected feature ids of a layer (empty headless unless given)."""
        return list(self.selected.get(layer_id, []))

    # -- changes --------------------------------------------------------------------------
    def add_layer(
        self, frame: gpd.GeoDataFrame, layer_id: str, name: str | None = None, group: str = ""
    ) -> str:
        """Queue a layer; it is written into the project when the run succeeds."""
        if not isinstance(frame, gpd.GeoDataFrame):
            raise TypeError("add_layer needs a GeoDataFrame")
        self.new_layers.append(NewLayer(frame, layer_id, name or layer_id, group))
        return layer_id

    def push_message(self, text: str, level: str = "info") -> None:
        self.messages.append((level, text))
        if self.on_message is not None:
            self.on_message(level, text)

    def register_panel(self, title: str, factory: Callable) -> None:
        """Ask for a dock panel; ``factory(parent)`` builds the widget (GUI only)."""
        self.panels.append((title, factory))
        if self.on_panel is not None:
            self.on_panel(title, factory)
