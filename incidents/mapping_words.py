"""What the words of a case export say: which column a header names, whether a status
means closed, what level a priority word is, which catalogue category a complaint type's
name is. The words themselves are data (:file:`data/mapping_words.toml`, several
languages); this is how they are matched. Used by :mod:`.mapping_draft`."""

from __future__ import annotations

import math
import re
import unicodedata
from functools import cache
from pathlib import Path

from .categories import Catalogue, Category
from .import_csv import MAPPINGS, CaseImportError

WORDS_FILE = Path(__file__).parent / "data" / "mapping_words.toml"
_CJK = re.compile(r"[\u3400-\u9fff]")


@cache
def words() -> dict:
    from citydesk.layers.toml_schema import read_toml_file

    _path, data = read_toml_file(WORDS_FILE, CaseImportError, "mapping words")
    return data


def header_scores(header: str) -> dict[str, float]:
    """role -> 0.5-1.0 for the best-ranked word of the role the header has (0 if none)."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", header)  # createdDate -> created Date
    scores: dict[str, float] = {}
    n_words = len(_spaced_words(spaced).split())
    for role, listed in words()["columns"].items():
        rank = says(spaced, listed)
        if rank is not None:
            # a header of more words says it less plainly: "Agency" before "Agency Name"
            extra = max(0, n_words - len(listed[rank].split()))
            scores[role] = 1.0 - 0.5 * rank / len(listed) - 0.01 * extra
    return scores


def _spaced_words(text: str) -> str:
    """The words of ``text``, case and accents folded ("Dirección" and "Direccion" alike:
    exports drop accents as often as they keep them), between spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " " + " ".join(re.findall(r"[^\W_]+", plain)) + " "


def pair_words(text: str) -> set[str]:
    """What a date or time-of-day column's header says beyond "date" and "time" (the
    ``date_words`` and ``time_of_day`` lists): "Fecha de ingreso" and "Hora de ingreso" both
    say "de ingreso"; a Chinese header, written without spaces, is one word without those
    (上报日期 and 上报时间 both say 上报)."""
    listed = words()["date_words"] + words()["time_of_day"]
    chinese = sorted((w for w in listed if _CJK.search(w)), key=len, reverse=True)
    plain = set(_spaced_words(" ".join(w for w in listed if not _CJK.search(w))).split())
    found = set()
    for word in _spaced_words(text).split():
        if _CJK.search(word):
            word = re.sub("|".join(map(re.escape, chinese)), "", word)
        if word and word not in plain:
            found.add(word)
    return found


def says(text: str, listed: list[str]) -> int | None:
    """The rank of the first of ``listed`` that ``text`` says: a word or phrase among its
    words ("fixed - council" says "fixed"; "unable to fix" says "unable to fix"), a Chinese
    word anywhere in it (it has no spaces between words)."""
    spaced = _spaced_words(text)
    folded = text.casefold()
    for rank, word in enumerate(listed):
        if _CJK.search(word):
            if word in folded:
                return rank
        elif _spaced_words(word) in spaced:
            return rank
    return None


def kind_named(text: str) -> str | None:
    """'component' or 'event' where the whole value is a word for it (部件, event, Evento),
    else None: a value that only contains the word ("Event permit") says something else."""
    value = _spaced_words(text)
    for kind, listed in words()["kinds"].items():
        if any(_spaced_words(word) == value for word in listed):
            return str(kind)
    return None


def means_closed(status: str) -> bool:
    """A status word that says the case is closed at the source (Closed, 已结案, Suljettu)."""
    return says(status, words()["statuses"]["closed"]) is not None


def priority_level(text: str) -> int | None:
    """CityDesk's 1-5 for a priority word (urgent, 紧急, normaali ...), else for a numbered
    level ("P1", "Priority 2", "3级": 1 the most urgent, as CityDesk counts and as most
    systems number them); None if unknown."""
    for level, listed in sorted(words()["priorities"].items()):
        if says(text, listed) is not None:
            return int(level)  # the words first: a system that counts up has "1 - Low"
    numbered = re.fullmatch(
        r"\s*(?:p|prio|priority|prioridad|prioridade|priorité|priorität|priorita|[一-龥]*)?"
        r"\s*[-_:#]?\s*([1-5])\s*(?:级|級)?(?:\s*[-:(]\s*\D.*)?",
        text.casefold(),
    )
    return int(numbered.group(1)) if numbered else None


