"""Suitability: a weighted overlay of normalised factors, scoring each candidate 0..1.

Each factor's raw value (a network distance, a land value, a zonal mean of a raster, a
zoning district) is mapped to 0..1, where 1 is most suitable, by one of these transforms:

* ``linear``: (x - lo) / (hi - lo), clipped to 0..1. ``lo`` and ``hi`` default to the 5th
  and 95th percentiles of the candidates, so one extreme parcel does not squash the rest;
  ``better = "lower"`` flips it (1 - that).
* ``decay``: exp(-x / scale), for distances and times: 1 at the door, 0.37 at ``scale``.
* ``threshold``: 1 where x <= hi (or >= lo when ``better = "higher"``), else 0.
* ``categories``: a table of scores per value (zoning districts, land-use codes); values not
  in the table score ``default``.

The overlay is sum_k w_k * s_k with the weights normalised to sum to 1. A candidate with no
value for a factor (no raster pixel, no facility reachable) is scored on the factors it has,
the weights renormalised over them, and ``factors_missing`` counts what was left out, so a
gap in the data shows instead of silently scoring zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _

TRANSFORMS = ("linear", "decay", "threshold", "categories")


class SuitabilityError(CityDeskError):
    """A factor cannot be normalised as specified."""


@dataclass(frozen=True)
class Transform:
    kind: str = "linear"
    better: str = "higher"  # or "lower"
    lo: float | None = None
    hi: float | None = None
    scale: float | None = None  # decay
    scores: Mapping[str, float] = field(default_factory=dict)  # categories
    default: float = 0.0  # categories: a value not in the table

    def check(self, factor: str) -> None:
        def fail(problem: str, fix: str) -> None:
            raise SuitabilityError(
                _("factor '{factor}': {problem}").format(factor=factor, problem=problem), fix
            )

        if self.kind not in TRANSFORMS:
            fail(
                _("unknown transform '{kind}'").format(kind=self.kind),
                _("Use one of: {names}.").format(names=", ".join(TRANSFORMS)),
            )
        if self.better not in ("higher", "lower"):
            fail(_("'better' must be 'higher' or 'lower'"), _("Say which way is more suitable."))
        if self.kind == "decay" and not (self.scale and self.scale > 0):
            fail(
                _("a decay needs a positive 'scale'"),
                _("Give the distance at which the score is 0.37."),
            )
        if self.kind == "threshold" and (self.hi if self.better == "lower" else self.lo) is None:
            fail(
                _("a threshold needs 'hi' (better lower) or 'lo' (better higher)"),
                _("Give the cut-off value."),
            )
        if self.kind == "categories" and not self.scores:
            fail(_("a categories transform needs 'scores'"), _("Give a score 0..1 per value."))


def normalise(values: pd.Series, transform: Transform, factor: str = "") -> pd.Series:
    """Scores 0..1 (NaN where the raw value is missing)."""
    transform.check(factor)
    if transform.kind == "categories":
        scores = values.map(lambda v: transform.scores.get(str(v), transform.default))
        return scores.where(values.notna()).astype(float).clip(0, 1)
    x = pd.to_numeric(values, errors="coerce").astype(float)
    if transform.kind == "decay":
        score = np.exp(-x / transform.scale)
        return score if transform.better == "lower" else 1 - score
    if transform.kind == "threshold":
        if transform.better == "lower":
            return (x <= transform.hi).astype(float).where(x.notna())
        return (x >= transform.lo).astype(float).where(x.notna())
    lo = transform.lo if transform.lo is not None else x.quantile(0.05)
    hi = transform.hi if transform.hi is not None else x.quantile(0.95)
    if not (hi > lo):
        score = pd.Series(np.where(x.notna(), 1.0, np.nan), index=x.index)  # no spread
    else:
        score = ((x - lo) / (hi - lo)).clip(0, 1)
    return 1 - score if transform.better == "lower" else score


def weighted_overlay(scores: pd.DataFrame, weights: Mapping[str, float]) -> pd.DataFrame:
    """``suitability`` (0..1) and ``factors_missing`` per row from factor scores."""
    missing = [name for name in weights if name not in scores]
    if missing:
        raise SuitabilityError(
            _("no scores for weighted factor(s) {names}").format(names=", ".join(missing)),
            _("Every weighted factor needs a definition."),
        )
    w = pd.Series(weights, dtype=float)
    if (w < 0).any() or w.sum() <= 0:
        raise SuitabilityError(
            _("factor weights must be non-negative and not all zero"), _("Check the weights.")
        )
    s = scores[list(w.index)]
    present = s.notna()
    weight_present = present.mul(w, axis=1).sum(axis=1)
    total = s.fillna(0).mul(w, axis=1).sum(axis=1)
    suit = (total / weight_present).where(weight_present > 0)
    return pd.DataFrame({"suitability": suit, "factors_missing": (~present).sum(axis=1)})


def score_all(raw: pd.DataFrame, transforms: Mapping[str, Transform]) -> pd.DataFrame:
    """Normalise every raw factor column by its transform."""
    return pd.DataFrame({name: normalise(raw[name], t, name) for name, t in transforms.items()})


def suitability(
    raw: pd.DataFrame, transforms: Mapping[str, Transform], weights: Mapping[str, float]
) -> pd.DataFrame:
    """The factor scores (``s_<factor>``), the overlay and the missing count, per row."""
    scores = score_all(raw, transforms)
    result = weighted_overlay(scores, weights)
    return pd.concat([scores.add_prefix("s_"), result], axis=1)
