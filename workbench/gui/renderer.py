"""Render one layer into a QImage, off the GUI thread, cancellable.

Follows the way QGIS draws: a layer is painted into its own image with the world->pixel
transform set once on the painter, visible features found through the spatial index, features
grouped by colour so the painter changes brush rarely, and antialiasing applied per polygon
(a single huge antialiased path is 20-40x slower).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from PyQt5.QtCore import QPointF, QRectF, Qt
from PyQt5.QtGui import (
    QBrush,
    QColor,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
    QTransform,
)

from citydesk.layers.layer import RasterLayer, VectorLayer
from citydesk.layers.style import color_for_values

from .geometry_cache import GeometryCache, build_cache

MM_TO_PX = 96 / 25.4


@dataclass(frozen=True)
class View:
    """What the canvas shows: map extent and pixel size (extent matches the aspect ratio)."""

    extent: tuple[float, float, float, float]
    width: int
    height: int

    @property
    def units_per_pixel(self) -> float:
        return (self.extent[2] - self.extent[0]) / max(1, self.width)

    def transform(self) -> QTransform:
        x0, y0, x1, y1 = self.extent
        sx = self.width / (x1 - x0)
        sy = self.height / (y1 - y0)
        return QTransform(sx, 0, 0, -sy, -x0 * sx, y1 * sy)


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def canceled(self) -> bool:
        return self._event.is_set()


def _qcolor(hex_color: str, alpha: float = 1.0) -> QColor:
    if hex_color == "none":
        return QColor(0, 0, 0, 0)
    c = QColor(hex_color)
    c.setAlphaF(alpha)
    return c


def feature_colors(layer: VectorLayer, frame) -> np.ndarray:
    style = layer.style
    values = frame[style.field] if style.field and style.field in frame.columns else None
    return np.asarray(color_for_values(style, values, len(frame)), dtype=object)


def prepare_vector(layer: VectorLayer, crs, frame=None) -> tuple[GeometryCache, np.ndarray, Any]:
    """What drawing ``layer`` in ``crs`` needs: its geometry cache, a colour per feature and
    its label texts (None without a label field). From the layer's own arrays and attribute
    table, so a layer read from a file is drawn without building shapely geometry; or from
    ``frame`` (some features fetched for a view, already in ``crs``)."""
    kind = {"Polygon": "polygon", "LineString": "line", "Point": "point"}.get(
        layer.geometry_type, "polygon"
    )
    field = layer.style.label_field
    if frame is None:  # only the columns drawn with: the rest may not be read yet
        drawn = [f for f in (layer.style.field, field) if f]
        geometry, table = layer.drawing_geometry(crs), layer.columns(drawn)
    else:
        geometry, table = frame.geometry.values, frame
    labels = table[field].to_numpy() if field and field in table.columns else None
    return build_cache(geometry, kind), feature_colors(layer, table), labels


def render_vector(
    layer: VectorLayer,
    cache: GeometryCache,
    colors: np.ndarray,
    view: View,
    token: CancelToken,
    antialias: bool = True,
    labels: np.ndarray | None = None,
) -> QImage | None:
    """The features of ``cache`` in ``view``; ``labels`` are the label texts of the cache's
    features (default: the layer's label field, for a cache of all its features)."""
    image = QImage(view.width, view.height, QImage.Format_ARGB32_Premultiplied)
    image.fill(Qt.transparent)
    idx = cache.visible(view.extent)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.Antialiasing, antialias)
        style = layer.style
        stroke = _qcolor(style.symbol.stroke)
        width_px = max(0.0, style.symbol.stroke_width * MM_TO_PX)
        if cache.kind == "point":
            pts = cache.points[idx]
            tf = view.transform()
            size = style.symbol.size * MM_TO_PX
            pen = QPen(stroke, max(0.5, width_px))
            painter.setPen(pen)
            for color in np.unique(colors[idx]):
                painter.setBrush(QBrush(_qcolor(color)))
                for x, y in pts[colors[idx] == color]:
                    p = tf.map(QPointF(x, y))
                    painter.drawEllipse(p, size / 2, size / 2)
                if token.canceled:
                    return None
            return image
        upp = view.units_per_pixel
        # in chunks: whole-array temporaries for 500k features cost ~90 MiB of peak memory
        small = np.zeros(len(idx), dtype=bool)
        for a in range(0, len(idx), SPLAT_CHUNK):
            part = idx[a : a + SPLAT_CHUNK]
            small[a : a + SPLAT_CHUNK] = cache.sizes_in_pixels(part, upp) < TINY_PX
        if small.any():
            painter.end()
            tiny = idx[small]
            for a in range(0, len(tiny), SPLAT_CHUNK):
                part = tiny[a : a + SPLAT_CHUNK]
                _splat(image, cache.bounds[part], colors[part], view, style)
            painter.begin(image)
            painter.setRenderHint(QPainter.Antialiasing, antialias)
        idx = idx[~small]
        cache.ensure(idx)
        if token.canceled:
            return None
        painter.setTransform(view.transform())
        if cache.kind == "line":
            painter.setBrush(Qt.NoBrush)
            for color in np.unique(colors[idx]) if style.kind != "single" else [None]:
                pen = QPen(stroke if color is None else _qcolor(color), max(0.6, width_px))
                pen.setCosmetic(True)
                painter.setPen(pen)
                members = idx if color is None else idx[colors[idx] == color]
                for n, i in enumerate(members):
                    for part in cache.shapes(i):
                        painter.drawPolyline(part)
                    if n % 2000 == 0 and token.canceled:
                        return None
            return image
        outlined = width_px > 0 and style.symbol.stroke != "none"
        pen = QPen(stroke, width_px) if outlined else QPen(Qt.NoPen)
        pen.setCosmetic(True)
        for color in np.unique(colors[idx]):
            members = idx[colors[idx] == color]
            brush = QBrush(_qcolor(color)) if color != "none" else QBrush(Qt.NoBrush)
            if outlined and color != "none":
                # the fill's edge lies under the antialiased outline, so the fill is drawn
                # without antialiasing (the same picture; antialiasing the fill of a parcel
                # with a thousand holes was most of the demo's first map, issue 22), then the
                # outlines on top
                painter.setRenderHint(QPainter.Antialiasing, False)
                if not _draw_shapes(painter, cache, members, QPen(Qt.NoPen), brush, token):
                    return None
                painter.setRenderHint(QPainter.Antialiasing, antialias)
                brush = QBrush(Qt.NoBrush)
            if not _draw_shapes(painter, cache, members, pen, brush, token):
                return None
        _draw_labels(painter, layer, cache, idx, view, labels)
        return image
    finally:
        if painter.isActive():
            painter.end()


