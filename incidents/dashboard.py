"""The KPI dashboard of the weekly evaluation meeting (综合评价): the numbers, its charts and
its PDF report. Qt-free: the workbench shows these figures in a dock, the headless demo and
``citydesk dispatch report`` write them to a PDF.

Everything comes from one narrow read of the case summary columns (``store.case_facts``),
the same read the KPI table uses, so the dashboard of a million cases refreshes in about the
time of the KPIs themselves:

- the KPI table by department with its A-E grades, over the period;
- a weekly trend (cases registered, cases closed, on-time close rate of the week's closures);
- per grid cell: the count of cases registered in the period, the Gi* hotspot class (PySAL
  ``esda``, as in :mod:`citydesk.incidents.hotspots`) and the early warning against the cell's
  own forecast (:mod:`citydesk.incidents.early_warning`), with its reason in words;
- the placeholder points (a source system's fallback location) whose cases were left out of
  the cell figures, reported apart (:mod:`citydesk.incidents.placeholders`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from citydesk.layers.i18n import _
from citydesk.layers.mpl_fonts import figure
from citydesk.layers.report import Report, Section, Table, written_line
from citydesk.layers.report import write_pdf as write_pdf_file

from .early_warning import WarningSpec, early_warnings, whole_days
from .forecast import ForecastError, ForecastSpec, history_from_facts
from .hotspots import counts_per_cell, getis_ord, queen
from .kpi import KpiSpec, compute_kpis, rate_text, with_marked_counts
from .placeholders import Placeholder, placeholder_facts
from .routing import department_names

#: colours of the A-E grades, green to red, shared by the bar chart and the table
GRADE_COLOURS = {
    "A": "#1a9850",
    "B": "#91cf60",
    "C": "#fee08b",
    "D": "#fc8d59",
    "E": "#d73027",
    "-": "#bbbbbb",
}
HOTSPOT_COLOURS = {
    "hot 99%": "#b2182b",
    "hot 95%": "#ef8a62",
    "not significant": "#f0f0f0",
    "cold 95%": "#67a9cf",
    "cold 99%": "#2166ac",
}


#: what a warning row holds, wherever it is shown
WARNING_COLUMNS = ["code", "observed", "expected", "upper", "q_value", "weeks_over", "reason"]


def hotspot_labels() -> dict[str, str]:
    """The Gi* classes as the user reads them (the class keys stay English in the data)."""
    return {
        "hot 99%": _("hot spot, 99%"),
        "hot 95%": _("hot spot, 95%"),
        "not significant": _("not significant"),
        "cold 95%": _("cold spot, 95%"),
        "cold 99%": _("cold spot, 99%"),
    }


@dataclass
class DashboardSpec:
    """The evaluation period [start, end); by default the week before ``now``."""

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    trend_weeks: int = 12
    baseline_years: int = 3  # early warning: the forecast is fitted on this many years
    permutations: int = 99  # Gi* inference; 99 keeps a refresh interactive
    fdr: float = 0.05  # early warnings: false discovery rate over all cells
    min_count: int = 3  # early warnings: fewer cases in the period never warn
    hotspot_min_count: int = 10  # Gi*: cases in a cell's neighbourhood before "hot spot"
    measure: str = "digital"  # the on-time close measure (kpi.MEASURES): digital or 311

    def period(self, now: dt.datetime | None = None) -> tuple[pd.Timestamp, pd.Timestamp]:
        end = pd.Timestamp(self.end or now or dt.datetime.now(dt.UTC))
        end = end.tz_localize("UTC") if end.tzinfo is None else end.tz_convert("UTC")
        start = pd.Timestamp(self.start) if self.start else end - pd.Timedelta(days=7)
        start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
        return start, end


@dataclass
class Dashboard:
    start: pd.Timestamp
    end: pd.Timestamp
    kpis: pd.DataFrame  # compute_kpis by department, ALL row last
    trend: pd.DataFrame  # week, registered, closed, closed_on_time, on_time_close_rate
    cells: gpd.GeoDataFrame | None  # the grid with count, gi_z, hotspot, warning, reason
    measure: str = "digital"  # the on-time close measure the grades used
    placeholders: list[Placeholder] = field(default_factory=list)  # left out of the cells
    left_out: int = 0  # cases at the placeholder points
    warning_note: str = ""  # why there are no early warnings at all (too short a history)

    @property
    def warnings(self) -> pd.DataFrame:
        """The warning cells, most surprising first, with their reasons."""
        if self.cells is None:
            return pd.DataFrame(columns=WARNING_COLUMNS)
        flagged = self.cells[self.cells["warning"]].sort_values("q_value")
        return pd.DataFrame(flagged[WARNING_COLUMNS])


def build_dashboard(
    store,
    grid: gpd.GeoDataFrame | None,
    spec: DashboardSpec | None = None,
    now: dt.datetime | None = None,
) -> Dashboard:
    """Read the case facts once and compute every part of the dashboard from them."""
    spec = spec or DashboardSpec()
    start, end = spec.period(now)
    trend_start = end - pd.Timedelta(weeks=spec.trend_weeks)
    since = min(start - pd.DateOffset(years=spec.baseline_years), trend_start)
    facts = store.case_facts(since.to_pydatetime(), end.to_pydatetime())
    kpi_spec = KpiSpec(by="department", start=start, end=end, measure=spec.measure)
    kpis = with_marked_counts(compute_kpis(facts, kpi_spec), store, kpi_spec)
    trend = weekly_trend(facts, end, spec.trend_weeks)
    board = Dashboard(start, end, kpis, trend, None, spec.measure)
    if grid is not None and len(grid):
        cell_figures(board, store.calendar, facts, grid, spec)
    return board


def cell_figures(
    board: Dashboard,
    calendar,
    facts: pd.DataFrame,
    grid: gpd.GeoDataFrame,
    spec: DashboardSpec,
) -> None:
    """Fill in the board's cells, warnings and placeholder points (the dashboard's, and
    ``citydesk cases hotspots``'s): cases at placeholder points are left out first."""
    board.placeholders, at_placeholder = placeholder_facts(facts)
    board.left_out = int(at_placeholder.sum())
    board.cells, board.warning_note = cell_statistics(
        facts[~at_placeholder].reset_index(drop=True),
        grid,
        board.start,
        board.end,
        spec,
        calendar,
    )


