"""Make matplotlib draw Chinese text instead of empty boxes ("tofu").

matplotlib's default DejaVu Sans has no CJK glyphs. We put an installed CJK font (Debian's
fonts-wqy-microhei or fonts-noto-cjk, installed by the setup script) behind it in the font
fallback list, so Latin text keeps its look and Chinese falls through to the CJK font.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

CJK_FAMILIES = (
    "WenQuanYi Micro Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
)
CJK_FILE_PATTERNS = ("**/wqy-microhei.ttc", "**/NotoSansCJK-Regular.ttc", "**/NotoSansCJK*.ttc")


@cache
def cjk_font_family() -> str | None:
    """The first installed CJK font family, or None when the machine has none."""
    from matplotlib import font_manager

    def find() -> str | None:
        installed = {f.name for f in font_manager.fontManager.ttflist}
        return next((fam for fam in CJK_FAMILIES if fam in installed), None)

    family = find()
    if family is None:
        # matplotlib's font cache predates a font installed later (e.g. by the setup script):
        # register the system's CJK font files directly instead of rebuilding the cache.
        for pattern in CJK_FILE_PATTERNS:
            for path in sorted(Path("/usr/share/fonts").glob(pattern)):
                try:
                    font_manager.fontManager.addfont(str(path))
                except (OSError, RuntimeError):
                    continue
        family = find()
    return family


def configure_matplotlib() -> str | None:
    """Use the Agg backend settings CityDesk needs; returns the CJK family used (or None)."""
    import logging

    import matplotlib

    # the CJK fallback font has no bold face; matplotlib says so on every bold title
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    family = cjk_font_family()
    fallback = ["DejaVu Sans"] + ([family] if family else [])
    # Fallback happens across the *family list*, so name the families, not "sans-serif".
    matplotlib.rcParams["font.family"] = fallback
    matplotlib.rcParams["axes.unicode_minus"] = False
    matplotlib.rcParams["pdf.fonttype"] = 42  # embed TrueType so PDFs keep CJK text searchable
    return family


def pyplot():
    """pyplot with the fonts that draw Chinese; imported late so that modules computing
    numbers for charts do not pay for matplotlib until a chart is drawn."""
    import matplotlib.pyplot as plt

    configure_matplotlib()
    return plt


def figure(**kwargs):
    """A matplotlib Figure with the CJK-capable fonts, made without pyplot: safe to build
    on a worker thread (pyplot would start a GUI backend there) and never kept alive by
    pyplot's figure registry, so there is nothing to close."""
    from matplotlib.figure import Figure

    configure_matplotlib()
    return Figure(**kwargs)
