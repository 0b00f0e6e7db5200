"""The embedded Cambridge demo project, so CityDesk runs on first start with no download.

The shipped file lives inside the package (``layers/demo_data``) and is never modified: users
get a private copy in their data folder, which they may edit and save freely.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .feedback import Feedback
from .project import Project
from .project_store import load_project

SHIPPED_DEMO = Path(__file__).parent / "demo_data" / "cambridge_demo.gpkg"
#: a small raster-only project: the USGS 30 m DEM of San Francisco, in metres
SHIPPED_SF_DEM = Path(__file__).parent / "demo_data" / "sf_dem_demo.gpkg"


def user_data_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path("citydesk", appauthor=False, ensure_exists=True)


def demo_project_path(refresh: bool = False, folder: Path | None = None) -> Path:
    """Path of the user's working copy of the demo (copied from the shipped file if needed)."""
    if not SHIPPED_DEMO.exists():
        raise FileNotFoundError(
            f"the demo project is missing from the installation ({SHIPPED_DEMO}); reinstall "
            "CityDesk"
        )
    target = (folder or user_data_dir()) / "cambridge_demo.gpkg"
    if refresh or not target.exists() or target.stat().st_mtime < SHIPPED_DEMO.stat().st_mtime:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".gpkg.part")
        shutil.copyfile(SHIPPED_DEMO, tmp)
        tmp.replace(target)
    return target


def open_demo_project(feedback: Feedback | None = None, folder: Path | None = None) -> Project:
    """Load the Cambridge demo project (a private, writable copy)."""
    return load_project(demo_project_path(folder=folder), feedback=feedback)
