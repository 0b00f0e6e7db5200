"""The layout of a unit-grid cell code (CJ/T 213: 6 digits of city, 3 of street, 3 of
community, 2 of cell), apart from the grid builder so that the KPIs, which read it on every
refresh, do not import geopandas for it."""

from __future__ import annotations

#: how many leading digits of a cell code name its unit at each level: the one rule for every
#: figure made per community or street (KPIs, forecasts, warnings)
UNIT_DIGITS: dict[str, int | None] = {"cell": None, "community": 12, "street": 9}
