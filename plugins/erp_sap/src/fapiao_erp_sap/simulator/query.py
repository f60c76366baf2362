"""OData v2 system query options on the server side: $filter, $orderby, $select, $expand.

``$filter`` is parsed by a small recursive-descent parser over the OData v2 grammar the SAP
Gateway accepts (comparison, ``and``/``or``/``not``, parentheses, typed literals such as
``datetimeoffset'…'`` and ``123.45M``, and the functions ``substringof``, ``startswith``,
``endswith``, ``tolower``, ``toupper``) into a predicate. Literals are typed by the property they
are compared with, as the Gateway does, so ``NetAmount gt 100`` compares decimals, not strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from fapiao_erp_sap.simulator.schema import EntityType

__all__ = [
    "QueryError",
    "Row",
    "coerce",
    "parse_filter",
    "parse_key",
    "parse_orderby",
    "parse_tree",
]

Row = dict[str, Any]
Predicate = Callable[[Row], Any]


class QueryError(ValueError):
    """A malformed query option: the Gateway answers 400 with this message."""


_TOKEN_RE = re.compile(
    r"""\s*(?:
      (?P<typed>(?:datetimeoffset|datetime|guid|time|binary|X)'(?:[^']|'')*')
    | (?P<string>'(?:[^']|'')*')
    | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?)
    | (?P<punct>[(),])
    | (?P<name>[A-Za-z_][A-Za-z0-9_/.]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN_RE.match(text, pos)
        if match is None or match.end() == pos:
            raise QueryError(f"Invalid token at position {pos} in '{text}'")
        kind = match.lastgroup or ""
        out.append(_Tok(kind, match.group(kind)))
        pos = match.end()
    return out


def _datetime_literal(text: str) -> datetime:
    value = text.strip()
    # A literal '+' in a query string arrives as a space when the client did not encode it.
    value = re.sub(r" (\d{2}:\d{2})$", r"+\1", value)
    value = value.replace("Z", "+00:00").replace("z", "+00:00")
    if "." in value:
        head, rest = value.split(".", 1)
        digits = re.match(r"\d+", rest)
        frac = digits.group(0) if digits else ""
        value = f"{head}.{frac[:6].ljust(6, '0')}{rest[len(frac) :]}"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise QueryError(f"Invalid date/time literal '{text}'") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _literal(tok: _Tok) -> Any:
    if tok.kind == "string":
        return tok.text[1:-1].replace("''", "'")
    if tok.kind == "typed":
        prefix, _, rest = tok.text.partition("'")
        body = rest[:-1].replace("''", "'")
        if prefix in ("datetimeoffset", "datetime"):
            return _datetime_literal(body)
        return body
    if tok.kind == "number":
        text = tok.text.rstrip("mMdDfFlL")
        try:
            return Decimal(text)
        except InvalidOperation:
            raise QueryError(f"Invalid number '{tok.text}'") from None
    raise QueryError(f"Not a literal: '{tok.text}'")


def coerce(etype: EntityType, name: str, value: Any) -> Any:
    """A stored value in the comparable Python type of its Edm type."""
    prop = etype.prop(name)
    if prop is None or value is None:
        return value
    if prop.type == "Edm.Decimal":
        return Decimal(str(value))
    if prop.type in ("Edm.DateTime", "Edm.DateTimeOffset") and isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return value


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and b is not None and a > b,
    "ge": lambda a, b: a is not None and b is not None and a >= b,
    "lt": lambda a, b: a is not None and b is not None and a < b,
    "le": lambda a, b: a is not None and b is not None and a <= b,
}
_FUNCTIONS = {"substringof", "startswith", "endswith", "tolower", "toupper", "length", "trim"}