def weekly_trend(facts: pd.DataFrame, end: pd.Timestamp, weeks: int) -> pd.DataFrame:
    """Per week, counted back from ``end`` so that every week is whole: cases registered,
    cases closed, and of the week's closures the share closed within their limit (a closure
    counts in the week it happened, so the line shows what the departments delivered)."""
    edges = pd.DatetimeIndex([end - pd.Timedelta(weeks=k) for k in range(weeks, -1, -1)])
    bins = edges.as_unit("us").asi8

    def per_week(moments: pd.Series, mask: np.ndarray | None = None) -> np.ndarray:
        us = pd.to_datetime(moments, utc=True).dt.as_unit("us").array.asi8  # a view
        ok = us != np.iinfo(np.int64).min  # NaT
        if mask is not None:
            ok &= mask
        return np.bincount(np.searchsorted(bins, us[ok], side="right"), minlength=len(bins) + 1)[
            1:-1
        ]

    closed = (facts["status"] == "closed").to_numpy()
    on_time = closed & (facts["closed_at"] <= facts["due_at"]).to_numpy()
    out = pd.DataFrame(
        {
            "week": edges[:-1],
            "registered": per_week(facts["registered_at"]),
            "closed": per_week(facts["closed_at"], closed),
            "closed_on_time": per_week(facts["closed_at"], on_time),
        }
    )
    out["on_time_close_rate"] = out["closed_on_time"] / out["closed"].where(out["closed"] > 0)
    return out


