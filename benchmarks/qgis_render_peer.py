"""QGIS side of benchmarks/render.py. Runs under the system Python with python3-qgis.

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 benchmarks/qgis_render_peer.py GPKG LAYER QML

Prints JSON: first render, re-render after a 2x zoom, re-render after a pan (seconds), using
QgsMapRendererParallelJob into a 1600x1000 image, the layer styled with the same QML.
"""

import json
import os
import sys
import time

from qgis.core import (
    QgsApplication,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor


def render(settings) -> float:
    job = QgsMapRendererParallelJob(settings)
    t0 = time.perf_counter()
    job.start()
    job.waitForFinished()
    return time.perf_counter() - t0


def main(path: str, layer_name: str, qml: str) -> None:
    app = QgsApplication([], False)
    app.initQgis()
    layer = QgsVectorLayer(f"{path}|layername={layer_name}", layer_name, "ogr")
    assert layer.isValid(), path
    layer.loadNamedStyle(qml)
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setOutputSize(QSize(1600, 1000))
    settings.setBackgroundColor(QColor("white"))
    settings.setDestinationCrs(layer.crs())
    extent = layer.extent()
    settings.setExtent(extent)
    first = render(settings)
    w, h = extent.width() / 4, extent.height() / 4
    c = extent.center()
    zoomed = QgsRectangle(c.x() - w, c.y() - h, c.x() + w, c.y() + h)
    settings.setExtent(zoomed)
    zooms = [render(settings) for _ in range(3)]
    zoomed.setXMinimum(zoomed.xMinimum() + w / 4)
    zoomed.setXMaximum(zoomed.xMaximum() + w / 4)
    settings.setExtent(zoomed)
    pan = min(render(settings) for _ in range(3))
    print(
        json.dumps(
            {
                "first": first,
                "zoom_cold": zooms[0],
                "zoom": min(zooms),
                "pan": pan,
                "features": layer.featureCount(),
            }
        ),
        flush=True,
    )
    os._exit(0)  # QGIS 3.22 may crash in exitQgis() offscreen; the figures are printed


if __name__ == "__main__":
    main(*sys.argv[1:4])
