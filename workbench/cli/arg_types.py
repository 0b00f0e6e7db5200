"""Number types for command-line options: finite, and positive where a negative or zero
value means nothing (``--radius -100`` once gave "optimal (proven): 0", ``--distance nan`` a
layer with a NaN extent). A bad value is argparse's usage error: exit 2, one line."""

from __future__ import annotations

import argparse
import datetime as dt
import math

from citydesk.layers.i18n import _


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("'{v}' is not a number").format(v=text)) from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(_("'{v}' is not a finite number").format(v=text))
    return value


def finite(text: str) -> float:
    return _number(text)


def non_negative(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(_("'{v}' must not be negative").format(v=text))
    return value


def positive(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(_("'{v}' must be greater than 0").format(v=text))
    return value


def count(text: str) -> int:
    """A whole number, 0 or more (``--max-changed -5`` was read and made every plan
    infeasible, with "no target could be named")."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("'{v}' is not a whole number").format(v=text)) from None
    if value < 0:
        raise argparse.ArgumentTypeError(_("'{v}' must not be negative").format(v=text))
    return value


def weights(text: str) -> dict[str, float]:
    """``name=weight,...`` (a name alone weighs 1), each weight a finite number: ``abc`` and
    ``nan`` were internal errors."""
    out: dict[str, float] = {}
    for part in text.split(","):
        name, sep, value = (s.strip() for s in part.partition("="))
        if not name:
            raise argparse.ArgumentTypeError(
                _("'{part}' names no objective: write name=weight, e.g. economic=1").format(
                    part=part
                )
            )
        if name in out:
            raise argparse.ArgumentTypeError(
                _("the objective '{name}' is weighted twice").format(name=name)
            )
        out[name] = _number(value) if sep else 1.0
    return out


def moment(text: str):
    """An ISO date for --from/--to; a bad one is an argparse usage error (exit 2). A date
    without an offset stays naive: it is the city's local time (see ``local``), so
    ``--from 2024-03-04`` starts at the city's midnight, not at UTC's."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            _("{text!r} is not a date").format(text=text)
            + "; "
            + _("Use YYYY-MM-DD or YYYY-MM-DDTHH:MM.")
        ) from exc
    # the years a case's moments are counted in (pandas' nanoseconds end in 2262): a year
    # 9999 typed as "until whenever" was an internal error deep in the calendar
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise argparse.ArgumentTypeError(
            _("{text!r} is outside the years {first}-{last}").format(
                text=text, first=FIRST_YEAR, last=LAST_YEAR
            )
            + "; "
            + _("Give a date in those years.")
        )
    return value


#: the years a date option may name
FIRST_YEAR, LAST_YEAR = 1900, 2199
