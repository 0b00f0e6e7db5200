"""The shape every optimization dialog shares: a title, a sentence saying what is
optimised over, a form of typed inputs, OK and Cancel. Subclasses only build the inputs
and turn them into a spec."""

from __future__ import annotations

from PyQt5.QtCore import QSettings
from PyQt5.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..i18n import tr


class SpecDialog(QDialog):
    def __init__(
        self, title: str, intro: str, rows: list[tuple[str, QWidget]], parent=None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        layout = QVBoxLayout(self)
        text = QLabel(intro)
        text.setWordWrap(True)
        layout.addWidget(text)
        form = QFormLayout()
        for label, widget in rows:
            form.addRow(label, widget)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _inputs(self) -> dict[str, QWidget]:
        """The dialog's inputs by attribute name (``points``, ``where``, ...): names that
        stay the same from one version and language to the next, unlike the labels."""
        kinds = (QSpinBox, QDoubleSpinBox, QLineEdit, QComboBox)
        return {name: w for name, w in vars(self).items() if isinstance(w, kinds)}

    def save_inputs(self, settings: QSettings, group: str) -> None:
        """Keep what was entered, so the next opening starts from it (a planner runs the
        same front again with one thing changed; retyping a filter each time was a chore)."""
        for name, widget in self._inputs().items():
            if isinstance(widget, QComboBox):
                value: object = widget.currentIndex()
            elif isinstance(widget, QLineEdit):
                value = widget.text()
            else:
                value = widget.value()
            settings.setValue(f"{group}/{name}", value)

    def restore_inputs(self, settings: QSettings, group: str) -> None:
        """Put back what :meth:`save_inputs` kept; a value that no longer fits (a choice
        that is gone, a number out of range, an edited settings file) is left at the
        default."""
        for name, widget in self._inputs().items():
            value = settings.value(f"{group}/{name}")
            if value is None:
                continue
            try:
                if isinstance(widget, QComboBox):
                    index = int(value)
                    if 0 <= index < widget.count():
                        widget.setCurrentIndex(index)
                elif isinstance(widget, QLineEdit):
                    widget.setText(str(value))
                elif isinstance(widget, QDoubleSpinBox):
                    number = float(value)
                    if widget.minimum() <= number <= widget.maximum():
                        widget.setValue(number)
                else:
                    whole = int(float(value))
                    if widget.minimum() <= whole <= widget.maximum():
                        widget.setValue(whole)
            except (TypeError, ValueError):
                continue


def choice_box(choices: dict) -> QComboBox:
    """A combo box showing the translated labels and holding the keys."""
    box = QComboBox()
    for key, label in choices.items():
        box.addItem(tr(label), key)
    return box
