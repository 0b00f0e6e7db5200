"""Errors speak the words of the front end the user is in (issue 20: error texts sent GUI
users to CLI flags). Every hint that names a command-line flag or command has the
workbench's own advice beside it; and a file that needs read options (its encoding, its
coordinate columns) opens the layer-options dialog instead of a dead end."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = ("layers", "planning", "optimization", "incidents", "plugins")
CLI_WORDS = re.compile(r"(?<![\w-])--[a-z][a-z-]+|\bcitydesk [a-z]+ [a-z]+")


def _string(node: ast.AST) -> str | None:
    """The text of ``_("...")`` (or a bare string), else None."""
    if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "_" and node.args:
        node = node.args[0]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _hints_without_gui_words(root: Path = ROOT):
    """(file:line, hint) for every error raised with a fix naming a CLI flag or command
    and no ``gui_fix``; validation issues (``Issue(code, severity, message, fix)``) too."""
    missing = []
    for folder in DOMAIN:
        for path in sorted((root / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name.endswith("Error") or name in ("NeedsReadOptions", "LayerExists"):
                    fix_at = 1
                elif name == "Issue":
                    fix_at = 3
                else:
                    continue
                fix = node.args[fix_at] if len(node.args) > fix_at else None
                fix = fix or next((k.value for k in node.keywords if k.arg == "fix"), None)
                text = _string(fix) if fix is not None else None
                has_gui = any(k.arg == "gui_fix" for k in node.keywords)
                if text and CLI_WORDS.search(text) and not has_gui:
                    missing.append(f"{path.relative_to(root)}:{node.lineno}: {text}")
    return missing


def test_every_hint_naming_a_cli_flag_has_the_workbench_words():
    missing = _hints_without_gui_words()
    assert not missing, "\n".join(missing)


def test_the_scan_finds_a_flag_hint_without_gui_words(tmp_path, monkeypatch):
    """The scan above can fail: a planted hint with a flag and no gui_fix is reported. It is
    planted in a folder of its own: planted in the source tree, the scan running at the same
    moment in the other test worker found it."""
    planted = tmp_path / "layers" / "_planted_hint_for_test.py"
    planted.parent.mkdir()
    planted.write_text(
        "from citydesk.layers.errors import CityDeskError\n"
        'def f():\n    raise CityDeskError("x", "give --cell-size")\n',
        encoding="utf-8",
    )
    assert any("_planted_hint_for_test" in m for m in _hints_without_gui_words(tmp_path))


def test_the_same_error_advises_the_flag_on_the_cli_and_the_menu_in_the_gui(tmp_path):
    from citydesk.layers.errors import use_front_end
    from citydesk.layers.readers.csv_points import read_csv_points

    path = tmp_path / "_no_coordinates.csv"
    path.write_text("name,easting_m,northing_m\na,1,2\n", encoding="utf-8")
    try:
        from citydesk.layers.errors import NeedsReadOptions

        with pytest.raises(NeedsReadOptions) as caught:
            read_csv_points(path)
        assert "--x-field" in caught.value.message
        use_front_end("gui")
        assert "--" not in caught.value.message
        assert "Add layer with options" in caught.value.message
    finally:
        use_front_end("cli")
