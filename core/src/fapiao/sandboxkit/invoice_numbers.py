"""20-digit 数电票 numbers, following the published structure.

The 全面数字化电子发票 number has 20 digits (国家税务总局 公告 and its 解读): digits 1–2 are
the last two digits of the year of issue, digits 3–4 the administrative-division code of
the province-level tax authority (省、自治区、直辖市和计划单列市), digit 5 the issuing
channel, digits 6–20 a sequence. We take the province from the seller's tax ID: in a USCC
(GB 32100) characters 3–8 are the registering authority's administrative-division code, so
characters 3–4 are the province; a legacy 15-digit ID starts with the division code. The 计划
单列市 (Dalian, Ningbo, Xiamen, Qingdao, Shenzhen) have their own tax bureaus but no
two-digit code of their own in a tax ID, so they get their province's code here.
Sequences start at a random offset per generator, so two sandboxes in one process (or one
restarted) don't hand out the same numbers, and then count up.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "PROVINCE_CODES",
    "InvoiceNumberGenerator",
    "InvoiceNumberParts",
    "is_invoice_number",
    "parse_invoice_number",
    "province_of_tax_id",
]

PROVINCE_CODES: frozenset[str] = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)
_NUMBER_RE = re.compile(r"^\d{20}$")
_SEQUENCE_SPACE = 10**15


@dataclass(frozen=True, slots=True)
class InvoiceNumberParts:
    year: str  # two digits
    province: str
    channel: str
    sequence: str  # fifteen digits


def is_invoice_number(value: str) -> bool:
    """20 digits with a known province code."""
    return bool(_NUMBER_RE.match(value)) and value[2:4] in PROVINCE_CODES


def parse_invoice_number(value: str) -> InvoiceNumberParts:
    if not is_invoice_number(value):
        raise ValueError(f"not a 20-digit 数电票 number with a province code: {value!r}")
    return InvoiceNumberParts(value[:2], value[2:4], value[4], value[5:])


def province_of_tax_id(tax_id: str | None) -> str | None:
    """The province code a seller's tax ID was registered under, when it shows one."""
    if not tax_id:
        return None
    tax_id = tax_id.strip().upper()
    candidate = tax_id[2:4] if len(tax_id) == 18 else tax_id[:2]
    return candidate if candidate in PROVINCE_CODES else None


class InvoiceNumberGenerator:
    """Thread-safe source of unique 数电票 numbers for one sandbox instance."""

    def __init__(
        self,
        *,
        channel: str = "0",
        default_province: str = "11",
        start: int | None = None,
        clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        if not (len(channel) == 1 and channel.isdigit()):
            raise ValueError("channel must be one digit")
        if default_province not in PROVINCE_CODES:
            raise ValueError(f"unknown province code {default_province!r}")
        self.channel = channel
        self.default_province = default_province
        self.clock = clock
        self._next = (
            start if start is not None else secrets.randbelow(_SEQUENCE_SPACE // 1000) * 100
        )
        self._lock = threading.Lock()
        self._issued = 0

    def next(self, seller_tax_id: str | None = None, *, when: datetime | None = None) -> str:
        """A new number for an invoice of ``seller_tax_id`` issued at ``when`` (default now)."""
        province = province_of_tax_id(seller_tax_id) or self.default_province
        year = (when or self.clock()).year % 100
        with self._lock:
            sequence = self._next % _SEQUENCE_SPACE
            self._next += 1
            self._issued += 1
        return f"{year:02d}{province}{self.channel}{sequence:015d}"

    @property
    def issued(self) -> int:
        return self._issued
