"""The headless demo: what `citydesk demo` does on a machine without a display.

It opens the embedded Cambridge project, validates every layer, draws the maps and writes an
HTML + Markdown report with the timings and the data credits. Later features (planning
scenarios, the case loop, KPIs) add their sections here. No Qt is imported.
"""

from __future__ import annotations

import html
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from layers.demo import SHIPPED_DEMO, SHIPPED_SF_DEM
from layers.feedback import Feedback, NullFeedback
from layers.i18n import _
from layers.layer import VectorLayer
from layers.project_store import load_project
from layers.validation import ValidationReport, validate_frame


@dataclass
class DemoResult:
    out_dir: Path
    project_path: Path
    report_html: Path
    report_md: Path
    maps: list[Path] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    validation: dict[str, ValidationReport] = field(default_factory=dict)


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run_headless_demo(out_dir: str | Path, feedback: Feedback | None = None) -> DemoResult:
    from layers.mapplot import render_map

    feedback = feedback or NullFeedback()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}

    project_path = out / "cambridge_demo.gpkg"
    shutil.copyfile(SHIPPED_DEMO, project_path)
    t0 = time.perf_counter()
    project = load_project(project_path)
    timings["load project"] = time.perf_counter() - t0
    feedback.set_progress(15)

    t0 = time.perf_counter()
    reports = {}
    for layer_id in project.layer_order():
        layer = project.layers[layer_id]
        if isinstance(layer, VectorLayer):
            id_field = "ML" if layer_id == "parcels" else None
            reports[layer_id] = validate_frame(
                layer.data, path=layer.name, layer=layer_id, id_field=id_field
            )
    timings["validate all layers"] = time.perf_counter() - t0
    feedback.set_progress(30)

    maps = []
    t0 = time.perf_counter()
    maps.append(
        _save(render_map(project, title=_("Cambridge, MA: all layers")), out / "map_overview.png")
    )
    feedback.set_progress(50)
    maps.append(
        _save(
            render_map(
                project,
                ["parcels", "neighborhoods", "city_boundary"],
                title=_("Land use by parcel (MA assessor use codes)"),
            ),
            out / "map_land_use.png",
        )
    )
    feedback.set_progress(65)
    maps.append(
        _save(
            render_map(
                project,
                ["crashes", "street_centerlines", "city_boundary"],
                title=_("Crashes 2010-2014 on the street network"),
            ),
            out / "map_crashes.png",
        )
    )
    feedback.set_progress(80)
    dem_project = load_project(SHIPPED_SF_DEM)
    maps.append(
        _save(
            render_map(
                dem_project, title=_("San Francisco USGS 30 m DEM (metres)"), figsize=(7, 9)
            ),
            out / "map_sf_dem.png",
        )
    )
    timings["draw maps"] = time.perf_counter() - t0
    feedback.set_progress(95)

    result = DemoResult(
        out, project_path, out / "report.html", out / "report.md", maps, timings, reports
    )
    _write_reports(result, project)
    feedback.set_progress(100)
    return result


def _layer_rows(project) -> list[list[str]]:
    rows = []
    for lid in project.layer_order():
        layer = project.layers[lid]
        d = layer.describe()
        rows.append([layer.name, str(layer.role), str(d.get("features", d.get("size"))), d["crs"]])
    return rows


def _write_reports(result: DemoResult, project) -> None:
    headers = [_("Layer"), _("Role"), _("Features"), _("Source CRS")]
    rows = _layer_rows(project)
    val_rows = []
    for lid, rep in result.validation.items():
        summary = "; ".join(f"{i.code} ({i.count})" if i.count else i.code for i in rep.issues)
        val_rows.append(
            [
                project.layers[lid].name,
                _("OK") if rep.ok else _("problems"),
                summary or _("no problems found"),
            ]
        )
    credits = project.metadata.get("credits", "")
    md = [f"# {_('CityDesk demo report')}: {project.name}", ""]
    md.append(_("Project CRS: {crs}").format(crs=project.crs.name))
    md += [
        "",
        f"## {_('Layers')}",
        "",
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(headers),
    ]
    md += ["| " + " | ".join(r) + " |" for r in rows]
    md += [
        "",
        f"## {_('Validation')}",
        "",
        f"| {_('Layer')} | {_('Result')} | {_('Issues')} |",
        "|---|---|---|",
    ]
    md += ["| " + " | ".join(r) + " |" for r in val_rows]
    md += ["", f"## {_('Timings')}", ""]
    md += [f"- {k}: {v:.2f} s" for k, v in result.timings.items()]
    md += ["", f"## {_('Maps')}", ""]
    md += [f"![{p.stem}]({p.name})" for p in result.maps]
    md += ["", f"## {_('Data credits')}", "", credits, ""]
    result.report_md.write_text("\n".join(md), encoding="utf-8")

    def table(head, body):
        h = "".join(f"<th>{html.escape(c)}</th>" for c in head)
        b = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in body
        )
        return f"<table><thead><tr>{h}</tr></thead><tbody>{b}</tbody></table>"

    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(project.name)}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px}"
        "img{max-width:100%;border:1px solid #ddd;margin:1em 0}</style></head><body>",
        f"<h1>{html.escape(_('CityDesk demo report'))}: {html.escape(project.name)}</h1>",
        f"<p>{html.escape(_('Project CRS: {crs}').format(crs=project.crs.name))}</p>",
        f"<h2>{html.escape(_('Layers'))}</h2>",
        table(headers, rows),
        f"<h2>{html.escape(_('Validation'))}</h2>",
        table([_("Layer"), _("Result"), _("Issues")], val_rows),
        f"<h2>{html.escape(_('Timings'))}</h2><ul>",
        *[f"<li>{html.escape(k)}: {v:.2f} s</li>" for k, v in result.timings.items()],
        "</ul>",
        f"<h2>{html.escape(_('Maps'))}</h2>",
        *[f"<img src='{p.name}' alt='{p.stem}'>" for p in result.maps],
        f"<h2>{html.escape(_('Data credits'))}</h2><p>{html.escape(credits)}</p>",
        "</body></html>",
    ]
    result.report_html.write_text("\n".join(parts), encoding="utf-8")
