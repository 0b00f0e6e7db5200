"""CRS handling: parsing with clear errors, sensible projected CRSs, and plausibility checks.

Chinese municipal data is usually CGCS2000 (EPSG:4490) or one of its Gauss-Krueger zones;
US city data is usually state plane in US feet (Cambridge: EPSG:2249). Both are first-class.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from pyproj import CRS, Transformer
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_utm_crs_info

from .errors import CRSError
from .i18n import _


def parse_crs(value: object) -> CRS:
    """Turn ``"EPSG:2249"``, ``2249``, WKT, PROJ strings or a CRS into a :class:`pyproj.CRS`."""
    if isinstance(value, CRS):
        return value
    try:
        return CRS.from_user_input(value)
    except Exception as exc:  # pyproj raises CRSError with a terse message
        raise CRSError(
            _("'{value}' is not a coordinate reference system CityDesk recognises ({exc}).").format(
                value=value, exc=exc
            ),
            _("Give an EPSG code such as EPSG:4490 (CGCS2000) or EPSG:2249, or a WKT string."),
        ) from exc


def crs_label(crs: CRS | None) -> str:
    """Short, human label: ``EPSG:2249 NAD83 / Massachusetts Mainland (ftUS)``."""
    if crs is None:
        return "no CRS"
    code = crs.to_epsg()
    return f"EPSG:{code} {crs.name}" if code else crs.name


def crs_to_string(crs: CRS | None) -> str | None:
    """Serialise a CRS for project files: the EPSG code when there is one, WKT2 otherwise."""
    if crs is None:
        return None
    code = crs.to_epsg()
    return f"EPSG:{code}" if code else crs.to_wkt()


def is_web_mercator(crs: CRS) -> bool:
    """Mercator projections (EPSG:3857 web maps, EPSG:3395): their "metres" are stretched by
    1/cos(latitude), 1.6x at Helsinki, so a "100 m" cell there is 64 m on the ground."""
    op = crs.coordinate_operation
    method = (op.method_name if op is not None else "") or ""
    return "Mercator" in method and "Transverse" not in method


def linear_unit_to_metres(crs: CRS) -> float:
    """Metres per CRS unit along the first axis (0.3048006 for US survey feet). Refuses a
    CRS that cannot measure: degrees, or a Mercator projection."""
    if crs.is_geographic:
        raise CRSError(
            _("{value0} is geographic (degrees); distances need a projected CRS.").format(
                value0=crs_label(crs)
            ),
            _("Reproject to a projected CRS (UTM, state plane or a CGCS2000 Gauss-Krueger zone)."),
        )
    if is_web_mercator(crs):
        raise CRSError(
            _("{crs} is a web-map projection whose metres grow with latitude").format(
                crs=crs_label(crs)
            ),
            _(
                "Measure in the city's own projected CRS (the city profile's crs), "
                "a UTM zone or a CGCS2000 Gauss-Krueger zone."
            ),
        )
    return float(crs.axis_info[0].unit_conversion_factor)


def cgcs2000_gauss_kruger(lon: float, zone_width: int = 3, zone_prefix: bool = False) -> CRS:
    """The CGCS2000 Gauss-Krueger CRS whose zone contains longitude ``lon``.

    3-degree zones (the usual choice for city-scale surveys) have central meridians at
    multiples of 3 deg; 6-degree zones at 6n-3. ``zone_prefix`` selects the variant whose false
    easting carries the zone number (e.g. 39500000), as many Chinese cadastral files do.
    """
    if not 73.0 <= lon <= 136.0:
        raise CRSError(
            _(
                "Longitude {lon:.3f} is outside China, where CGCS2000 Gauss-Krueger zones are "
                "defined."
            ).format(lon=lon),
            _("Use a UTM zone instead (layers.crs.utm_crs_for)."),
        )
    if zone_width == 3:
        zone = min(max(round(lon / 3.0), 25), 45)
        code = (4513 if zone_prefix else 4534) + zone - 25
    elif zone_width == 6:
        zone = min(max(math.floor(lon / 6.0) + 1, 13), 23)
        code = (4491 if zone_prefix else 4502) + zone - 13
    else:
        raise CRSError(
            _("Zone width {zone_width} is not 3 or 6 degrees.").format(zone_width=zone_width),
            _("Use 3 or 6."),
        )
    return CRS.from_epsg(code)


def utm_crs_for(lon: float, lat: float, datum: str = "WGS 84") -> CRS:
    """The UTM zone CRS for a point (used when a layer has no projected CRS of its own)."""
    code = _utm_code(round(lon, 6), round(lat, 6), datum)
    if code is None:
        raise CRSError(
            _("No UTM zone covers lon={lon}, lat={lat}.").format(lon=lon, lat=lat),
            _("Check the coordinates."),
        )
    return CRS.from_epsg(code)


@functools.lru_cache(maxsize=256)
def _utm_code(lon: float, lat: float, datum: str) -> str | None:
    """The EPSG code of the UTM zone at a point, asked of PROJ's database once per point:
    the query takes 0.15 s, and every land-use problem and plan evaluation of a project in
    a geographic CRS asks it for the same point (1.2 s of the headless demo's plan
    evaluations, profiled)."""
    infos = query_utm_crs_info(
        datum_name=datum,
        area_of_interest=AreaOfInterest(lon, lat, lon, lat),
    )
    return infos[0].code if infos else None


def suggest_projected_crs(lonlat_bounds: tuple[float, float, float, float], source: CRS) -> CRS:
    """A metric CRS for analysis: the source if already projected, CGCS2000 GK for CGCS2000
    data in China, UTM otherwise. Cells of a unit grid and buffers are drawn in this CRS."""
    if source.is_projected and not is_web_mercator(source):
        return source
    lon = (lonlat_bounds[0] + lonlat_bounds[2]) / 2.0
    lat = (lonlat_bounds[1] + lonlat_bounds[3]) / 2.0
    if source.to_epsg() == 4490 and 73.0 <= lon <= 136.0:
        return cgcs2000_gauss_kruger(lon)
    return utm_crs_for(lon, lat)


@functools.lru_cache(maxsize=256)
def _made_transformer(source, target) -> Transformer:
    return Transformer.from_crs(source, target, always_xy=True)


def transformer(source, target) -> Transformer:
    """The x/y-ordered pyproj transformer from ``source`` to ``target`` (CRSs, EPSG codes or
    strings), made once per pair in a process. Making one searches PROJ's database (7 ms
    here), and the callers ask again and again: a project's extent asked one per layer each
    time the map was fitted (22 s of CPU over the tests not marked slow), the CRS guess one per
    candidate. A cached transformer can be shared by the canvas's render threads: since
    pyproj 3.1 it keeps one PROJ object per thread."""
    try:
        return _made_transformer(source, target)
    except TypeError:  # an unhashable CRS input (a dict of PROJ parameters)
        return Transformer.from_crs(source, target, always_xy=True)


def to_lonlat_bounds(
    bounds: tuple[float, float, float, float], crs: CRS
) -> tuple[float, float, float, float]:
    """Bounds transformed to lon/lat (always x=lon, y=lat), densified along the edges."""
    tr = transformer(crs, CRS.from_epsg(4326))
    return tr.transform_bounds(*bounds, densify_pts=21)


@dataclass(frozen=True)
class CRSPlausibility:
    """The outcome of comparing a layer's coordinates with what its CRS allows."""

    ok: bool
    problem: str = ""
    fix: str = ""
    gui_fix: str = ""  # the fix in the workbench's words, where ``fix`` names CLI flags