def _draw_shapes(
    painter: QPainter, cache, members: np.ndarray, pen: QPen, brush: QBrush, token: CancelToken
) -> bool:
    """Draw the converted shapes of ``members`` with ``pen`` and ``brush``; False if the
    render was canceled on the way."""
    painter.setPen(pen)
    painter.setBrush(brush)
    for n, i in enumerate(members):
        for part in cache.shapes(i):
            if isinstance(part, QPolygonF):
                painter.drawPolygon(part)
            else:
                painter.drawPath(part)
        if n % 2000 == 0 and token.canceled:
            return False
    return True


#: above this many labelled features in view, labels are skipped (they would be unreadable)
MAX_LABELS = 1500


def _draw_labels(
    painter: QPainter,
    layer: VectorLayer,
    cache,
    idx: np.ndarray,
    view: View,
    labels: np.ndarray | None = None,
):
    """Labels from ``style.label_field`` at a point inside each feature, with a white halo."""
    field = layer.style.label_field
    if labels is None and field and field in layer.fields:
        labels = layer.column(field).to_numpy()
    if labels is None or len(idx) == 0 or len(idx) > MAX_LABELS:
        return
    points = cache.label_points(idx)
    texts = labels[idx]
    tf = view.transform()
    painter.resetTransform()
    font = painter.font()
    font.setPointSizeF(8)
    painter.setFont(font)
    halo = QPen(QColor(255, 255, 255, 220), 3)
    for (x, y), text in zip(points, texts, strict=True):
        if text is None or (isinstance(text, float) and np.isnan(text)):
            continue
        p = tf.map(QPointF(x, y))
        path = QPainterPath()
        label = str(text)
        path.addText(p.x() - 3 * len(label), p.y() + 4, font, label)
        painter.strokePath(path, halo)
        painter.fillPath(path, QColor(30, 30, 30))