def cell_statistics(
    facts: pd.DataFrame,
    grid: gpd.GeoDataFrame,
    start: pd.Timestamp,
    end: pd.Timestamp,
    spec: DashboardSpec,
    calendar,
) -> tuple[gpd.GeoDataFrame, str]:
    """The grid with each cell's count in the period, its Gi* class and its early warning
    (the whole local days of the period against the forecast fitted before them); and a
    note when there can be no warnings (too short a history)."""
    cells = grid[["code", "geometry"]].reset_index(drop=True)
    moments = pd.DataFrame({"reported_at": facts["registered_at"], "grid_code": facts["grid_code"]})
    counts = counts_per_cell(moments, cells["code"], start, end)
    weights = queen(cells)
    hot = getis_ord(
        cells,
        counts,
        permutations=spec.permutations,
        min_count=spec.hotspot_min_count,
        weights=weights,
    ).set_index("code")
    cells["count"] = counts.to_numpy()
    for col in ("gi_z", "q", "p_sim", "hotspot"):
        cells[col] = hot[col].reindex(cells["code"]).to_numpy()
    note = ""
    for col, empty in (
        ("observed", 0),  # the warning's count: the period's whole local days
        ("expected", np.nan),
        ("upper", 0),
        ("q_value", 1.0),
        ("weeks_over", 0),
        ("reason", ""),
    ):
        cells[col] = empty
    cells["warning"] = False
    forecast_spec = ForecastSpec(by_category=False)
    tz = calendar.tz
    until = pd.Timestamp(end).tz_convert(tz).date()
    history = history_from_facts(
        facts, tz, calendar.is_holiday, cells, forecast_spec, until=until, weights=weights
    )
    first, last = whole_days(history, start, end, tz)
    try:
        warn = early_warnings(
            history, first, last, WarningSpec(spec.fdr, spec.min_count), forecast_spec
        ).set_index("unit")
    except ForecastError as exc:
        note = exc.message
    else:
        for col in ("expected", "upper", "q_value", "weeks_over", "reason", "warning"):
            cells[col] = warn[col].reindex(cells["code"]).to_numpy()
        cells["observed"] = warn["count"].reindex(cells["code"]).to_numpy()
        cells["warning"] = cells["warning"].fillna(False).astype(bool)
    return cells, note


# --- charts -------------------------------------------------------------------------------


def _department_labels(codes, lang: str | None) -> list[str]:
    from citydesk.layers.i18n import current_language

    names = department_names(lang or current_language())
    return [names.get(c, c) for c in codes]


def kpi_chart(board: Dashboard, ax=None, lang: str | None = None):
    """On-time close rate by department as bars coloured by grade, the grade written on each."""
    table = board.kpis[board.kpis["department"] != "ALL"]
    if ax is None:  # no pyplot: the charts are drawn on a worker thread for the PDF
        ax = figure(figsize=(7, max(2.5, 0.45 * len(table) + 1.2))).subplots()
    labels = _department_labels(table["department"], lang)
    rates = table["on_time_close_rate"].fillna(0).to_numpy() * 100
    ax.barh(labels, rates, color=[GRADE_COLOURS[g] for g in table["grade"]], edgecolor="#555")
    for y, (rate, g, score) in enumerate(zip(rates, table["grade"], table["score"], strict=True)):
        text = f"{g}  ({score:.0f})" if np.isfinite(score) else g
        ax.text(min(rate, 100) + 1, y, text, va="center", fontsize=9)
    ax.set_xlim(0, 115)
    ax.invert_yaxis()
    ax.set_xlabel(_("on-time close rate (%)"))
    ax.set_title(_("On-time close rate and grade by department"))
    ax.figure.tight_layout()
    return ax.figure


def trend_chart(board: Dashboard, ax=None):
    """Registered and closed cases per week, with the on-time share on a second axis."""
    if ax is None:
        ax = figure(figsize=(7, 3.2)).subplots()
    t = board.trend
    weeks = t["week"].dt.tz_convert(None)
    ax.plot(weeks, t["registered"], marker="o", label=_("registered"), color="#2c7fb8")
    ax.plot(weeks, t["closed"], marker="s", label=_("closed"), color="#41ab5d")
    ax.set_ylabel(_("cases per week"))
    right = ax.twinx()
    right.plot(
        weeks,
        t["on_time_close_rate"] * 100,
        linestyle="--",
        color="#d95f0e",
        label=_("closed on time (%)"),
    )
    right.set_ylim(0, 105)
    right.set_ylabel(_("closed on time (%)"))
    lines = ax.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left", fontsize=8)
    ax.set_title(_("Weekly trend"))
    ax.figure.autofmt_xdate()
    ax.figure.tight_layout()
    return ax.figure


