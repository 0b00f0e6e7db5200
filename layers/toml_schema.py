"""The one strict reader for the TOML files people write: scenarios, plugin manifests, column
mappings, routing rules and the city profile.

A file is read with ``tomllib`` (it never executes anything) and checked against a dataclass:
every key must be a field, every value the field's type. An unknown or misspelt key is an
error naming its dotted path and the nearest known key ("columns.reported: did you mean
'reported_at'?"), because a silently ignored typo would quietly change a plan, a deadline or
a mapping. Values of a ``Literal`` type must be one of its choices, again with a suggestion.
Every error is the caller's :class:`CityDeskError` subclass, in one translated line.

Decision (issue 17): a small reader driven by the dataclasses the domain already uses, not
pydantic. The domain objects are dataclasses; pydantic would add a second model of each and
its errors would still need this translation into one line with a fix. TOML keys that are not
Python names (``requires-citydesk``) are given with ``field(metadata={"key": ...})``; a
number's sensible range with ``field(metadata={"range": (lo, hi)})``.
"""

from __future__ import annotations

import difflib
import functools
import math
import tomllib
import types
import typing
from dataclasses import MISSING, Field, fields, is_dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from .errors import CityDeskError
from .i18n import _

T = TypeVar("T")


def parse_toml(text: str, error: type[CityDeskError], what: str, source: str = "") -> dict:
    """The parsed table; a syntax error becomes ``error`` naming ``what`` and the line. A
    leading byte-order mark (Windows Notepad's "UTF-8 with BOM") is not part of the TOML:
    tomllib refused such a file as "Invalid statement at line 1, column 1"."""
    try:
        return tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise error(
            _("the {what} is not valid TOML ({err})").format(what=what, err=exc),
            _("Fix the syntax at the line given."),
            path=source or None,
        ) from exc
    except RecursionError as exc:  # tomllib recurses per nested array or inline table
        raise error(
            _("the {what} nests arrays or tables too deeply to be read").format(what=what),
            _("Write the nested values as [section] tables; a city file needs only a few levels."),
            path=source or None,
        ) from exc


