"""CityDesk's data model: layers, projects, I/O, CRS, validation and styles. No Qt here.

The names below are loaded on first use (PEP 562): ``citydesk.layers.errors`` or
``citydesk.layers.i18n`` must be importable without pulling in geopandas, GDAL and pyproj, so
that ``citydesk --help`` starts in a fraction of a second.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_WHERE = {
    "CityDeskError": "errors",
    "CRSError": "errors",
    "LayerReadError": "errors",
    "LayerWriteError": "errors",
    "ProjectFormatError": "errors",
    "CanceledError": "feedback",
    "Feedback": "feedback",
    "NullFeedback": "feedback",
    "RecordingFeedback": "feedback",
    "read_layer": "io",
    "write_layer": "io",
    "Layer": "layer",
    "LayerRole": "layer",
    "RasterLayer": "layer",
    "VectorLayer": "layer",
    "GroupNode": "project",
    "LayerNode": "project",
    "Project": "project",
    "load_project": "project_store",
    "save_project": "project_store",
    "Style": "style",
    "Symbol": "style",
    "categorized": "style",
    "graduated": "style",
    "ValidationReport": "validation",
    "repair": "validation",
    "validate_frame": "validation",
    "validate_layer": "validation",
    "validate_path": "validation",
    "PROJECT_FORMAT_VERSION": "version",
    "__version__": "version",
}

__all__ = [
    "PROJECT_FORMAT_VERSION",
    "CRSError",
    "CanceledError",
    "CityDeskError",
    "Feedback",
    "GroupNode",
    "Layer",
    "LayerNode",
    "LayerReadError",
    "LayerRole",
    "LayerWriteError",
    "NullFeedback",
    "Project",
    "ProjectFormatError",
    "RasterLayer",
    "RecordingFeedback",
    "Style",
    "Symbol",
    "ValidationReport",
    "VectorLayer",
    "__version__",
    "categorized",
    "graduated",
    "load_project",
    "read_layer",
    "repair",
    "save_project",
    "validate_frame",
    "validate_layer",
    "validate_path",
    "write_layer",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


if TYPE_CHECKING:  # static checkers see the eager imports
    from .errors import CityDeskError, CRSError, LayerReadError, LayerWriteError, ProjectFormatError
    from .feedback import CanceledError, Feedback, NullFeedback, RecordingFeedback
    from .io import read_layer, write_layer
    from .layer import Layer, LayerRole, RasterLayer, VectorLayer
    from .project import GroupNode, LayerNode, Project
    from .project_store import load_project, save_project
    from .style import Style, Symbol, categorized, graduated
    from .validation import (
        ValidationReport,
        repair,
        validate_frame,
        validate_layer,
        validate_path,
    )
    from .version import PROJECT_FORMAT_VERSION, __version__
