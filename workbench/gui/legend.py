"""The legend dock: what each visible layer's colours mean, in layer-tree order."""

from __future__ import annotations

from PyQt5.QtGui import QColor, QIcon, QPixmap
from PyQt5.QtWidgets import QTreeWidget, QTreeWidgetItem

from citydesk.layers.layer import RasterLayer
from citydesk.layers.project import Project

from .i18n import tr


def _swatch(fill: str, stroke: str) -> QIcon:
    pix = QPixmap(16, 12)
    pix.fill(QColor(0, 0, 0, 0) if fill == "none" else QColor(fill))
    if fill == "none":
        from PyQt5.QtGui import QPainter, QPen

        painter = QPainter(pix)
        painter.setPen(QPen(QColor(stroke), 2))
        painter.drawRect(1, 1, 13, 9)
        painter.end()
    return QIcon(pix)


class LegendWidget(QTreeWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.project: Project | None = None

    def set_project(self, project: Project) -> None:
        self.project = project
        self.refresh()

    def refresh(self) -> None:
        self.clear()
        if self.project is None:
            return
        for layer_id in self.project.layer_order():
            if not self.project.is_visible(layer_id):
                continue
            layer = self.project.layers[layer_id]
            style = layer.style
            top = QTreeWidgetItem([layer.name])
            if isinstance(layer, RasterLayer):
                top.addChild(QTreeWidgetItem([tr("{ramp} colour ramp").format(ramp=style.ramp)]))
            elif style.kind == "categorized":
                for cat in style.categories:
                    child = QTreeWidgetItem([cat.label])
                    child.setIcon(0, _swatch(cat.symbol.fill, cat.symbol.stroke))
                    top.addChild(child)
            elif style.kind == "graduated":
                for cls in style.classes:
                    child = QTreeWidgetItem([cls.label])
                    child.setIcon(0, _swatch(cls.symbol.fill, cls.symbol.stroke))
                    top.addChild(child)
            elif layer.geometry_type == "LineString":
                top.setIcon(0, _swatch(style.symbol.stroke, style.symbol.stroke))
            else:
                top.setIcon(0, _swatch(style.symbol.fill, style.symbol.stroke))
            self.addTopLevelItem(top)
            top.setExpanded(True)