class _Parser:
    def __init__(self, etype: EntityType, text: str) -> None:
        self.etype = etype
        self.text = text
        self.toks = _tokens(text)
        self.pos = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise QueryError(f"Unexpected end of expression in '{self.text}'")
        self.pos += 1
        return tok

    def expect(self, text: str) -> None:
        tok = self.take()
        if tok.text != text:
            raise QueryError(f"Expected '{text}' but found '{tok.text}' in '{self.text}'")

    def word(self, *words: str) -> str | None:
        tok = self.peek()
        if tok is not None and tok.kind == "name" and tok.text in words:
            self.pos += 1
            return tok.text
        return None

    def parse(self) -> Predicate:
        predicate = self.or_()
        if self.peek() is not None:
            raise QueryError(f"Unexpected '{self.peek().text}' in '{self.text}'")  # type: ignore[union-attr]
        return predicate

    def or_(self) -> Predicate:
        left = self.and_()
        while self.word("or"):
            right = self.and_()
            left = (lambda a, b: lambda row: bool(a(row)) or bool(b(row)))(left, right)
        return left

    def and_(self) -> Predicate:
        left = self.unary()
        while self.word("and"):
            right = self.unary()
            left = (lambda a, b: lambda row: bool(a(row)) and bool(b(row)))(left, right)
        return left

    def unary(self) -> Predicate:
        if self.word("not"):
            inner = self.unary()
            return lambda row: not inner(row)
        return self.comparison()

    def comparison(self) -> Predicate:
        left, left_prop = self.operand()
        op = self.word(*_COMPARE)
        if op is None:
            return left
        right, right_prop = self.operand()
        compare = _COMPARE[op]
        # Type each side like the property on the other side (Edm typing of literals).
        prop = left_prop or right_prop

        def typed(value: Any) -> Any:
            if prop is None or value is None:
                return value
            target = self.etype.prop(prop)
            if (
                target is not None
                and target.type == "Edm.Decimal"
                and not isinstance(value, Decimal)
            ):
                try:
                    return Decimal(str(value))
                except InvalidOperation:
                    raise QueryError(f"'{value}' is not a valid Edm.Decimal for {prop}") from None
            if target is not None and target.type == "Edm.String" and isinstance(value, Decimal):
                return str(value)
            return value

        return lambda row: compare(typed(left(row)), typed(right(row)))

    def operand(self) -> tuple[Predicate, str | None]:
        tok = self.take()
        if tok.text == "(":
            inner = self.or_()
            self.expect(")")
            return inner, None
        if tok.kind == "name":
            if tok.text in ("true", "false"):
                value = tok.text == "true"
                return (lambda row: value), None
            if tok.text == "null":
                return (lambda row: None), None
            if tok.text in _FUNCTIONS and self.peek() is not None and self.peek().text == "(":  # type: ignore[union-attr]
                return self.function(tok.text), None
            name = tok.text
            if self.etype.prop(name) is None:
                raise QueryError(f"Property '{name}' not found in type '{self.etype.name}'")
            etype = self.etype
            return (lambda row: coerce(etype, name, row.get(name))), name
        value = _literal(tok)
        return (lambda row: value), None

    def function(self, name: str) -> Predicate:
        self.expect("(")
        args = [self.operand()[0]]
        while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
            self.take()
            args.append(self.operand()[0])
        self.expect(")")

        def text(value: Any) -> str:
            return "" if value is None else str(value)

        if name == "substringof" and len(args) == 2:
            return lambda row: text(args[0](row)) in text(args[1](row))
        if name == "startswith" and len(args) == 2:
            return lambda row: text(args[0](row)).startswith(text(args[1](row)))
        if name == "endswith" and len(args) == 2:
            return lambda row: text(args[0](row)).endswith(text(args[1](row)))
        if name == "tolower" and len(args) == 1:
            return lambda row: text(args[0](row)).lower()
        if name == "toupper" and len(args) == 1:
            return lambda row: text(args[0](row)).upper()
        if name == "trim" and len(args) == 1:
            return lambda row: text(args[0](row)).strip()
        if name == "length" and len(args) == 1:
            return lambda row: Decimal(len(text(args[0](row))))
        raise QueryError(f"Function '{name}' with {len(args)} argument(s) is not supported")


def parse_filter(etype: EntityType, text: str) -> Predicate:
    return _Parser(etype, text).parse()


def parse_orderby(etype: EntityType, text: str) -> list[tuple[str, bool]]:
    """``"A asc,B desc"`` → [(A, False), (B, True)] (name, descending)."""
    order: list[tuple[str, bool]] = []
    for part in text.split(","):
        words = part.split()
        if not words:
            continue
        name = words[0]
        if etype.prop(name) is None:
            raise QueryError(f"Property '{name}' not found in type '{etype.name}'")
        direction = words[1].lower() if len(words) > 1 else "asc"
        if direction not in ("asc", "desc") or len(words) > 2:
            raise QueryError(f"Invalid $orderby item '{part.strip()}'")
        order.append((name, direction == "desc"))
    return order


def sort_rows(etype: EntityType, rows: list[Row], order: list[tuple[str, bool]]) -> list[Row]:
    for name, descending in reversed(order):
        present = [r for r in rows if r.get(name) is not None]
        missing = [r for r in rows if r.get(name) is None]
        present.sort(key=lambda r: coerce(etype, name, r.get(name)), reverse=descending)
        rows = missing + present if not descending else present + missing
    return rows


Tree = dict[str, "Tree"]


def parse_tree(text: str | None) -> Tree:
    """``"to_Item/to_PricingElement,to_Partner"`` → {"to_Item": {"to_PricingElement": {}}, …}."""
    tree: Tree = {}
    for part in (text or "").split(","):
        node = tree
        for segment in (s.strip() for s in part.strip().split("/")):
            if segment:
                node = node.setdefault(segment, {})
    return tree


def parse_key(etype: EntityType, text: str) -> tuple[str, ...]:
    """``'90000001'`` or ``BillingDocument='9',BillingDocumentItem='10'`` → key tuple."""
    text = text.strip()
    if "=" not in text or (text.startswith("'") and text.endswith("'") and text.count("'") == 2):
        if len(etype.keys) != 1:
            raise QueryError(f"Entity type '{etype.name}' has a composite key; name each part")
        return (str(_literal(_key_token(text))),)
    values: dict[str, str] = {}
    for part in _split_key(text):
        name, _, literal = part.partition("=")
        values[name.strip()] = str(_literal(_key_token(literal.strip())))
    if set(values) != set(etype.keys):
        raise QueryError(f"Key of '{etype.name}' is ({', '.join(etype.keys)}), got ({text})")
    return tuple(values[k] for k in etype.keys)


def _key_token(text: str) -> _Tok:
    toks = _tokens(text)
    if len(toks) != 1:
        raise QueryError(f"Invalid key value '{text}'")
    return toks[0]


def _split_key(text: str) -> list[str]:
    parts, current, quoted = [], "", False
    for char in text:
        if char == "'":
            quoted = not quoted
        if char == "," and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts
