"""Static maps with matplotlib, for reports, print and the headless demo.

The interactive canvas draws with QPainter (see workbench); matplotlib is the right tool for
paper: vector PDF output, legends, scale bars and CJK-capable text. Every layer is drawn in the
project CRS with its own style, so a printed map matches what the workbench shows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .layer import Layer, RasterLayer, VectorLayer
from .mpl_fonts import figure
from .style import color_for_values

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .project import Project

MM_TO_PT = 72 / 25.4


def polygon_paths(geoms) -> list:
    """One closed matplotlib path per (multi)polygon, the paths geopandas draws (each
    geometry normalized, every ring a MOVETO ... CLOSEPOLY run), built from shapely's ragged
    arrays instead of one Path object per ring and one patch per polygon: the 13k demo parcels
    drawn in 0.4-0.9 s against geopandas' 5.5-7.0 s, the same pixels (whole pages:
    benchmarks/printed_maps.py). A collection left by a repair
    keeps its polygons; a missing geometry, or one with none, gets an empty path, so the
    paths stay one per geometry, in step with a colour per geometry."""
    import shapely
    from matplotlib.path import Path
    from shapely.geometry import MultiPolygon

    geoms = shapely.normalize(np.asarray(geoms, dtype=object))
    if len(geoms) == 0:
        return []
    kinds = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)
    polygonal = np.isin(shapely.get_type_id(geoms), kinds)
    for i in np.flatnonzero(~polygonal):  # rare: a GeometryCollection, a stray line, None
        parts = shapely.get_parts(shapely.get_parts(geoms[i])) if geoms[i] is not None else ()
        geoms[i] = MultiPolygon([p for p in parts if p.geom_type == "Polygon"])
    kind, coords, offsets = shapely.to_ragged_array(geoms)
    rings = offsets[0]
    polygons = offsets[1] if kind == shapely.GeometryType.POLYGON else offsets[1][offsets[2]]
    starts, ends = rings[polygons[:-1]], rings[polygons[1:]]
    codes = np.full(len(coords), Path.LINETO, dtype=Path.code_type)
    codes[rings[:-1]] = Path.MOVETO
    codes[rings[1:] - 1] = Path.CLOSEPOLY
    return [Path(coords[a:b], codes[a:b]) for a, b in zip(starts, ends, strict=True)]


def plot_polygons(ax: Axes, geoms, **style):
    """Draw (multi)polygons as one collection of :func:`polygon_paths` and return it;
    ``style`` is a matplotlib collection's (``facecolor``, ``edgecolor``, ``linewidth``,
    ``alpha``, ``rasterized``, or ``array`` with ``cmap`` and ``norm`` for a colour ramp a
    colorbar can show)."""
    from matplotlib.collections import PathCollection

    paths = polygon_paths(geoms.values if hasattr(geoms, "values") else geoms)
    collection = PathCollection(paths, **style)
    ax.add_collection(collection, autolim=True)
    ax.autoscale_view()
    return collection


def _draw_vector(ax: Axes, layer: VectorLayer, crs) -> None:
    frame = layer.in_crs(crs)
    frame = frame[~frame.geometry.isna() & ~frame.geometry.is_empty]
    if frame.empty:
        return
    style = layer.style
    values = frame[style.field] if style.field and style.field in frame.columns else None
    colors = color_for_values(style, values, len(frame))
    kind = layer.geometry_type
    sym = style.symbol
    alpha = layer.opacity
    if kind == "Polygon":
        face = "none" if sym.fill == "none" else colors
        plot_polygons(
            ax,
            frame.geometry,
            facecolor=face,
            edgecolor=sym.stroke,
            linewidth=sym.stroke_width * MM_TO_PT,
            alpha=alpha,
        )
    elif kind == "LineString":
        line_colors = colors if style.kind != "single" else sym.stroke
        frame.plot(
            ax=ax, color=line_colors, linewidth=max(0.2, sym.stroke_width * MM_TO_PT), alpha=alpha
        )
    else:
        frame.plot(
            ax=ax,
            color=colors,
            edgecolor=sym.stroke,
            linewidth=sym.stroke_width * MM_TO_PT,
            markersize=(sym.size * MM_TO_PT) ** 2 / 2,
            alpha=alpha,
        )
    if style.label_field and style.label_field in frame.columns and len(frame) <= 500:
        points = frame.geometry.representative_point()
        for pt, text in zip(points, frame[style.label_field], strict=True):
            ax.annotate(
                str(text),
                (pt.x, pt.y),
                ha="center",
                va="center",
                fontsize=7,
                color="#222222",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.7},
            )


def _draw_raster(ax: Axes, layer: RasterLayer, crs) -> None:
    from .raster_ops import reproject_raster

    shown = reproject_raster(layer, crs) if crs is not None and layer.crs != crs else layer
    band = shown.masked(1)
    x0, y0, x1, y1 = shown.extent
    style = shown.style
    ax.imshow(
        band,
        extent=(x0, x1, y0, y1),
        cmap=style.ramp or "terrain",
        vmin=style.vmin,
        vmax=style.vmax,
        alpha=layer.opacity,
        interpolation="nearest",
    )
    if style.hillshade:
        from .raster_ops import hillshade

        shade = hillshade(band.filled(np.nan), abs(shown.transform.a), abs(shown.transform.e))
        ax.imshow(
            np.ma.masked_invalid(shade),
            extent=(x0, x1, y0, y1),
            cmap="gray",
            alpha=0.35,
            interpolation="nearest",
        )


def _legend_handles(layers: Sequence[Layer], max_entries: int = 48):
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = []
    for layer in layers:
        if not isinstance(layer, VectorLayer):
            continue
        kind = layer.geometry_type
        style = layer.style

        def handle(color: str, label: str, kind: str = kind, style=style):
            if kind == "LineString":
                return Line2D(
                    [],
                    [],
                    color=color if style.kind != "single" else style.symbol.stroke,
                    lw=1.5,
                    label=label,
                )
            if kind == "Point":
                return Line2D(
                    [], [], marker="o", ls="", color=color, mec=style.symbol.stroke, label=label
                )
            face = "none" if color == "none" else color
            return Patch(facecolor=face, edgecolor=style.symbol.stroke, label=label)

        if style.kind == "categorized":
            handles.append(Patch(color="none", label=layer.name))
            handles += [handle(c.symbol.fill, f"  {c.label}") for c in style.categories]
        elif style.kind == "graduated":
            handles.append(Patch(color="none", label=f"{layer.name} ({style.field})"))
            handles += [handle(c.symbol.fill, f"  {c.label}") for c in style.classes]
        else:
            handles.append(handle(style.symbol.fill, layer.name))
    return handles[:max_entries]


def nice_scale_length(width_m: float) -> float:
    """A round scale-bar length (1, 2 or 5 x 10^k metres) about a fifth of the map width."""
    target = width_m / 5
    exp = 10 ** math.floor(math.log10(target))
    return max(m * exp for m in (1, 2, 5) if m * exp <= target)


def add_scale_bar(ax: Axes, crs) -> None:
    """A scale bar in metres/km, correct for feet-based CRSs such as EPSG:2249."""
    if crs is None or crs.is_geographic:
        return
    unit_m = float(crs.axis_info[0].unit_conversion_factor)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length_m = nice_scale_length((x1 - x0) * unit_m)
    length_units = length_m / unit_m
    bx, by = x0 + 0.05 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    ax.plot([bx, bx + length_units], [by, by], color="black", lw=3, solid_capstyle="butt")
    label = f"{length_m / 1000:g} km" if length_m >= 1000 else f"{length_m:g} m"
    ax.text(
        bx + length_units / 2, by + 0.015 * (y1 - y0), label, ha="center", va="bottom", fontsize=8
    )


def add_north_arrow(ax: Axes) -> None:
    ax.annotate(
        "N",
        xy=(0.95, 0.93),
        xytext=(0.95, 0.83),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=10,
        fontweight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5},
    )


def render_map(
    project: Project,
    layer_ids: Sequence[str] | None = None,
    *,
    title: str | None = None,
    extent: tuple[float, float, float, float] | None = None,
    credits: str | None = None,
    figsize: tuple[float, float] = (11, 8.5),
    legend: bool = True,
) -> Figure:
    """A finished map figure: layers, legend, scale bar, north arrow, title and credits."""
    layers = (
        project.drawing_order()
        if layer_ids is None
        else [project.layers[i] for i in reversed(project.layer_order()) if i in set(layer_ids)]
    )
    # a plain Figure, not pyplot's: maps are exported on worker threads, where pyplot
    # would start a GUI backend ("Starting a Matplotlib GUI outside of the main thread")
    fig = figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    for layer in layers:
        if isinstance(layer, VectorLayer):
            _draw_vector(ax, layer, project.crs)
        elif isinstance(layer, RasterLayer):
            _draw_raster(ax, layer, project.crs)
    if extent is None:
        extent = project.extent
    if extent and all(np.isfinite(extent)):
        pad = 0.02 * max(extent[2] - extent[0], extent[3] - extent[1])
        ax.set_xlim(extent[0] - pad, extent[2] + pad)
        ax.set_ylim(extent[1] - pad, extent[3] + pad)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")  # geopandas names the CRS's axes; without ticks that is only clutter
    ax.set_ylabel("")
    add_scale_bar(ax, project.crs)
    add_north_arrow(ax)
    if title:
        ax.set_title(title, fontsize=13)
    if legend:
        handles = _legend_handles(list(reversed(layers)))
        if handles:
            ax.legend(
                handles=handles,
                loc="upper left",
                bbox_to_anchor=(1.01, 1.0),
                fontsize=7,
                frameon=False,
            )
    from .city_profile import credits_of

    text = credits if credits is not None else credits_of(project.metadata)
    if text:
        fig.text(0.01, 0.005, text, fontsize=6, wrap=True, ha="left", va="bottom", color="#444")
    return fig


def export_map(
    project: Project,
    path: str,
    *,
    dpi: int = 200,
    title: str | None = None,
    extent: tuple[float, float, float, float] | None = None,
    layer_ids: Sequence[str] | None = None,
    page: tuple[float, float] = (11.69, 8.27),
) -> str:
    """Write the map to PNG or PDF (one A4 landscape page by default) at ``dpi``.

    The page carries the title, legend, scale bar, north arrow and the project's data credits,
    so it can go straight into a report.
    """
    fig = render_map(project, layer_ids, title=title or project.name, extent=extent, figsize=page)
    fig.savefig(path, dpi=dpi)
    return path
