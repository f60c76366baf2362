"""Taxpayer identification numbers: the unified social credit code (GB 32100-2015) and the
older forms that still circulate.

A wrong check character is the commonest typo a provider rejects after a network round trip;
checking it here turns that into an immediate, precise error naming the field.
"""

from __future__ import annotations

import re

from fapiao.errors import ValidationIssue
from fapiao.rules.issues import INVALID_TAX_ID, LEGACY_TAX_ID, MISSING_TAX_ID, issue

__all__ = [
    "USCC_ALPHABET",
    "USCC_WEIGHTS",
    "check_tax_id",
    "is_legacy_tax_id",
    "is_valid_resident_id",
    "is_valid_uscc",
    "uscc_check_char",
]

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""The 31 code characters of GB 32100 (no I, O, Z, S, V), in value order 0..30."""

USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
"""Weights of positions 1..17: 3^(i-1) mod 31 (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, ...)."""

_VALUE = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
_LEGACY_RE = re.compile(r"[0-9A-Z]{15}|[0-9A-Z]{17}|[0-9A-Z]{20}")
_RESIDENT_RE = re.compile(r"\d{17}[\dX]")
_RESIDENT_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_RESIDENT_CHECK = "10X98765432"


def uscc_check_char(first17: str) -> str:
    """The 18th character for the first 17 of a USCC (GB 32100-2015 §4.2, C18 = 31 − Σ mod 31)."""
    if len(first17) != 17:
        raise ValueError(f"expected 17 characters, got {len(first17)}")
    try:
        total = sum(_VALUE[ch] * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    except KeyError as exc:
        raise ValueError(f"character {exc.args[0]!r} is not a USCC code character") from None
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(value: str) -> bool:
    """True for an 18-character USCC whose characters and check character are right."""
    if len(value) != 18 or any(ch not in _VALUE for ch in value):
        return False
    return uscc_check_char(value[:17]) == value[17]


def is_legacy_tax_id(value: str) -> bool:
    """15 (old 税务登记证号), 17 or 20 (ID card + 2) characters of digits and capitals."""
    return _LEGACY_RE.fullmatch(value) is not None


def is_valid_resident_id(value: str) -> bool:
    """An 18-character 居民身份证号码 (GB 11643-1999, ISO 7064 MOD 11-2 check character).

    A natural person's taxpayer number is their ID number, so a natural-person buyer may
    carry one instead of a USCC.
    """
    if _RESIDENT_RE.fullmatch(value) is None:
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _RESIDENT_WEIGHTS, strict=True))
    return _RESIDENT_CHECK[total % 11] == value[17]


def _describe_uscc_problem(value: str) -> tuple[str, str]:
    bad = sorted({ch for ch in value if ch not in _VALUE})
    if bad:
        shown = "".join(bad)
        if any(ch.islower() for ch in bad):
            return (
                f"含非法字符“{shown}”（字母须大写）",
                f"contains characters not allowed in a USCC: {shown!r} (letters must be upper case)",
            )
        return (
            f"含非法字符“{shown}”（统一社会信用代码不使用 I、O、Z、S、V）",
            f"contains characters not allowed in a USCC: {shown!r} (I, O, Z, S, V are never used)",
        )
    expected = uscc_check_char(value[:17])
    return (
        f"校验码错误：第 18 位应为“{expected}”，实为“{value[17]}”",
        f"wrong check character: the 18th character should be {expected!r}, not {value[17]!r}",
    )


def check_tax_id(
    value: str | None, path: str, *, required: bool, natural_person: bool = False
) -> list[ValidationIssue]:
    """Every problem with one taxpayer ID, as issues at ``path``.

    An 18-character value must be a valid USCC (or, for a natural person, a valid resident
    ID number); a 15, 17 or 20-character value of the legacy charset is accepted with a
    ``LEGACY_TAX_ID`` warning because old registrations still appear on real invoices.
    """
    if value is None or value == "":
        if not required:
            return []
        return [
            issue(
                MISSING_TAX_ID,
                path,
                "缺少纳税人识别号",
                "taxpayer ID is required",
                expected="18-character unified social credit code",
            )
        ]
    expected = "18-character USCC (GB 32100-2015)"
    if len(value) == 18:
        if is_valid_uscc(value):
            return []
        if natural_person and is_valid_resident_id(value):
            return []
        zh, en = _describe_uscc_problem(value)
        return [
            issue(
                INVALID_TAX_ID,
                path,
                f"纳税人识别号无效：{zh}",
                f"invalid taxpayer ID: {en}",
                expected=expected,
            )
        ]
    if is_legacy_tax_id(value):
        return [
            issue(
                LEGACY_TAX_ID,
                path,
                f"{len(value)} 位旧版纳税人识别号，已按长度与字符集接受，建议改用统一社会信用代码",
                f"legacy {len(value)}-character taxpayer ID accepted by length and charset; "
                "prefer the 18-character USCC",
                expected=expected,
                warning=True,
            )
        ]
    if len(value) in (15, 17, 20):
        bad = "".join(sorted({ch for ch in value if not ("0" <= ch <= "9" or "A" <= ch <= "Z")}))
        return [
            issue(
                INVALID_TAX_ID,
                path,
                f"纳税人识别号无效：含非法字符“{bad}”（只能是数字和大写字母）",
                f"invalid taxpayer ID: characters {bad!r} are not allowed (digits and upper-case "
                "letters only)",
                expected=expected,
            )
        ]
    return [
        issue(
            INVALID_TAX_ID,
            path,
            f"纳税人识别号无效：长度为 {len(value)} 位，应为 18 位（旧版 15、17 或 20 位）",
            f"invalid taxpayer ID: {len(value)} characters long; expected 18 "
            "(legacy IDs: 15, 17 or 20)",
            expected=expected,
        )
    ]
