"""The one report engine: HTML (Jinja2), PDF (ReportLab) and Markdown from one document.

The planning report, the dispatch evaluation report and the headless demo's report are all a
:class:`Report` of sections (paragraphs, bullet items, tables, figures), written by
:func:`write_report`. One engine means one look, one way to put Chinese into a PDF, and one
place to fix a layout bug.

- **HTML** renders ``templates/report.html.j2`` with Jinja2 (autoescaped: a layer name or a
  scenario note can never inject markup). Figures are PNGs written next to it.
- **PDF** is laid out by ReportLab's platypus: tables are real tables whose columns share the
  page width by their content, whose cells wrap instead of overlapping, whose header row
  repeats on every page; text stays text (searchable, extractable). A CJK TrueType font is
  embedded when one is installed, so 住宅用地 is not tofu. matplotlib stays for the charts.
- **Markdown** for pasting into a ticket or a wiki.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class Table:
    """A table of text cells. ``colours(row_index, column_index) -> "#rrggbb" | None`` may
    tint a cell (grades, status)."""

    headers: list[str]
    rows: list[list[str]]
    caption: str = ""
    colours: Callable[[int, int], str | None] | None = None

    @classmethod
    def from_frame(cls, frame: Any, caption: str = "", na: str = "-") -> Table:
        """A pandas DataFrame as text: numbers keep their formatting, missing values ``na``."""
        import pandas as pd

        rows = [
            [na if (not isinstance(v, str) and pd.isna(v)) else str(v) for v in record]
            for record in frame.itertuples(index=False, name=None)
        ]
        return cls([str(c) for c in frame.columns], rows, caption)

    @property
    def numeric(self) -> list[bool]:
        """Columns whose cells all look like numbers: right-aligned."""
        pattern = re.compile(r"^[\s$€¥£+\-−]*[\d.,]+\s*(%|[A-Za-z/\u4e00-\u9fff]{0,12})?\s*\*?$")
        return [
            bool(self.rows) and all(pattern.match(r[j] or "-") or r[j] == "-" for r in self.rows)
            for j in range(len(self.headers))
        ]

    def colour(self, column: int, row: list[str]) -> str | None:
        if self.colours is None:
            return None
        return self.colours(self.rows.index(row), column)


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[tuple[str, Any]] = field(default_factory=list)  # (file stem, mpl Figure)
    images: list[Path] = field(default_factory=list)  # PNGs that already exist
    link: tuple[str, str] | None = None  # (text, href) for HTML and Markdown


@dataclass
class Report:
    title: str
    sections: list[Section]
    subtitle: list[str] = field(default_factory=list)
    credits: str = ""
    landscape: bool = True


@dataclass
class ReportPaths:
    html: Path | None
    pdf: Path | None
    markdown: Path | None
    images: list[Path]


def written_line() -> str:
    from .i18n import _

    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return _("Written {when} by CityDesk.").format(when=when)


def write_report(
    report: Report,
    output: str | Path,
    stem: str = "report",
    formats: Sequence[str] = ("html", "pdf"),
) -> ReportPaths:
    """Write ``report`` into the folder ``output`` as ``stem.html`` / ``.pdf`` / ``.md``
    (the figures as PNGs beside them)."""
    out = Path(output)
    out.mkdir(parents=True, exist_ok=True)
    for section in report.sections:
        for fig_stem, fig in section.figures:
            path = out / f"{fig_stem}.png"
            fig.savefig(path, dpi=150)
            section.images.append(path)
        section.figures = []
    images = [p for s in report.sections for p in s.images]
    paths = ReportPaths(None, None, None, images)
    if "html" in formats:
        paths.html = out / f"{stem}.html"
        paths.html.write_text(render_html(report), encoding="utf-8")
    if "md" in formats:
        paths.markdown = out / f"{stem}.md"
        paths.markdown.write_text(render_markdown(report), encoding="utf-8")
    if "pdf" in formats:
        paths.pdf = out / f"{stem}.pdf"
        write_pdf(report, paths.pdf)
    return paths


# -- HTML -----------------------------------------------------------------------------------


def render_html(report: Report) -> str:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from .i18n import current_language

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    lang = "zh-CN" if current_language() == "zh_CN" else "en"
    return env.get_template("report.html.j2").render(report=report, lang=lang)


# -- Markdown -------------------------------------------------------------------------------


def render_markdown(report: Report) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    out = [f"# {report.title}", "", *report.subtitle]
    for s in report.sections:
        out += ["", f"## {s.heading}", ""]
        out += [p + "\n" for p in s.paragraphs]
        out += [f"- {item}" for item in s.items]
        for t in s.tables:
            if t.caption:
                out += ["", f"**{t.caption}**", ""]
            out += ["| " + " | ".join(cell(h) for h in t.headers) + " |"]
            out += ["|" + "|".join("---:" if n else "---" for n in t.numeric) + "|"]
            out += ["| " + " | ".join(cell(c) for c in r) + " |" for r in t.rows]
        out += [f"![{p.stem}]({p.name})" for p in s.images]
        if s.link:
            out += ["", f"[{s.link[0]}]({s.link[1]})"]
    if report.credits:
        out += ["", "---", "", report.credits]
    return "\n".join([*out, ""])


# -- PDF ------------------------------------------------------------------------------------

_FONT = "CityDeskSans"
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def _register_font() -> str:
    """A font that has both Latin and CJK glyphs, embedded in the PDF; Helvetica when the
    machine has no CJK font (then Chinese would be missing, so the setup installs one)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if _FONT in pdfmetrics.getRegisteredFontNames():
        return _FONT
    from .mpl_fonts import CJK_FILE_PATTERNS

    for pattern in CJK_FILE_PATTERNS:
        for path in sorted(Path("/usr/share/fonts").glob(pattern)):
            try:
                pdfmetrics.registerFont(TTFont(_FONT, str(path), subfontIndex=0))
                return _FONT
            except Exception:  # a font ReportLab cannot embed: try the next one
                continue
    return "Helvetica"


