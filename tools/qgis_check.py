"""Open a CityDesk project GeoPackage in real QGIS and print what QGIS sees.

Run with the system Python that has Debian's python3-qgis (never inside the CityDesk venv:
two GDALs in one process are fine, three are asking for trouble):

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tools/qgis_check.py PROJECT.gpkg

Prints one JSON line per vector layer: feature count, renderer type, class count, opacity.
Used by tests/test_qgis_compat.py when QGIS is installed.
"""

import json
import os
import sys

from qgis.core import QgsApplication, QgsVectorLayer


def main(path: str) -> int:
    app = QgsApplication([], False)
    app.initQgis()
    from osgeo import ogr

    ds = ogr.Open(path)
    names = [ds.GetLayer(i).GetName() for i in range(ds.GetLayerCount())]
    for name in names:
        if name.startswith(("citydesk_", "layer_styles")):
            continue
        layer = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
        if not layer.isValid():
            print(json.dumps({"layer": name, "valid": False}))
            continue
        _message, ok = layer.loadDefaultStyle()
        renderer = layer.renderer()
        info = {
            "layer": name,
            "valid": True,
            "features": layer.featureCount(),
            "style_loaded": bool(ok),
            "renderer": renderer.type() if renderer else None,
            "opacity": round(layer.opacity(), 3),
        }
        if renderer and renderer.type() == "graduatedSymbol":
            info["classes"] = len(renderer.ranges())
            info["attr"] = renderer.classAttribute()
        if renderer and renderer.type() == "categorizedSymbol":
            info["classes"] = len(renderer.categories())
            info["attr"] = renderer.classAttribute()
        print(json.dumps(info))
        del layer, renderer
    sys.stdout.flush()
    # QGIS 3.22 can crash in exitQgis() during teardown of offscreen sessions; the check is
    # complete at this point, so leave without running the teardown.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
