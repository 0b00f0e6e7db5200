"""Open a shared PostGIS table in real QGIS and print what QGIS sees, as JSON.

Run with the system Python that has Debian's python3-qgis (never inside the CityDesk venv):

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tools/qgis_check_postgis.py \
        "host=127.0.0.1 port=5432 dbname=city user=me" SCHEMA TABLE

QGIS loads the table's default style from ``public.layer_styles`` as it does when a user
adds the layer; the line says whether it did and which renderer it built. Used by
tests/test_shared_layers.py when QGIS is installed.
"""

import json
import os
import sys

from qgis.core import QgsApplication, QgsDataSourceUri, QgsVectorLayer


def main(conninfo: str, schema: str, table: str) -> int:
    app = QgsApplication([], False)
    app.initQgis()
    uri = QgsDataSourceUri(conninfo)
    uri.setDataSource(schema, table, "geom", "", "fid")
    layer = QgsVectorLayer(uri.uri(False), table, "postgres")
    info = {"valid": layer.isValid()}
    if layer.isValid():
        _message, ok = layer.loadDefaultStyle()
        renderer = layer.renderer()
        info.update(
            features=layer.featureCount(),
            crs=layer.crs().authid(),
            style_loaded=bool(ok),
            renderer=renderer.type() if renderer else None,
            opacity=round(layer.opacity(), 3),
        )
        if renderer is not None and renderer.type() == "categorizedSymbol":
            info["classes"] = len(renderer.categories())
            info["attr"] = renderer.classAttribute()
    print(json.dumps(info))
    sys.stdout.flush()
    os._exit(0)  # QGIS 3.22 can crash in its offscreen teardown; the check is complete


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
