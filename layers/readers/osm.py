"""OpenStreetMap extracts (``.osm.pbf``) through GDAL's OSM driver, surviving real extracts.

GDAL gives five layers; CityDesk reads three: ``points`` (nodes with tags), ``lines`` (ways)
and ``multipolygons`` (closed ways and relations: buildings, land use, boundaries). Real
extracts cut at a bounding box hold broken rings (a ring of 2 points where the box cut a
relation); shapely refuses the whole layer over one of them, so geometries are decoded one by
one and the broken ones are dropped and reported with their OSM ids. Tags without a column of
their own arrive in GDAL's ``other_tags`` text (``"oneway"=>"yes","maxspeed"=>"30"``);
:func:`parse_tags` turns it into a dict.
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..errors import LayerReadError
from ..feedback import Feedback, NullFeedback, check_canceled
from ..i18n import _, ngettext

log = logging.getLogger(__name__)

LAYERS = ("points", "lines", "multipolygons")
_PAIR = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')


def parse_tags(text: object) -> dict[str, str]:
    """GDAL's ``other_tags`` text as a dict (quotes inside values are escaped as ``\\"``)."""
    if not isinstance(text, str) or not text:
        return {}
    return {k.replace('\\"', '"'): v.replace('\\"', '"') for k, v in _PAIR.findall(text)}


@dataclass
class OsmExtract:
    """The three layers of an extract in EPSG:4326, with every tag reachable through
    :meth:`tag`, and what could not be read."""

    path: str
    layers: dict[str, gpd.GeoDataFrame]
    broken: dict[str, list[str]] = field(default_factory=dict)  # layer -> OSM ids dropped
    gdal_warnings: list[str] = field(default_factory=list)

    def tag(self, layer: str, key: str) -> pd.Series:
        """Tag ``key`` of every feature of ``layer``: its own column when GDAL gives one,
        else from ``other_tags``; None where the feature does not have it."""
        frame = self.layers[layer]
        if key in frame.columns and key != "other_tags":
            return frame[key].astype(object).where(frame[key].notna(), None)
        tags = frame["other_tags"] if "other_tags" in frame else pd.Series(None, index=frame.index)
        return pd.Series([parse_tags(t).get(key) for t in tags], index=frame.index, dtype=object)

    def report(self) -> list[str]:
        """What the reader dropped, one translated line per layer."""
        lines = []
        for layer, ids in self.broken.items():
            if ids:
                lines.append(
                    ngettext(
                        "{layer}: {n} feature with broken geometry left out (OSM id {ids})",
                        "{layer}: {n} features with broken geometry left out (OSM ids {ids})",
                        len(ids),
                    ).format(
                        n=len(ids), layer=layer, ids=", ".join(ids[:8]) + (" ..." * (len(ids) > 8))
                    )
                )
        return lines


def read_osm(path: str | Path, feedback: Feedback | None = None) -> OsmExtract:
    """Read an ``.osm.pbf`` (or ``.osm`` XML) extract."""
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    feedback = feedback or NullFeedback()
    path = Path(path)
    if not path.exists():
        raise LayerReadError(_("the file does not exist"), _("Check the path."), path=str(path))
    layers: dict[str, gpd.GeoDataFrame] = {}
    broken: dict[str, list[str]] = {}
    notes: list[str] = []
    for n, layer in enumerate(LAYERS):
        check_canceled(feedback)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                meta, table = pyogrio.read_arrow(str(path), layer=layer)
        except (DataSourceError, DataLayerError) as exc:
            raise LayerReadError(
                _("cannot read the OpenStreetMap extract ({exc})").format(exc=str(exc).strip()),
                _("Give an .osm.pbf file, e.g. from download.geofabrik.de or extract.bbbike.org."),
                path=str(path),
            ) from exc
        notes.extend(str(w.message) for w in caught)
        geom_name = meta.get("geometry_name") or "wkb_geometry"
        frame = table.drop_columns([geom_name]).to_pandas()
        wkb = table.column(geom_name).to_numpy(zero_copy_only=False)
        geoms = shapely.from_wkb(wkb, on_invalid="ignore")
        # dtype=bool: a layer the extract has nothing in (no multipolygons in a small
        # extract) is an empty array, which numpy would make float and refuse to '&'
        missing = np.array([g is None for g in geoms], dtype=bool)
        lost = missing & np.array([w is not None for w in wkb], dtype=bool)
        ids = frame["osm_id"] if "osm_id" in frame else pd.Series([None] * len(frame))
        if "osm_way_id" in frame:  # closed ways in the multipolygons layer
            ids = ids.fillna(frame["osm_way_id"])
        broken[layer] = [str(i) for i in ids[lost]]
        keep = ~missing
        layers[layer] = gpd.GeoDataFrame(
            frame[keep].reset_index(drop=True),
            geometry=gpd.GeoSeries(geoms[keep], crs="EPSG:4326"),
        )
        feedback.set_progress(100.0 * (n + 1) / len(LAYERS))
    extract = OsmExtract(str(path), layers, broken, sorted(set(notes)))
    for line in extract.report():
        log.warning("%s: %s", path.name, line)
    return extract