@cache
def shipped_categories() -> dict[str, tuple[str, str]]:
    """value (case-folded) -> (category, mapping name) from every shipped mapping."""
    from citydesk.layers.toml_schema import parse_toml

    found: dict[str, tuple[str, str]] = {}
    for path in sorted(MAPPINGS.glob("*.toml")):
        data = parse_toml(path.read_text(encoding="utf-8"), CaseImportError, "mapping")
        for value, key in (data.get("categories") or {}).items():
            found.setdefault(str(value).casefold(), (str(key), path.stem))
    return found


def _tokens(text: str) -> set[str]:
    """The words of a name that can tell categories apart (plural 's' dropped)."""
    generic = {w.removesuffix("s") for w in words()["generic"]}
    found = {w.removesuffix("s") for w in re.findall(r"[^\W\d_]+", text.casefold())}
    return {w for w in found if len(w) > 2 and w not in generic}


def category_by_name(text: str, catalogue: Catalogue) -> Category | None:
    """The one category whose Chinese name the value contains (or the reverse), else the
    one sharing most English words with it, at least half of the value's, else (none, or
    two that tie) the one whose listed words (other languages, other systems' English) it
    says; None when none does or two do: a wrong guess filed under a real category is worse
    than none."""
    best: list[tuple[float, frozenset[str], Category]] = []
    tokens = _tokens(text)
    for category in catalogue:
        zh = category.name_zh
        if zh and _CJK.search(text) and (zh in text or text in zh):
            # the name itself, then the longest name inside the value (路灯损坏: 路灯), then
            # a name the value is part of (机动车乱停放 is in 非机动车乱停放 too)
            score = 3.0 if zh == text else (2.0 + len(zh) / 100 if zh in text else 1.0)
            best.append((score, frozenset({zh}), category))
            continue
        named = _tokens(category.name_en)
        shared = tokens & named
        # half the words of each at least: "Street Light Out" is a street light, but
        # "Pothole on Street" neither a street light nor a street tree
        if shared and len(shared) >= len(tokens) / 2 and len(shared) >= len(named) / 2:
            best.append((len(shared) / len(tokens | named), frozenset(shared), category))
    best.sort(key=lambda item: item[0], reverse=True)
    if len(best) > 1 and (math.isclose(best[0][0], best[1][0]) or best[0][1] == best[1][1]):
        # a tie, or the value says nothing that tells the two apart: "Manhole cover missing"
        # shares "manhole cover" with the water, sewer and storm drain covers alike (the
        # shorter name scored higher only for being short). The words may still tell:
        # "Street lighting" shares "street" with the street light and the street tree alike,
        # and says "lighting"
        return _category_by_words(text, catalogue)
    if not best:
        return _category_by_words(text, catalogue)
    return best[0][2]


def _category_by_words(text: str, catalogue: Catalogue) -> Category | None:
    """The one category whose words in other languages (``[category_words]``: luminaria,
    Schlagloch, katuvalo ...) the value says; None when none does or two do."""
    listed = words().get("category_words", {})
    found = [c for c in catalogue if says(text, listed.get(f"{c.kind}:{c.code}", [])) is not None]
    return found[0] if len(found) == 1 else None


def other_category(catalogue: Catalogue) -> str:
    """Where values the draft could not place go: the category named 'other' (其他), which
    CityDesk's common additions give every city (event 0699) unless the city's own
    catalogue has one first; the catalogue's first category only if neither exists."""
    for c in catalogue:
        if says(f"{c.name_en} {c.name_zh}", words()["other"]) is not None:
            return f"{c.kind}:{c.code}"
    first = next(iter(catalogue))
    return f"{first.kind}:{first.code}"
