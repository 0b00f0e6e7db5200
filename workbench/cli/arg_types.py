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
