"""The mapping file's expression language: field paths, constants and a few safe operations.

A mapping file is configuration an operator writes, yet it is still never ``eval``-ed: an
expression is parsed with :mod:`ast` and only a whitelist of node types is accepted (names and
dotted/indexed field paths, literals, ``+ - * / %``, comparisons, ``and/or/not``, ``x if c
else y``, lists, and calls of the functions in :data:`FUNCTIONS`). Anything else — attribute
access on values, lambdas, comprehensions, keyword arguments, dunder names — is refused when
the mapping is loaded, with the mapping key named.

Numbers are exact: numeric literals are read from their source text as ``Decimal`` (never
through a float), and arithmetic converts numeric strings (CSV cells) to ``Decimal``.
Names may be any identifier Python accepts, Chinese column names included (``单价 * 数量``);
other column names are reachable as ``row["unit price"]``.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

__all__ = ["FUNCTIONS", "Expression", "ExpressionError", "MissingField"]

CENT = Decimal("0.01")


class ExpressionError(ValueError):
    """An expression that is not allowed, or that fails on a value."""


class MissingField(ExpressionError):
    """A field path the document does not have."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"field {path!r} is missing")


def _number(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ExpressionError(f"{value!r} is not a number")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # A float can only come from a JSON source; its shortest repr is the author's text.
        return Decimal(repr(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            raise ExpressionError(f"{value!r} is not a number") from None
    raise ExpressionError(f"{value!r} is not a number")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _round2(value: Any) -> Decimal:
    return _number(value).quantize(CENT, ROUND_HALF_UP)


def _net(gross: Any, rate: Any) -> Decimal:
    """含税 → 不含税 to the cent: round(gross / (1 + rate), 2)."""
    return (_number(gross) / (1 + _number(rate))).quantize(CENT, ROUND_HALF_UP)


def _tax_of_gross(gross: Any, rate: Any) -> Decimal:
    return _round2(gross) - _net(gross, rate)


def _coalesce(*values: Any) -> Any:
    for value in values:
        if value not in (None, ""):
            return value
    return None


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _boolean(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "y", "是", "t"}
    return bool(value)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "decimal": _number,
    "text": _text,
    "int": lambda v: int(_number(v)),
    "bool": _boolean,
    "upper": lambda v: _text(v).upper(),
    "lower": lambda v: _text(v).lower(),
    "strip": lambda v: _text(v).strip(),
    "replace": lambda v, old, new: _text(v).replace(_text(old), _text(new)),
    "concat": lambda *vs: "".join(_text(v) for v in vs),
    "coalesce": _coalesce,
    "empty": _empty,
    "round2": _round2,
    "percent": lambda v: _number(v) / 100,
    "net": _net,
    "tax_of_gross": _tax_of_gross,
    "abs": lambda v: abs(_number(v)),
    "neg": lambda v: -_number(v),
}

_ARITH: dict[type[ast.operator], Callable[[Decimal, Decimal], Decimal]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Mod: operator.mod,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_ALLOWED = (
    ast.Expression,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.Attribute,
    ast.Subscript,
    ast.BinOp,
    ast.UnaryOp,
    ast.USub,
    ast.UAdd,
    ast.Not,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    ast.List,
    ast.Tuple,
    *_ARITH,
    *_COMPARE,
)


@dataclass(frozen=True)
class Expression:
    """A parsed, checked expression; :meth:`evaluate` runs it against one record."""

    source: str
    tree: ast.Expression

    @classmethod
    def parse(cls, source: str) -> Expression:
        try:
            tree = ast.parse(source.strip(), mode="eval")
        except SyntaxError as exc:
            raise ExpressionError(f"syntax error in {source!r}: {exc.msg}") from None
        for node in ast.walk(tree):
            if not isinstance(node, _ALLOWED):
                raise ExpressionError(f"{type(node).__name__} is not allowed in {source!r}")
            if isinstance(node, ast.Name | ast.Attribute):
                name = node.id if isinstance(node, ast.Name) else node.attr
                if name.startswith("_"):
                    raise ExpressionError(f"names starting with '_' are not allowed: {name!r}")
            if isinstance(node, ast.Call):
                if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                    raise ExpressionError(
                        f"unknown function in {source!r}; allowed: {', '.join(sorted(FUNCTIONS))}"
                    )
                if node.keywords:
                    raise ExpressionError(f"keyword arguments are not allowed in {source!r}")
            if isinstance(node, ast.Attribute | ast.Subscript) and not _is_path(node):
                raise ExpressionError(f"attribute access is only allowed on field paths: {source!r}")
        return cls(source=source.strip(), tree=tree)

    def evaluate(self, scope: Sequence[Mapping[str, Any]]) -> Any:
        """Evaluate with names resolved in ``scope`` (first mapping that has the name wins)."""
        return _Evaluator(self.source, scope).run(self.tree.body)

    def fields(self) -> set[str]:
        """The top-level field names the expression reads (for error messages and checks)."""
        names = {n.id for n in ast.walk(self.tree) if isinstance(n, ast.Name)}
        return names - set(FUNCTIONS) - {"row"}


def _is_path(node: ast.expr) -> bool:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return isinstance(node, ast.Name)


class _Evaluator:
    def __init__(self, source: str, scope: Sequence[Mapping[str, Any]]) -> None:
        self.source = source
        self.scope = scope

    def run(self, node: ast.expr) -> Any:
        if isinstance(node, ast.Constant):
            return self._constant(node)
        if isinstance(node, ast.Name | ast.Attribute | ast.Subscript):
            return self._path(node)
        if isinstance(node, ast.BinOp):
            left, right = self.run(node.left), self.run(node.right)
            # "+" joins text unless both sides read as numbers (CSV cells are text).
            texts = isinstance(left, str) or isinstance(right, str)
            if isinstance(node.op, ast.Add) and texts and not (_numeric(left) and _numeric(right)):
                return _text(left) + _text(right)
            try:
                return _ARITH[type(node.op)](_number(left), _number(right))
            except (InvalidOperation, ZeroDivisionError) as exc:
                raise ExpressionError(f"{self.source!r}: {type(exc).__name__}") from None
        if isinstance(node, ast.UnaryOp):
            value = self.run(node.operand)
            if isinstance(node.op, ast.Not):
                return not _truthy(value)
            return -_number(value) if isinstance(node.op, ast.USub) else _number(value)
        if isinstance(node, ast.BoolOp):
            if isinstance(node.op, ast.And):
                result: Any = True
                for value_node in node.values:
                    result = self.run(value_node)
                    if not _truthy(result):
                        return result
                return result
            result = None
            for value_node in node.values:
                result = self.run(value_node)
                if _truthy(result):
                    return result
            return result
        if isinstance(node, ast.Compare):
            left = self.run(node.left)
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                right = self.run(comparator)
                if not _COMPARE[type(op)](*_comparable(left, right, op)):
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            return self.run(node.body) if _truthy(self.run(node.test)) else self.run(node.orelse)
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name)  # checked at parse time
            args = [self.run(a) for a in node.args]
            try:
                return FUNCTIONS[node.func.id](*args)
            except ExpressionError:
                raise
            except (TypeError, ValueError, ArithmeticError) as exc:
                raise ExpressionError(f"{node.func.id}() in {self.source!r}: {exc}") from None
        if isinstance(node, ast.List | ast.Tuple):
            return [self.run(e) for e in node.elts]
        raise ExpressionError(f"cannot evaluate {type(node).__name__}")  # pragma: no cover

    def _constant(self, node: ast.Constant) -> Any:
        value = node.value
        if isinstance(value, float):
            text = ast.get_source_segment(self.source, node)
            return Decimal(text) if text else Decimal(repr(value))
        return value

    def _path(self, node: ast.expr) -> Any:
        parts: list[str | int] = []
        while isinstance(node, ast.Attribute | ast.Subscript):
            if isinstance(node, ast.Attribute):
                parts.append(node.attr)
            else:
                key = self.run(node.slice)
                parts.append(int(key) if isinstance(key, Decimal) else key)
            node = node.value
        assert isinstance(node, ast.Name)
        parts.append(node.id)
        parts.reverse()
        if parts[0] == "row" and len(parts) > 1:
            parts = parts[1:]
        head = str(parts[0])
        dotted = ".".join(str(p) for p in parts)
        for frame in self.scope:
            if head in frame:
                value: Any = frame[head]
                break
        else:
            raise MissingField(dotted)
        for part in parts[1:]:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                raise MissingField(dotted) from None
        return value


def _numeric(value: Any) -> bool:
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return True
    if isinstance(value, str):
        try:
            Decimal(value.strip())
        except InvalidOperation:
            return False
        return bool(value.strip())
    return False


def _comparable(left: Any, right: Any, op: ast.cmpop) -> tuple[Any, Any]:
    """Compare numbers as numbers even when one side is a CSV string."""
    if isinstance(op, ast.In | ast.NotIn):
        return left, right
    if (isinstance(left, Decimal | int) or isinstance(right, Decimal | int)) and _numeric(left) and _numeric(right):
        return _number(left), _number(right)
    if left is None or right is None:
        if isinstance(op, ast.Eq | ast.NotEq):
            return left, right
        raise ExpressionError("cannot order a missing value")
    return left, right


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return bool(value)
