"""CityDesk's data model: layers, projects, I/O, CRS, validation and styles. No Qt here."""

from .errors import CityDeskError, CRSError, LayerReadError, LayerWriteError, ProjectFormatError
from .feedback import CanceledError, Feedback, NullFeedback, RecordingFeedback
from .io import read_layer, write_layer
from .layer import Layer, LayerRole, RasterLayer, VectorLayer
from .project import GroupNode, LayerNode, Project
from .project_store import load_project, save_project
from .style import Style, Symbol, categorized, graduated
from .validation import ValidationReport, repair, validate_frame, validate_path
from .version import PROJECT_FORMAT_VERSION, __version__

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
    "validate_path",
    "write_layer",
]
