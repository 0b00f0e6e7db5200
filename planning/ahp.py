"""Factor weights from pairwise comparisons: Saaty's Analytic Hierarchy Process.

A planner says "access to transit matters 3 times as much as land value" for pairs of
factors; the weights are the principal eigenvector of that reciprocal matrix. Judgements
are rarely perfectly consistent (a > b by 3, b > c by 3, yet a > c by only 2), so the
consistency ratio CR = CI / RI is reported, with CI = (lambda_max - n) / (n - 1) and RI
Saaty's random index for n factors. CR below 0.10 is the conventional threshold; above it
the judgements should be revisited, and the result says so rather than refusing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _

# Saaty's random consistency index for n = 1..15 (Saaty 1980, Table 1.7)
RANDOM_INDEX = (
    0.0,
    0.0,
    0.58,
    0.90,
    1.12,
    1.24,
    1.32,
    1.41,
    1.45,
    1.49,
    1.51,
    1.48,
    1.56,
    1.57,
    1.59,
)
CONSISTENT_CR = 0.10


class AhpError(CityDeskError):
    """The pairwise comparisons cannot give weights."""


@dataclass(frozen=True)
class AhpResult:
    names: tuple[str, ...]
    weights: np.ndarray  # sums to 1
    lambda_max: float
    consistency_index: float
    consistency_ratio: float

    @property
    def consistent(self) -> bool:
        return self.consistency_ratio < CONSISTENT_CR

    def as_dict(self) -> dict[str, float]:
        return dict(zip(self.names, map(float, self.weights), strict=True))


def pairwise_matrix(
    names: Sequence[str], judgements: Iterable[tuple[str, str, float]]
) -> np.ndarray:
    """The reciprocal matrix from (a, b, how many times a matters more than b) triples.
    Pairs not given are taken as equal (1); a pair given twice, or a judgement outside
    Saaty's 1/9..9 scale, is refused with the pair named."""
    index = {n: i for i, n in enumerate(names)}
    m = np.ones((len(names), len(names)))
    seen: set[frozenset] = set()
    for a, b, value in judgements:
        for name in (a, b):
            if name not in index:
                raise AhpError(
                    _("the comparison names an unknown factor '{name}'").format(name=name),
                    _("Compare only the factors defined: {names}.").format(names=", ".join(names)),
                )
        key = frozenset((a, b))
        if a == b or key in seen:
            raise AhpError(
                _("the pair {a} / {b} is compared twice or with itself").format(a=a, b=b),
                _("Give each pair of different factors once."),
            )
        value = float(value)
        if not (1 / 9 - 1e-9 <= value <= 9 + 1e-9):
            raise AhpError(
                _("the judgement {a} / {b} = {v:g} is outside Saaty's scale 1/9..9").format(
                    a=a, b=b, v=value
                ),
                _("Use 1 (equal) to 9 (extremely more important), or its reciprocal."),
            )
        seen.add(key)
        m[index[a], index[b]] = value
        m[index[b], index[a]] = 1 / value
    return m


def ahp_weights(names: Sequence[str], matrix: np.ndarray) -> AhpResult:
    """Principal-eigenvector weights and the consistency of a reciprocal matrix."""
    m = np.asarray(matrix, dtype=float)
    n = len(names)
    if m.shape != (n, n):
        raise AhpError(
            _("the comparison matrix is {shape}, expected {n} x {n}").format(shape=m.shape, n=n),
            _("Give one row and one column per factor."),
        )
    if (m <= 0).any() or not np.allclose(m * m.T, 1.0):
        raise AhpError(
            _("the comparison matrix is not reciprocal (a/b must be 1 over b/a)"),
            _("Fill only the upper triangle; the lower one is its reciprocal."),
        )
    values, vectors = np.linalg.eig(m)
    k = int(np.argmax(values.real))
    w = np.abs(vectors[:, k].real)
    w = w / w.sum()
    lam = float(values[k].real)
    ci = (lam - n) / (n - 1) if n > 2 else 0.0
    ri = RANDOM_INDEX[n - 1] if n <= len(RANDOM_INDEX) else RANDOM_INDEX[-1]
    cr = ci / ri if ri > 0 else 0.0
    return AhpResult(tuple(names), w, lam, ci, max(cr, 0.0))