def cell_maps(board: Dashboard):
    """Two maps side by side: counts per cell, and Gi* hotspots with the early-warning cells
    outlined in red."""
    from matplotlib.patches import Patch

    fig = figure(figsize=(11, 5.5))
    left, right = fig.subplots(1, 2)
    if board.cells is None:
        for ax in (left, right):
            ax.text(0.5, 0.5, _("the project has no unit grid"), ha="center", va="center")
            ax.set_axis_off()
        return fig
    cells = board.cells
    cells.plot(column="count", cmap="YlOrRd", linewidth=0.1, edgecolor="#999", legend=True, ax=left)
    left.set_title(_("Cases registered per cell"))
    colours = cells["hotspot"].map(HOTSPOT_COLOURS).fillna("#f0f0f0")
    cells.plot(color=colours, linewidth=0.1, edgecolor="#999", ax=right)
    flagged = cells[cells["warning"]]
    if len(flagged):
        flagged.boundary.plot(ax=right, color="#e31a1c", linewidth=1.6)
    labels = hotspot_labels()
    handles = [
        Patch(facecolor=c, edgecolor="#999", label=labels[k]) for k, c in HOTSPOT_COLOURS.items()
    ]
    handles.append(Patch(facecolor="none", edgecolor="#e31a1c", label=_("early warning")))
    right.legend(handles=handles, loc="lower left", fontsize=7)
    right.set_title(_("Gi* hotspots and early warnings"))
    for ax in (left, right):
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def kpi_table(board: Dashboard, lang: str | None = None) -> Table:
    """The KPI table by department with grades (tinted by grade), for the report engine."""
    cols = [
        ("department", _("Department")),
        ("registered", _("Registered")),
        ("due_to_close", _("Due to close")),
        ("closed", _("Closed")),
        ("on_time_close_rate", _("On time")),
        ("rework_rate", _("Rework")),
        ("accurate_dispatch_rate", _("Accurate dispatch")),
        ("median_hours_to_close", _("Median hours")),
        ("urged", _("Urged (督办)")),
        ("extended", _("Extended (延期)")),
        ("score", _("Score")),
        ("grade", _("Grade")),
    ]
    rows = []
    names = _department_labels(board.kpis["department"], lang)
    records = board.kpis.to_dict("records")
    for name, rec in zip(names, records, strict=True):
        row = [_("All departments") if rec["department"] == "ALL" else name]
        for key, _label in cols[1:]:
            value = rec[key]
            if key.endswith("_rate"):
                row.append(rate_text(value, 0))
            elif isinstance(value, float):
                row.append("-" if pd.isna(value) else f"{value:.1f}")
            else:
                row.append(str(value))
        rows.append(row)
    grades = [rec["grade"] for rec in records]

    def colour(i: int, j: int) -> str | None:
        return GRADE_COLOURS.get(grades[i]) if j == len(cols) - 1 else None

    return Table([label for _key, label in cols], rows, _("KPIs by department"), colour)


def evaluation_report(board: Dashboard, lang: str | None = None, credits: str = "") -> Report:
    """The weekly evaluation report: the KPI table with grades and the early warnings, then
    the grade chart, the weekly trend and the two cell maps; ``credits`` are the city's data
    credits (its profile's)."""
    warn = board.warnings
    items = [f"{r.code}: {r.reason}" for r in warn.head(30).itertuples()]
    if not items:
        items = [board.warning_note or _("No cell breaks its forecast.")]
    items += placeholder_lines(board)
    title = _("City management evaluation, {start} to {end}").format(
        start=f"{board.start:%Y-%m-%d}", end=f"{board.end:%Y-%m-%d}"
    )
    sections = [
        Section(_("KPIs and grades"), tables=[kpi_table(board, lang)]),
        Section(
            _("Early-warning cells: {n}").format(n=len(warn)),
            items=items,
        ),
        Section(
            _("Charts"),
            figures=[
                ("kpi_grades", kpi_chart(board, lang=lang)),
                ("weekly_trend", trend_chart(board)),
                ("cell_maps", cell_maps(board)),
            ],
        ),
    ]
    return Report(title, sections, subtitle=[written_line()], credits=credits)


def placeholder_lines(board: Dashboard) -> list[str]:
    """The placeholder points in words, for every place the dashboard is shown."""
    return [
        _(
            "Left out: {cases} cases at one point ({lon:.5f}, {lat:.5f}), {share:.0%} of the "
            "located cases, a source system's placeholder location"
        ).format(cases=p.cases, lon=p.lon, lat=p.lat, share=p.share)
        for p in board.placeholders
    ]


def write_pdf(
    board: Dashboard, path: str | Path, lang: str | None = None, credits: str = ""
) -> Path:
    """The evaluation report as one PDF (through the report engine); its chart images go
    to a temporary folder."""
    import tempfile

    path = Path(path)
    with tempfile.TemporaryDirectory() as tmp:
        report = evaluation_report(board, lang, credits)
        for section in report.sections:  # the charts as PNGs the PDF embeds
            for stem, fig in section.figures:
                png = Path(tmp) / f"{stem}.png"
                fig.savefig(png, dpi=150)
                section.images.append(png)
            section.figures = []
        write_pdf_file(report, path)
    return path
