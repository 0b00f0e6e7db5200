"""The styling dialog: single, categorized or graduated, with a histogram of the breaks.

A thin form over ``citydesk.layers.style_builder``: it collects a ``StyleRequest``, previews the
classes
and histogram, and applies the resulting style to the layer (saved into ``layer_styles`` with
the project).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import replace

import numpy as np
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PyQt5.QtCore import QObject, Qt, pyqtSignal
from PyQt5.QtGui import QColor, QIcon, QPixmap
from PyQt5.QtWidgets import (
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from citydesk.layers.errors import CityDeskError
from citydesk.layers.layer import VectorLayer
from citydesk.layers.mpl_fonts import configure_matplotlib
from citydesk.layers.style import CLASSIFIERS, Style, class_breaks
from citydesk.layers.style_builder import StyleRequest, build_style, histogram, numeric_fields

from .i18n import N_, tr

RAMPS = ["viridis", "magma", "YlOrRd", "Blues", "Greens", "RdYlGn", "Spectral", "coolwarm"]
PALETTES = ["tab20", "tab10", "Set3", "Paired", "Pastel1"]
METHODS = {
    "quantile": N_("Quantile (equal count)"),
    "equal_interval": N_("Equal interval"),
    "jenks": N_("Natural breaks (Jenks)"),
    "natural_breaks": N_("Natural breaks (k-means)"),
    "std_mean": N_("Standard deviation"),
    "pretty": N_("Pretty breaks"),
}


#: exact Jenks runs in this worker process: jenkspy's C code holds the GIL for about half a
#: second on 13k values, which froze the window even from a thread (issue 20)
_JENKS_PROCESS: ProcessPoolExecutor | None = None
_JENKS_IN_PROCESS_FROM = 2000  # values; below this it is quick enough anywhere


def _jenks_breaks(values: np.ndarray, k: int) -> tuple[float, ...]:
    global _JENKS_PROCESS
    if len(values) < _JENKS_IN_PROCESS_FROM:
        return tuple(class_breaks(values, "jenks", k))
    if _JENKS_PROCESS is None:
        _JENKS_PROCESS = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("spawn")
        )
    return tuple(_JENKS_PROCESS.submit(class_breaks, values, "jenks", k).result())


class _Built(QObject):
    """Carries a style built on the worker thread back to the GUI thread."""

    done = pyqtSignal(int, object, object, object)  # generation, style, histogram, error


class StyleDialog(QDialog):
    def __init__(self, layer: VectorLayer, parent=None) -> None:
        super().__init__(parent)
        configure_matplotlib()
        self.layer = layer
        self.setWindowTitle(tr("Style: {name}").format(name=layer.name))
        self.kind = QComboBox()
        for key, label in (
            ("single", tr("Single symbol")),
            ("categorized", tr("Categorized")),
            ("graduated", tr("Graduated")),
        ):
            self.kind.addItem(label, key)
        self.field = QComboBox()
        self.method = QComboBox()
        for key in CLASSIFIERS:
            self.method.addItem(tr(METHODS[key]), key)
        self.classes = QSpinBox(minimum=2, maximum=12, value=5)
        self.ramp = QComboBox()
        self.ramp.addItems(RAMPS)
        self.palette = QComboBox()
        self.palette.addItems(PALETTES)
        self.fill_button = QPushButton()
        self._fill = layer.style.symbol.fill if layer.style.symbol.fill != "none" else "#a6cee3"
        self.fill_button.clicked.connect(self._pick_fill)
        self.label_field = QComboBox()
        self.label_field.addItem(tr("(no labels)"), None)
        for name in layer.fields:
            self.label_field.addItem(name, name)
        self.opacity = QDoubleSpinBox(
            minimum=0.0, maximum=1.0, singleStep=0.05, value=layer.opacity
        )
        self.classes_list = QListWidget()
        self.figure = Figure(figsize=(4, 1.8), layout="constrained")
        self.hist = FigureCanvasQTAgg(self.figure)
        self.hist.setMinimumHeight(170)
        self.classes_list.setMinimumHeight(140)
        self.setMinimumSize(520, 680)
        self.message = QLabel()
        self.message.setWordWrap(True)  # a long message wraps, never widens the window
        form = QFormLayout()
        form.addRow(tr("Renderer"), self.kind)
        form.addRow(tr("Field"), self.field)
        form.addRow(tr("Classification"), self.method)
        form.addRow(tr("Classes"), self.classes)
        form.addRow(tr("Colour ramp"), self.ramp)
        form.addRow(tr("Palette"), self.palette)
        form.addRow(tr("Fill colour"), self.fill_button)
        form.addRow(tr("Labels"), self.label_field)
        form.addRow(tr("Opacity"), self.opacity)
        buttons = QDialogButtonBox(
            QDialogButtonBox.Ok | QDialogButtonBox.Cancel | QDialogButtonBox.Apply
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.Apply).clicked.connect(self.preview)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.classes_list, 1)
        layout.addWidget(self.hist)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        # The dialog opens on the layer's own style (a curated palette, bilingual labels) and
        # keeps it until the user changes a setting: OK with no change once replaced the
        # land-use palette with a default one.
        self.style: Style | None = layer.style
        self.changed = False
        # classes are computed on a worker thread (an exact Jenks over 13k parcels stalled
        # the window for seconds, issue 20); only the newest request's answer is shown
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="citydesk-style")
        self._generation = 0
        self._built_request: StyleRequest | None = None
        self._built = _Built()
        self._built.done.connect(self._arrived, Qt.QueuedConnection)
        self._loading = True
        for w in (self.kind, self.field, self.method, self.ramp, self.palette, self.label_field):
            w.currentIndexChanged.connect(self.preview)
        self.classes.valueChanged.connect(self.preview)
        self._load(layer.style)
        self._loading = False
        self._enable(layer.style.kind)
        self._show(layer.style)

    def _load(self, style: Style) -> None:
        self.kind.setCurrentIndex(max(0, self.kind.findData(style.kind)))
        self._fill_fields()
        if style.field:
            self.field.setCurrentIndex(max(0, self.field.findText(style.field)))
        if style.method:
            self.method.setCurrentIndex(max(0, self.method.findData(style.method)))
        if style.classes:
            self.classes.setValue(len(style.classes))
        if style.label_field:
            self.label_field.setCurrentIndex(max(0, self.label_field.findData(style.label_field)))
        self._paint_fill_button()

    def _fill_fields(self) -> None:
        kind = self.kind.currentData()
        names = numeric_fields(self.layer) if kind == "graduated" else self.layer.fields
        current = self.field.currentText()
        self.field.blockSignals(True)
        self.field.clear()
        self.field.addItems(names)
        if current in names:
            self.field.setCurrentText(current)
        self.field.blockSignals(False)

    def _pick_fill(self) -> None:
        color = QColorDialog.getColor(QColor(self._fill), self)
        if color.isValid():
            self._fill = color.name()
            self._paint_fill_button()
            self.preview()

    def _paint_fill_button(self) -> None:
        self.fill_button.setStyleSheet(f"background: {self._fill}")
        self.fill_button.setText(self._fill)

    def request(self) -> StyleRequest:
        return StyleRequest(
            kind=self.kind.currentData(),
            field=self.field.currentText() or None,
            method=self.method.currentData(),
            classes=self.classes.value(),
            ramp=self.ramp.currentText(),
            palette=self.palette.currentText(),
            fill=self._fill,
            label_field=self.label_field.currentData(),
            opacity=self.opacity.value(),
        )

    def preview(self) -> None:
        """A change by the user: build the style the form describes in the background, and
        show it when it arrives (the form stays usable meanwhile)."""
        if self._loading:
            return
        self.changed = True
        kind = self.kind.currentData()
        if self.sender() is self.kind:
            self._fill_fields()
        self._enable(kind)
        self._generation += 1
        generation, request, layer = self._generation, self.request(), self.layer
        self.message.setText(tr("Computing the classes…"))

        def build() -> None:
            try:
                ask = request
                if request.kind == "graduated" and request.method == "jenks" and request.field:
                    values = np.asarray(layer.column(request.field), dtype=float)
                    finite = values[np.isfinite(values)]
                    if finite.size:
                        ask = replace(request, breaks=_jenks_breaks(finite, request.classes))
                style = build_style(layer, ask)
                counts = None
                if style.kind == "graduated" and style.field:
                    counts = histogram(layer, style.field)
                self._built.done.emit(generation, (style, request), counts, None)
            except CityDeskError as exc:
                self._built.done.emit(generation, (None, request), None, exc.message)
            except ValueError as exc:
                self._built.done.emit(generation, (None, request), None, str(exc))

        self._worker.submit(build)

    def _arrived(self, generation: int, built, counts, error) -> None:
        if generation != self._generation:
            return  # the user has changed the form since: a newer answer is on its way
        style, request = built
        if error is not None:
            self.message.setText(error)
            self.style, self._built_request = None, None
            return
        self.message.setText("")
        self.style, self._built_request = style, request
        self._show(style, counts)

    def current_style(self) -> Style | None:
        """The style for the form as it is now: the one already built, else built here."""
        if not self.changed:
            return self.style
        if self._built_request == self.request() and self.style is not None:
            return self.style
        try:
            return build_style(self.layer, self.request())
        except CityDeskError as exc:
            self.message.setText(exc.message)
            return None
        except ValueError as exc:
            self.message.setText(str(exc))
            return None

    def _enable(self, kind: str) -> None:
        for w, used in (
            (self.field, kind != "single"),
            (self.method, kind == "graduated"),
            (self.classes, kind == "graduated"),
            (self.ramp, kind == "graduated"),
            (self.palette, kind == "categorized"),
            (self.fill_button, kind == "single"),
        ):
            w.setEnabled(used)

    def _show(self, style: Style, counts=None) -> None:
        """The classes (with their labels, in the layer's language) and the histogram."""
        self.classes_list.clear()
        entries = style.classes or style.categories
        for entry in entries:
            pix = QPixmap(14, 14)
            fill = entry.symbol.fill
            pix.fill(QColor(0, 0, 0, 0) if fill == "none" else QColor(fill))  # hollow: no fill
            self.classes_list.addItem(QListWidgetItem(QIcon(pix), entry.label))
        self._draw_histogram(style, counts)

    def _draw_histogram(self, style: Style, computed=None) -> None:
        self.figure.clear()
        if style.kind != "graduated" or not style.field:
            self.hist.draw_idle()
            return
        ax = self.figure.add_subplot()
        counts, edges = computed if computed is not None else histogram(self.layer, style.field)
        ax.bar(edges[:-1], counts, width=edges[1:] - edges[:-1], align="edge", color="#9e9e9e")
        for cls in style.classes[:-1]:
            ax.axvline(cls.upper, color="#d62728", lw=1)
        ax.set_yticks([])
        ax.tick_params(labelsize=7)
        ax.set_title(tr("Histogram and class breaks"), fontsize=8)
        self.hist.draw_idle()

    def apply_to_layer(self) -> Style | None:
        """Give the layer the dialog's style: its own, untouched, when nothing was changed."""
        style = self.current_style()
        if style is not None:
            self.layer.style = style
            self.layer.opacity = self.opacity.value()
        return style
