"""The toolbar's icons: small SVG line drawings made for CityDesk (no icon theme is assumed:
a fresh Debian desktop or an offscreen test has none). ``icon("pan")`` is the QIcon."""

from __future__ import annotations

from pathlib import Path

from PyQt5.QtGui import QIcon

HERE = Path(__file__).parent


def icon(name: str) -> QIcon:
    path = HERE / f"{name}.svg"
    return QIcon(str(path)) if path.exists() else QIcon()
