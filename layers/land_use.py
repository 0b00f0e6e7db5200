"""Land-use classes from a city's own land-use codes, by a classification system in a file.

Planners reason in a handful of classes (residential, commercial, vacant, ...), while cities
record land use in their own systems: Massachusetts assessor codes, China's 2023 用地用海分类,
GB 50137-2011 letters, OpenStreetMap ``landuse`` tags. Each system is a TOML table of codes
(``layers/data/land_use/*.toml``), matched exactly or by longest prefix; the city profile names
its system (``land_use_system``) and may add its own codes (``[land_use_codes]``). Adding a
system is adding a file, not code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

import pandas as pd

from .errors import CityDeskError
from .i18n import _
from .toml_schema import Reader, read_toml_file

SYSTEMS = Path(__file__).parent / "data" / "land_use"

#: class id -> (English, Chinese) display names: CityDesk's planning vocabulary
LAND_USE_CLASSES: dict[str, tuple[str, str]] = {
    "residential": ("Residential", "居住用地"),
    "mixed": ("Mixed use", "混合用地"),
    "commercial": ("Commercial", "商业服务业用地"),
    "industrial": ("Industrial and storage", "工业仓储用地"),
    "institutional": ("Public and institutional", "公共管理与公共服务用地"),
    "transport": ("Transport", "交通运输用地"),
    "parking": ("Parking", "停车场用地"),
    "utilities": ("Utilities", "公用设施用地"),
    "green": ("Green and open space", "绿地与开敞空间用地"),
    "water": ("Water", "水域"),
    "agriculture": ("Agriculture", "农业用地"),
    "vacant": ("Vacant land", "空闲地"),
    "other": ("Other", "其他用地"),
    "unknown": ("No land-use data", "无用地数据"),
}
#: the classes whose floor area houses jobs (share of the floor area)
JOB_SHARES = {"commercial": 1.0, "industrial": 1.0, "institutional": 1.0, "mixed": 0.5}


class LandUseError(CityDeskError):
    """A land-use classification that cannot be used."""


@dataclass
class LandUseSystem:
    name: str
    match: Literal["prefix", "exact"] = "prefix"
    codes: dict[str, str] = field(default_factory=dict)
    mixed_separators: list[str] = field(default_factory=list)


def shipped_systems() -> list[str]:
    return sorted(p.stem for p in SYSTEMS.glob("*.toml"))


@lru_cache(maxsize=16)
def load_system(name: str) -> LandUseSystem:
    """A shipped system by name (``ma_dor``, ``cn_2023``, ``gb50137_2011``, ``osm_landuse``)."""
    path = SYSTEMS / f"{name}.toml"
    if not path.exists():
        raise LandUseError(
            _("there is no land-use classification '{name}'").format(name=name),
            _("Shipped ones: {names}.").format(names=", ".join(shipped_systems())),
        )
    path, data = read_toml_file(path, LandUseError, _("land-use classification"))
    system = Reader(LandUseError, str(path)).build(LandUseSystem, data)
    check_classes(system.codes, "codes", str(path))
    return system


def check_classes(codes: dict[str, str], where: str, source: str = "") -> None:
    """Every code maps to a class CityDesk knows (a typo would silently become 'unknown')."""
    reader = Reader(LandUseError, source)
    for code, klass in codes.items():
        reader.one_of(f"{where}.{code}", klass, list(LAND_USE_CLASSES), _("land-use class"))


def check_pairs(reader: Reader, pairs: dict[str, dict[str, float]], where: str) -> None:
    """A table of land-use class pairs (the compatibility penalties): class names CityDesk
    knows and values from 0 to 1000; a misspelt class would otherwise drop a conflict."""
    classes = list(LAND_USE_CLASSES)
    for first, row in pairs.items():
        reader.one_of(f"{where}.{first}", first, classes, _("land-use class"))
        for second, value in row.items():
            reader.one_of(f"{where}.{first}.{second}", second, classes, _("land-use class"))
            reader.in_range(f"{where}.{first}.{second}", value, 0, 1000)


def classify(code: object, system: LandUseSystem, extra: dict[str, str] | None = None) -> str:
    """The class of one code ('unknown' when missing or unlisted); the city's own codes
    (``extra``) come before the system's."""
    if code is None or (isinstance(code, float) and pd.isna(code)):
        return "unknown"
    text = str(code).strip()
    if not text:
        return "unknown"
    for sep in system.mixed_separators:
        if sep in text:
            parts = {classify(p, system, extra) for p in text.split(sep) if p.strip()}
            parts.discard("unknown")
            return parts.pop() if len(parts) == 1 else ("mixed" if parts else "unknown")
    table = {**system.codes, **(extra or {})}
    if system.match == "exact":
        return table.get(text, table.get(text.lower(), "unknown"))
    key = text.upper()
    upper = {k.upper(): v for k, v in table.items()}
    for end in range(len(key), 0, -1):
        if key[:end] in upper:
            return upper[key[:end]]
    return "unknown"


def classify_codes(
    codes: pd.Series, system: LandUseSystem, extra: dict[str, str] | None = None
) -> pd.Series:
    """:func:`classify` over a column, computed once per distinct code."""
    lookup = {c: classify(c, system, extra) for c in codes.dropna().unique()}
    return codes.map(lookup).fillna("unknown").astype(str)
