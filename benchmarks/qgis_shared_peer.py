"""QGIS side of benchmarks/shared_layers.py. Runs under the system Python with python3-qgis.

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 benchmarks/qgis_shared_peer.py \
        CONNINFO SCHEMA TABLE QML OUT_DIR x0,y0,x1,y1 [x0,y0,x1,y1 ...]

For each extent: the time QGIS's parallel renderer takes to draw the PostGIS table into a
1600x1000 image (the first render is cold: QGIS asks the database, as it does on every
render of a PostGIS layer), best and median of the next three, and the picture saved as
OUT_DIR/qgis_N.png. One JSON line.
"""

import json
import os
import statistics
import sys
import time

from qgis.core import (
    QgsApplication,
    QgsDataSourceUri,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor


def render(settings):
    job = QgsMapRendererParallelJob(settings)
    t0 = time.perf_counter()
    job.start()
    job.waitForFinished()
    return time.perf_counter() - t0, job.renderedImage()


def main(conninfo, schema, table, qml, out_dir, *extents):
    app = QgsApplication([], False)
    app.initQgis()
    uri = QgsDataSourceUri(conninfo)
    uri.setDataSource(schema, table, "geom", "", "fid")
    t0 = time.perf_counter()
    layer = QgsVectorLayer(uri.uri(False), table, "postgres")
    opened = time.perf_counter() - t0
    assert layer.isValid(), uri.uri(False)
    _message, ok = layer.loadNamedStyle(qml)
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setOutputSize(QSize(1600, 1000))
    settings.setBackgroundColor(QColor("white"))
    settings.setDestinationCrs(layer.crs())
    result = {"open": opened, "style_loaded": bool(ok), "renderer": layer.renderer().type()}
    for n, text in enumerate(extents):
        x0, y0, x1, y1 = (float(v) for v in text.split(","))
        settings.setExtent(QgsRectangle(x0, y0, x1, y1))
        cold, image = render(settings)
        warm = [render(settings)[0] for _ in range(3)]
        image.save(os.path.join(out_dir, f"qgis_{n}.png"))
        result[f"view{n}"] = {"cold": cold, "best": min(warm), "median": statistics.median(warm)}
    print(json.dumps(result), flush=True)
    os._exit(0)  # QGIS 3.22 may crash in exitQgis() offscreen; the figures are printed


if __name__ == "__main__":
    main(*sys.argv[1:])
