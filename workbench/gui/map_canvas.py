"""The map canvas: per-layer images rendered in worker threads, composed on the GUI thread.

- A view change (pan, zoom, resize, visibility) starts a new render *generation*; each visible
  layer is prepared (reprojected, converted for Qt) and rendered on a worker thread into its
  own ``QImage``; the GUI thread only composes the finished images.
- Finished images come back through a queued signal; images of an older generation are
  dropped, and the older generation's tokens are cancelled so stale work stops early.
- While the user drags, the last composed image is simply drawn shifted (instant pan), and
  re-rendering starts once the mouse is released.
- Geometry is converted to Qt once per layer and CRS (``geometry_cache``), never per paint.
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor

import shapely
from PyQt5.QtCore import (
    QObject,
    QPoint,
    QPointF,
    QRectF,
    Qt,
    QTimer,
    pyqtSignal,
)
from PyQt5.QtGui import QColor, QImage, QPainter, QPen, QPolygonF
from PyQt5.QtWidgets import QWidget

from citydesk.layers.errors import CityDeskError
from citydesk.layers.layer import RasterLayer, VectorLayer
from citydesk.layers.measure import measure_path
from citydesk.layers.project import Project

from .renderer import CancelToken, View, prepare_vector, render_raster, render_vector

RENDER_WORKERS = 2


#: a selection with more shapes than this is drawn into a picture off the GUI thread, once
#: per view, instead of on every repaint (13k selected parcels took 50-150 ms per repaint)
BIG_HIGHLIGHT = 2000


class _Signals(QObject):
    done = pyqtSignal(int, str, object)  # generation, layer id, QImage or None
    failed = pyqtSignal(str, str)  # layer id, message
    highlight_done = pyqtSignal(object, object, object)  # shapes, view, QImage


def _paint_highlight(painter: QPainter, shapes: list, upp: float, antialias: bool) -> None:
    """The selection's look: one implementation for the live overlay and the picture."""
    painter.setRenderHint(QPainter.Antialiasing, antialias)
    pen = QPen(QColor(230, 180, 0), 1.2)
    pen.setCosmetic(True)
    painter.setPen(pen)
    painter.setBrush(QColor(255, 235, 59, 150))
    for shape in shapes:
        if isinstance(shape, QPolygonF):
            painter.drawPolygon(shape)
        elif isinstance(shape, QPointF):
            painter.drawEllipse(shape, 4 * upp, 4 * upp)
        else:
            painter.drawPath(shape)


def _highlight_picture(shapes: list, view: View) -> QImage:
    """A big selection drawn for ``view`` (on a render worker; QPainter on a QImage is
    allowed off the GUI thread). Without antialiasing: at that density the difference is
    invisible and it takes a quarter of the time."""
    image = QImage(view.width, view.height, QImage.Format_ARGB32_Premultiplied)
    image.fill(Qt.transparent)
    painter = QPainter(image)
    painter.setTransform(view.transform())
    _paint_highlight(painter, shapes, view.units_per_pixel, antialias=False)
    painter.end()
    return image


class _RenderTask:
    """Prepare (first time only) and paint one layer; runs on a worker thread."""

    def __init__(self, generation, layer, prepare, view, token, signals):
        self.generation, self.layer, self.prepare = generation, layer, prepare
        self.view, self.token, self.signals = view, token, signals

    def run(self) -> None:
        try:
            self.prepared = self.prepare(self.layer, self.view)
            if self.token.canceled:
                return
            if isinstance(self.layer, RasterLayer):
                image = render_raster(self.prepared, self.view, self.token)
            else:
                cache, colors, labels = self.prepared
                image = render_vector(
                    self.layer, cache, colors, self.view, self.token, labels=labels
                )
        except CityDeskError as exc:  # a layer's database is down, ...: its own message
            self.signals.failed.emit(self.layer.id, exc.message)
            return
        except Exception as exc:  # a broken layer must not take the canvas down
            self.signals.failed.emit(self.layer.id, f"{type(exc).__name__}: {exc}")
            return
        if not self.token.canceled:
            self.signals.done.emit(self.generation, self.layer.id, image)