def check_coordinates_fit_crs(
    bounds: tuple[float, float, float, float], crs: CRS, margin_deg: float = 1.0
) -> CRSPlausibility:
    """Do coordinates in ``bounds`` make sense in ``crs``?

    Catches the three mistakes seen in real city data: lat/long swapped, projected metres
    labelled as degrees (a wrong or missing .prj), and data that falls outside the CRS's area of
    use (the wrong zone or state plane).
    """
    minx, miny, maxx, maxy = bounds
    if any(not math.isfinite(v) for v in bounds):
        return CRSPlausibility(True)
    if crs.is_geographic:
        if max(abs(minx), abs(maxx)) > 180 or max(abs(miny), abs(maxy)) > 180:
            return CRSPlausibility(
                False,
                _(
                    "coordinates up to ({x}, {y}) are far outside the degree range of {crs}: "
                    "they look like projected metres or feet"
                ).format(x=f"{maxx:.0f}", y=f"{maxy:.0f}", crs=crs_label(crs)),
                _(
                    "the file's CRS is wrong; assign the real projected CRS "
                    "(citydesk layers convert --assign-crs)"
                ),
                gui_fix=_(
                    "the file's CRS is wrong; add it again with the real projected CRS, in "
                    "Project > Add layer with options..."
                ),
            )
        if max(abs(miny), abs(maxy)) > 90 >= max(abs(minx), abs(maxx)):
            return CRSPlausibility(
                False,
                _(
                    "latitudes reach {lat} (beyond +-90): latitude and longitude look swapped"
                ).format(lat=f"{max(abs(miny), abs(maxy)):.2f}"),
                _("swap the x/y columns (for CSV give --x-field/--y-field the other way round)"),
                gui_fix=_(
                    "swap the x/y columns (for CSV choose them the other way round in Project > "
                    "Add layer with options...)"
                ),
            )
    area = crs.area_of_use
    if area is None:
        return CRSPlausibility(True)
    try:
        lon0, lat0, lon1, lat1 = to_lonlat_bounds(bounds, crs)
    except Exception:
        return CRSPlausibility(
            False,
            _("coordinates cannot be transformed from {crs}").format(crs=crs_label(crs)),
            _("check that the CRS is the one the data was made in"),
        )
    a0, b0, a1, b1 = area.bounds

    def lon_ok(lo: float, hi: float) -> bool:
        if a0 <= a1:
            return lo >= a0 - margin_deg and hi <= a1 + margin_deg
        # the area crosses the antimeridian (e.g. NAD83: 167.65 .. -40.73)
        return all(v >= a0 - margin_deg or v <= a1 + margin_deg for v in (lo, hi))

    def lat_ok(lo: float, hi: float) -> bool:
        return lo >= b0 - margin_deg and hi <= b1 + margin_deg

    if lon_ok(lon0, lon1) and lat_ok(lat0, lat1):
        return CRSPlausibility(True)
    swapped_inside = crs.is_geographic and lon_ok(miny, maxy) and lat_ok(minx, maxx)
    if swapped_inside:
        return CRSPlausibility(
            False,
            _(
                "the data lies outside the area of use of {crs} ({area}), but would fit if "
                "latitude and longitude were swapped"
            ).format(crs=crs_label(crs), area=area.name),
            _("swap the x/y axes (for CSV give --x-field/--y-field the other way round)"),
            gui_fix=_(
                "swap the x/y columns (for CSV choose them the other way round in Project > "
                "Add layer with options...)"
            ),
        )
    return CRSPlausibility(
        False,
        _(
            "the data (lon {lon0}..{lon1}, lat {lat0}..{lat1}) lies outside the area of use of "
            "{crs} ({area})"
        ).format(
            lon0=f"{lon0:.3f}",
            lon1=f"{lon1:.3f}",
            lat0=f"{lat0:.3f}",
            lat1=f"{lat1:.3f}",
            crs=crs_label(crs),
            area=area.name,
        ),
        _(
            "the CRS is probably wrong (another zone or state plane); assign the CRS the data "
            "was made in"
        ),
    )


