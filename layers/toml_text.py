"""Reading TOML a user wrote, with the error every CityDesk reader gives for bad syntax."""

from __future__ import annotations

import tomllib

from .errors import CityDeskError
from .i18n import _


def parse_toml(text: str, error: type[CityDeskError], what: str, source: str = "") -> dict:
    """The parsed table; a syntax error becomes ``error`` naming ``what`` and the line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(
            _("the {what} is not valid TOML ({err})").format(what=what, err=exc),
            _("Fix the syntax at the line given."),
            path=source or None,
        ) from exc
