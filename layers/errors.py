"""Errors that carry what went wrong *and* what the user can do about it.

Every error the user can cause (a bad file, a wrong CRS, a newer project) is a
:class:`CityDeskError` with a ``fix`` hint, so the CLI and the GUI show one clear message
instead of a traceback.
"""

from __future__ import annotations


class CityDeskError(Exception):
    """A user-facing error: ``problem`` names the thing, ``fix`` says how to resolve it."""

    def __init__(self, problem: str, fix: str = "", *, path: str | None = None) -> None:
        self.problem = problem
        self.fix = fix
        self.path = path
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = f"{self.path}: " if self.path else ""
        from .i18n import _  # late: the language may be chosen after this module loads

        hint = " " + _("Fix: {fix}").format(fix=self.fix) if self.fix else ""
        return f"{where}{self.problem}{hint}"


class LayerReadError(CityDeskError):
    """A data file could not be read (corrupt, truncated, unknown format, bad encoding)."""


class LayerWriteError(CityDeskError):
    """A layer could not be written."""


class CRSError(CityDeskError):
    """A CRS is missing, unknown or does not fit the data."""


class ProjectFormatError(CityDeskError):
    """A project file is not a CityDesk project, or was written by a newer format."""
