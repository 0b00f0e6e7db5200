"""Export styles as QGIS QML so a CityDesk project opens in QGIS with the same symbology.

Only the subset CityDesk's :class:`~citydesk.layers.style.Style` can express is written: single
symbol,
categorized and graduated renderers with simple fill/line/marker symbols, layer opacity and a
simple label. QGIS 3.x reads the ``<prop k= v=>`` form written here.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from .style import QGIS_MODE_NAMES, Style, Symbol

QGIS_VERSION = "3.22.0"


def _rgba(hex_color: str, alpha: float = 1.0) -> str:
    if hex_color == "none":
        return "0,0,0,0"
    h = hex_color.lstrip("#")
    r, g, b = int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
    return f"{r},{g},{b},{round(alpha * 255)}"


def _symbol_type(geometry_type: str) -> str:
    if "Point" in geometry_type:
        return "marker"
    if "Line" in geometry_type:
        return "line"
    return "fill"


def _props(parent: ET.Element, values: dict[str, str]) -> None:
    for k, v in values.items():
        ET.SubElement(parent, "prop", k=k, v=v)


def _symbol_element(name: str, symbol: Symbol, kind: str) -> ET.Element:
    el = ET.Element("symbol", type=kind, name=name, alpha="1", clip_to_extent="1", force_rhr="0")
    if kind == "fill":
        layer = ET.SubElement(
            el, "layer", {"class": "SimpleFill", "enabled": "1", "pass": "0", "locked": "0"}
        )
        _props(
            layer,
            {
                "color": _rgba(symbol.fill),
                "style": "no" if symbol.fill == "none" else "solid",
                "outline_color": _rgba(symbol.stroke),
                "outline_style": "solid",
                "outline_width": f"{symbol.stroke_width:g}",
                "outline_width_unit": "MM",
                "joinstyle": "bevel",
            },
        )
    elif kind == "line":
        layer = ET.SubElement(
            el, "layer", {"class": "SimpleLine", "enabled": "1", "pass": "0", "locked": "0"}
        )
        _props(
            layer,
            {
                "line_color": _rgba(symbol.stroke),
                "line_style": "solid",
                "line_width": f"{symbol.stroke_width:g}",
                "line_width_unit": "MM",
                "capstyle": "round",
                "joinstyle": "round",
            },
        )
    else:
        layer = ET.SubElement(
            el, "layer", {"class": "SimpleMarker", "enabled": "1", "pass": "0", "locked": "0"}
        )
        _props(
            layer,
            {
                "name": "circle",
                "color": _rgba(symbol.fill),
                "size": f"{symbol.size:g}",
                "size_unit": "MM",
                "outline_color": _rgba(symbol.stroke),
                "outline_width": f"{symbol.stroke_width:g}",
                "outline_width_unit": "MM",
                "outline_style": "solid",
            },
        )
    return el


def _line_symbol(symbol: Symbol, kind: str, color: str) -> Symbol:
    """Lines are coloured by their stroke; class colours live in ``fill``, so swap them in."""
    if kind != "line":
        return symbol
    return Symbol(
        fill=symbol.fill, stroke=color, stroke_width=symbol.stroke_width, size=symbol.size
    )


def style_to_qml(style: Style, geometry_type: str, opacity: float = 1.0) -> str:
    """The QML document for ``style`` on a layer of ``geometry_type``."""
    kind = _symbol_type(geometry_type)
    root = ET.Element("qgis", version=QGIS_VERSION, styleCategories="Symbology|Labeling|Rendering")
    common: dict[str, Any] = {"symbollevels": "0", "enableorderby": "0", "forceraster": "0"}
    if style.kind == "categorized" and style.field:
        renderer = ET.SubElement(
            root, "renderer-v2", type="categorizedSymbol", attr=style.field, **common
        )
        cats = ET.SubElement(renderer, "categories")
        symbols = ET.SubElement(renderer, "symbols")
        for i, cat in enumerate(style.categories):
            ET.SubElement(
                cats,
                "category",
                render="true",
                symbol=str(i),
                value=str(cat.value),
                label=cat.label,
            )
            sym = _line_symbol(cat.symbol, kind, cat.symbol.fill)
            symbols.append(_symbol_element(str(i), sym, kind))
        source = ET.SubElement(renderer, "source-symbol")
        source.append(_symbol_element("0", style.symbol, kind))
    elif style.kind == "graduated" and style.field:
        renderer = ET.SubElement(
            root,
            "renderer-v2",
            type="graduatedSymbol",
            attr=style.field,
            graduatedMethod="GraduatedColor",
            **common,
        )
        ranges = ET.SubElement(renderer, "ranges")
        symbols = ET.SubElement(renderer, "symbols")
        for i, cls in enumerate(style.classes):
            ET.SubElement(
                ranges,
                "range",
                render="true",
                symbol=str(i),
                lower=f"{cls.lower:.6f}",
                upper=f"{cls.upper:.6f}",
                label=cls.label,
            )
            sym = _line_symbol(cls.symbol, kind, cls.symbol.fill)
            symbols.append(_symbol_element(str(i), sym, kind))
        source = ET.SubElement(renderer, "source-symbol")
        source.append(_symbol_element("0", style.symbol, kind))
        ET.SubElement(renderer, "mode", name=QGIS_MODE_NAMES.get(style.method or "", "jenks"))
    else:
        renderer = ET.SubElement(root, "renderer-v2", type="singleSymbol", **common)
        symbols = ET.SubElement(renderer, "symbols")
        symbols.append(_symbol_element("0", style.symbol, kind))
    if style.label_field:
        labeling = ET.SubElement(root, "labeling", type="simple")
        settings = ET.SubElement(labeling, "settings", calloutType="simple")
        ET.SubElement(
            settings,
            "text-style",
            fieldName=style.label_field,
            fontSize="8",
            fontSizeUnit="Point",
            textColor="0,0,0,255",
            isExpression="0",
        )
        ET.SubElement(settings, "placement", placement="0" if kind == "marker" else "1")
        ET.SubElement(settings, "rendering", drawLabels="1")
    ET.SubElement(root, "layerOpacity").text = f"{opacity:g}"
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"
