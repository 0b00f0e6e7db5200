"""Validation as a first-class report: every problem named, counted, explained, and fixable.

``validate_path`` and ``validate_frame`` never raise on bad data: a corrupt file, a missing
CRS or 37 self-intersecting parcels all become :class:`Issue` entries with the affected
feature ids, the reason (``shapely.is_valid_reason``) and the fix. The CLI prints the report,
the GUI lists it, and :func:`repair` applies the offered ``make_valid`` fix.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from .compact_geometry import CompactFeatures
from .crs import check_against_expected_area, check_coordinates_fit_crs, crs_label
from .errors import CityDeskError, for_front_end
from .feedback import Feedback, NullFeedback
from .i18n import _, ngettext, pgettext
from .io import data_set_path, layer_kind, open_archive, read_frame
from .readers.raster import read_raster

if TYPE_CHECKING:
    from .layer import VectorLayer

Severity = Literal["error", "warning", "info"]

#: column names treated as feature identifiers for the duplicate check
ID_NAMES = ("id", "fid", "objectid", "globalid", "uuid", "gid", "case_id", "service_request_id")
MAX_DETAILS = 200


@dataclass
class Issue:
    code: str
    severity: Severity
    message: str
    fix: str = ""
    count: int = 0
    feature_ids: list[Any] = field(default_factory=list)
    details: list[dict[str, Any]] = field(default_factory=list)
    repairable: bool = False
    gui_fix: str = ""  # the fix in the workbench's words, where ``fix`` names CLI flags

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ValidationReport:
    path: str
    layer: str | None = None
    feature_count: int = 0
    crs: str = ""
    encoding: str | None = None
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(i.severity == "error" for i in self.issues)

    def get(self, code: str) -> Issue | None:
        return next((i for i in self.issues if i.code == code), None)

    def codes(self) -> list[str]:
        return [i.code for i in self.issues]

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "layer": self.layer,
            "feature_count": self.feature_count,
            "crs": self.crs,
            "encoding": self.encoding,
            "ok": self.ok,
            "issues": [i.to_dict() for i in self.issues],
        }

    def to_text(self, max_ids: int = 10) -> str:
        """The report as a terminal user reads it (translated)."""
        head = f"{self.path}" + (f" [{self.layer}]" if self.layer else "")
        lines = [
            head,
            "  " + _("features: {n}, CRS: {crs}").format(n=self.feature_count, crs=self.crs),
        ]
        if self.encoding:
            lines.append("  " + _("attribute encoding: {enc}").format(enc=self.encoding))
        if not self.issues:
            lines.append("  " + _("no problems found"))
        for issue in self.issues:
            label = {"error": _("ERROR"), "warning": _("WARNING"), "info": _("INFO")}[
                issue.severity
            ]
            lines.append(f"  {label} [{issue.code}] {issue.message}")
            if issue.feature_ids:
                ids = ", ".join(str(i) for i in issue.feature_ids[:max_ids])
                more = len(issue.feature_ids) - max_ids
                suffix = " " + _("and {n} more").format(n=more) if more > 0 else ""
                lines.append("      " + _("features: {ids}").format(ids=ids) + suffix)
            for d in issue.details[: min(3, max_ids)]:
                lines.append(f"      - {d}")
            if issue.fix:
                fix = for_front_end(issue.fix, issue.gui_fix)
                lines.append("      " + _("fix: {fix}").format(fix=fix))
        verdict = pgettext("validation verdict", "OK") if self.ok else _("FAILED")
        lines.append("  " + _("result: {verdict}").format(verdict=verdict))
        return "\n".join(lines)


def _ids(index: pd.Index, mask: np.ndarray) -> list[Any]:
    return [v.item() if hasattr(v, "item") else v for v in index[mask]]


@dataclass
class _Checked:
    """What the checks read of a layer: the attribute table (its index the feature ids), the
    CRS, and the geometry as shapely arrays in order, one chunk at a time, so a layer held as
    coordinate arrays is checked without all of it as objects at once."""

    attributes: pd.DataFrame
    crs: Any
    chunks: Callable[[], Iterator[np.ndarray]]

    @classmethod
    def of_frame(cls, frame: gpd.GeoDataFrame) -> _Checked:
        geoms = frame.geometry.to_numpy()
        attrs = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        return cls(attrs, frame.crs, lambda: iter([geoms]))

    @classmethod
    def of_layer(cls, layer: VectorLayer) -> _Checked:
        held = layer.held_features
        return cls.of_frame(layer.data) if held is None else cls.of_features(held)

    @classmethod
    def of_features(cls, held: CompactFeatures) -> _Checked:
        crs = None if held.crs is None else CRS.from_user_input(held.crs)
        return cls(held.attributes, crs, lambda: held.geometry.chunks(CHECK_CHUNK))


#: features checked at once when a layer is held as arrays (shapely objects for this many)
CHECK_CHUNK = 65_536

_TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    2: "LinearRing",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}


@dataclass
class _GeometryFacts:
    missing: np.ndarray
    empty: np.ndarray
    valid: np.ndarray
    reasons: list[str]
    types: np.ndarray  # shapely type id, -1 where missing or empty
    bounds: tuple[float, float, float, float] | None  # of the features with coordinates

    @classmethod
    def of(cls, checked: _Checked) -> _GeometryFacts:
        missing, empty, valid, types = [], [], [], []
        reasons: list[str] = []
        boxes = []
        for geoms in checked.chunks():
            m = shapely.is_missing(geoms)
            e = shapely.is_empty(geoms) & ~m
            present = ~m & ~e
            v = np.ones(len(geoms), dtype=bool)
            v[present] = shapely.is_valid(geoms[present])
            reasons.extend(str(r) for r in shapely.is_valid_reason(geoms[~v]))
            t = np.full(len(geoms), -1, dtype=np.int64)
            t[present] = shapely.get_type_id(geoms[present])
            if present.any():
                boxes.append(shapely.total_bounds(geoms[present]))
            missing.append(m)
            empty.append(e)
            valid.append(v)
            types.append(t)
        bounds = None
        if boxes:
            b = np.array(boxes)
            bounds = (
                float(b[:, 0].min()),
                float(b[:, 1].min()),
                float(b[:, 2].max()),
                float(b[:, 3].max()),
            )

        def joined(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
            return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

        return cls(
            joined(missing, bool),
            joined(empty, bool),
            joined(valid, bool),
            reasons,
            joined(types, np.int64),
            bounds,
        )


def _geometry_checks(checked: _Checked, facts: _GeometryFacts, id_field: str | None) -> list[Issue]:
    issues: list[Issue] = []
    index = checked.attributes.index
    missing, empty = facts.missing, facts.empty
    if missing.any():
        issues.append(
            Issue(
                "missing_geometry",
                "warning",
                ngettext(
                    "{n} feature has no geometry (e.g. a row without coordinates)",
                    "{n} features have no geometry (e.g. rows without coordinates)",
                    int(missing.sum()),
                ).format(n=int(missing.sum())),
                _("add coordinates, or geocode the addresses; the rows are kept"),
                int(missing.sum()),
                _ids(index, missing),
            )
        )
    if empty.any():
        issues.append(
            Issue(
                "empty_geometry",
                "warning",
                ngettext(
                    "{n} feature has an empty geometry",
                    "{n} features have an empty geometry",
                    int(empty.sum()),
                ).format(n=int(empty.sum())),
                _("delete them or redraw their shape"),
                int(empty.sum()),
                _ids(index, empty),
            )
        )
    present = ~missing & ~empty
    invalid = ~facts.valid
    if invalid.any():
        reasons = facts.reasons
        attrs = checked.attributes
        labels = attrs[id_field].to_numpy()[invalid] if id_field else [None] * int(invalid.sum())
        details = []
        for fid, reason, label in zip(_ids(index, invalid), reasons, labels, strict=True):
            d = {"feature": fid, "reason": str(reason)}
            if label is not None and not pd.isna(label):
                d[str(id_field)] = label
            details.append(d)
        issues.append(
            Issue(
                "invalid_geometry",
                "error",
                ngettext(
                    "{n} feature has an invalid geometry (a self-intersection or similar)",
                    "{n} features have invalid geometry (self-intersections and similar)",
                    int(invalid.sum()),
                ).format(n=int(invalid.sum())),
                _("repair with make_valid: citydesk layers validate FILE --repair OUT.gpkg"),
                int(invalid.sum()),
                _ids(index, invalid),
                details[:MAX_DETAILS],
                repairable=True,
                gui_fix=_("repair them with Processing > Repair geometries"),
            )
        )
    types = pd.Series(facts.types[present])
    families = set(types.map(_FAMILY).dropna())
    if len(families) > 1:
        counts = types.map(_TYPE_NAMES).value_counts().to_dict()
        issues.append(
            Issue(
                "mixed_geometry_types",
                "error",
                _("the layer mixes geometry types: {counts}").format(counts=counts),
                _("split it into one layer per geometry type (points, lines, polygons)"),
                int(present.sum()),
            )
        )
    return issues


# shapely type ids -> family (Point=0, LineString=1, LinearRing=2, Polygon=3, Multi*=4..6)
_FAMILY = {
    0: "point",
    4: "point",
    1: "line",
    2: "line",
    5: "line",
    3: "polygon",
    6: "polygon",
    7: "collection",
}


def _find_id_field(attrs: pd.DataFrame, id_field: str | None) -> str | None:
    if id_field:
        if id_field not in attrs.columns:
            raise CityDeskError(
                _("there is no field '{id_field}'").format(id_field=id_field),
                _("choose one of: {value0}").format(value0=", ".join(map(str, attrs.columns))),
            )
        return id_field
    lower = {c.lower(): c for c in attrs.columns}
    return next((lower[n] for n in ID_NAMES if n in lower), None)


def _attribute_checks(
    attrs: pd.DataFrame, id_field: str | None, required: list[str]
) -> list[Issue]:
    issues: list[Issue] = []
    if id_field:
        values = attrs[id_field]
        dup = values.duplicated(keep=False) & values.notna()
        if dup.any():
            issues.append(
                Issue(
                    "duplicate_ids",
                    "warning",
                    ngettext(
                        "{n} features share an id in '{field}' ({k} distinct id repeats)",
                        "{n} features share an id in '{field}' ({k} distinct ids repeat)",
                        int(values[dup].nunique()),
                    ).format(n=int(dup.sum()), field=id_field, k=int(values[dup].nunique())),
                    _("make the ids unique, or pick another id field with --id-field"),
                    int(dup.sum()),
                    _ids(attrs.index, dup.to_numpy()),
                    gui_fix=_("make the ids unique, or pick another id field"),
                )
            )
    for name in required:
        if name not in attrs.columns:
            issues.append(
                Issue(
                    "missing_field",
                    "error",
                    _("the required field '{field}' does not exist").format(field=name),
                    _("add the field or map another one to it"),
                )
            )
            continue
        miss = attrs[name].isna().to_numpy()
        if miss.any():
            issues.append(
                Issue(
                    "missing_values",
                    "warning",
                    ngettext(
                        "{n} feature has no value in the required field '{field}'",
                        "{n} features have no value in the required field '{field}'",
                        int(miss.sum()),
                    ).format(n=int(miss.sum()), field=name),
                    _("fill the values or exclude these features from analyses"),
                    int(miss.sum()),
                    _ids(attrs.index, miss),
                )
            )
    issues.extend(_co_missing_block(attrs))
    return issues


def _co_missing_block(attrs: pd.DataFrame) -> list[Issue]:
    """Find rows that lack a whole *group* of fields at once.

    When several fields are empty in exactly the same rows, the layer was almost always built
    by a join that found no match for those rows (e.g. parcels with no assessor record). That
    pattern is worth one clear warning rather than a dozen per-field counts.
    """
    if len(attrs) == 0 or attrs.shape[1] < 3:
        return []
    nulls = attrs.isna()
    counts = nulls.sum()
    partial = counts[(counts > 0) & (counts < len(attrs))].index
    groups: dict[bytes, list[str]] = {}
    for col in partial:
        groups.setdefault(np.packbits(nulls[col].to_numpy()).tobytes(), []).append(col)
    best = max(groups.values(), key=len, default=[])
    if len(best) < 3:
        return []
    mask = nulls[best[0]].to_numpy()
    return [
        Issue(
            "missing_attributes",
            "warning",
            _(
                "{n} features have no data in {k} fields ({fields}); this usually means a join "
                "found no match for them"
            ).format(
                n=int(mask.sum()),
                k=len(best),
                fields=", ".join(best[:6]) + (", ..." if len(best) > 6 else ""),
            ),
            _("check the join key of the source table, or exclude these features"),
            int(mask.sum()),
            _ids(attrs.index, mask),
            [{"fields": best}],
        )
    ]


def validate_frame(
    frame: gpd.GeoDataFrame,
    *,
    path: str = "<memory>",
    layer: str | None = None,
    id_field: str | None = None,
    required_fields: list[str] | None = None,
    facts: dict[str, Any] | None = None,
    expected_lonlat: tuple[float, float, float, float] | None = None,
) -> ValidationReport:
    """Check a GeoDataFrame; ``facts`` are what the reader found (encoding, bad CSV lines).

    ``expected_lonlat`` is where the data should be (usually the project's extent in lon/lat).
    With it, data that lands elsewhere is reported, and swapped lat/long is recognised even
    where both orders are legal coordinates (Cambridge swapped is a valid point in Antarctica).
    """
    return _validate(
        _Checked.of_frame(frame),
        path=path,
        layer=layer,
        id_field=id_field,
        required_fields=required_fields,
        facts=facts,
        expected_lonlat=expected_lonlat,
    )


def validate_layer(
    layer: VectorLayer,
    *,
    path: str = "<memory>",
    layer_name: str | None = None,
    id_field: str | None = None,
    required_fields: list[str] | None = None,
    expected_lonlat: tuple[float, float, float, float] | None = None,
) -> ValidationReport:
    """:func:`validate_frame` of a layer, with its read facts; a layer still held as arrays
    is checked in chunks and stays held so (adding a 500k-parcel file must not build all of
    it as shapely objects just to look at it)."""
    return _validate(
        _Checked.of_layer(layer),
        path=path,
        layer=layer_name,
        id_field=id_field,
        required_fields=required_fields,
        facts=layer.metadata.get("read"),
        expected_lonlat=expected_lonlat,
    )


def _validate(
    checked: _Checked,
    *,
    path: str,
    layer: str | None,
    id_field: str | None,
    required_fields: list[str] | None,
    facts: dict[str, Any] | None,
    expected_lonlat: tuple[float, float, float, float] | None,
) -> ValidationReport:
    facts = facts or {}
    attrs = checked.attributes
    report = ValidationReport(
        path=path,
        layer=layer,
        feature_count=len(attrs),
        crs=crs_label(checked.crs),
        encoding=facts.get("encoding"),
    )
    issues = report.issues
    if facts.get("encoding_source") == "detected" and facts.get("encoding") != "utf-8":
        issues.append(
            Issue(
                "encoding_detected",
                "info",
                _("the shapefile has no .cpg; its text was detected as {enc} and decoded").format(
                    enc=facts["encoding"]
                ),
                _("add a .cpg file containing '{enc}' so other tools read it too").format(
                    enc=facts["encoding"]
                ),
            )
        )
    bad = facts.get("bad_lines") or []
    if bad:
        issues.append(
            Issue(
                "malformed_rows",
                "warning",
                ngettext(
                    "{n} row could not be parsed and was skipped",
                    "{n} rows could not be parsed and were skipped",
                    len(bad),
                ).format(n=len(bad)),
                _("fix the quoting or the number of fields on those lines"),
                len(bad),
                [b["line"] for b in bad],
                bad[:MAX_DETAILS],
            )
        )
    if len(attrs) == 0:
        issues.append(
            Issue(
                "empty_layer",
                "error",
                _("the layer has no features"),
                _("check the filter, the layer name, or the export that made the file"),
            )
        )
        return report
    crs = checked.crs
    geometry = _GeometryFacts.of(checked)
    bounds = geometry.bounds
    if crs is None:
        issues.append(_missing_crs(bounds))
    if crs is not None and bounds is not None:
        fit = check_coordinates_fit_crs(bounds, crs)
        if fit.ok and expected_lonlat is not None:
            fit = check_against_expected_area(bounds, crs, expected_lonlat)
        if not fit.ok:
            issues.append(Issue("crs_mismatch", "error", fit.problem, fit.fix, gui_fix=fit.gui_fix))
    elif crs is None and bounds is not None:
        minx, miny, maxx, maxy = bounds
        if max(abs(minx), abs(maxx)) <= 180 and max(abs(miny), abs(maxy)) <= 90:
            report.issues[-1].fix += " " + _("(the coordinates look like longitude/latitude)")
    id_field = _find_id_field(attrs, id_field)
    issues.extend(_geometry_checks(checked, geometry, id_field))
    issues.extend(_attribute_checks(attrs, id_field, list(required_fields or [])))
    return report


def validate_path(
    path: str | Path,
    layer: str | None = None,
    *,
    id_field: str | None = None,
    required_fields: list[str] | None = None,
    encoding: str | None = None,
    x_field: str | None = None,
    y_field: str | None = None,
    expected_lonlat: tuple[float, float, float, float] | None = None,
    feedback: Feedback | None = None,
) -> ValidationReport:
    """Read and check a file. A file that cannot be read is itself a reported problem."""
    feedback = feedback or NullFeedback()
    path = data_set_path(path)
    try:
        data, layer = open_archive(path, layer)  # a ZIP's data set; reports name the ZIP
        kind = layer_kind(data)
        if kind == "raster":
            return _validate_raster(data)
        frame, facts = read_frame(
            data,
            layer,
            encoding=encoding,
            x_field=x_field,
            y_field=y_field,
            feedback=feedback,
            compact=True,
        )
    except CityDeskError as exc:
        return ValidationReport(
            path=str(path),
            layer=layer,
            issues=[Issue("unreadable", "error", exc.problem, exc.fix, gui_fix=exc.gui_fix)],
        )
    checked = (
        _Checked.of_features(frame)
        if isinstance(frame, CompactFeatures)
        else _Checked.of_frame(frame)
    )
    return _validate(
        checked,
        path=str(path),
        layer=layer,
        id_field=id_field,
        required_fields=required_fields,
        facts=facts,
        expected_lonlat=expected_lonlat,
    )


def _missing_crs(bounds: tuple[float, float, float, float] | None) -> Issue:
    """No CRS: the fix names lon/lat when the coordinates are in degrees' range (a file can
    say nothing more without knowing where the city is; a project checks that on adding)."""
    from .crs_guess import in_degrees

    lonlat = bounds is not None and in_degrees(bounds)
    if lonlat:
        fix = _(
            "the coordinates look like longitude/latitude: assign EPSG:4326 (or EPSG:4490 "
            "for CGCS2000) with citydesk layers convert --assign-crs"
        )
    else:
        fix = _(
            "the coordinates are projected: assign the CRS the data was made in (usually the "
            "city profile's crs) with citydesk layers convert --assign-crs; adding the file "
            "to a project tries the CRSs of the project's area"
        )
    return Issue(
        "missing_crs",
        "error",
        _("the layer has no coordinate reference system"),
        fix,
        gui_fix=_("add it again with the CRS the data was made in, in {place}").format(
            place=_("Project > Add layer with options...")
        ),
    )


def _validate_raster(path: Path) -> ValidationReport:
    raster = read_raster(path)
    band = raster.masked(1)
    report = ValidationReport(
        path=str(path), feature_count=int(band.count()), crs=crs_label(raster.crs)
    )
    if raster.crs is None:
        report.issues.append(
            Issue(
                "missing_crs",
                "error",
                _("the raster has no coordinate reference system"),
                _("assign the CRS it was made in with --assign-crs"),
                gui_fix=_("add it again with the CRS it was made in, in {place}").format(
                    place=_("Project > Add layer with options...")
                ),
            )
        )
    else:
        fit = check_coordinates_fit_crs(raster.extent, raster.crs)
        if not fit.ok:
            report.issues.append(
                Issue("crs_mismatch", "error", fit.problem, fit.fix, gui_fix=fit.gui_fix)
            )
    if band.count() == 0:
        report.issues.append(
            Issue(
                "empty_layer",
                "error",
                _("every cell of the raster is nodata"),
                _("check the nodata value and the file"),
            )
        )
    if raster.units == "ft":
        report.issues.append(
            Issue(
                "elevation_in_feet",
                "warning",
                _("elevations are in feet; CityDesk analyses expect metres"),
                _("convert with layers.raster_ops.to_metres, or mosaic() which converts"),
            )
        )
    nodata_share = 1.0 - band.count() / band.size
    if nodata_share > 0:
        report.issues.append(
            Issue(
                "nodata_cells",
                "info",
                _("{pct:.1f}% of the cells are nodata (drawn transparent)").format(
                    pct=100 * nodata_share
                ),
            )
        )
    return report


def repair(frame: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, int]:
    """Apply ``make_valid`` to the invalid features only; returns (repaired copy, count).

    Repairs keep the geometry family: a polygon repaired into a collection keeps its polygonal
    parts, so a parcel layer stays a polygon layer.
    """
    geoms = frame.geometry.to_numpy()
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    bad = np.zeros(len(geoms), bool)
    bad[present] = ~shapely.is_valid(geoms[present])
    if not bad.any():
        return frame, 0
    fixed = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
    family = pd.Series(shapely.get_type_id(geoms[bad])).map(_FAMILY).to_numpy()
    out = geoms.copy()
    out[bad] = [_keep_family(g, fam) for g, fam in zip(fixed, family, strict=True)]
    result = frame.copy()
    result[frame.geometry.name] = gpd.GeoSeries(out, index=frame.index, crs=frame.crs)
    return result, int(bad.sum())


def _keep_family(geom, family: str):
    if family != "polygon" or geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [
        p for p in getattr(geom, "geoms", [geom]) if p.geom_type in ("Polygon", "MultiPolygon")
    ]
    return shapely.union_all(parts) if parts else geom
