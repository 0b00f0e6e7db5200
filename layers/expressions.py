"""A small, safe filter language for attribute tables and selections (no ``eval``).

QGIS users already write filters like ``"land_use" = 'residential' AND land_value_usd > 1e6``;
this module accepts that subset and evaluates it vectorised on a DataFrame:

- field names bare (``use_code``) or double-quoted (``"Street Name"``); strings single-quoted;
- numbers, ``TRUE``/``FALSE``/``NULL``;
- ``= == != <> < <= > >=``, ``+ - * /``, ``IN (...)``, ``NOT IN``, ``LIKE``/``ILIKE`` with
  ``%`` and ``_``, ``IS NULL``/``IS NOT NULL``, ``AND``/``OR``/``NOT`` and parentheses.

A malformed filter raises :class:`ExpressionError` naming the position and what was expected.
Parsing is a hand-written recursive descent over a token list: nothing is ever executed.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from .errors import CityDeskError
from .i18n import _

#: brackets, NOT and unary minus nest at most this deep (Python's stack is the real limit)
MAX_DEPTH = 40


class ExpressionError(CityDeskError):
    """A filter that cannot be parsed or evaluated; the message says where and why."""


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+(?:[eE][+-]?\d+)?)
      | (?P<string>'(?:[^']|'')*')
      | (?P<qname>"(?:[^"]|"")+")
      | (?P<op><>|!=|==|<=|>=|[=<>(),+\-*/])
      | (?P<word>[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"AND", "OR", "NOT", "IN", "LIKE", "ILIKE", "IS", "NULL", "TRUE", "FALSE"}


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, name, op, kw, end
    value: Any
    pos: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            col = len(text) - len(text[pos:].lstrip()) + 1
            if text[col - 1] in "'\"":
                raise ExpressionError(
                    _("the quote at column {col} is never closed").format(col=col),
                    _("Close text with a single quote and field names with a double quote."),
                )
            raise ExpressionError(
                _("unexpected character {value0!r} at column {value1}").format(
                    value0=text[pos:].lstrip()[:1], value1=len(text) - len(text[pos:].lstrip()) + 1
                ),
                _("Quote text with single quotes and field names with double quotes."),
            )
        kind = m.lastgroup
        assert kind is not None  # every alternative of the pattern is a named group
        start = m.start(kind)
        raw = m.group(kind)
        if kind == "number":
            tokens.append(
                Token("number", float(raw) if re.search(r"[.eE]", raw) else int(raw), start)
            )
        elif kind == "string":
            tokens.append(Token("string", raw[1:-1].replace("''", "'"), start))
        elif kind == "qname":
            tokens.append(Token("name", raw[1:-1].replace('""', '"'), start))
        elif kind == "op":
            tokens.append(Token("op", raw, start))
        elif raw.upper() in _KEYWORDS:
            tokens.append(Token("kw", raw.upper(), start))
        else:
            tokens.append(Token("name", raw, start))
        pos = m.end()
    tokens.append(Token("end", None, len(text)))
    return tokens


class _Parser:
    """Recursive descent; each method returns a callable ``frame -> Series/scalar``."""

    def __init__(self, text: str, columns: list[str]) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.columns = columns
        self.lower = {c.lower(): c for c in columns}
        self.depth = 0

    # helpers
    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def accept(self, kind: str, value: Any = None) -> Token | None:
        tok = self.peek()
        if tok.kind == kind and (value is None or tok.value == value):
            self.i += 1
            return tok
        return None

    def expect(self, kind: str, value: Any, what: str) -> Token:
        tok = self.accept(kind, value)
        if tok is None:
            self.fail(f"expected {what}")
        return tok

    def fail(self, message: str) -> NoReturn:
        tok = self.peek()
        found = "the end" if tok.kind == "end" else repr(str(tok.value))
        raise ExpressionError(
            _("{message} at column {value1}, found {found}: {text}").format(
                message=message, value1=tok.pos + 1, found=found, text=" ".join(self.text.split())
            ),
            _("Check the filter syntax, e.g. \"land_use\" = 'residential' AND area_m2 > 5000"),
        )

    # grammar
    def parse(self):
        try:
            node = self.or_expr()
        except RecursionError:  # a deep stack already (a GUI callback, a test runner)
            raise ExpressionError(
                _("the filter nests too deeply to be read"),
                _("Write it with fewer brackets, NOT and minus signs."),
            ) from None
        if self.peek().kind != "end":
            self.fail("unexpected text")
        return node

    # A chain of OR (or AND) is kept as one list and folded in a loop, so a filter of
    # thousands of alternatives neither recurses nor builds a deep call chain (issue 21).
    def or_expr(self):
        items = [self.and_expr()]
        while self.accept("kw", "OR"):
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else _fold(items, operator.or_)

    def and_expr(self):
        items = [self.not_expr()]
        while self.accept("kw", "AND"):
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else _fold(items, operator.and_)

    def nested(self, parse):
        """``parse()`` one level deeper; a filter nested past MAX_DEPTH is refused."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(
                _("the filter nests more than {n} levels deep").format(n=MAX_DEPTH),
                _("Write it with fewer brackets, NOT and minus signs."),
            )
        try:
            return parse()
        finally:
            self.depth -= 1

    def not_expr(self):
        if self.accept("kw", "NOT"):
            inner = self.nested(self.not_expr)
            return lambda f: ~_bool(inner(f))
        return self.comparison()

    def comparison(self):
        left = self.additive()
        tok = self.peek()
        if tok.kind == "op" and tok.value in ("=", "==", "!=", "<>", "<", "<=", ">", ">="):
            self.take()
            right = self.additive()
            return _compare(tok.value, left, right)
        negate = False
        if tok.kind == "kw" and tok.value == "NOT":
            self.take()
            negate = True
            tok = self.peek()
        if self.accept("kw", "IN"):
            self.expect("op", "(", "'(' after IN")
            values = [self.literal()]
            while self.accept("op", ","):
                values.append(self.literal())
            self.expect("op", ")", "')' to close the IN list")

            def node(f, values=values):
                return _series(left(f), f).isin(values)

            return _negate(node) if negate else node
        for kw, case in (("LIKE", True), ("ILIKE", False)):
            if self.accept("kw", kw):
                pattern = self.expect("string", None, "a quoted pattern after LIKE")
                node = _like(left, _like_to_regex(pattern.value), case)
                return _negate(node) if negate else node
        if negate:
            self.fail("expected IN, LIKE or ILIKE after NOT")
        if self.accept("kw", "IS"):
            is_not = bool(self.accept("kw", "NOT"))
            self.expect("kw", "NULL", "NULL after IS")
            return (
                (lambda f: _series(left(f), f).notna())
                if is_not
                else (lambda f: _series(left(f), f).isna())
            )
        return left

    def additive(self):
        return self.chain(self.term, "+-")

    def term(self):
        return self.chain(self.unary, "*/")

    def chain(self, operand, ops: str):
        """``a + b - c ...``: operands and operators in lists, computed left to right in
        a loop (no recursion however long the chain)."""
        first = operand()
        rest = []
        while (tok := self.peek()).kind == "op" and tok.value in ops:
            self.take()
            rest.append((tok.value, operand()))
        return first if not rest else _arith_chain(first, rest)

    def unary(self):
        if self.accept("op", "-"):
            inner = self.nested(self.unary)
            return _minus(inner)
        return self.primary()

    def primary(self):
        tok = self.peek()
        if self.accept("op", "("):
            node = self.nested(self.or_expr)
            self.expect("op", ")", "')'")
            return node
        if tok.kind == "name":
            self.take()
            column = tok.value if tok.value in self.columns else self.lower.get(tok.value.lower())
            if column is None:
                raise ExpressionError(
                    _("there is no field {value!r} (column {value1})").format(
                        value=tok.value, value1=tok.pos + 1
                    ),
                    _("Fields are: {value0}").format(value0=", ".join(self.columns[:30])),
                )
            return lambda f: f[column]
        value = self.literal()
        return lambda f: value

    def literal(self):
        tok = self.take()
        if tok.kind in ("number", "string"):
            return tok.value
        if tok.kind == "op" and tok.value == "-" and self.peek().kind == "number":
            return -self.take().value
        if tok.kind == "kw" and tok.value in ("TRUE", "FALSE"):
            return tok.value == "TRUE"
        if tok.kind == "kw" and tok.value == "NULL":
            return None
        self.i -= 1
        self.fail("expected a field, a number or a quoted text")


