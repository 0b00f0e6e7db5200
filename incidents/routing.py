"""Which department takes a case: the catalogue's default, overridden by rules.

A rule names a category (exact, a major class with ``*``, or everything) and optionally an
area (a grid-code prefix: street or community), and the department that takes such cases
there. Rules are tried in file order and the first match wins; the catalogue's department
is the fallback. A case nobody can take goes to the manual queue *with the reason*, because
a dispatcher can act on "no crew of water is on duty" but not on a silent failure.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from citydesk.layers.errors import CityDeskError
from citydesk.layers.i18n import _

from .toml_files import load_toml

DATA = Path(__file__).parent / "data"


class RoutingError(CityDeskError):
    """The rules file cannot be used."""


@dataclass(frozen=True)
class Rule:
    category: str  # "event:0490", "event:04*", "*"
    department: str
    area: str = ""  # grid-code prefix; empty = everywhere

    def matches(self, kind: str, code: str, grid_code: str | None) -> bool:
        if self.area and not (grid_code or "").startswith(self.area):
            return False
        if self.category == "*":
            return True
        want_kind, _sep, want = self.category.partition(":")
        if want_kind != kind:
            return False
        return code.startswith(want[:-1]) if want.endswith("*") else code == want


@dataclass
class RoutingFile:
    """The TOML layout of a routing-rules file (checked key by key)."""

    rules: list[Rule] = field(default_factory=list)
    version: str = ""


@dataclass(frozen=True)
class Routing:
    department: str | None
    reason: str  # why this department, or why the manual queue


@dataclass
class RoutingTable:
    rules: list[Rule]

    @classmethod
    def load(cls, path: str | Path | None) -> RoutingTable:
        """Rules from a TOML file (``[[rules]]`` with category, area, department)."""
        if path is None:
            return cls([])
        # shipped rules by name: cambridge
        path, data = load_toml(
            path, DATA / "routing_{name}.toml", RoutingError, _("routing rules"), RoutingFile
        )
        for n, rule in enumerate(data.rules, start=1):
            if not rule.category or not rule.department:
                raise RoutingError(
                    _("routing rule {n} needs a category and a department").format(n=n),
                    _('Write e.g. category = "event:0505" and department = "police".'),
                    path=str(path),
                )
        return cls(data.rules)

    def route(
        self,
        kind: str,
        code: str,
        grid_code: str | None,
        default_department: str | None,
        default_reason: str | None = None,
    ) -> Routing:
        """The first rule matching the case, else ``default_department`` (the case's own,
        or its category's), said as ``default_reason``."""
        for rule in self.rules:
            if rule.matches(kind, code, grid_code):
                where = _(" in area {area}").format(area=rule.area) if rule.area else ""
                return Routing(
                    rule.department,
                    _("rule: {category}{where}").format(category=rule.category, where=where),
                )
        if default_department:
            return Routing(default_department, default_reason or _("catalogue default"))
        return Routing(
            None,
            _("no rule and no catalogue department for {kind} {code}").format(kind=kind, code=code),
        )


def department_names(lang: str = "en") -> dict[str, str]:
    """Display names of the department codes (``zh_CN`` gives the Chinese ones)."""
    data = tomllib.loads((DATA / "departments.toml").read_text(encoding="utf-8"))
    key = "zh" if lang.startswith("zh") else "en"
    return {code: names[key] for code, names in data["departments"].items()}
