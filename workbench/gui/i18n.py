"""Qt translation backed by the same gettext catalogue as the CLI.

Widgets call ``tr("...")`` (i.e. ``QCoreApplication.translate``), the Qt way, and a small
``QTranslator`` answers from ``layers/locale`` so there is one catalogue, one set of zh_CN
strings and one extraction tool for CLI, reports and GUI alike.
"""

from __future__ import annotations

from PyQt5.QtCore import QCoreApplication, QTranslator

from citydesk.layers import i18n


def N_(text: str) -> str:
    """Mark a constant for extraction; translate it with ``tr`` where it is shown."""
    return text


def tr(text: str) -> str:
    return QCoreApplication.translate("CityDesk", text)


class GettextTranslator(QTranslator):
    def translate(self, context, source_text, disambiguation=None, n=-1):
        if not source_text:
            return None
        translated = i18n._(source_text)
        # None becomes a null QString, which tells Qt "not translated here" (an empty string
        # would replace the text with nothing).
        return translated if translated != source_text else None

    def isEmpty(self) -> bool:
        return i18n.current_language() == "en"


def install_translator(app, lang: str | None) -> GettextTranslator:
    i18n.set_language(lang)
    translator = GettextTranslator(app)
    app.installTranslator(translator)
    return translator
