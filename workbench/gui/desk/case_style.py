"""Colours of the case markers: by status, by time-limit level, or by category. The words for
statuses and roles are the lifecycle's (``citydesk.incidents.lifecycle_words``)."""

from __future__ import annotations

import zlib

from PyQt5.QtGui import QColor

from ..i18n import N_

STATUS_COLOURS = {
    "reported": "#9e9e9e",
    "verified": "#bdbdbd",
    "accepted": "#7986cb",
    "registered": "#3949ab",
    "dispatched": "#00897b",
    "in_process": "#43a047",
    "handled": "#c0ca33",
    "checked": "#8d6e63",
    "closed": "#424242",
    "cancelled": "#eeeeee",
    "suspended": "#6d4c41",
}
LEVEL_COLOURS = {"ok": "#2e7d32", "amber": "#ffb300", "red": "#d32f2f"}
#: the three ways to colour cases, as shown in the style combo box
STYLES = {"level": N_("Time left"), "status": N_("Status"), "category": N_("Category")}
_PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]


def case_colour(row, style: str) -> QColor:
    if style == "status":
        return QColor(STATUS_COLOURS.get(row.status, "#9e9e9e"))
    if style == "category":
        key = f"{row.kind}:{row.category_code}".encode()
        return QColor(_PALETTE[zlib.crc32(key) % len(_PALETTE)])
    level = getattr(row, "level", None)
    return QColor(LEVEL_COLOURS.get(level, "#9e9e9e") if isinstance(level, str) else "#9e9e9e")