class MapCanvas(QWidget):
    """Shows a :class:`~citydesk.layers.project.Project`; emits map coordinates under the cursor."""

    coordinates_changed = pyqtSignal(float, float)
    clicked = pyqtSignal(float, float, bool)  # map x, y, shift held (identify / select)
    tapped = pyqtSignal(float, float)  # a click with the Pan tool (no drag): map x, y
    area_drawn = pyqtSignal(object, bool)  # shapely geometry (box or polygon), shift held
    measured = pyqtSignal(float, float)  # length and area in metres / square metres
    scale_changed = pyqtSignal(float)
    render_finished = pyqtSignal()
    layer_failed = pyqtSignal(str, str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.StrongFocus)
        self.setMinimumSize(200, 150)
        self.project: Project | None = None
        self._center = QPointF(0, 0)
        self._upp = 1.0  # map units per pixel
        self._prepared: dict[str, object] = {}
        self._images: dict[str, QImage] = {}
        self._composed: QImage | None = None
        self._composed_view: View | None = None
        self._generation = 0
        self._tokens: list[CancelToken] = []
        self._pending: set[str] = set()
        self._drag_start: QPoint | None = None
        self._drag_offset = QPoint(0, 0)
        self._signals = _Signals()
        self._signals.done.connect(self._on_layer_done, Qt.QueuedConnection)
        self._signals.failed.connect(self._on_layer_failed, Qt.QueuedConnection)
        self._signals.highlight_done.connect(self._on_highlight_done, Qt.QueuedConnection)
        self._timer = QTimer(self, singleShot=True, interval=30)
        self._timer.timeout.connect(self.refresh)
        # Python threads, not QThreadPool: preparing a layer reprojects it, and pyproj crashes
        # in threads started by Qt (see workbench/gui/tasks.py).
        self.pool = ThreadPoolExecutor(
            max_workers=RENDER_WORKERS, thread_name_prefix="citydesk-render"
        )
        self._prepare_lock = threading.Lock()
        self.tool = "pan"  # pan, identify, select, select_polygon, measure, report
        self._band: list[QPointF] = []  # rubber band vertices, in map units
        self._band_start: QPointF | None = None
        self.highlight: list = []  # Qt shapes of selected features, in map units
        # a big highlight's picture and the view it was drawn for (see BIG_HIGHLIGHT)
        self._highlight_image: tuple[View, QImage] | None = None
        self._highlight_asked: View | None = None
        # live markers (the dispatch desk's cases): points in map units with their colours,
        # drawn over the layers on the GUI thread so a refresh never waits for a render
        self.markers: list[tuple[QPointF, QColor]] = []
        self.marked: QPointF | None = None  # the case whose card is open
        self.route: QPolygonF | None = None  # a crew's route, in map units

    # --- project and view ------------------------------------------------------------------
    def set_project(self, project: Project) -> None:
        self.project = project
        self._prepared.clear()
        self._images.clear()
        self.zoom_to_extent(project.extent)

    def current_view(self) -> View:
        w, h = max(1, self.width()), max(1, self.height())
        half_w, half_h = w * self._upp / 2, h * self._upp / 2
        c = self._center
        return View((c.x() - half_w, c.y() - half_h, c.x() + half_w, c.y() + half_h), w, h)

    def zoom_to_extent(self, extent) -> None:
        if not extent or any(not math.isfinite(v) for v in extent):
            return
        x0, y0, x1, y1 = extent
        w, h = max(1, self.width()), max(1, self.height())
        self._center = QPointF((x0 + x1) / 2, (y0 + y1) / 2)
        self._upp = max((x1 - x0) / w, (y1 - y0) / h, 1e-9) * 1.05
        self.schedule_refresh()

    def zoom_full(self) -> None:
        if self.project:
            self.zoom_to_extent(self.project.extent)

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom by ``factor`` (>1 zooms in) keeping ``anchor`` (pixel) fixed on the map."""
        if anchor is not None:
            before = self.to_map(anchor)
        self._upp /= factor
        if anchor is not None:
            after = self.to_map(anchor)
            self._center += before - after
        self.schedule_refresh()

    def pan_pixels(self, dx: float, dy: float) -> None:
        self._center += QPointF(-dx * self._upp, dy * self._upp)
        self.schedule_refresh()

    def to_map(self, pixel: QPointF) -> QPointF:
        view = self.current_view()
        x0, _y0, _x1, y1 = view.extent
        return QPointF(x0 + pixel.x() * self._upp, y1 - pixel.y() * self._upp)

    def scale_denominator(self, dpi: float = 96.0) -> float:
        """The map scale 1:N at the screen's resolution (CRS units converted to metres)."""
        crs = self.project.crs if self.project else None
        unit_m = (
            1.0
            if crs is None or crs.is_geographic
            else float(crs.axis_info[0].unit_conversion_factor)
        )
        if crs is not None and crs.is_geographic:
            unit_m = 111_320 * math.cos(math.radians(self._center.y()))
        return self._upp * unit_m / (0.0254 / dpi)

    # --- rendering -------------------------------------------------------------------------
    def schedule_refresh(self) -> None:
        self.scale_changed.emit(self.scale_denominator())
        self._timer.start()
        self.update()

    def _prepare(self, layer, view: View | None = None):
        """Per-layer data in the project CRS, converted for Qt once (cached). Called from
        render workers; the lock keeps two renders from preparing the same layer twice.
        A shared (PostGIS) layer not read whole is fetched for the ``view`` only, through
        its spatial index, each time (its features may change under us)."""
        if view is not None and layer.kind == "shared" and not layer.loaded:
            style = layer.style
            wanted = [
                f for f in dict.fromkeys((style.field, style.label_field)) if f in layer.fields
            ]
            frame = layer.fetch(view.extent, self.project.crs, columns=wanted)
            return prepare_vector(layer, self.project.crs, frame)
        with self._prepare_lock:
            if layer.id in self._prepared:
                return self._prepared[layer.id]
            prepared = self._build_prepared(layer)
            self._prepared[layer.id] = prepared
            return prepared

    def _build_prepared(self, layer):
        if isinstance(layer, VectorLayer):
            prepared = prepare_vector(layer, self.project.crs)
        else:
            from citydesk.layers.raster_ops import reproject_raster

            prepared = reproject_raster(layer, self.project.crs)
        return prepared

    def geometry_of(self, layer: VectorLayer, frame):
        """A geometry cache of some of a layer's features (in the project CRS), not kept:
        the selected features of a shared layer that was not read whole."""
        return prepare_vector(layer, self.project.crs, frame)[0]

    def prepared_geometry(self, layer: VectorLayer):
        """The layer's geometry cache in the project CRS (built on first use)."""
        return self._prepare(layer)[0]

    def invalidate_layer(self, layer_id: str) -> None:
        """Call after a layer's data or style changed."""
        self._prepared.pop(layer_id, None)
        self._images.pop(layer_id, None)
        self.schedule_refresh()

    def refresh(self) -> None:
        if self.project is None:
            return
        for token in self._tokens:
            token.cancel()
        self._tokens = []
        self._generation += 1
        view = self.current_view()
        self._render_view = view
        layers = self.project.drawing_order()
        self._pending = {layer.id for layer in layers}
        self._images = {}
        if not layers:
            self._compose()
            return
        for layer in layers:
            token = CancelToken()
            self._tokens.append(token)
            task = _RenderTask(self._generation, layer, self._prepare, view, token, self._signals)
            self.pool.submit(task.run)

    def _on_layer_failed(self, layer_id: str, message: str) -> None:
        self._pending.discard(layer_id)
        if not self._pending:
            self._compose()
        self.layer_failed.emit(layer_id, message)

    def _on_layer_done(self, generation: int, layer_id: str, image) -> None:
        if generation != self._generation:
            return  # a newer view superseded this render
        if image is not None:
            self._images[layer_id] = image
        self._pending.discard(layer_id)
        if not self._pending:
            self._compose()

    def _compose(self) -> None:
        view = self._render_view
        composed = QImage(view.width, view.height, QImage.Format_ARGB32_Premultiplied)
        composed.fill(QColor("white"))
        painter = QPainter(composed)
        for layer in self.project.drawing_order():
            image = self._images.get(layer.id)
            if image is not None:
                painter.setOpacity(layer.opacity)
                painter.drawImage(0, 0, image)
        painter.end()
        self._composed, self._composed_view = composed, view
        self._drag_offset = QPoint(0, 0)
        self._ask_highlight(view)
        self.update()
        self.render_finished.emit()

    def is_rendering(self) -> bool:
        return bool(self._pending) or self._timer.isActive()

    def grab_map(self) -> QImage:
        return self._composed.copy() if self._composed is not None else QImage()

    # --- painting and interaction ----------------------------------------------------------
    def _place(self, painter: QPainter, drawn: View, image: QImage) -> None:
        """Draw ``image``, made for the view ``drawn``, where it belongs in the current view:
        this makes panning and zooming show instantly while the new render runs."""
        new = self.current_view()
        scale = drawn.units_per_pixel / new.units_per_pixel
        ox = (drawn.extent[0] - new.extent[0]) / new.units_per_pixel
        oy = (new.extent[3] - drawn.extent[3]) / new.units_per_pixel
        painter.translate(ox + self._drag_offset.x(), oy + self._drag_offset.y())
        painter.scale(scale, scale)
        painter.drawImage(0, 0, image)
        painter.resetTransform()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("white"))
        if self._composed is not None and self._composed_view is not None:
            self._place(painter, self._composed_view, self._composed)
        self._draw_overlays(painter)
        self._draw_scale_bar(painter)
        painter.end()

    def _ask_highlight(self, view: View) -> None:
        """Have a big selection drawn for ``view`` on a render worker, unless it is drawn or
        being drawn for it already."""
        if len(self.highlight) <= BIG_HIGHLIGHT or self._highlight_asked == view:
            return
        if self._highlight_image is not None and self._highlight_image[0] == view:
            return
        self._highlight_asked = view
        shapes, signals = self.highlight, self._signals

        def draw() -> None:
            signals.highlight_done.emit(shapes, view, _highlight_picture(shapes, view))

        self.pool.submit(draw)

    def _on_highlight_done(self, shapes: list, view: View, image: QImage) -> None:
        if shapes is not self.highlight:
            return  # the selection changed meanwhile; its own picture is on the way
        if self._highlight_asked is not None and view != self._highlight_asked:
            # two workers: an older view's picture can arrive after the newer one's request
            # (or even after its answer); it only fills in until the newer picture comes
            if self._highlight_image is None:
                self._highlight_image = (view, image)
                self.update()
            return
        if view == self._highlight_asked:
            self._highlight_asked = None
        elif self._highlight_image is not None and self._highlight_image[0] != view:
            return  # the newer view's picture arrived first: keep it
        self._highlight_image = (view, image)
        self.update()

    def _draw_overlays(self, painter: QPainter) -> None:
        """Selection highlight and rubber bands, drawn on the GUI thread (a big selection as
        a picture drawn on a worker)."""
        view = self.current_view()
        if len(self.highlight) > BIG_HIGHLIGHT and self._highlight_image is not None:
            self._place(painter, *self._highlight_image)
        painter.save()
        painter.setTransform(view.transform())
        if 0 < len(self.highlight) <= BIG_HIGHLIGHT:
            _paint_highlight(painter, self.highlight, self._upp, antialias=True)
        if self.route is not None:
            pen = QPen(QColor(21, 101, 192, 220), 4)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(Qt.NoBrush)
            painter.drawPolyline(self.route)
        if self.markers:
            # cases are diamonds with a white halo: told apart at a glance from the round
            # point symbols of data layers (the demo's 6,700 crash dots, issue 20)
            r = 6.5 * self._upp
            halo = QPen(QColor(255, 255, 255), 3.5)
            halo.setCosmetic(True)
            edge = QPen(QColor(20, 20, 20), 1.2)
            edge.setCosmetic(True)
            for point, colour in self.markers:
                x, y = point.x(), point.y()
                diamond = QPolygonF(
                    [QPointF(x, y - r), QPointF(x + r, y), QPointF(x, y + r), QPointF(x - r, y)]
                )
                painter.setPen(halo)
                painter.setBrush(Qt.NoBrush)
                painter.drawPolygon(diamond)
                painter.setPen(edge)
                painter.setBrush(colour)
                painter.drawPolygon(diamond)
        if self.marked is not None:
            pen = QPen(QColor(0, 0, 0), 2.5)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(Qt.NoBrush)
            painter.drawEllipse(self.marked, 9 * self._upp, 9 * self._upp)
        if self._band:
            pen = QPen(QColor(220, 40, 40), 1.5, Qt.DashLine)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(QColor(220, 40, 40, 40))
            if self.tool in ("select", "zoom_box") and len(self._band) == 2:
                a, b = self._band
                painter.drawRect(QRectF(a, b).normalized())
            elif len(self._band) > 1:
                painter.drawPolyline(QPolygonF(self._band))
        painter.restore()

    def _draw_scale_bar(self, painter: QPainter) -> None:
        if self.project is None or self.project.crs.is_geographic:
            return
        unit_m = float(self.project.crs.axis_info[0].unit_conversion_factor)
        from citydesk.layers.mapplot import nice_scale_length

        width_m = self.width() * self._upp * unit_m
        if width_m <= 0:
            return
        length_m = nice_scale_length(width_m)
        px = length_m / unit_m / self._upp
        x, y = 16, self.height() - 18
        painter.setPen(QPen(QColor("black"), 3))
        painter.drawLine(QPointF(x, y), QPointF(x + px, y))
        label = f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:g} m"
        painter.setPen(QColor("black"))
        painter.drawText(QPointF(x + px / 2 - 12, y - 6), label)
        # north arrow
        nx, ny = self.width() - 24, 20
        painter.drawLine(QPointF(nx, ny + 26), QPointF(nx, ny))
        painter.drawLine(QPointF(nx, ny), QPointF(nx - 5, ny + 8))
        painter.drawLine(QPointF(nx, ny), QPointF(nx + 5, ny + 8))
        painter.drawText(QPointF(nx - 4, ny + 40), "N")

    def resizeEvent(self, event) -> None:
        self.schedule_refresh()

    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() / 120
        self.zoom_by(1.25**steps, QPointF(event.pos()))

    def set_tool(self, tool: str) -> None:
        self.tool = tool
        self._band = []
        self.setCursor(Qt.OpenHandCursor if tool == "pan" else Qt.CrossCursor)
        self.update()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.RightButton and self.tool in ("select_polygon", "measure"):
            self._finish_band(bool(event.modifiers() & Qt.ShiftModifier))
            return
        if event.button() != Qt.LeftButton:
            return
        point = self.to_map(QPointF(event.pos()))
        if self.tool == "pan":
            self._drag_start = event.pos()
        elif self.tool in ("select", "zoom_box"):
            self._band_start = point
            self._band = [point, point]
        elif self.tool in ("select_polygon", "measure"):
            self._band = [*self._band[:-1], point, point] if self._band else [point, point]
            self._emit_measure()
        self.update()

    def mouseDoubleClickEvent(self, event) -> None:
        if self.tool in ("select_polygon", "measure"):
            self._finish_band(bool(event.modifiers() & Qt.ShiftModifier))

    def mouseMoveEvent(self, event) -> None:
        p = self.to_map(QPointF(event.pos()))
        self.coordinates_changed.emit(p.x(), p.y())
        if self._drag_start is not None:
            self._drag_offset = event.pos() - self._drag_start
            self.update()  # instant: the cached image moves, nothing re-renders
        elif self._band:
            self._band[-1] = p
            if self.tool == "measure":
                self._emit_measure()
            self.update()

    def mouseReleaseEvent(self, event) -> None:
        shift = bool(event.modifiers() & Qt.ShiftModifier)
        if event.button() != Qt.LeftButton:
            return
        if self._drag_start is not None:
            delta = event.pos() - self._drag_start
            self._drag_start = None
            offset = self._drag_offset
            self._drag_offset = QPoint(0, 0)
            if delta.manhattanLength() > 0:
                self._center += QPointF(-offset.x() * self._upp, offset.y() * self._upp)
                self.schedule_refresh()
            if delta.manhattanLength() < 4:  # a click, not a drag: a case under it opens
                point = self.to_map(QPointF(event.pos()))
                self.tapped.emit(point.x(), point.y())
            return
        point = self.to_map(QPointF(event.pos()))
        if self.tool in ("identify", "report"):  # report: a new case at the click
            self.clicked.emit(point.x(), point.y(), shift)
        elif self.tool in ("select", "zoom_box") and self._band_start is not None:
            start, self._band_start = self._band_start, None
            self._band = []
            is_click = (QPointF(event.pos()) - self.to_pixel(start)).manhattanLength() < 4
            if self.tool == "zoom_box":
                if is_click:
                    self.zoom_by(2.0, QPointF(event.pos()))
                else:
                    self.zoom_to_extent(
                        (
                            min(start.x(), point.x()),
                            min(start.y(), point.y()),
                            max(start.x(), point.x()),
                            max(start.y(), point.y()),
                        )
                    )
            elif is_click:
                self.clicked.emit(point.x(), point.y(), shift)
            else:
                area = shapely.box(
                    min(start.x(), point.x()),
                    min(start.y(), point.y()),
                    max(start.x(), point.x()),
                    max(start.y(), point.y()),
                )
                self.area_drawn.emit(area, shift)
            self.update()

    def _finish_band(self, shift: bool) -> None:
        points = [(p.x(), p.y()) for p in self._band[:-1]]
        if self.tool == "select_polygon" and len(points) >= 3:
            self.area_drawn.emit(shapely.Polygon(points), shift)
        if self.tool == "measure":
            self._emit_measure(final=True)
        self._band = []
        self.update()

    def _emit_measure(self, final: bool = False) -> None:
        pts = [(p.x(), p.y()) for p in (self._band if not final else self._band[:-1])]
        if len(pts) >= 2 and self.project is not None:
            length, area = measure_path(pts, self.project.crs)
            self.measured.emit(length, area)

    def to_pixel(self, point: QPointF) -> QPointF:
        x0, _y0, _x1, y1 = self.current_view().extent
        return QPointF((point.x() - x0) / self._upp, (y1 - point.y()) / self._upp)

    def set_markers(self, markers: list[tuple[QPointF, QColor]]) -> None:
        self.markers = markers
        self.update()

    def set_marked(self, point: QPointF | None) -> None:
        self.marked = point
        self.update()

    def set_route(self, route: QPolygonF | None) -> None:
        self.route = route
        self.update()

    def set_highlight(self, shapes: list) -> None:
        self.highlight = shapes
        self._highlight_image = None
        self._highlight_asked = None
        self._ask_highlight(self._composed_view or self.current_view())
        self.update()

    def pick_tolerance(self, pixels: float = 4.0) -> float:
        return pixels * self._upp

    def keyPressEvent(self, event) -> None:
        step = 60
        moves = {
            Qt.Key_Left: (step, 0),
            Qt.Key_Right: (-step, 0),
            Qt.Key_Up: (0, step),
            Qt.Key_Down: (0, -step),
        }
        if event.key() in moves:
            self.pan_pixels(*moves[event.key()])
        elif event.key() in (Qt.Key_Plus, Qt.Key_Equal):
            self.zoom_by(1.5)
        elif event.key() == Qt.Key_Minus:
            self.zoom_by(1 / 1.5)
        else:
            super().keyPressEvent(event)
