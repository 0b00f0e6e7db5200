"""Attribute encoding detection for shapefiles.

Chinese municipal shapefiles are very often written in GBK/GB18030 by ArcGIS or older tools and
shipped without a ``.cpg`` file. GDAL then assumes ISO-8859-1 (or UTF-8) and every Chinese name
turns into mojibake. We read the raw ``.dbf`` records, and if they are not valid UTF-8 we let
charset-normalizer decide, preferring the GB family for CJK text.
"""

from __future__ import annotations

import struct
from pathlib import Path

#: encodings a .cpg may name, normalised to Python codec names
_CPG_ALIASES = {"65001": "utf-8", "utf8": "utf-8", "936": "gbk", "gb2312": "gbk"}


def read_cpg(shp_path: Path) -> str | None:
    """The encoding declared in a sidecar ``.cpg``, if any."""
    for ext in (".cpg", ".CPG"):
        cpg = shp_path.with_suffix(ext)
        if cpg.exists():
            text = cpg.read_text(errors="replace").strip().lower()
            return _CPG_ALIASES.get(text, text) or None
    return None


def dbf_text_sample(dbf_path: Path, max_bytes: int = 1 << 20) -> bytes:
    """The field names and the character-field bytes of the first records of a dBASE file.

    Only C (character) fields are sampled so numeric padding does not dilute detection.
    """
    with open(dbf_path, "rb") as fh:
        header = fh.read(32)
        if len(header) < 32:
            return b""
        n_records, header_len, record_len = struct.unpack("<IHH", header[4:12])
        descriptors = fh.read(header_len - 32)
        fields = []
        # the field names too: a Chinese export's names (地块编号, 用地代码) are GBK even where
        # every value is a code or a number, which alone reads as ASCII and so as UTF-8
        out = bytearray()
        offset = 1  # deletion flag
        for i in range(0, len(descriptors) - 1, 32):
            desc = descriptors[i : i + 32]
            if len(desc) < 32 or desc[0] == 0x0D:
                break
            out += desc[:11].split(b"\x00", 1)[0] + b"\n"
            ftype = chr(desc[11])
            flen = desc[16]
            if ftype == "C":
                fields.append((offset, flen))
            offset += flen
        fh.seek(header_len)
        for _ in range(n_records):
            rec = fh.read(record_len)
            if len(rec) < record_len:
                break
            for start, length in fields:
                out += rec[start : start + length].rstrip(b" \x00") + b"\n"
            if len(out) > max_bytes:
                break
        return bytes(out)


def detect_encoding(sample: bytes) -> str:
    """Best guess for ``sample``: ASCII/UTF-8 when valid, else GB18030 family or latin-1."""
    if not sample:
        return "utf-8"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    # GB18030 is a superset of GBK/GB2312; if it decodes cleanly and yields CJK, prefer it.
    try:
        text = sample.decode("gb18030")
        cjk = sum("\u4e00" <= ch <= "\u9fff" for ch in text)
        if cjk >= max(1, len(text) // 50):
            return "gb18030"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    return best.encoding if best is not None else "latin-1"


def lines_not_utf8(data: bytes) -> list[int]:
    """1-based numbers of the lines that are not UTF-8, when other lines are UTF-8 with
    non-ASCII text: a file pasted together from two exports in different encodings. Any
    single guess would garble one part without a word, so such a file is refused. Empty
    when the file is consistent (all UTF-8, or no UTF-8 beyond ASCII)."""
    utf8_text, bad = False, []
    for number, line in enumerate(data.splitlines(), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8_text = True
        except UnicodeDecodeError:
            bad.append(number)
    return bad if utf8_text and bad else []


def shapefile_encoding(shp_path: Path) -> tuple[str, str]:
    """(encoding, how it was found) for a shapefile: ``cpg``, ``detected`` or ``default``."""
    declared = read_cpg(shp_path)
    if declared:
        return declared, "cpg"
    for ext in (".dbf", ".DBF"):
        dbf = shp_path.with_suffix(ext)
        if dbf.exists():
            enc = detect_encoding(dbf_text_sample(dbf))
            return enc, "detected"
    return "utf-8", "default"
