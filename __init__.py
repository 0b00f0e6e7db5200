"""CityDesk: a desktop GIS workbench for city governments.

This file is the ``citydesk`` package itself: setuptools maps the repository root to
``citydesk`` (``package-dir`` in pyproject.toml), so the folders ``layers/``, ``planning/``,
``optimization/``, ``incidents/``, ``plugins/`` and ``workbench/`` install as
``citydesk.layers``, ``citydesk.planning``, ... and CityDesk owns no other top-level name.

Kept free of imports on purpose: ``citydesk --version`` must not load the GIS stack.
"""

__version__ = "0.2.0"
