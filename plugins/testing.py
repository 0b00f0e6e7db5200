"""Pytest fixtures for plugin authors (a ``pytest11`` entry point: installed with CityDesk,
active in any pytest run, nothing to import).

* ``citydesk_project``: a private copy of the Cambridge demo project (a path);
* ``citydesk_context``: the host API for that project, exactly what an algorithm receives;
* ``citydesk_feedback``: a feedback recorder (progress, messages; ``cancel()`` to test
  cancellation);
* ``citydesk_host``: the plugin host with the installed plugins (entry points included),
  for testing that a plugin is found and its contributions run through CityDesk.

```python
def test_my_algorithm(citydesk_host, citydesk_project, citydesk_feedback):
    from citydesk.plugins.algorithms import run_algorithm
    result = run_algorithm(citydesk_host, "mine:thing", {"layer": "parcels"},
                           citydesk_project, citydesk_feedback)
    assert result.outputs["count"] > 0
```
"""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture()
def citydesk_project(tmp_path):
    from citydesk.layers.demo import SHIPPED_DEMO

    target = tmp_path / "cambridge_demo.gpkg"
    shutil.copyfile(SHIPPED_DEMO, target)
    return target


@pytest.fixture()
def citydesk_context(citydesk_project):
    from citydesk.plugins.api import Context

    return Context(project_path=citydesk_project)


@pytest.fixture()
def citydesk_feedback():
    from citydesk.layers.feedback import RecordingFeedback

    return RecordingFeedback()


@pytest.fixture()
def citydesk_host():
    from citydesk.plugins.host import PluginHost

    return PluginHost()
