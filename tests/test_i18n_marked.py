"""Every message a user reads is marked for translation: a ``CityDeskError`` (or subclass)
built from a bare string, or a Qt widget given a bare English text, fails here. The catalogue
test (test_i18n.py) then makes sure each marked message has its zh_CN translation."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("layers", "planning", "optimization", "incidents", "plugins", "workbench")
MARKERS = {"_", "N_", "tr", "trc", "ngettext", "pgettext", "npgettext"}
#: Qt calls whose text argument a user reads
QT_CALLS = {
    "QLabel", "QPushButton", "QAction", "QGroupBox", "QCheckBox", "QRadioButton",
    "QToolButton", "QDockWidget", "QMenu", "setText", "setWindowTitle", "setToolTip",
    "addMenu", "setPlaceholderText", "setStatusTip", "setTitle", "addTab", "setLabelText",
    "showMessage", "information", "warning", "critical", "question", "setHeaderLabels",
}  # fmt: skip
#: words that are names, not English to translate
NOT_WORDS = {"CityDesk", "citydesk", "postgresql", "USER", "HOST", "PORT", "DATABASE", "schema"}


def _sources():
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"))


def _error_classes() -> set[str]:
    """CityDeskError and every class derived from it, by name, across the code base."""
    names = {"CityDeskError"}
    trees = [tree for _p, tree in _sources()]
    grew = True
    while grew:
        grew = False
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names:
                    bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
                    if bases & names:
                        names.add(node.name)
                        grew = True
    return names


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _words(node: ast.expr) -> list[str]:
    """English words in the literal parts of a str constant or f-string."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        texts = [node.value]
    elif isinstance(node, ast.JoinedStr):
        texts = [v.value for v in node.values if isinstance(v, ast.Constant)]
    else:
        return []
    return [w for t in texts for w in re.findall(r"[A-Za-z]{3,}", t) if w not in NOT_WORDS]


def test_every_error_message_is_marked_for_translation():
    errors = _error_classes()
    assert {"LayerReadError", "ScenarioError", "PluginError"} <= errors
    bare = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node) in errors:
                for arg in node.args[:2]:  # problem, fix
                    if _words(arg):
                        bare.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not bare, "wrap these messages in _() or ngettext(): " + ", ".join(bare)


def test_every_gui_text_is_marked_for_translation():
    bare = []
    for path, tree in _sources():
        if "workbench" not in path.parts or "gui" not in path.parts:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _call_name(node) in QT_CALLS:
                receiver = getattr(node.func, "value", None)
                if isinstance(receiver, ast.Name) and receiver.id in ("log", "logger", "logging"):
                    continue  # a log line, not a widget text
                for arg in node.args:
                    if _words(arg):
                        bare.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not bare, "wrap these texts in tr() or trc(): " + ", ".join(bare)


def test_the_check_catches_a_bare_message(tmp_path):
    """The scan is not vacuous: a bare message in the form the code uses is found."""
    tree = ast.parse('raise LayerReadError(f"cannot read {path}", "Check it.")')
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call))
    assert _words(call.args[0]) and _words(call.args[1])
    marked = ast.parse('raise LayerReadError(_("cannot read {p}").format(p=path), _("Check."))')
    call = next(
        n for n in ast.walk(marked) if isinstance(n, ast.Call) and _call_name(n) == "LayerReadError"
    )
    assert not any(_words(a) for a in call.args[:2])
