"""Logging for the command line, the workbench and scripts: one place that configures it.

Every module logs to ``logging.getLogger(__name__)`` (all under ``citydesk``); nothing prints.
``configure`` is called once by the ``citydesk`` command (``--verbose``, ``--log-file``) and
by the workbench, whose log panel adds its own handler. A library user who never calls it
sees nothing but warnings, as Python's logging intends.
"""

from __future__ import annotations

import logging
from pathlib import Path

ROOT_LOGGER = "citydesk"
FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def level_for(verbosity: int) -> int:
    """0 warnings only, 1 (-v) progress and results, 2 (-vv) everything."""
    return {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)


def configure(verbosity: int = 0, log_file: str | Path | None = None) -> logging.Logger:
    """Messages at the chosen level to stderr; with ``log_file``, everything (DEBUG) to the
    file as well, so a user can send a full log with a report without rerunning."""
    logger = logging.getLogger(ROOT_LOGGER)
    for handler in [h for h in logger.handlers if getattr(h, "_citydesk", False)]:
        logger.removeHandler(handler)
        handler.close()
    console = logging.StreamHandler()
    console.setLevel(level_for(verbosity))
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    console._citydesk = True  # type: ignore[attr-defined]
    logger.addHandler(console)
    lowest = console.level
    if log_file is not None:
        path = Path(log_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        to_file = logging.FileHandler(path, encoding="utf-8")
        to_file.setLevel(logging.DEBUG)
        to_file.setFormatter(logging.Formatter(FORMAT))
        to_file._citydesk = True  # type: ignore[attr-defined]
        logger.addHandler(to_file)
        lowest = logging.DEBUG
    logger.setLevel(lowest)
    logger.propagate = False
    return logger
