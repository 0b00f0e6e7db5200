"""Extract, merge and compile the gettext catalogue (Babel).

    .venv/bin/python tools/update_translations.py          # extract + merge + compile
    .venv/bin/python tools/update_translations.py --check  # fail if anything is stale/missing

The .pot is extracted from the sources, zh_CN strings come from tools/zh_CN_strings.py, and the
.mo that ships is compiled from the .po. tests/test_i18n.py runs ``--check``.
"""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "layers" / "locale"
POT = LOCALE / "citydesk.pot"
PO = LOCALE / "zh_CN" / "LC_MESSAGES" / "citydesk.po"
MO = PO.with_suffix(".mo")
FIXED_DATE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
SOURCES = ["layers", "planning", "optimization", "incidents", "plugins", "workbench"]

sys.path.insert(0, str(Path(__file__).parent))
from zh_CN_strings import ZH_CN  # noqa: E402


def extract() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "citydesk.pot"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "babel.messages.frontend",
                "extract",
                "--no-location",
                "--sort-output",
                "--omit-header",
                "-k",
                "_",
                "-k",
                "tr",
                "-k",
                "N_",
                "-o",
                str(out),
                *[s for s in SOURCES if (ROOT / s).exists()],
            ],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        return out.read_bytes()


def build() -> tuple[bytes, bytes, bytes, list[str]]:
    pot_bytes = extract()
    catalog = read_po(io.BytesIO(pot_bytes), locale="zh_CN")
    missing = []
    for message in catalog:
        if not message.id:
            continue
        if message.id in ZH_CN:
            message.string = ZH_CN[message.id]
        else:
            missing.append(message.id)
    catalog.project, catalog.version = "CityDesk", "0.1"
    # Fixed dates keep the files byte-identical between runs, so --check compares content.
    catalog.creation_date = catalog.revision_date = FIXED_DATE
    po_buf, mo_buf = io.BytesIO(), io.BytesIO()
    write_po(po_buf, catalog, omit_header=False, sort_output=True, width=100)
    write_mo(mo_buf, catalog)
    return pot_bytes, po_buf.getvalue(), mo_buf.getvalue(), missing


def main() -> int:
    check = "--check" in sys.argv
    pot, po, mo, missing = build()
    if missing:
        print("untranslated zh_CN strings (add them to tools/zh_CN_strings.py):")
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