def _styles(font: str) -> dict[str, Any]:
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet

    base = getSampleStyleSheet()
    # CJK text has no spaces: wrap anywhere (wordWrap="CJK") so long lines never overflow
    common = {"fontName": font, "wordWrap": "CJK"}
    latin = {"fontName": font}
    return {
        "title": ParagraphStyle("t", parent=base["Title"], fontSize=17, leading=21, **common),
        "h": ParagraphStyle("h", parent=base["Heading2"], fontSize=12.5, leading=16, **common),
        "caption": ParagraphStyle("c", parent=base["Heading4"], fontSize=9.5, **common),
        "p": ParagraphStyle("p", parent=base["BodyText"], fontSize=9, leading=12, **common),
        "meta": ParagraphStyle(
            "m", parent=base["BodyText"], fontSize=8.5, textColor="#555555", **common
        ),
        "cell_cjk": ParagraphStyle("cellz", fontSize=7.5, leading=9.2, **common),
        "num_cjk": ParagraphStyle("numz", fontSize=7.5, leading=9.2, alignment=2, **common),
        "head_cjk": ParagraphStyle("headz", fontSize=7.5, leading=9.2, **common),
        "cell": ParagraphStyle("cell", fontSize=7.5, leading=9.2, **latin),
        "num": ParagraphStyle("num", fontSize=7.5, leading=9.2, alignment=2, **latin),
        "head": ParagraphStyle("head", fontSize=7.5, leading=9.2, **latin),
    }


#: what a header may not be broken inside: a run of Latin letters or digits, or one
#: full-width character
_WORDS = re.compile(r"[\u2e80-\u9fff\uff00-\uffef]|[^\s\u2e80-\u9fff\uff00-\uffef]+")


