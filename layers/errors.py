"""Errors that carry what went wrong *and* what the user can do about it.

Every error the user can cause (a bad file, a wrong CRS, a newer project) is a
:class:`CityDeskError` with a ``fix`` hint, so the CLI and the GUI show one clear message
instead of a traceback.
"""

from __future__ import annotations

_front_end = {"name": "cli"}


def use_front_end(name: str) -> None:
    """Say which front end shows the errors of this process: ``"cli"`` (the default) or
    ``"gui"``. The workbench calls it at start-up, so a hint that names a command-line
    flag is shown to a desktop user in the words of the window instead (issue 20: error
    texts sent GUI users to CLI flags they had no way to give)."""
    if name not in ("cli", "gui"):
        raise ValueError(name)
    _front_end["name"] = name


def front_end() -> str:
    """The front end this process reports to (an analysis process inherits its window's)."""
    return _front_end["name"]


def for_front_end(fix: str, gui_fix: str = "") -> str:
    """The advice to show: ``gui_fix`` in the workbench when there is one, else ``fix``."""
    return gui_fix if gui_fix and _front_end["name"] == "gui" else fix


class CityDeskError(Exception):
    """A user-facing error: ``problem`` names the thing, ``fix`` says how to resolve it.
    ``gui_fix`` is the same advice for the desktop, where the fix names a command-line
    flag or command (the workbench shows it instead of ``fix``). ``key`` names the setting
    a file's checker refused (``calendar.periods[0]``), for a form to show it in place."""

    key: str = ""

    def __init__(
        self, problem: str, fix: str = "", *, path: str | None = None, gui_fix: str = ""
    ) -> None:
        self.problem = problem
        self.fix = fix
        self.gui_fix = gui_fix
        self.path = path
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = f"{self.path}: " if self.path else ""
        from .i18n import _  # late: the language may be chosen after this module loads

        fix = for_front_end(self.fix, self.gui_fix)
        hint = " " + _("Fix: {fix}").format(fix=fix) if fix else ""
        return f"{where}{self.problem}{hint}"


class LayerReadError(CityDeskError):
    """A data file could not be read (corrupt, truncated, unknown format, bad encoding)."""


class NeedsReadOptions(LayerReadError):
    """A file that does not say enough about itself to be read: its text encoding, or which
    columns hold its coordinates. ``options`` names the :func:`citydesk.layers.io.read_layer`
    keywords that fix it, so the workbench can open its layer-options dialog on them."""

    def __init__(
        self, problem: str, fix: str = "", *, options: tuple[str, ...] = (), **kwargs
    ) -> None:
        self.options = options
        super().__init__(problem, fix, **kwargs)


class LayerWriteError(CityDeskError):
    """A layer could not be written."""


class CRSError(CityDeskError):
    """A CRS is missing, unknown or does not fit the data."""


class ProjectFormatError(CityDeskError):
    """A project file is not a CityDesk project, or was written by a newer format."""
