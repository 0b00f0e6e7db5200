"""Which land uses conflict when their parcels touch: the table behind the compatibility
objective, and the class every parcel has under each planning use.

The penalties are data (``layers/data/compatibility.toml``, CityDesk's round defaults), and a
city changes or adds pairs in its profile (``[planning.compatibility.<class>]``), because
what counts as a conflict is a local planning judgement, not code. They are kept per
land-use *class* (residential, industrial, ...), not per planning use, so that a parcel the
plan keeps counts with what it is today: new homes beside a kept factory conflict, new homes
beside kept homes do not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from .i18n import _
from .land_use import LAND_USE_CLASSES, LandUseError, check_classes, check_pairs
from .toml_schema import Reader, read_toml_file

TABLE = Path(__file__).parent / "data" / "compatibility.toml"
#: the order of the penalty matrix's rows and columns
CLASSES: tuple[str, ...] = tuple(LAND_USE_CLASSES)


@dataclass(frozen=True)
class CompatibilityTable:
    pairs: dict[str, dict[str, float]] = field(default_factory=dict)
    uses: dict[str, str] = field(default_factory=dict)  # planning use -> land-use class


@lru_cache(maxsize=1)
def default_table() -> CompatibilityTable:
    """The shipped table, checked as strictly as a city's own."""
    path, data = read_toml_file(TABLE, LandUseError, _("compatibility table"))
    table = Reader(LandUseError, str(path)).build(CompatibilityTable, data)
    check_pairs(Reader(LandUseError, str(path)), table.pairs, "pairs")
    check_classes(table.uses, "uses", str(path))
    return table


def penalty_matrix(city: Mapping[str, Mapping[str, float]] | None = None) -> np.ndarray:
    """(classes x classes), symmetric, in :data:`CLASSES` order: the defaults with the city's
    pairs (``[planning.compatibility]``) over them."""
    index = {c: k for k, c in enumerate(CLASSES)}
    matrix = np.zeros((len(CLASSES), len(CLASSES)))
    for table in (default_table().pairs, city or {}):
        for first, row in table.items():
            for second, value in row.items():
                a, b = index[first], index[second]
                matrix[a, b] = matrix[b, a] = float(value)
    return matrix


def use_classes(current: Sequence[str], uses: Sequence[str]) -> np.ndarray:
    """(parcels x uses) index into :data:`CLASSES`: the class each parcel would have under
    each use. Use 0 ('keep') is the parcel's class today."""
    index = {c: k for k, c in enumerate(CLASSES)}
    mapping = default_table().uses
    missing = [u for u in uses[1:] if u not in mapping]
    if missing:
        raise LandUseError(
            _("no land-use class for the planning use(s) {names}").format(names=", ".join(missing)),
            _("Add them to [uses] in {file}.").format(file=TABLE.name),
        )
    now = np.array([index.get(str(c), index["unknown"]) for c in current], dtype=np.int16)
    out = np.empty((len(now), len(uses)), dtype=np.int16)
    out[:, 0] = now
    for k, use in enumerate(uses[1:], 1):
        out[:, k] = index[mapping[use]]
    return out
