"""The category catalogue: components (部件) and events (事件) as versioned data, not an enum.

Categories are keyed by (standard, code). The shipped CJ/T 214 catalogue is loaded first; a
city's own categories (its profile's ``[[categories]]``, or extension files) follow,
replacing entries with the same key and adding new ones. Each
category carries its English and Chinese names, the handling time limit on the working
calendar, and the default responsible department.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _

DATA = Path(__file__).parent / "data"
STANDARD_FILE = DATA / "cjt214_categories.toml"
#: complaint types every 311 system has and CJ/T 214 lacks (noise, motor-vehicle crashes)
COMMON_FILE = DATA / "common_categories.toml"

Kind = Literal["component", "event"]
Unit = Literal["working_hours", "working_days"]


class CatalogueError(CityDeskError):
    """A catalogue file is malformed, or a category is unknown."""


def kind_of(text: str) -> Kind:
    """A stored or typed kind, checked: 'component' (部件) or 'event' (事件)."""
    if text == "component":
        return "component"
    if text == "event":
        return "event"
    raise CatalogueError(
        _("'{text}' is not a category kind").format(text=text),
        _("Use 'component' (部件) or 'event' (事件)."),
    )


@dataclass(frozen=True)
class MajorClass:
    kind: Kind
    code: str
    name_en: str
    name_zh: str


@dataclass(frozen=True)
class Category:
    standard: str
    version: str
    kind: Kind
    code: str
    name_en: str
    name_zh: str
    limit: float
    unit: Unit
    department: str

    @property
    def major_code(self) -> str:
        return self.code[:2]

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.standard, self.kind, self.code)

    def name(self, lang: str = "en") -> str:
        return self.name_zh if lang.startswith("zh") else self.name_en

    def label(self, lang: str = "en") -> str:
        return f"{self.kind[0].upper()}{self.code} {self.name(lang)}"


def split_key(text: str) -> tuple[str | None, str]:
    """``"event:0490"`` -> ("event", "0490"); a bare code ``"0490"`` -> (None, "0490")."""
    kind, sep, code = text.strip().partition(":")
    return (kind, code) if sep else (None, kind)


_REQUIRED = ("kind", "code", "name_en", "name_zh", "limit", "unit", "department")


class Catalogue:
    """All categories known to the city, searchable in English and Chinese."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str, str], Category] = {}
        self.majors: dict[tuple[str, str], MajorClass] = {}
        self.sources: list[tuple[str, str]] = []  # (standard, version) loaded, in order

    @classmethod
    def default(cls) -> Catalogue:
        """The shipped catalogue: CJ/T 214 and CityDesk's common additions (noise, crashes);
        a city's own categories come from its profile (:func:`project_catalogue`)."""
        cat = cls()
        cat.load(STANDARD_FILE)
        cat.load(COMMON_FILE)
        return cat

    def add_local(self, entries: Iterable[Any], version: str = "") -> None:
        """The city's own categories from its profile (``[[categories]]``,
        :class:`citydesk.layers.city_profile.LocalCategory`, already checked), loaded after
        the shipped files so they win for new cases."""
        for entry in entries:
            cat = Category(
                entry.standard,
                version,
                entry.kind,
                entry.code,
                entry.name_en,
                entry.name_zh or entry.name_en,
                float(entry.limit),
                entry.unit,
                entry.department,
            )
            self._items[cat.key] = cat
            if (entry.standard, version) not in self.sources:
                self.sources.append((entry.standard, version))

    def load(self, path: str | Path) -> None:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise CatalogueError(
                _("cannot read the category file ({exc})").format(exc=exc),
                _("Check the TOML syntax."),
                path=str(path),
            ) from exc
        standard, version = data.get("standard"), str(data.get("version", ""))
        if not standard:
            raise CatalogueError(
                _("the file names no 'standard'"),
                _('Add standard = "..." at the top.'),
                path=str(path),
            )
        for item in data.get("majors", []):
            self.majors[(item["kind"], item["code"])] = MajorClass(
                item["kind"], item["code"], item["name_en"], item["name_zh"]
            )
        for n, item in enumerate(data.get("categories", []), start=1):
            missing = [k for k in _REQUIRED if k not in item]
            if missing:
                raise CatalogueError(
                    _("category #{n} ({value1}) lacks {value2}").format(
                        n=n, value1=item.get("code", "?"), value2=", ".join(missing)
                    ),
                    _("Every category needs kind, code, names, limit, unit and department."),
                    path=str(path),
                )
            if item["kind"] not in ("component", "event") or item["unit"] not in (
                "working_hours",
                "working_days",
            ):
                raise CatalogueError(
                    _(
                        "category {code}: kind must be component/event and unit "
                        "working_hours/working_days"
                    ).format(code=item["code"]),
                    _("Fix the entry."),
                    path=str(path),
                )
            if not (str(item["code"]).isdigit() and len(str(item["code"])) == 4):
                raise CatalogueError(
                    _("category code {code!r} is not 4 digits").format(code=item["code"]),
                    _("Use 2-digit major + 2-digit minor class."),
                    path=str(path),
                )
            cat = Category(
                standard,
                version,
                item["kind"],
                str(item["code"]),
                item["name_en"],
                item["name_zh"],
                float(item["limit"]),
                item["unit"],
                item["department"],
            )
            self._items[cat.key] = cat
        self.sources.append((standard, version))

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self):
        return iter(sorted(self._items.values(), key=lambda c: (c.kind, c.code, c.standard)))

    def get(self, kind: Kind, code: str, standard: str | None = None) -> Category:
        """A category by kind and code; the last loaded standard wins when none is given."""
        if standard is not None:
            found = self._items.get((standard, kind, code))
        else:
            found = next(
                (c for s, _v in reversed(self.sources) if (c := self._items.get((s, kind, code)))),
                None,
            )
        if found is None:
            raise CatalogueError(
                _("there is no {kind} category {code}").format(kind=kind, code=code),
                _("Pick one from 'citydesk cases categories'."),
                gui_fix=_("Pick one from the category list."),
            )
        return found

    def stored(self, kind: str, code: str, standard: str | None = None) -> Category:
        """The category of a case already stored, for showing it: the one it was filed
        under, else the same kind and code of another standard, else a stand-in that names
        the code. A city that drops one of its own categories from its profile (or a store
        copied from another city) still shows its cases instead of refusing to open them."""
        try:
            return self.get(kind_of(kind), code, standard)
        except CatalogueError:
            pass
        try:
            return self.get(kind_of(kind), code)
        except CatalogueError:
            unknown = _("category {code} (not in this city's catalogue)").format(code=code)
            return Category(
                standard or "", "", kind_of(kind), code, unknown, unknown, 0.0, "working_hours", ""
            )

    def search(self, text: str, kind: Kind | None = None) -> list[Category]:
        """Categories whose code or English/Chinese name contains ``text`` (case-insensitive)."""
        needle = text.strip().lower()
        return [
            c
            for c in self
            if (kind is None or c.kind == kind)
            and (needle in c.code or needle in c.name_en.lower() or needle in c.name_zh)
        ]


def project_catalogue(project: str | Path) -> Catalogue:
    """The categories a project's cases use: the shipped catalogue and the city's own from
    its profile's ``[[categories]]`` (docs/INCIDENTS.md)."""
    from citydesk.layers.city_profile import profile_or_none

    return catalogue_for(profile_or_none(project))


def catalogue_for(profile) -> Catalogue:
    """The shipped catalogue and the ``[[categories]]`` of ``profile`` (None: none)."""
    catalogue = Catalogue.default()
    if profile is not None and profile.categories:
        catalogue.add_local(profile.categories, version=profile.name)
    return catalogue
