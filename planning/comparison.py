"""Scenarios side by side: the indicator table, bar charts and small-multiple maps.

The optimizer's Pareto points join the comparison as plans: each column of a front's plan
layer (``citydesk optimize landuse`` writes one) is evaluated with the same indicators as
the scenarios, against a reference scenario's facilities and assumptions.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from citydesk.layers.i18n import _, ngettext

from .indicators import INDICATORS, indicator_label, indicator_table, is_money, unit_label
from .landuse_front import USE_COLOURS, use_label


def comparison_table(indicators: pd.DataFrame, area: str = "city") -> pd.DataFrame:
    """Indicators (rows, in the registry's order) by scenario (columns) for one area, with
    ``label``, ``unit`` and ``better`` columns first."""
    part = indicators[indicators["area"] == area]
    wide = part.pivot_table(index="indicator", columns="scenario", values="value", sort=False)
    order = [k for k in INDICATORS if k in wide.index] + [
        k for k in wide.index if k not in INDICATORS
    ]
    scenarios = list(dict.fromkeys(part["scenario"]))
    wide = wide.loc[order, scenarios]
    meta = pd.DataFrame(
        {
            "label": [indicator_label(k) for k in order],
            "unit": [INDICATORS[k].unit if k in INDICATORS else "" for k in order],
            "better": [INDICATORS[k].better if k in INDICATORS else "" for k in order],
        },
        index=order,
    )
    return pd.concat([meta, wide], axis=1)


def best_scenarios(table: pd.DataFrame) -> dict[str, list[str]]:
    """Per indicator with a direction, the scenario(s) that do best."""
    scenarios = [c for c in table.columns if c not in ("label", "unit", "better")]
    best: dict[str, list[str]] = {}
    for key, row in table.iterrows():
        values = pd.to_numeric(row[scenarios], errors="coerce")
        if row["better"] not in ("higher", "lower") or values.isna().all():
            continue
        target = values.max() if row["better"] == "higher" else values.min()
        best[key] = [s for s in scenarios if np.isclose(values[s], target)]
    return best


def format_value(value: float, unit: str, currency: str = "") -> str:
    """A figure for display; money in the city's currency, compact and in the interface's
    locale (Babel: "$234.1M", "€2.3亿"), or in millions when the city gives no currency."""
    if value is None or not np.isfinite(value):
        return "-"
    if is_money(unit):
        if currency:
            from babel.numbers import format_compact_currency

            from citydesk.layers.i18n import current_language

            return format_compact_currency(
                value, currency, locale=current_language() or "en", fraction_digits=1
            )
        return f"{value / 1e6:,.1f} M"
    if abs(value) >= 100 or float(value).is_integer():  # a count is "43", not "43.00"
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def formatted_table(table: pd.DataFrame, currency: str = "") -> pd.DataFrame:
    """Display strings, best values marked with a star; money in ``currency``."""
    scenarios = [c for c in table.columns if c not in ("label", "unit", "better")]
    best = best_scenarios(table)
    out = pd.DataFrame(index=table.index)
    out[_("Indicator")] = table["label"]
    out[_("Unit")] = [unit_label(u, currency) for u in table["unit"]]
    for s in scenarios:
        out[s] = [
            format_value(v, u, currency) + (" *" if s in best.get(k, []) else "")
            for k, v, u in zip(table.index, table[s], table["unit"], strict=True)
        ]
    return out


def indicator_chart(table: pd.DataFrame, columns: int = 4, currency: str = ""):
    """One small bar chart per indicator (scenarios as bars): honest about units, which a
    radar chart of mixed units is not."""
    from citydesk.layers.mpl_fonts import figure

    scenarios = [c for c in table.columns if c not in ("label", "unit", "better")]
    n = len(table)
    rows = int(np.ceil(n / columns))
    fig = figure(figsize=(3.2 * columns, 2.3 * rows))
    axes = fig.subplots(rows, columns, squeeze=False)
    from matplotlib import colormaps

    colours = colormaps["tab10"](np.arange(len(scenarios)) % 10)
    best = best_scenarios(table)
    for ax, (key, row) in zip(axes.flat, table.iterrows(), strict=False):
        values = pd.to_numeric(row[scenarios], errors="coerce").to_numpy(float)
        bars = ax.barh(range(len(scenarios)), np.nan_to_num(values), color=colours)
        for b, s in zip(bars, scenarios, strict=True):
            if s in best.get(key, []):
                b.set_edgecolor("black")
                b.set_linewidth(1.5)
        ax.set_yticks(range(len(scenarios)), scenarios, fontsize=7)
        ax.invert_yaxis()
        ax.set_title(f"{row['label']}\n({unit_label(row['unit'], currency)})", fontsize=7.5)
        ax.tick_params(axis="x", labelsize=6)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    fig.suptitle(_("Indicators by scenario (outlined: best)"), fontsize=10)
    fig.tight_layout()
    return fig


def scenario_maps(
    parcels: gpd.GeoDataFrame,
    states: dict[str, pd.DataFrame],
    titles: dict[str, str] | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    columns: int = 3,
):
    """Small multiples: each scenario's changed parcels coloured by their new use."""
    from matplotlib.patches import Patch

    from citydesk.layers.mpl_fonts import figure

    n = len(states)
    cols = min(columns, n)
    rows = int(np.ceil(n / cols))
    fig = figure(figsize=(4.2 * cols, 4.4 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    outline = parcels.geometry
    # the city is drawn once as areas (neighbourhoods), not as 13k grey parcels per map:
    # only the changed parcels are polygons, so 15 maps take seconds, not a minute
    base = (
        boundary.to_crs(parcels.crs)
        if boundary is not None
        else gpd.GeoSeries([outline.union_all()], crs=parcels.crs)
    )
    for ax, (name, state) in zip(axes.flat, states.items(), strict=False):
        base.plot(ax=ax, color="#eeeeee", edgecolor="#999999", linewidth=0.4)
        uses = state["use"].to_numpy()
        for use, colour in USE_COLOURS.items():
            if use == "keep":
                continue
            mask = uses == use
            if mask.any():
                gpd.GeoSeries(outline[mask], crs=parcels.crs).plot(
                    ax=ax, color=colour, linewidth=0, rasterized=True
                )
        changed = int((uses != "keep").sum())
        label = (titles or {}).get(name, name)
        ax.set_title(
            ngettext("{title}: {n} parcel changed", "{title}: {n} parcels changed", changed).format(
                title=label, n=changed
            ),
            fontsize=8,
        )
        ax.set_axis_off()
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    handles = [Patch(color=c, label=use_label(u)) for u, c in USE_COLOURS.items() if u != "keep"]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def suitability_map(
    parcels: gpd.GeoDataFrame,
    score: np.ndarray,
    changed: np.ndarray,
    title: str,
    boundary: gpd.GeoDataFrame | None = None,
):
    """Parcels coloured by suitability 0..1 (red low, green high), the plan's changed
    parcels outlined: does the plan go where the overlay says it fits?"""
    from matplotlib.colors import Normalize

    from citydesk.layers.mapplot import plot_polygons
    from citydesk.layers.mpl_fonts import figure

    fig = figure(figsize=(8, 6.5))
    ax = fig.subplots()
    if boundary is not None:
        boundary.to_crs(parcels.crs).boundary.plot(ax=ax, color="#555555", linewidth=0.5)
    values = np.asarray(score, dtype=float)
    known = np.isfinite(values)
    geometry = parcels.geometry.to_numpy()
    ramp = plot_polygons(
        ax, geometry[known], array=values[known], cmap="RdYlGn", norm=Normalize(0, 1),
        linewidth=0, rasterized=True,
    )  # fmt: skip
    if not known.all():  # no score (a factor without a value there): grey, drawn after
        plot_polygons(ax, geometry[~known], facecolor="#dddddd", linewidth=0, rasterized=True)
    fig.colorbar(ramp, ax=ax, label=_("suitability (0..1)"), shrink=0.6)
    ax.set_aspect("equal")
    if changed.any():
        gpd.GeoSeries(geometry[changed], crs=parcels.crs).boundary.plot(
            ax=ax, color="black", linewidth=0.4
        )
    ax.set_title(title, fontsize=10)
    ax.set_axis_off()
    fig.tight_layout()
    return fig


def front_plans(project, layer: str) -> dict[str, np.ndarray]:
    """The plans in a Pareto front's plan layer: {column: use index per parcel}."""
    from citydesk.layers.io import read_frame
    from citydesk.optimization.landuse import USES

    from .landuse_inputs import plan_from_column

    frame = read_frame(project, layer)[0]
    # the plan columns are those holding use names only (the others identify the parcel)
    columns = [
        c
        for c in frame.columns
        if c != "geometry" and frame[c].notna().all() and frame[c].astype(str).isin(USES).all()
    ]
    return {f"{layer}:{c}": plan_from_column(frame, c) for c in columns}


def evaluate_plans(inputs, scenario, plans: dict[str, np.ndarray]) -> tuple[dict, pd.DataFrame]:
    """Per-parcel states and the long indicator table (with a ``scenario`` column) of plans
    measured with ``scenario``'s facilities and assumptions."""
    from .scenario_run import plan_state

    states, tables = {}, []
    for name, plan in plans.items():
        if len(plan) != len(inputs.parcels):
            raise ValueError(
                f"plan {name} has {len(plan)} parcels, the project has {len(inputs.parcels)}"
            )
        states[name] = plan_state(inputs, scenario, np.asarray(plan, dtype=int))
        tables.append(indicator_table(states[name]).assign(scenario=name))
    return states, pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()


def comparison_view(
    project: str, names: list[str], extra: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, tuple[bytes, int, int]]:
    """(comparison table, the table as shown, the chart as RGBA pixels and its size):
    everything the workbench's comparison tab shows, made without a widget, so on a worker
    or in an analysis process. ``extra`` is a long indicator table to add (evaluated
    Pareto plans)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from citydesk.layers.city_profile import project_currency

    from .scenario_store import stored_indicators

    long = stored_indicators(project, names)
    if extra is not None and len(extra):
        long = pd.concat([long, extra], ignore_index=True)
    table = comparison_table(long)
    shown = formatted_table(table, project_currency(project)).reset_index(drop=True)
    canvas = FigureCanvasAgg(indicator_chart(table, columns=3))
    canvas.draw()
    width, height = canvas.get_width_height()
    return table, shown, (bytes(canvas.buffer_rgba()), width, height)