def boxes_meet(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """Two (x0, y0, x1, y1) boxes overlap or touch."""
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def check_against_expected_area(
    bounds: tuple[float, float, float, float],
    crs: CRS,
    expected_lonlat: tuple[float, float, float, float],
    margin_deg: float = 0.05,
) -> CRSPlausibility:
    """Does the data fall where the project is? If not, would swapping the axes put it there?"""
    try:
        lonlat = to_lonlat_bounds(bounds, crs)
    except Exception:
        return CRSPlausibility(True)
    grown = (
        expected_lonlat[0] - margin_deg,
        expected_lonlat[1] - margin_deg,
        expected_lonlat[2] + margin_deg,
        expected_lonlat[3] + margin_deg,
    )
    if boxes_meet(lonlat, grown):
        return CRSPlausibility(True)
    swapped = (lonlat[1], lonlat[0], lonlat[3], lonlat[2])
    if crs.is_geographic and boxes_meet(swapped, grown):
        return CRSPlausibility(
            False,
            _(
                "latitude and longitude look swapped: the data lies far from the project area, "
                "and would sit inside it with the axes exchanged"
            ),
            _("swap the x/y columns (for CSV give --x-field/--y-field the other way round)"),
        )
    return CRSPlausibility(
        False,
        _("the data (lon {x0}..{x1}, lat {y0}..{y1}) does not overlap the project area").format(
            x0=f"{lonlat[0]:.3f}",
            x1=f"{lonlat[2]:.3f}",
            y0=f"{lonlat[1]:.3f}",
            y1=f"{lonlat[3]:.3f}",
        ),
        _("check the CRS the data was made in; assign it with --assign-crs"),
    )