def _width(text: str) -> int:
    """Characters of ``text``, a Chinese (full-width) one counted as two: 等级 takes the
    room of four Latin letters, and counted as two it squeezed a Chinese table's last
    columns together (a score and its grade read as "100.0A")."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _column_widths(table: Table, width: float) -> list[float]:
    """Share ``width`` by the longest text of each column (headers wrap by word), with a
    floor so a short column still fits its longest word."""

    def longest_word(text: str) -> int:
        # Chinese wraps between any two characters (see _pdf_table): each is a word
        return max((_width(w) for w in _WORDS.findall(text)), default=1)

    need = []
    for j, header in enumerate(table.headers):
        cells = [r[j] for r in table.rows] or [""]
        body = max(_width(c) for c in cells)
        need.append(max(body, longest_word(header), 3))
    total = sum(need)
    widths = [width * n / total for n in need]
    # about 4.3 pt per character at 7.5 pt, plus the cell padding
    floor = [min(width / len(need), 4.3 * max(longest_word(h), 3) + 8) for h in table.headers]
    widths = [max(w, f) for w, f in zip(widths, floor, strict=True)]
    scale = width / sum(widths)
    return [w * scale for w in widths]


def _pdf_table(table: Table, styles: dict, width: float):
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, TableStyle
    from reportlab.platypus import Table as RlTable

    numeric = table.numeric

    def para(text: str, style: str):
        # Latin text wraps between words; Chinese (no spaces) may wrap between any characters
        chosen = styles[style + "_cjk"] if _CJK.search(text) else styles[style]
        return Paragraph(html.escape(text), chosen)

    data = [[para(h, "head") for h in table.headers]]
    for row in table.rows:
        data.append([para(c, "num" if numeric[j] else "cell") for j, c in enumerate(row)])
    t = RlTable(data, colWidths=_column_widths(table, width), repeatRows=1, hAlign="LEFT")
    style = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#bbbbbb")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    for i in range(1, len(data)):
        if i % 2 == 0:
            style.append(("BACKGROUND", (0, i), (-1, i), colors.HexColor("#f8f8f8")))
        if table.colours is not None:
            for j in range(len(table.headers)):
                tint = table.colours(i - 1, j)
                if tint:
                    style.append(("BACKGROUND", (j, i), (j, i), colors.HexColor(tint)))
    t.setStyle(TableStyle(style))
    return t


def write_pdf(report: Report, path: str | Path) -> Path:
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import cm
    from reportlab.platypus import (
        Image,
        KeepTogether,
        ListFlowable,
        ListItem,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
    )

    esc = html.escape
    font = _register_font()
    styles = _styles(font)
    page = landscape(A4) if report.landscape else A4
    margin = 1.5 * cm
    width = page[0] - 2 * margin
    height = page[1] - 2 * margin
    doc = SimpleDocTemplate(
        str(path),
        pagesize=page,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=margin,
        title=report.title,
        author="CityDesk",
        creator="CityDesk",
    )
    story: list[Any] = [Paragraph(esc(report.title), styles["title"])]
    story += [Paragraph(esc(line), styles["meta"]) for line in report.subtitle]
    for s in report.sections:
        story.append(Spacer(1, 6))
        heading = Paragraph(esc(s.heading), styles["h"])
        first: list[Any] = [heading]
        story.append(KeepTogether(first))
        story += [Paragraph(esc(p).replace("\n", "<br/>"), styles["p"]) for p in s.paragraphs]
        if s.items:
            story.append(
                ListFlowable(
                    [ListItem(Paragraph(esc(i), styles["p"]), leftIndent=12) for i in s.items],
                    bulletType="bullet",
                    start="•",
                    leftIndent=12,
                )
            )
        for t in s.tables:
            block: list[Any] = []
            if t.caption:
                block.append(Paragraph(esc(t.caption), styles["caption"]))
            block.append(_pdf_table(t, styles, width))
            story.append(KeepTogether(block) if len(t.rows) < 25 else block[0])
            if len(t.rows) >= 25:
                story.append(block[-1])
            story.append(Spacer(1, 6))
        for image in s.images:
            story.append(_image(Image, image, width, height * 0.92))
        if s.link:
            story.append(Paragraph(esc(s.link[0]), styles["meta"]))
    if report.credits:
        story += [Spacer(1, 10), Paragraph(esc(report.credits), styles["meta"])]
    doc.build(story)
    return Path(path)


def _image(image_cls, path: Path, width: float, height: float):
    from reportlab.lib.utils import ImageReader

    w, h = ImageReader(str(path)).getSize()
    scale = min(width / w, height / h, 1.0 * 72 / 150 * 2)  # at most the PNG's size at 150 dpi
    return image_cls(str(path), width=w * scale, height=h * scale, hAlign="LEFT")
