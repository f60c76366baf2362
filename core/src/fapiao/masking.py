"""Masking of secrets and personal data before anything is logged, stored or reported.

Known secrets (from plugin settings and the secrets store) are replaced wherever they occur;
values of secret-looking keys (``token``, ``secret``, ``password``, signatures) are replaced in
JSON, query strings and headers; tax IDs and phone numbers are partially masked so a person
can still tell records apart. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["SECRET_KEY_PATTERN", "Scrubber", "mask_phone", "mask_tax_id", "mask_text"]

_TAX_ID_CHARS = "0-9A-HJ-NPQRTUWXY"
# USCC (18) and legacy 15/17/20-character IDs; not preceded/followed by an ID character, so
# a 20-digit 数电 invoice number (all digits, no letter) is only masked if it is an ID.
_USCC_RE = re.compile(rf"(?<![{_TAX_ID_CHARS}])[{_TAX_ID_CHARS}]{{18}}(?![{_TAX_ID_CHARS}])")
_LEGACY_RE = re.compile(
    rf"(?<![{_TAX_ID_CHARS}])(?=[{_TAX_ID_CHARS}]*[A-Z])[{_TAX_ID_CHARS}]{{15}}(?:[{_TAX_ID_CHARS}]{{2}}|[{_TAX_ID_CHARS}]{{5}})?(?![{_TAX_ID_CHARS}])"
)
_MOBILE_RE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)")
_LANDLINE_RE = re.compile(r"(?<!\d)0\d{2,3}-\d{7,8}(?!\d)")

SECRET_KEY_PATTERN = (
    r"(?:[A-Za-z_-]*(?:secret|password|passwd|token|sign(?:ature)?|private[_-]?key|api[_-]?key|"
    r"authorization|credential)[A-Za-z_-]*)"
)
_JSON_SECRET_RE = re.compile(rf'("{SECRET_KEY_PATTERN}"\s*:\s*)"((?:[^"\\]|\\.)*)"', re.I)
_KV_SECRET_RE = re.compile(rf"(\b{SECRET_KEY_PATTERN}=)([^&\s\"']+)", re.I)
_HEADER_SECRET_RE = re.compile(rf"(^|\n)(\s*{SECRET_KEY_PATTERN}\s*:\s*)([^\n]+)", re.I)
_BEARER_RE = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.I)

MASK = "***"


def mask_tax_id(tax_id: str) -> str:
    """``91310000MA1FL8XQ30`` → ``9131**********XQ30``-style: first 4 and last 4 kept."""
    if len(tax_id) <= 8:
        return "*" * len(tax_id)
    return tax_id[:4] + "*" * (len(tax_id) - 8) + tax_id[-4:]


def mask_phone(phone: str) -> str:
    """``13812345678`` → ``138****5678``."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 7:
        return "*" * len(phone)
    return phone[: len(phone) - 8] + "****" + phone[-4:]


def mask_text(text: str) -> str:
    """Mask every tax ID and phone number found in free text."""
    text = _USCC_RE.sub(lambda m: mask_tax_id(m.group(0)), text)
    text = _LEGACY_RE.sub(lambda m: mask_tax_id(m.group(0)), text)
    text = _MOBILE_RE.sub(lambda m: mask_phone(m.group(0)), text)
    return _LANDLINE_RE.sub(lambda m: mask_phone(m.group(0)), text)


class Scrubber:
    """Removes known secrets and secret-looking values, then masks personal data."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        for secret in secrets:
            if secret and len(secret) >= 4 and secret not in self._secrets:
                self._secrets.append(secret)
        self._secrets.sort(key=len, reverse=True)  # longest first: no partial leftovers

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        text = _JSON_SECRET_RE.sub(lambda m: f'{m.group(1)}"{MASK}"', text)
        text = _KV_SECRET_RE.sub(lambda m: m.group(1) + MASK, text)
        text = _HEADER_SECRET_RE.sub(lambda m: m.group(1) + m.group(2) + MASK, text)
        text = _BEARER_RE.sub(lambda m: m.group(1) + MASK, text)
        return mask_text(text)