def _minus(inner):
    def run(frame: pd.DataFrame):
        value = inner(frame)
        try:
            return None if value is None else -value
        except TypeError as exc:
            raise ExpressionError(
                _("cannot compute {op} on these values ({exc})").format(op="-", exc=exc),
                _("Arithmetic needs numeric fields."),
            ) from exc

    return run


def _negate(node):
    return lambda f: ~node(f)


def _like(left, regex: str, case: bool):
    def run(frame: pd.DataFrame) -> pd.Series:
        text = _series(left(frame), frame).astype("string")
        return text.str.fullmatch(regex, case=case).fillna(False).astype(bool)

    return run


def _series(value, frame: pd.DataFrame) -> pd.Series:
    if isinstance(value, pd.Series):
        return value
    return pd.Series([value] * len(frame), index=frame.index)


def _bool(value) -> pd.Series:
    if isinstance(value, pd.Series):
        if value.dtype == bool:
            return value
        return value.notna() & value.fillna(0).astype(bool)  # NULL is not true
    return False if value is None else bool(value)


def _compare(op: str, left, right):
    ops = {
        "=": np.equal,
        "==": np.equal,
        "!=": np.not_equal,
        "<>": np.not_equal,
        "<": np.less,
        "<=": np.less_equal,
        ">": np.greater,
        ">=": np.greater_equal,
    }
    fn = ops[op]

    def run(frame: pd.DataFrame):
        a, b = left(frame), right(frame)
        try:
            result = fn(a, b)
        except TypeError as exc:
            raise ExpressionError(
                _("cannot compare these values with {op} ({exc})").format(op=op, exc=exc),
                _("Compare numbers with numbers and text with quoted text."),
            ) from exc
        if isinstance(result, pd.Series):
            # SQL semantics, as in QGIS: a comparison with NULL is not true
            known = _notna(a, frame) & _notna(b, frame)
            return _bool(result) & known
        return result

    return run


