"""Analyses in a process of their own (issue 20: the window must not stall while a scenario
run starts): the feedback contract, errors, cancel and crashes cross the boundary, and the
written layers arrive intact."""

from __future__ import annotations

import os
import shutil
import time
from functools import partial

import pytest

from citydesk.layers.errors import LayerReadError
from citydesk.layers.feedback import CanceledError, RecordingFeedback
from citydesk.layers.i18n import _, set_language
from citydesk.workbench.analysis_process import AnalysisCrashed, AnalysisProcesses

# jobs: module-level, so the analysis process imports them by name (this folder is on the
# parent's import path, which the child takes over)


def counting_job(project: str, n: int, *, feedback) -> dict:
    import logging

    for i in range(n):
        feedback.set_progress(100 * (i + 1) / n)
    feedback.push_info("half way")
    logging.getLogger("citydesk.test_child").warning("from the child %s", project)
    return {"project": project, "pid": os.getpid(), "n": n}


def failing_job(project: str, *, feedback) -> None:
    raise LayerReadError(_("the file is not a GeoPackage"), _("Open a .gpkg file."), path=project)


def crashing_job(project: str, *, feedback) -> None:
    os._exit(3)


def polite_job(project: str, *, feedback) -> None:
    while not feedback.is_canceled():
        time.sleep(0.01)
    from citydesk.layers.feedback import CanceledError

    raise CanceledError()


def deaf_job(project: str, *, feedback) -> None:
    time.sleep(60)  # a solver that never looks up


@pytest.fixture(scope="module")
def runner():
    runner = AnalysisProcesses(preload=())
    yield runner
    runner.shutdown()


def test_result_progress_notices_and_logs_come_back(runner, caplog):
    feedback = RecordingFeedback()
    with caplog.at_level("WARNING", logger="citydesk.test_child"):
        out = runner.run(partial(counting_job, n=4), "p.gpkg", feedback=feedback)
    assert out["project"] == "p.gpkg" and out["n"] == 4
    assert out["pid"] != os.getpid()  # it did run elsewhere
    assert feedback.progress[-1] == 100 and feedback.messages == ["half way"]
    assert "from the child p.gpkg" in caplog.text


def test_a_citydesk_error_keeps_its_type_and_language(runner):
    set_language("zh_CN")
    try:
        with pytest.raises(LayerReadError) as caught:
            runner.run(failing_job, "x.gpkg", feedback=RecordingFeedback())
    finally:
        set_language("en")
    assert caught.value.path == "x.gpkg"
    assert caught.value.problem == _catalogue_zh("the file is not a GeoPackage")


def _catalogue_zh(message: str) -> str:
    set_language("zh_CN")
    try:
        return _(message)
    finally:
        set_language("en")


def test_a_crash_ends_the_child_not_the_caller(runner):
    with pytest.raises(AnalysisCrashed, match="exit code 3"):
        runner.run(crashing_job, "x.gpkg", feedback=RecordingFeedback())
    # and the next run works (a fresh spare)
    out = runner.run(partial(counting_job, n=1), "y.gpkg", feedback=RecordingFeedback())
    assert out["project"] == "y.gpkg"


@pytest.mark.parametrize("job", [polite_job, deaf_job])
def test_cancel_takes_effect_within_two_seconds(runner, job):
    import threading

    feedback = RecordingFeedback()
    outcome: list = []

    def run() -> None:
        try:
            runner.run(job, "x.gpkg", feedback=feedback)
        except CanceledError:
            outcome.append("canceled")

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(1.0)
    asked = time.monotonic()
    feedback.cancel()
    thread.join(10)
    assert outcome == ["canceled"]
    assert time.monotonic() - asked < 2.0 + 0.5  # the killed child is reaped too


def test_written_layers_cross_intact(tmp_path):
    """The layers an analysis wrote travel with WKB geometries parsed in slices on arrival
    (``WrittenLayers.__getstate__``): every column, the CRS, the style and the group."""
    import pickle

    from citydesk.layers.demo import SHIPPED_DEMO
    from citydesk.layers.layer import VectorLayer
    from citydesk.layers.project_store import layers_written_since, load_project, put_layers

    path = shutil.copyfile(SHIPPED_DEMO, tmp_path / "demo.gpkg")
    parcels = load_project(path).layers["parcels"]
    copy = VectorLayer(
        id="parcels_copy", name="Parcels copy", data=parcels.data.copy(), style=parcels.style
    )
    put_layers(path, [copy], group="Results")
    written = layers_written_since(path, "")
    back = pickle.loads(pickle.dumps(written))
    assert [(layer.id, group) for layer, group in back.layers] == [("parcels_copy", "Results")]
    layer = back.layers[0][0]
    original = written.layers[0][0]
    assert layer.data.equals(original.data) and layer.data.crs == original.data.crs
    assert layer.style == original.style and layer.name == "Parcels copy"
    assert back.metadata == written.metadata
