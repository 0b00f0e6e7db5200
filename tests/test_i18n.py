"""English with a shipped zh_CN translation; Chinese text really renders in charts."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from citydesk.layers.i18n import _, current_language, set_language

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def zh():
    set_language("zh_CN")
    yield
    set_language("en")


def test_catalogue_is_complete_and_compiled():
    result = subprocess.run(
        [sys.executable, "tools/update_translations.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_switching_language(zh):
    assert current_language() == "zh_CN"
    assert _("the layer has no features") == "图层没有要素"
    set_language("en")
    assert _("the layer has no features") == "the layer has no features"


def test_language_from_environment(monkeypatch):
    monkeypatch.setenv("CITYDESK_LANG", "zh_CN.UTF-8")
    assert set_language(None) == "zh_CN"
    monkeypatch.setenv("CITYDESK_LANG", "en_US.UTF-8")
    assert set_language(None) == "en"


def test_chinese_chart_contains_the_glyphs(tmp_path):
    """No tofu: every CJK character must come from a font that has it."""
    from citydesk.layers.mpl_fonts import configure_matplotlib

    family = configure_matplotlib()
    assert family is not None, "no CJK font installed (the setup script installs one)"
    import matplotlib.pyplot as plt
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    fig, ax = plt.subplots()
    ax.set_title("住宅用地 公共管理与公共服务用地")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(tmp_path / "zh.png")
        fig.savefig(tmp_path / "zh.pdf")
    plt.close(fig)
    assert not [w for w in caught if "missing from font" in str(w.message)]
    path = font_manager.findfont(font_manager.FontProperties(family=family))
    font = FT2Font(path)
    assert all(font.get_char_index(ord(ch)) for ch in "住宅用地公共管理")


def test_cli_speaks_chinese():
    exe = Path(sys.executable).parent / "citydesk"
    out = subprocess.run(
        [str(exe), "--lang", "zh_CN", "--help"], capture_output=True, text=True, timeout=60
    )
    assert "桌面 GIS 工作台" in out.stdout


def test_words_with_two_meanings_have_contexts(zh):
    from citydesk.layers.i18n import ngettext, pgettext

    assert pgettext("staff role", "Role") == "角色"
    assert pgettext("layer role", "Role") == "用途"
    assert pgettext("validation verdict", "OK") == "通过"
    assert "要素" in ngettext(
        "{n} feature has an empty geometry", "{n} features have an empty geometry", 3
    ).format(n=3)


@pytest.mark.gui
def test_qt_dialogs_speak_chinese_and_keep_their_own_words(qtbot, qapp):
    """Qt's own buttons come from Qt's translation (确定, 取消), not from a CityDesk word
    that happens to be spelt the same (the validation verdict "OK" is 通过)."""
    from PyQt5.QtWidgets import QDialogButtonBox

    from citydesk.workbench.gui.i18n import install_translator, trc

    translators = []
    try:
        translators.append(install_translator(qapp, "zh_CN"))
        box = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        qtbot.addWidget(box)
        assert box.button(QDialogButtonBox.Ok).text().replace("&", "").startswith("确定")
        assert box.button(QDialogButtonBox.Cancel).text().replace("&", "").startswith("取消")
        assert trc("staff role", "Role") == "角色"
    finally:
        for t in translators:
            qapp.removeTranslator(t)
        if getattr(qapp, "_citydesk_qt_translator", None) is not None:
            qapp.removeTranslator(qapp._citydesk_qt_translator)
        set_language("en")
