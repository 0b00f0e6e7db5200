"""Layer roles: what a layer means to the analyses.

A module of its own, free of the GIS stack, so the command line can offer the roles as
choices without importing geopandas.
"""

from enum import StrEnum


class LayerRole(StrEnum):
    """What a layer means to the analyses; scenarios and dispatch look layers up by role."""

    LAND = "land"
    HOUSING = "housing"
    INFRASTRUCTURE = "infrastructure"
    FACILITIES = "facilities"
    CONSTRAINT = "constraint"
    BOUNDARY = "boundary"
    INCIDENTS = "incidents"
    ELEVATION = "elevation"
    OTHER = "other"
