"""Number types for command-line options: finite, and positive where a negative or zero
value means nothing (``--radius -100`` once gave "optimal (proven): 0", ``--distance nan`` a
layer with a NaN extent). A bad value is argparse's usage error: exit 2, one line."""

from __future__ import annotations

import argparse
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
