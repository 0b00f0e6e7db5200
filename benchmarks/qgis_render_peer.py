"""QGIS side of benchmarks/render.py. Runs under the system Python with python3-qgis.

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 benchmarks/qgis_render_peer.py \
        GPKG LAYER QML OUT_DIR X0,Y0,X1,Y1 [X0,Y0,X1,Y1 ...]

Prints JSON. The first view is timed from opening the layer to the finished picture (read +
first render: QGIS reads as it draws); every view is then drawn three more times (render
alone), with the simplification QGIS's desktop applies to new layers (1 px). Each view's
first picture is saved as OUT_DIR/qgis_N.png. The QML is checked: the
JSON says whether it loaded, the renderer's type and its class count, so a run that drew the
style stored in the GeoPackage instead is caught. ``peak_rss_mib`` is the process's.
"""

import json
import os
import statistics
import sys
import time

from common import peak_rss_mib
from qgis.core import (
    QgsApplication,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsRectangle,
    QgsVectorLayer,
    QgsVectorSimplifyMethod,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor
from qgis.PyQt.QtXml import QDomDocument


def render(settings):
    job = QgsMapRendererParallelJob(settings)
    t0 = time.perf_counter()
    job.start()
    job.waitForFinished()
    return time.perf_counter() - t0, job.renderedImage()


def main(path: str, layer_name: str, qml: str, out_dir: str, *extents: str) -> None:
    app = QgsApplication([], False)
    app.initQgis()
    t0 = time.perf_counter()
    # loadDefaultStyle=False: the GeoPackage carries its own style (layer_styles), which the
    # first version of this peer drew instead of the benchmark's
    options = QgsVectorLayer.LayerOptions(True, False)
    layer = QgsVectorLayer(f"{path}|layername={layer_name}", layer_name, "ogr", options)
    assert layer.isValid(), path
    # loadNamedStyle() would prefer a style stored in the GeoPackage over the file (QGIS
    # asks the provider's database first): the QML is imported as a document instead
    document = QDomDocument()
    with open(qml, encoding="utf-8") as fh:
        document.setContent(fh.read())
    ok, _message = layer.importNamedStyle(document)
    # QGIS at its best, as the desktop sets up every new layer: geometry simplification to
    # 1 px (distance algorithm, done locally); the JSON reports what was in force
    method = QgsVectorSimplifyMethod()
    method.setSimplifyHints(QgsVectorSimplifyMethod.GeometrySimplification)
    method.setSimplifyAlgorithm(QgsVectorSimplifyMethod.Distance)
    method.setThreshold(1.0)
    method.setForceLocalOptimization(True)
    layer.setSimplifyMethod(method)
    renderer = layer.renderer()
    classes = len(renderer.ranges()) if hasattr(renderer, "ranges") else 0
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setOutputSize(QSize(1600, 1000))
    settings.setBackgroundColor(QColor("white"))
    settings.setDestinationCrs(layer.crs())
    result = {
        "style_loaded": bool(ok),
        "renderer": renderer.type(),
        "classes": classes,
        "attribute": getattr(renderer, "classAttribute", lambda: "")(),
        "features": layer.featureCount(),
        "simplify": [
            int(layer.simplifyMethod().simplifyHints()),
            layer.simplifyMethod().threshold(),
        ],
    }
    for n, text in enumerate(extents):
        x0, y0, x1, y1 = (float(v) for v in text.split(","))
        settings.setExtent(QgsRectangle(x0, y0, x1, y1))
        cold, image = render(settings)
        if n == 0:
            result["read_and_first"] = time.perf_counter() - t0
        warm = [render(settings)[0] for _ in range(3)]
        image.save(os.path.join(out_dir, f"qgis_{n}.png"))
        result[f"view{n}"] = {"cold": cold, "median": statistics.median(warm), "best": min(warm)}
    result["peak_rss_mib"] = peak_rss_mib()
    print(json.dumps(result), flush=True)
    os._exit(0)  # QGIS 3.22 may crash in exitQgis() offscreen; the figures are printed


if __name__ == "__main__":
    main(*sys.argv[1:])
