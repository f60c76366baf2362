"""Bounds on everything a remote party can send, in one place.

Why bounds at all: a request, a batch row or a callback body is untrusted. Without limits a
1 KB request could carry a quantity like ``1e-9999999`` (a 10 MB number once written out),
a ``provider_extra`` nested 900 deep (which later breaks serialisation), or a 5,000-digit
integer (which Python refuses to convert) — each an unhandled exception instead of a clear
refusal, or an unbounded amount of ledger and CPU. Each limit here is far above anything a
real 数电 invoice needs, is checked while parsing, and is refused with a bilingual issue that
names the field (docs/config.md lists them).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "MAX_DECIMAL_CHARS",
    "MAX_DECIMAL_PLACES",
    "MAX_EXTRA_BYTES",
    "MAX_INTEGER_DIGITS",
    "MAX_JSON_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_LINES",
    "MAX_MAGNITUDE_DIGITS",
    "holds_nul",
    "nesting_depth",
]

MAX_JSON_BYTES: Final = 4 * 1024 * 1024
"""One invoice's JSON text (a 2,000-line invoice is about 600 KB)."""

MAX_JSON_DEPTH: Final = 32
"""Nesting of objects and arrays in one invoice, ``provider_extra`` included (the canonical
model itself is 3 deep)."""

MAX_EXTRA_BYTES: Final = 64 * 1024
"""``provider_extra`` written as JSON: vendor-only fields, not a second payload."""

MAX_LINES: Final = 2000
"""Lines of one invoice (a provider may declare fewer: ``Capabilities.max_lines_per_invoice``)."""

MAX_DECIMAL_CHARS: Final = 40
"""Characters of one number written as a string (``"12345678.12345678"`` is 17)."""

MAX_INTEGER_DIGITS: Final = 30
"""Digits of one JSON integer."""

MAX_MAGNITUDE_DIGITS: Final = 50
"""Digits before the decimal point of any amount, quantity, price or rate that the models
accept: the bound that keeps every number computable (``1E+999999999`` overflows the
arithmetic). What an *invoice* may carry is smaller and is the rules' to say
(``AMOUNT_TOO_LARGE`` above 9,999,999,999,999.99, the largest amount in words)."""

MAX_DECIMAL_PLACES: Final = 20
"""Digits after the decimal point (unit prices and quantities commonly carry 8)."""


def nesting_depth(value: object, *, stop_at: int = MAX_JSON_DEPTH + 1) -> int:
    """How deeply objects and arrays nest in ``value`` (a scalar is 0), counted without
    recursion and without looking deeper than ``stop_at`` (the answer is then ``stop_at``)."""
    deepest = 0
    todo: list[tuple[object, int]] = [(value, 0)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list | tuple):
            children = list(item)
        else:
            continue
        depth += 1
        if depth >= stop_at:
            return stop_at
        deepest = max(deepest, depth)
        todo.extend((child, depth) for child in children)
    return deepest


def holds_nul(value: object) -> bool:
    """Whether any string in ``value`` (keys included) holds a NUL character, which a
    PostgreSQL ledger cannot store (text and JSONB alike)."""
    todo: list[object] = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            todo.extend(item.keys())
            todo.extend(item.values())
        elif isinstance(item, list | tuple):
            todo.extend(item)
    return False
