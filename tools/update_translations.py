"""Extract the messages, update the zh_CN catalogue, compile it (Babel).

    .venv/bin/python tools/update_translations.py          # extract + update + compile
    .venv/bin/python tools/update_translations.py --check  # fail if anything is stale/missing

The source of truth for zh_CN is ``layers/locale/zh_CN/LC_MESSAGES/citydesk.po``: translators
edit it (Poedit, Lokalize, Weblate, or a text editor). This tool extracts ``citydesk.pot`` from
the code, merges new and changed messages into the .po (new ones untranslated, removed ones
dropped) and compiles the .mo that ships. Messages are marked with ``_``, ``N_``, ``ngettext``
(plurals), ``pgettext`` / ``npgettext`` (a context for a word with two meanings, such as
"Role" of a staff member versus "role" of a layer) and, in Qt code, ``tr`` / ``trc``.
``--check`` (run by tests/test_i18n.py) fails when a message has no translation, is fuzzy,
or a file is stale.
"""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "layers" / "locale"
POT = LOCALE / "citydesk.pot"
PO = LOCALE / "zh_CN" / "LC_MESSAGES" / "citydesk.po"
MO = PO.with_suffix(".mo")
FIXED_DATE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
SOURCES = ["layers", "planning", "optimization", "incidents", "plugins", "workbench"]
KEYWORDS = ["_", "N_", "tr", "ngettext:1,2", "pgettext:1c,2", "npgettext:1c,2,3", "trc:1c,2"]


def extract() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "citydesk.pot"
        keywords = [arg for k in KEYWORDS for arg in ("-k", k)]
        subprocess.run(
            [
                sys.executable,
                "-m",
                "babel.messages.frontend",
                "extract",
                "--no-default-keywords",
                "--no-location",
                "--sort-output",
                "--omit-header",
                *keywords,
                "-o",
                str(out),
                *[s for s in SOURCES if (ROOT / s).exists()],
            ],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        return out.read_bytes()


def _write(catalog: Catalog) -> tuple[bytes, bytes]:
    catalog.project, catalog.version = "CityDesk", "0.2"
    # Fixed dates keep the files byte-identical between runs, so --check compares content.
    catalog.creation_date = catalog.revision_date = FIXED_DATE
    po_buf, mo_buf = io.BytesIO(), io.BytesIO()
    write_po(po_buf, catalog, omit_header=False, sort_output=True, width=100)
    write_mo(mo_buf, catalog)
    return po_buf.getvalue(), mo_buf.getvalue()


#: the built-in plugin's manifest: its titles and descriptions are shown in the GUI and the
#: CLI through the same catalogue (a third-party plugin's words stay as its author wrote them)
MANIFEST = ROOT / "plugins" / "builtin" / "citydesk_plugin.toml"


def manifest_messages() -> list[str]:
    """The user-visible texts of the built-in manifest: names, groups, descriptions, titles
    and parameter labels."""
    import tomllib

    data = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))
    texts: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("name", "group", "description", "label", "title") and isinstance(
                    value, str
                ):
                    texts.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for section in ("algorithms", "commands", "panels", "indicators"):
        walk(data.get(section, []))
    return sorted(set(t for t in texts if t.strip()))


def build() -> tuple[bytes, bytes, bytes, list[str]]:
    """The .pot, the updated .po and .mo, and the messages still without a translation."""
    template = read_po(io.BytesIO(extract()))
    for text in manifest_messages():
        if text not in template:
            template.add(text, auto_comments=["plugins/builtin/citydesk_plugin.toml"])
    buffer = io.BytesIO()
    write_po(buffer, template, omit_header=True, sort_output=True, width=100)
    pot_bytes = buffer.getvalue()
    if PO.exists():
        with open(PO, "rb") as fh:
            catalog = read_po(fh, locale="zh_CN")
    else:
        catalog = Catalog(locale="zh_CN")
    catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
    catalog.obsolete.clear()  # a removed message is history; git keeps it
    missing = [
        (f"[{m.context}] " if m.context else "") + str(m.id)
        for m in catalog
        if m.id
        and (
            not m.string or (m.pluralizable and not all(m.string[: catalog.num_plurals])) or m.fuzzy
        )
    ]
    po, mo = _write(catalog)
    return pot_bytes, po, mo, missing


def main() -> int:
    check = "--check" in sys.argv
    pot, po, mo, missing = build()
    if missing:
        print(f"{len(missing)} zh_CN messages have no translation (edit {PO.relative_to(ROOT)}):")
        for m in missing:
            print(f"  {m!r}")
    if check:
        stale = [
            p
            for p, new in ((POT, pot), (PO, po), (MO, mo))
            if not p.exists() or p.read_bytes() != new
        ]
        for p in stale:
            print(f"stale: {p.relative_to(ROOT)} (run tools/update_translations.py)")
        return 1 if (stale or missing) else 0
    PO.parent.mkdir(parents=True, exist_ok=True)
    POT.write_bytes(pot)
    PO.write_bytes(po)
    MO.write_bytes(mo)
    print(f"wrote {POT.relative_to(ROOT)}, {PO.relative_to(ROOT)}, {MO.relative_to(ROOT)}")
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
