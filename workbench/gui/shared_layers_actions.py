"""What the window does with shared (PostGIS) layers: add, publish, reload, edit, and the
layers a project could not reach when it opened (try again, or remove them).

Kept out of :mod:`.main_window` so that file stays about the window; the work itself is in
``citydesk.layers.shared_*``.
"""

from __future__ import annotations

import logging

from citydesk.layers.layer import VectorLayer

from .i18n import tr

log = logging.getLogger(__name__)


class SharedLayerActions:
    def __init__(self, window) -> None:
        self.window = window

    @property
    def project(self):
        return self.window.project

    def _layers_changed(self) -> None:
        w = self.window
        w.layer_tree.set_project(self.project)
        w.legend.set_project(self.project)
        w.canvas.schedule_refresh()

    # --- add and publish -------------------------------------------------------------------
    def add_dialog(self, run: bool = True):
        from .shared_layers_dialog import SharedLayersDialog

        if self.project is None:
            self.window.new_project()
        dialog = SharedLayersDialog(self.window)
        if run:
            dialog.exec_()
        return dialog

    def add_layer(self, layer) -> str:
        self.project.add_layer(layer)
        self._layers_changed()
        return layer.id

    def publish_dialog(self, layer_id: str, run: bool = True):
        from .shared_layers_dialog import PublishDialog

        dialog = PublishDialog(self.window, self.project.layers[layer_id])
        if run:
            dialog.exec_()
        return dialog

    def publish(self, layer_id: str, url: str, options, use_shared: bool, on_done=None):
        """Publish in the background; then, if asked, the project uses the shared table in
        the layer's place (same id, style and place in the tree)."""
        from citydesk.layers.shared_layer import shared_in_place_of
        from citydesk.layers.shared_publish import publish

        layer = self.project.layers[layer_id]

        def work(feedback):
            entry = publish(layer, url, options, feedback)
            shared = shared_in_place_of(layer, url, entry.table) if use_shared else None
            return entry, shared

        def done(result) -> None:
            entry, shared = result
            if shared is not None and self.project.layers.get(layer_id) is layer:
                self.project.layers[layer_id] = shared
                self.window.canvas.invalidate_layer(layer_id)
                self._layers_changed()
            self.window.statusBar().showMessage(
                tr("Published {name} as {table}: {n} features.").format(
                    name=layer.name, table=entry.table, n=entry.feature_count
                ),
                10000,
            )
            if on_done is not None:
                on_done(entry)

        return self.window.tasks.start(
            tr("Publishing {name}").format(name=layer.name), work, on_done=done
        )

    # --- keeping up with the database ------------------------------------------------------
    def data_changed(self, layer_id: str) -> None:
        """After an edit: the canvas and any open attribute table read the table again."""
        layer = self.project.layers.get(layer_id)
        if layer is not None and layer.kind == "shared":
            layer.forget()
        self.window.canvas.invalidate_layer(layer_id)
        dock = self.window.tables.pop(layer_id, None)
        if dock is not None:  # reopened on the new data when asked for
            dock.close()
            dock.deleteLater()

    def reload(self, layer_id: str):
        """Read the table's description, extent and count again (others' edits)."""
        layer = self.project.layers[layer_id]

        def done(_result) -> None:
            self.data_changed(layer_id)
            self._layers_changed()

        return self.window.tasks.start(
            tr("Reloading {name}").format(name=layer.name),
            lambda _feedback: layer.refresh(),
            on_done=done,
        )

    def retry(self, layer_id: str):
        """Try an unavailable shared layer again (its server may be back)."""
        from citydesk.layers.project_store import shared_layer_of_record

        record = next((r for r in self.project.unreadable_records if r.get("id") == layer_id), None)
        if record is None:
            return None

        def done(layer) -> None:
            self.project.unreadable.pop(layer_id, None)
            self.project.unreadable_records.remove(record)
            self.project.add_layer(layer)
            self._layers_changed()

        return self.window.tasks.start(
            tr("Connecting {id} again").format(id=layer_id),
            lambda _feedback: shared_layer_of_record(record),
            on_done=done,
        )

    def remove_unavailable(self, layer_id: str, ask: bool = True) -> None:
        from .shared_layers_dialog import confirm_unavailable

        why = self.project.unreadable.get(layer_id, "")
        if ask and not confirm_unavailable(self.window, layer_id, why):
            return
        self.project.unreadable.pop(layer_id, None)
        self.project.unreadable_records[:] = [
            r for r in self.project.unreadable_records if r.get("id") != layer_id
        ]
        self._layers_changed()

    # --- edits -----------------------------------------------------------------------------
    def edit_feature(self, layer_id: str, key, run: bool = True):
        from .shared_layers_dialog import FeatureEditDialog

        layer = self.project.layers.get(layer_id)
        if not isinstance(layer, VectorLayer) or layer.kind != "shared":
            return None
        dialog = FeatureEditDialog(self.window, layer, key)
        if run:
            dialog.exec_()
        return dialog
