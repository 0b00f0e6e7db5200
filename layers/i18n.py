"""Translation of user-facing text outside Qt (CLI, reports, validation messages).

gettext with one ``citydesk`` domain; catalogues live in ``layers/locale/<lang>/LC_MESSAGES``.
The Qt side uses ``QCoreApplication.translate`` for widget text; this module is for everything
that must work headless. ``set_language("zh_CN")`` switches at run time; by default the
``CITYDESK_LANG`` / ``LANGUAGE`` / ``LANG`` environment decides.
"""

from __future__ import annotations

import gettext
import os
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "citydesk"

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = "en"


def _pick_from_env() -> str:
    for var in ("CITYDESK_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value.startswith("zh"):
            return "zh_CN"
        if value and value not in ("C", "POSIX") and not value.startswith("C."):
            return "en"
    return "en"


def set_language(lang: str | None) -> str:
    """Switch the catalogue; ``None`` means "from the environment". Returns the language used."""
    global _translation, _language
    lang = lang or _pick_from_env()
    lang = "zh_CN" if lang.lower().replace("-", "_").startswith("zh") else "en"
    _translation = gettext.translation(
        DOMAIN, localedir=str(LOCALE_DIR), languages=[lang], fallback=True
    )
    _language = lang
    return lang


def current_language() -> str:
    return _language


def _(message: str) -> str:
    """Translate ``message`` into the current language (identity when no catalogue)."""
    return _translation.gettext(message)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it yet (a label kept in a
    table and translated when shown, in whatever language is current then)."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """``singular`` or ``plural`` by ``n``, in the current language's plural rules."""
    return _translation.ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """Translate a word that means two things, told apart by ``context`` (gettext msgctxt):
    ``pgettext("staff role", "Role")`` is 角色, ``pgettext("layer role", "Role")`` 用途."""
    return _translation.pgettext(context, message)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return _translation.npgettext(context, singular, plural, n)


set_language(None)