#: features smaller than this many pixels across are drawn as their pixel block, straight into
#: the image, as QGIS's picture shows them: an outlined polygon this small is all outline
TINY_PX = 3.0
#: features sized and splatted at once
SPLAT_CHUNK = 65_536


def _splat(image: QImage, bounds: np.ndarray, colors: np.ndarray, view: View, style) -> None:
    """:func:`_splat_block` over ``SPLAT_BLOCK`` features at a time: its temporaries (the
    pixels each feature touches, sorted) for a whole chunk added 30 MiB to the 500k render's
    peak memory, over issue 22's 2x of QGIS's."""
    for a in range(0, len(bounds), SPLAT_BLOCK):
        _splat_block(image, bounds[a : a + SPLAT_BLOCK], colors[a : a + SPLAT_BLOCK], view, style)


#: tiny features painted at once
SPLAT_BLOCK = 8_192


def _splat_block(image: QImage, bounds: np.ndarray, colors: np.ndarray, view: View, style) -> None:
    """Paint tiny features (at most TINY_PX across) into their pixel blocks with numpy, the
    way an antialiased picture (QGIS's) shows them.

    A feature ``w`` x ``h`` px with an outline ``s`` px wide puts ``w h`` of fill and about
    ``2 (w + h) s`` of outline into its block (half of the outline outside the fill):
    the block's pixels take that much of their area (a feature smaller than its pixels
    leaves them pale), in the fill and outline colours mixed by their shares, and features
    sharing a pixel add up. So a 1 px outline (0.26 mm) round a polygon under 3 px covers
    it in the outline's colour, while a hairline (the demo's 0.05 mm, 0.19 px) leaves a
    2 px parcel mostly its fill: painting every block opaque in the outline's grey made
    45 % of the painted pixels of 500,000 shared parcels differ from QGIS's picture, and
    the first version's opaque fill blocks 59 % of 500,000 parcels' (issue 22). A hollow
    class shows only its outline; without an outline it draws nothing.
    """
    x0, _y0, _x1, y1 = view.extent
    upp = view.units_per_pixel
    c0 = np.floor((bounds[:, 0] - x0) / upp).astype(np.int64)
    c1 = np.floor((bounds[:, 2] - x0) / upp).astype(np.int64)
    r0 = np.floor((y1 - bounds[:, 3]) / upp).astype(np.int64)
    r1 = np.floor((y1 - bounds[:, 1]) / upp).astype(np.int64)
    palette, inverse = np.unique(colors, return_inverse=True)
    # QColor("none") is invalid and drew solid black blocks: a hollow class has no fill
    hollow = np.array([c == "none" for c in palette])[inverse]
    fill_rgb = np.array([_rgb("#000000" if c == "none" else c) for c in palette])[inverse]
    width, height = (bounds[:, 2] - bounds[:, 0]) / upp, (bounds[:, 3] - bounds[:, 1]) / upp
    area = np.where(hollow, 0.0, width * height)
    stroked = style.symbol.stroke != "none" and style.symbol.stroke_width > 0
    outline = 2.0 * (width + height) * style.symbol.stroke_width * MM_TO_PX if stroked else 0.0
    ink = area + np.asarray(outline) / 2.0
    span = int(np.ceil(TINY_PX))
    block = np.minimum(c1 - c0 + 1, span) * np.minimum(r1 - r0 + 1, span)
    alpha = np.clip(ink / block, 0.0, 1.0)
    rgb = fill_rgb.astype(float)
    if stroked:
        share = np.clip(np.asarray(outline) / np.maximum(ink, 1e-12), 0.0, 1.0)[:, None]
        rgb = rgb * (1.0 - share) + np.array(_rgb(style.symbol.stroke), dtype=float) * share
    flat, which = [], []
    for dy in range(span):
        for dx in range(span):
            rows, cols = r0 + dy, c0 + dx
            keep = (
                (alpha > 0)
                & (rows <= r1)
                & (cols <= c1)
                & (cols >= 0)
                & (cols < view.width)
                & (rows >= 0)
                & (rows < view.height)
            )
            flat.append((rows[keep] * view.width + cols[keep]).astype(np.int32))
            which.append(np.flatnonzero(keep).astype(np.int32))
    cells, members = np.concatenate(flat), np.concatenate(which)
    if not len(cells):
        return
    ptr = image.bits()
    ptr.setsize(image.sizeInBytes())
    pixels = np.frombuffer(ptr, dtype=np.uint32).reshape(view.height, image.bytesPerLine() // 4)
    touched, slot = np.unique(cells, return_inverse=True)
    rows, cols = touched // view.width, touched % view.width
    before = pixels[rows, cols]
    # premultiplied ink per pixel: what is there already, plus each feature's share
    total_a = ((before >> 24) & 0xFF) / 255.0 + np.bincount(
        slot, weights=alpha[members], minlength=len(touched)
    )
    scale = 1.0 / np.maximum(total_a, 1.0)  # a pixel holds at most its own area of ink
    out = np.minimum(np.rint(np.minimum(total_a, 1.0) * 255.0), 255).astype(np.uint32) << 24
    for k, shift in enumerate((16, 8, 0)):
        ink_k = ((before >> shift) & 0xFF) + np.bincount(
            slot, weights=alpha[members] * rgb[members, k], minlength=len(touched)
        )
        out |= np.minimum(np.rint(ink_k * scale), 255).astype(np.uint32) << shift
    pixels[rows, cols] = out


def _rgb(hex_color: str) -> tuple[int, int, int]:
    c = QColor(hex_color)
    return c.red(), c.green(), c.blue()


def render_raster(layer: RasterLayer, view: View, token: CancelToken) -> QImage | None:
    """Colour-ramped raster (nodata transparent), drawn into the view's pixel grid."""
    from matplotlib import colormaps

    band = layer.masked(1)
    style = layer.style
    vmin = style.vmin if style.vmin is not None else float(band.min())
    vmax = style.vmax if style.vmax is not None else float(band.max())
    norm = np.clip((band.filled(vmin) - vmin) / max(1e-12, vmax - vmin), 0, 1)
    colors = colormaps[style.ramp or "terrain"](norm)[..., :3]
    if style.hillshade:
        from citydesk.layers.raster_ops import hillshade

        cell_x, cell_y = abs(layer.transform.a), abs(layer.transform.e)
        shade = hillshade(band.filled(np.nan), cell_x, cell_y)
        colors = colors * (0.35 + 0.65 * np.nan_to_num(shade, nan=1.0))[..., None]
    rgba = np.empty((*norm.shape, 4), dtype=np.uint8)
    rgba[..., :3] = (colors * 255).astype(np.uint8)
    rgba[..., 3] = np.where(band.mask, 0, 255)
    if token.canceled:
        return None
    h, w = norm.shape
    argb = np.ascontiguousarray(rgba[..., [2, 1, 0, 3]])
    src = QImage(argb.data, w, h, 4 * w, QImage.Format_ARGB32).copy()
    image = QImage(view.width, view.height, QImage.Format_ARGB32_Premultiplied)
    image.fill(Qt.transparent)
    painter = QPainter(image)
    x0, y0, x1, y1 = layer.extent
    tf = view.transform()
    top_left, bottom_right = tf.map(QPointF(x0, y1)), tf.map(QPointF(x1, y0))
    painter.drawImage(QRectF(top_left, bottom_right), src)  # pixel space: positive size
    painter.end()
    return image