def _notna(value, frame: pd.DataFrame) -> pd.Series | bool:
    if isinstance(value, pd.Series):
        return value.notna()
    return value is not None


def _divide(a, b):
    """Division where a zero divisor gives NULL, as in QGIS and SQL (never inf, never an
    exception: ``1/0`` in a filter ended as "internal error")."""
    if not isinstance(a, pd.Series) and not isinstance(b, pd.Series):
        if a is None or b is None or b == 0:
            return None
        return a / b
    with np.errstate(divide="ignore", invalid="ignore"):
        result = a / b
    if not isinstance(b, pd.Series):  # a field divided by a constant
        return result if b is not None and b != 0 else pd.Series(np.nan, index=a.index)
    return result.where(b != 0)


_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": _divide}


def _fold(items: list, combine):
    def run(frame: pd.DataFrame):
        result = _bool(items[0](frame))
        for item in items[1:]:
            result = combine(result, _bool(item(frame)))
        return result

    return run


def _arith_chain(first, rest: list):
    def run(frame: pd.DataFrame):
        value = first(frame)
        for op, node in rest:
            try:
                value = _ARITH[op](value, node(frame))
            except TypeError as exc:
                raise ExpressionError(
                    _("cannot compute {op} on these values ({exc})").format(op=op, exc=exc),
                    _("Arithmetic needs numeric fields."),
                ) from exc
        return value

    return run


def _like_to_regex(pattern: str) -> str:
    out = []
    for ch in pattern:
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
    return "".join(out)


def compile_filter(text: str, columns: list[str]):
    """Parse ``text`` once; returns ``frame -> boolean Series``."""
    node = _Parser(text, list(columns)).parse()

    def run(frame: pd.DataFrame) -> pd.Series:
        try:
            result = node(frame)
        except (OverflowError, ValueError) as exc:  # numbers beyond float, odd types
            raise ExpressionError(
                _("the filter cannot be computed on these values ({exc})").format(exc=exc),
                _("Check the numbers and fields in the filter."),
            ) from exc
        if not isinstance(result, pd.Series):
            raise ExpressionError(
                _("the filter {text!r} does not depend on any field").format(text=text),
                _("Compare a field with a value, e.g. land_use = 'residential'."),
            )
        return _bool(result)

    return run


def filter_mask(frame: pd.DataFrame, text: str) -> pd.Series:
    """Boolean mask of the rows of ``frame`` matching the filter ``text`` (blank = all)."""
    if not text or not text.strip():
        return pd.Series(True, index=frame.index)
    columns = [c for c in frame.columns if c != getattr(frame, "_geometry_column_name", None)]
    return compile_filter(text, columns)(frame)


def evaluate_expression(frame: pd.DataFrame, text: str) -> pd.Series:
    """The value of an expression per row: a field, or arithmetic on fields
    (``floor_area / area_m2``); a comparison gives booleans."""
    columns = [c for c in frame.columns if c != getattr(frame, "_geometry_column_name", None)]
    result = _Parser(text, columns).parse()(frame)
    if not isinstance(result, pd.Series):
        raise ExpressionError(
            _("the expression {text!r} does not depend on any field").format(text=text),
            _("Name a field, e.g. floor_area / area_m2."),
        )
    return result
