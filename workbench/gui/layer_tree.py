"""The layer tree dock: a thin view over ``Project.root`` (groups, order, visibility).

Check boxes toggle ``Layer.visible`` / ``GroupNode.visible``; drag and drop reorders, after
which the project's tree is rebuilt from the widget so the model stays the one truth.
"""

from __future__ import annotations

from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtGui import QBrush, QColor
from PyQt5.QtWidgets import QAbstractItemView, QMenu, QStyle, QTreeWidget, QTreeWidgetItem

from citydesk.layers.project import GroupNode, LayerNode, Project

from .i18n import tr

ROLE_ID = Qt.UserRole
ROLE_KIND = Qt.UserRole + 1


class LayerTreeWidget(QTreeWidget):
    visibility_changed = pyqtSignal()
    order_changed = pyqtSignal()
    zoom_to_layer = pyqtSignal(str)
    remove_layer = pyqtSignal(str)
    publish_layer = pyqtSignal(str)  # a file vector layer, to the shared database
    reload_layer = pyqtSignal(str)  # a shared layer: read the table again
    retry_layer = pyqtSignal(str)  # an unavailable layer: try its database again
    forget_layer = pyqtSignal(str)  # an unavailable layer: remove it from the project

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setDragDropMode(QAbstractItemView.InternalMove)
        self.setSelectionMode(QAbstractItemView.SingleSelection)
        self.setContextMenuPolicy(Qt.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.itemChanged.connect(self._on_item_changed)
        self.project: Project | None = None
        self._building = False

    def set_project(self, project: Project) -> None:
        self.project = project
        self._building = True
        self.clear()

        def add(parent_item, group: GroupNode) -> None:
            for child in group.children:
                if isinstance(child, GroupNode):
                    item = QTreeWidgetItem([child.name])
                    item.setData(0, ROLE_KIND, "group")
                    item.setData(0, ROLE_ID, child.name)
                    item.setFlags(item.flags() | Qt.ItemIsUserCheckable | Qt.ItemIsDropEnabled)
                    item.setCheckState(0, Qt.Checked if child.visible else Qt.Unchecked)
                    parent_item.addChild(item)
                    add(item, child)
                    item.setExpanded(child.expanded)
                else:
                    layer = project.layers[child.layer_id]
                    item = QTreeWidgetItem([layer.name])
                    item.setData(0, ROLE_KIND, "layer")
                    item.setData(0, ROLE_ID, layer.id)
                    item.setToolTip(0, f"{layer.id} · {layer.kind} · {layer.role}")
                    flags = (item.flags() | Qt.ItemIsUserCheckable) & ~Qt.ItemIsDropEnabled
                    item.setFlags(flags)
                    item.setCheckState(0, Qt.Checked if layer.visible else Qt.Unchecked)
                    parent_item.addChild(item)

        add(self.invisibleRootItem(), project.root)
        for layer_id, why in project.unreadable.items():
            # a layer the project could not reach: shown, greyed, with the reason; its
            # settings are kept and saved back (try again or remove it from the menu)
            record = next((r for r in project.unreadable_records if r.get("id") == layer_id), {})
            name = str(record.get("name") or layer_id)
            item = QTreeWidgetItem([tr("{name} (unavailable)").format(name=name)])
            item.setData(0, ROLE_KIND, "unavailable")
            item.setData(0, ROLE_ID, layer_id)
            item.setToolTip(0, why)
            item.setForeground(0, QBrush(QColor("#888888")))
            item.setIcon(0, self.style().standardIcon(QStyle.SP_MessageBoxWarning))
            item.setFlags((item.flags() & ~Qt.ItemIsUserCheckable) & ~Qt.ItemIsDropEnabled
                          & ~Qt.ItemIsDragEnabled)  # fmt: skip
            self.insertTopLevelItem(0, item)  # on top, where it is seen
        self._building = False

    def layer_item(self, layer_id: str) -> QTreeWidgetItem | None:
        for item in self._all_items():
            if item.data(0, ROLE_KIND) == "layer" and item.data(0, ROLE_ID) == layer_id:
                return item
        return None

    def _all_items(self):
        stack = [self.invisibleRootItem()]
        while stack:
            node = stack.pop()
            for i in range(node.childCount()):
                child = node.child(i)
                yield child
                stack.append(child)

    def _on_item_changed(self, item: QTreeWidgetItem, _column: int) -> None:
        if self._building or self.project is None:
            return
        visible = item.checkState(0) == Qt.Checked
        if item.data(0, ROLE_KIND) == "layer":
            self.project.layers[item.data(0, ROLE_ID)].visible = visible
        elif item.data(0, ROLE_KIND) == "group":
            self.project.group(item.data(0, ROLE_ID)).visible = visible
        self.visibility_changed.emit()

    def dropEvent(self, event) -> None:
        super().dropEvent(event)
        self.sync_project_from_widget()
        self.order_changed.emit()

    def sync_project_from_widget(self) -> None:
        """Rebuild ``project.root`` from the widget's current order and nesting."""
        groups = {g.name: g for _p, g in self.project.root.walk() if isinstance(g, GroupNode)}

        def build(parent_item) -> list:
            nodes = []
            for i in range(parent_item.childCount()):
                item = parent_item.child(i)
                if item.data(0, ROLE_KIND) == "group":
                    old = groups.get(item.data(0, ROLE_ID))
                    node = GroupNode(
                        item.data(0, ROLE_ID),
                        build(item),
                        visible=old.visible if old else True,
                        expanded=item.isExpanded(),
                    )
                    nodes.append(node)
                elif item.data(0, ROLE_KIND) == "layer":
                    nodes.append(LayerNode(item.data(0, ROLE_ID)))
            return nodes

        self.project.root = GroupNode("", build(self.invisibleRootItem()))

    def set_opacity(self, layer_id: str, percent: int) -> None:
        self.project.layers[layer_id].opacity = max(0, min(100, percent)) / 100
        self.visibility_changed.emit()

    def _ask_opacity(self, layer_id: str) -> None:
        from PyQt5.QtWidgets import QInputDialog

        current = round(self.project.layers[layer_id].opacity * 100)
        value, ok = QInputDialog.getInt(self, tr("Opacity"), tr("Opacity (%)"), current, 0, 100)
        if ok:
            self.set_opacity(layer_id, value)

    def layer_menu(self, layer_id: str, kind: str = "layer") -> QMenu:
        """The context menu of one entry (built apart from showing it, for the tests)."""
        menu = QMenu(self)
        if kind == "unavailable":
            menu.addAction(tr("Try again"), lambda: self.retry_layer.emit(layer_id))
            menu.addAction(tr("Remove from project"), lambda: self.forget_layer.emit(layer_id))
            return menu
        layer = self.project.layers[layer_id] if self.project else None
        menu.addAction(tr("Zoom to layer"), lambda: self.zoom_to_layer.emit(layer_id))
        menu.addAction(tr("Opacity..."), lambda: self._ask_opacity(layer_id))
        if layer is not None and layer.kind == "vector":
            menu.addAction(
                tr("Publish to shared database..."), lambda: self.publish_layer.emit(layer_id)
            )
        if layer is not None and layer.kind == "shared":
            menu.addAction(tr("Reload from the database"), lambda: self.reload_layer.emit(layer_id))
        menu.addAction(tr("Remove layer"), lambda: self.remove_layer.emit(layer_id))
        return menu

    def _menu(self, pos) -> None:
        item = self.itemAt(pos)
        if item is None or item.data(0, ROLE_KIND) not in ("layer", "unavailable"):
            return
        menu = self.layer_menu(item.data(0, ROLE_ID), item.data(0, ROLE_KIND))
        menu.exec_(self.viewport().mapToGlobal(pos))
