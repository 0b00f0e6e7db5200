"""A dock panel: the only kind of contribution that may import Qt."""

from PyQt5.QtWidgets import QLabel


def make_panel(context, parent):
    layers = context.layer_ids() if context.project_path else []
    return QLabel(f"{len(layers)} layers in the project", parent)
