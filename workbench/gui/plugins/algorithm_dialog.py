"""A dialog generated from an algorithm's typed parameters (QGIS Processing's idea).

Layer parameters list only the project's layers of the declared geometry type; a field
parameter lists the fields of the layer chosen in its parent parameter and follows it;
numbers get spin boxes with the declared range; enums a combo. On OK the values go through
the same checks as the CLI (``citydesk.plugins.parameters.parse_values``) and the dialog stays open
with the message if they fail; the run itself happens in the task runner.
"""

from __future__ import annotations

from PyQt5.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from citydesk.layers.errors import CityDeskError
from citydesk.plugins.algorithms import AlgorithmSpec, default_output_id
from citydesk.plugins.parameters import GEOMETRY_TYPES, Parameter, parse_values

from ..i18n import tr


class AlgorithmDialog(QDialog):
    def __init__(
        self,
        spec: AlgorithmSpec,
        layers: dict,
        parent=None,
        taken: set[str] | None = None,
        names: dict[str, str] | None = None,
    ) -> None:
        """``layers``: {layer id: (geometry type, [fields])} of the project's vector layers;
        ``taken``: every layer id of the project (rasters too), which outputs must not
        replace without the user's yes."""
        super().__init__(parent)
        self.spec, self.layers = spec, layers
        self.taken = set(layers) if taken is None else set(taken)
        self.names: dict[str, str] = dict(names or {})
        self.overwrite = False
        self.setWindowTitle(tr(spec.name))
        self.widgets: dict[str, QWidget] = {}
        layout = QVBoxLayout(self)
        if spec.description:
            intro = QLabel(tr(spec.description))
            intro.setWordWrap(True)
            layout.addWidget(intro)
        form = QFormLayout()
        for name, p in spec.parameters.items():
            widget = self._widget(p)
            if p.type == "output_layer" and isinstance(widget, QLineEdit):
                widget.setText(default_output_id(spec, name, self.taken))  # a new layer
            self.widgets[name] = widget
            label = tr(p.title) + ("" if not p.optional else " " + tr("(optional)"))
            form.addRow(label, widget)
        for name, p in spec.parameters.items():  # fields follow their layer
            if p.type == "field":
                parent_box = self.widgets[p.parent]
                parent_box.currentIndexChanged.connect(lambda _i, n=name: self._fill_fields(n))
                self._fill_fields(name)
        layout.addLayout(form)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText(tr("Run"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.values: dict | None = None

    def _widget(self, p: Parameter) -> QWidget:
        if p.type == "layer":
            box = QComboBox()
            wanted = GEOMETRY_TYPES.get(p.geometry)
            for layer_id, (geometry, *_rest) in self.layers.items():
                if wanted is None or geometry in wanted:
                    # the name the user sees in the layer tree; the id stays the item's data
                    name = self.names.get(layer_id, layer_id)
                    box.addItem(name if name == layer_id else f"{name} ({layer_id})", layer_id)
            if p.optional:
                box.insertItem(0, "", None)
            return box
        if p.type in ("field", "enum"):
            box = QComboBox()
            for option in p.options:
                box.addItem(option, option)
            if p.default is not None:
                box.setCurrentIndex(max(0, box.findData(p.default)))
            return box
        if p.type in ("number", "integer"):
            if p.type == "integer":
                box, lo, hi, cast = QSpinBox(), -(2**31), 2**31 - 1, int
            else:
                box, lo, hi, cast = QDoubleSpinBox(decimals=3), -1e12, 1e12, float
            box.setRange(
                cast(lo if p.minimum is None else p.minimum),
                cast(hi if p.maximum is None else p.maximum),
            )
            if p.default is not None:
                box.setValue(cast(p.default))
            return box
        if p.type == "boolean":
            box = QCheckBox()
            box.setChecked(bool(p.default))
            return box
        edit = QLineEdit("" if p.default is None else str(p.default))
        hints = {
            "extent": tr("xmin,ymin,xmax,ymax"),
            "crs": tr("e.g. EPSG:4490"),
            "file": tr("path of a file"),
            "output_file": tr("path of the file to write"),
            "output_layer": tr("id of the new layer"),
        }
        edit.setPlaceholderText(hints.get(p.type, ""))
        return edit

    def _fill_fields(self, name: str) -> None:
        p = self.spec.parameters[name]
        box: QComboBox = self.widgets[name]
        layer = self.widgets[p.parent].currentData()
        current = box.currentData()
        box.clear()
        if p.optional:
            box.addItem("", None)
        for field in self.layers.get(layer, ("", []))[1]:
            box.addItem(field, field)
        for wanted in (current, p.default):  # keep the choice, else the declared default
            index = box.findData(wanted) if wanted is not None else -1
            if index >= 0:
                box.setCurrentIndex(index)
                break

    def raw_values(self) -> dict:
        raw = {}
        for name, widget in self.widgets.items():
            if isinstance(widget, QComboBox):
                value = widget.currentData()
            elif isinstance(widget, QCheckBox):
                value = widget.isChecked()
            elif isinstance(widget, QSpinBox | QDoubleSpinBox):
                value = widget.value()
            else:
                value = widget.text().strip() or None
            if value is not None:
                raw[name] = value
        return raw

    def accept(self) -> None:
        try:
            values = parse_values(self.spec.parameters, self.raw_values())
        except CityDeskError as exc:
            self.error.setText(exc.message)
            return
        replaced = [
            values[name]
            for name, p in self.spec.parameters.items()
            if p.type == "output_layer" and values.get(name) in self.taken
        ]
        if replaced and not all(self.confirm_replace(layer) for layer in replaced):
            return  # back to the dialog: the user picks another name
        self.overwrite = bool(replaced)
        self.values = values
        super().accept()

    def confirm_replace(self, layer: str) -> bool:
        """Ask before an output replaces an existing layer (No is the default button)."""
        answer = QMessageBox.question(
            self,
            tr("Replace layer?"),
            tr(
                "The project already has a layer '{layer}'. Replace it with this run's "
                "result? Its features cannot be recovered after the project is saved."
            ).format(layer=layer),
            QMessageBox.Yes | QMessageBox.No,
            QMessageBox.No,
        )
        return answer == QMessageBox.Yes
