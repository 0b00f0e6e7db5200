"""Land-use classes from Massachusetts assessor use codes (MA DOR classification).

Planners reason in a handful of land-use classes, not in ~200 assessor codes. The MA DOR code's
first digit gives the class (0 mixed use, 1 residential, 3 commercial, 4 industrial,
9 exempt/institutional); a few codes are vacant land or parking, which matter for planning
because they are the usual candidates for development. Cambridge writes some codes with a
fourth digit (``1091``, ``0353``); the first three carry the class.

Source: Massachusetts Department of Revenue, "Property Type Classification Codes" (2016).
"""

from __future__ import annotations

import pandas as pd

#: class id -> (English, Chinese) display names
LAND_USE_CLASSES: dict[str, tuple[str, str]] = {
    "residential": ("Residential", "住宅用地"),
    "mixed": ("Mixed use", "混合用地"),
    "commercial": ("Commercial", "商业用地"),
    "industrial": ("Industrial", "工业用地"),
    "institutional": ("Institutional / exempt", "公共管理与公共服务用地"),
    "vacant": ("Vacant land", "空闲地"),
    "parking": ("Parking", "停车用地"),
    "unknown": ("No assessor data", "无评估数据"),
}

_VACANT = {"130", "131", "132", "390", "391", "392", "440", "441", "442", "975"}
_PARKING = {"336", "337"}
_BY_FIRST_DIGIT = {
    "0": "mixed",
    "1": "residential",
    "3": "commercial",
    "4": "industrial",
    "9": "institutional",
    "2": "institutional",
    "5": "commercial",
    "6": "institutional",
    "7": "institutional",
    "8": "institutional",
}


def classify_use_code(code: object) -> str:
    """The land-use class id of one MA assessor use code ('unknown' when missing)."""
    if code is None or (isinstance(code, float) and pd.isna(code)):
        return "unknown"
    text = str(code).strip()
    if not text or not text[0].isdigit():
        return "unknown"
    key = text[1:4] if text[0] == "0" and len(text) == 4 else text[:3]
    if key in _VACANT:
        return "vacant"
    if key in _PARKING:
        return "parking"
    return _BY_FIRST_DIGIT.get(text[0], "unknown")


def classify_use_codes(codes: pd.Series) -> pd.Series:
    """Vectorised :func:`classify_use_code` over a column (computed once per distinct code)."""
    lookup = {c: classify_use_code(c) for c in codes.dropna().unique()}
    return codes.map(lookup).fillna("unknown").astype(str)
