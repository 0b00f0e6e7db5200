"""Every real broken input of ``tests/data/broken/`` (issue 21), run through the command that
met it: a clear one-line error (exit 2, never 3 "internal error") that names the problem,
and the project left exactly as it was. The catalogue of attacks is ``corpus.toml``."""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path

import pytest

from citydesk.workbench.cli.main import main

HERE = Path(__file__).parent / "data" / "broken"
ATTACKS = tomllib.loads((HERE / "corpus.toml").read_text(encoding="utf-8"))["attack"]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "attack", ATTACKS, ids=[f"{a['file']}-{'-'.join(a['argv'][:2])}" for a in ATTACKS]
)
def test_a_broken_input_is_a_clear_error_and_changes_nothing(attack, demo_copy, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    values = {"file": str(HERE / attack["file"]), "here": str(HERE), "project": str(demo_copy)}
    argv = [a.format(out=out, **values) for a in attack["argv"]]
    before = _digest(demo_copy)
    code = main(argv)
    out_text, err = capsys.readouterr()
    expected = attack.get("exit", 2)
    assert code == expected, f"exit {code}, wanted {expected}: {err}"
    assert "internal error" not in err
    if expected == 1:  # `layers validate`: a report that names the problem, and FAILED
        assert attack["says"] in out_text, out_text
    if expected == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1, err  # one line: the problem and the fix
        assert "internal error" not in err
        assert attack["says"] in lines[0], lines[0]
        assert "Fix:" in lines[0] or "fix" in lines[0].lower(), lines[0]
        assert _digest(demo_copy) == before, "a refused command changed the project"


def test_every_corpus_file_is_attacked():
    """A file added to the corpus without an entry would never be run."""
    named = {a["file"] for a in ATTACKS}
    helpers = {"corpus.toml", "cases_ok.csv", "mapping_ok.toml", "plugins_settings_list.json"}
    sidecars = {".dbf", ".shx", ".prj", ".cpg"}
    files = {
        p.name
        for p in HERE.iterdir()
        if p.is_file() and p.name not in helpers and p.suffix not in sidecars
    }
    assert files <= named, sorted(files - named)


def test_broken_plugins_are_marked_and_the_rest_work(tmp_path, monkeypatch, demo_copy):
    """A manifest nested 3,000 deep, a non-UTF-8 manifest, an entry outside its plugin and a
    plugins.json that is a list broke every plugin and `plan run` (issue 21). Each broken
    plugin is marked with its reason; the built-in algorithms still run."""
    from citydesk.plugins.algorithms import run_algorithm
    from citydesk.plugins.host import PluginHost

    settings = tmp_path / "plugins.json"
    settings.write_bytes((HERE / "plugins_settings_list.json").read_bytes())
    monkeypatch.setattr("citydesk.plugins.host.user_plugins_dir", lambda: HERE / "plugins")
    monkeypatch.setattr("citydesk.plugins.host._settings_path", lambda: settings)
    host = PluginHost(entry_points=False)
    status = {r.source: (r.status, " ".join(r.problems)) for r in host.plugins()}
    assert status["builtin"] == ("ok", "")
    nested = status[str(HERE / "plugins" / "nested_manifest")]
    assert nested[0] == "invalid" and "too deeply" in nested[1]
    gbk = status[str(HERE / "plugins" / "gbk_manifest")]
    assert gbk[0] == "invalid" and "UTF-8" in gbk[1]
    outputs = run_algorithm(
        host, "citydesk:buffer", {"input": "neighborhoods", "distance": 50}, demo_copy
    )
    assert outputs


def test_bad_input_to_a_builtin_algorithm_leaves_it_usable(demo_copy, monkeypatch, tmp_path):
    """Bad input to a built-in algorithm disabled the built-in plugin until a restart."""
    from citydesk.layers.errors import CityDeskError
    from citydesk.plugins.algorithms import run_algorithm
    from citydesk.plugins.host import PluginHost

    monkeypatch.setattr("citydesk.plugins.host.user_plugins_dir", lambda: tmp_path / "none")
    host = PluginHost(entry_points=False)
    for bad in ({"input": "neighborhoods", "distance": "nan"}, {"input": "nowhere"}, {}):
        with pytest.raises(CityDeskError):
            run_algorithm(host, "citydesk:buffer", bad, demo_copy)
    assert host.plugin("citydesk").status == "ok"
    assert run_algorithm(
        host, "citydesk:buffer", {"input": "neighborhoods", "distance": 50}, demo_copy
    )


def test_a_missing_layer_table_leaves_the_rest_of_the_project_open(demo_copy, capsys):
    """A layer table deleted by another tool made the whole project unopenable (issue 21).
    The project opens without it, says so, and a save does not touch what it could not read."""
    import sqlite3

    from citydesk.layers.project_store import load_project, save_project

    con = sqlite3.connect(demo_copy)
    con.execute("DROP TABLE open_space")
    con.commit()
    con.close()
    project = load_project(demo_copy)
    assert (
        "open_space" in project.unreadable and "no such table" in project.unreadable["open_space"]
    )
    assert "parcels" in project.layers and "open_space" not in project.layers
    save_project(project)
    assert "parcels" in load_project(demo_copy).layers
    assert main(["project", "info", str(demo_copy)]) == 0
    assert "layer 'open_space' cannot be read" in capsys.readouterr().err


def test_a_layer_far_from_the_project_is_named_with_the_likely_mistake(demo_copy, tmp_path, capsys):
    """Swapped latitude and longitude passed `project add` without a warning (issue 21)."""
    swapped = tmp_path / "swapped.csv"
    swapped.write_text("name,latitude,longitude\na,-71.11,42.37\nb,-71.10,42.38\n")
    paris = tmp_path / "paris.csv"
    paris.write_text("name,latitude,longitude\na,48.85,2.35\n")
    here = tmp_path / "here.csv"
    here.write_text("name,latitude,longitude\na,42.37,-71.11\n")
    assert main(["project", "add", str(demo_copy), str(here)]) == 0
    assert "warning" not in capsys.readouterr().err
    assert main(["project", "add", str(demo_copy), str(paris)]) == 0
    err = capsys.readouterr().err
    assert "lies 5," in err and "km from the project" in err  # Boston to Paris: 5,5xx km
    assert main(["project", "add", str(demo_copy), str(swapped)]) == 0
    assert "look swapped" in capsys.readouterr().err


def test_one_malformed_batch_line_does_not_stop_the_others(demo_copy, tmp_path, capsys):
    """One malformed line stopped a whole `run --batch` (issue 21)."""
    import json

    from citydesk.layers.project_store import load_project

    def line(output: str) -> str:
        params = {"input": "neighborhoods", "distance": 50, "output": output}
        return json.dumps({"algorithm": "citydesk:buffer", "project": str(demo_copy),
                           "params": params})  # fmt: skip

    batch = tmp_path / "batch.jsonl"
    batch.write_text("\n".join([line("first"), "{not json", '["a list"]', line("last")]) + "\n")
    assert main(["run", "--batch", str(batch)]) == 1  # some lines failed
    err = capsys.readouterr().err
    assert "line 2:" in err and "line 3:" in err and "internal error" not in err
    assert {"first", "last"} <= set(load_project(demo_copy).layers)
