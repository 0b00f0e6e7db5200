"""Qt translation backed by the same gettext catalogue as the CLI.

Widgets call ``tr("...")`` (``QCoreApplication.translate`` in the ``CityDesk`` context), the
Qt way, and ``trc(context, "...")`` for a word with two meanings (``trc("staff role",
"Role")``). A small ``QTranslator`` answers those from ``layers/locale``, so there is one
catalogue, one set of zh_CN strings and one extraction tool for CLI, reports and GUI alike.

Qt's own texts (the OK/Cancel buttons of dialogs, file dialogs, context menus of text
fields) come from Qt's shipped ``qtbase_zh_CN.qm``; the gettext translator answers only for
CityDesk's own context, so a CityDesk word never replaces one of Qt's.
"""

from __future__ import annotations

import logging

from PyQt5.QtCore import QCoreApplication, QLibraryInfo, QTranslator

from citydesk.layers import i18n

CONTEXT = "CityDesk"
log = logging.getLogger(__name__)


def N_(text: str) -> str:
    """Mark a constant for extraction; translate it with ``tr`` where it is shown."""
    return text


def tr(text: str) -> str:
    return QCoreApplication.translate(CONTEXT, text)


def trc(context: str, text: str) -> str:
    """``tr`` with a context (gettext's msgctxt) for a word that means two things."""
    return QCoreApplication.translate(CONTEXT, text, context)


class GettextTranslator(QTranslator):
    def translate(self, context, source_text, disambiguation=None, n=-1):
        if not source_text or context != CONTEXT:
            return None  # Qt's own strings: qtbase_*.qm answers them
        if disambiguation:
            translated = i18n.pgettext(disambiguation, source_text)
        else:
            translated = i18n._(source_text)
        # None becomes a null QString, which tells Qt "not translated here" (an empty string
        # would replace the text with nothing).
        return translated if translated != source_text else None

    def isEmpty(self) -> bool:
        return i18n.current_language() == "en"


def install_translator(app, lang: str | None) -> GettextTranslator:
    """CityDesk's catalogue and, for a language other than English, Qt's own translation."""
    chosen = i18n.set_language(lang)
    if chosen != "en":
        qt_own = QTranslator(app)
        folder = QLibraryInfo.location(QLibraryInfo.TranslationsPath)
        if qt_own.load(f"qtbase_{chosen}", folder):
            app.installTranslator(qt_own)
            app._citydesk_qt_translator = qt_own  # keep it alive with the application
        else:
            log.warning("Qt's own %s translation was not found in %s", chosen, folder)
    translator = GettextTranslator(app)
    app.installTranslator(translator)
    return translator