def read_text_file(path: str | Path, error: type[CityDeskError], what: str) -> str:
    """A UTF-8 text file a user names; unreadable raises ``error`` naming ``what``."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise error(
            _("the {what} is not UTF-8 text (byte {at} cannot be read)").format(
                what=what, at=exc.start
            ),
            _("Save it as UTF-8 (TOML files are always UTF-8); in Notepad: Save As, UTF-8."),
            path=str(path),
        ) from exc
    except OSError as exc:
        raise error(
            _("cannot read the {what} ({err})").format(what=what, err=exc),
            _("Check the path and the file's permissions."),
            path=str(path),
        ) from exc


def read_toml_file(
    path: str | Path, error: type[CityDeskError], what: str
) -> tuple[Path, dict[str, Any]]:
    """(path, parsed table) of a TOML file; unreadable or bad syntax raises ``error``."""
    path = Path(path)
    return path, parse_toml(read_text_file(path, error, what), error, what, str(path))


@functools.cache
def _shape_of(cls: type) -> tuple[dict[str, Any], dict[str, Field]]:
    """A settings dataclass's type hints and its fields by TOML key, worked out once per
    class: ``get_type_hints`` evaluates every annotation's text, and checking 50 plugin
    manifests asked it 3,250 times (half of the plugin host's start-up)."""
    hints = typing.get_type_hints(cls)
    known = {f.metadata.get("key", f.name): f for f in fields(cls)}
    return hints, known


class Reader:
    """Builds dataclasses from parsed TOML, raising ``error`` (with ``source`` as its path)."""

    def __init__(self, error: type[CityDeskError], source: str = "") -> None:
        self.error = error
        self.source = source

    def fail(self, where: str, problem: str, fix: str) -> NoReturn:
        error = self.error(
            f"{where}: {problem}" if where else problem, fix, path=self.source or None
        )
        error.key = where
        raise error

    def one_of(self, where: str, value: Any, allowed, what: str | None = None) -> None:
        if value in allowed:
            return
        near = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1)
        hint = _("did you mean '{near}'?").format(near=near[0]) + " " if near else ""
        self.fail(
            where,
            _("unknown {what} '{value}'").format(what=what or _("value"), value=value),
            hint + _("Use one of: {names}.").format(names=", ".join(str(a) for a in allowed)),
        )

    def build(self, cls: type[T], table: Any, where: str = "") -> T:
        if not isinstance(table, dict):
            self.fail(
                where,
                _("must be a table"),
                _("Write it as [{name}] or {{ ... }}.").format(name=where),
            )
        hints, known = _shape_of(typing.cast(type, cls))
        for key in table:
            if key not in known:
                near = difflib.get_close_matches(str(key), list(known), n=1)
                hint = _("did you mean '{near}'?").format(near=near[0]) + " " if near else ""
                self.fail(
                    join(where, key),
                    _("unknown field"),
                    hint + _("Known fields: {names}.").format(names=", ".join(known)),
                )
        values = {}
        for key, f in known.items():
            if key in table:
                values[f.name] = self.coerce(hints[f.name], table[key], join(where, key))
                if "range" in f.metadata:
                    self.in_range(join(where, key), values[f.name], *f.metadata["range"])
            elif f.default is MISSING and f.default_factory is MISSING:
                self.fail(join(where, key), _("missing"), _("This field is required."))
        return cls(**values)

    def in_range(self, where: str, value: Any, lo: float, hi: float) -> None:
        """Every number a person writes has a sensible range (issue 21: a housing target of
        1e308 ran 13 minutes, then blamed the other targets). Lists are checked per item."""
        items = value if isinstance(value, list | tuple) else [value]
        if isinstance(value, dict):
            items = list(value.values())
        for item in items:
            if isinstance(item, int | float) and not lo <= item <= hi:
                self.fail(
                    where,
                    _("{v} is outside {lo:g} to {hi:g}").format(v=item, lo=lo, hi=hi),
                    _("Write a value in that range."),
                )

    def coerce(self, hint: Any, value: Any, where: str) -> Any:
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if origin in (typing.Union, types.UnionType):
            if value is None:
                return None
            choices = [a for a in args if a is not type(None)]
            if len(choices) == 1:
                return self.coerce(choices[0], value, where)
            for choice in choices:  # str | list[str]: the first that fits
                try:
                    return self.coerce(choice, value, where)
                except self.error:
                    continue
            self.fail(where, _("has the wrong type ({v!r})").format(v=value), _("Check it."))
        if origin is typing.Literal:
            self.one_of(where, value, args)
            return value
        if is_dataclass(hint):
            return self.build(typing.cast(type, hint), value, where)
        if hint is Any:
            return value
        if origin is dict:
            if not isinstance(value, dict):
                self.fail(where, _("must be a table"), _("Write it as key = value pairs."))
            return {str(k): self.coerce(args[1], v, join(where, k)) for k, v in value.items()}
        if origin in (list, tuple):
            if not isinstance(value, list):
                self.fail(where, _("must be a list"), _("Write it as [a, b, ...]."))
            items = [self.coerce(args[0], v, f"{where}[{i}]") for i, v in enumerate(value)]
            return items if origin is list else tuple(items)
        if hint is float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                self.fail(
                    where, _("must be a number, not {v!r}").format(v=value), _("Write a number.")
                )
            if not math.isfinite(value):  # TOML writes nan and inf; no setting means them
                self.fail(
                    where,
                    _("must be a finite number, not {v!r}").format(v=value),
                    _("Write an ordinary number."),
                )
            return float(value)
        if hint is int:
            if isinstance(value, bool) or not isinstance(value, int):
                self.fail(
                    where,
                    _("must be a whole number, not {v!r}").format(v=value),
                    _("Write an integer."),
                )
            return value
        if hint is bool:
            if not isinstance(value, bool):
                self.fail(where, _("must be true or false"), _("Write true or false."))
            return value
        if hint is str:
            if not isinstance(value, str):
                self.fail(where, _("must be text, not {v!r}").format(v=value), _("Quote it."))
            return value
        return value


def read_table(
    cls: type[T], table: Any, error: type[CityDeskError], source: str = "", where: str = ""
) -> T:
    """``cls`` built strictly from a parsed TOML table (see the module's docstring)."""
    return Reader(error, source).build(cls, table, where)


def join(where: str, key: Any) -> str:
    return f"{where}.{key}" if where else str(key)
