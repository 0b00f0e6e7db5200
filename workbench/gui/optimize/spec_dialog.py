"""The shape every optimization dialog shares: a title, a sentence saying what is
optimised over, a form of typed inputs, OK and Cancel. Subclasses only build the inputs
and turn them into a spec."""

from __future__ import annotations

from PyQt5.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
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


def choice_box(choices: dict) -> QComboBox:
    """A combo box showing the translated labels and holding the keys."""
    box = QComboBox()
    for key, label in choices.items():
        box.addItem(tr(label), key)
    return box
