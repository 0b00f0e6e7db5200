"""Integer codes of a text column of the case facts, the same way for every figure.

The store's facts come as categoricals (``CaseStore.case_facts``): ten million strings are
never made, and a figure grouped by a text works on the category codes; a plain text column
(a frame made by hand) is factorized instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def text_codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """(codes as int64, names in sorted order): -1 for a missing value, and for the text
    "nan" (what a missing value became when a column went through ``astype(str)``)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy().astype(np.int64)
        names = [str(v) for v in values.cat.categories]
    else:
        found, uniques = pd.factorize(values, use_na_sentinel=True)
        codes, names = found.astype(np.int64), [str(v) for v in uniques]
    order = sorted(range(len(names)), key=names.__getitem__)
    lookup = np.full(len(names) + 1, -1, np.int64)  # old code + 1 -> new code
    lookup[np.asarray(order, dtype=np.int64) + 1] = np.arange(len(names))
    names = [names[i] for i in order]
    if "nan" in names:
        lookup[lookup == names.index("nan")] = -1
    return lookup[codes + 1], names
