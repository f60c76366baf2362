"""The resume position of an incremental pull: (LastChangeDateTime, BillingDocument).

A timestamp alone is not a position: many documents change in the same millisecond (a billing
run), so a page boundary inside such a group would lose or repeat documents. The pair is a
strict total order, and the next page is asked for with a keyset filter
``LastChangeDateTime gt T or (LastChangeDateTime eq T and BillingDocument gt 'D')``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from fapiao.sdk import ConfigError
from fapiao_erp_sap.odata import format_datetimeoffset_literal, string_literal

__all__ = ["BillingCursor"]


@dataclass(frozen=True, order=True)
class BillingCursor:
    changed: datetime
    document: str = ""

    def __str__(self) -> str:
        stamp = self.changed.astimezone(UTC).isoformat(timespec="milliseconds")
        return f"{stamp.replace('+00:00', 'Z')}|{self.document}"

    @classmethod
    def parse(cls, text: str | None) -> BillingCursor | None:
        """``2024-05-01T08:00:00.123Z|90000001``, or a bare ISO datetime or date (``--since``)."""
        if text is None or not text.strip():
            return None
        stamp, _, document = text.strip().partition("|")
        try:
            if "T" in stamp or " " in stamp:
                changed = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
            else:
                day = date.fromisoformat(stamp)
                changed = datetime(day.year, day.month, day.day)
        except ValueError:
            raise ConfigError(
                f"SAP cursor {text!r} is not 'ISO-datetime|BillingDocument' nor an ISO date",
                message_zh=f"SAP 游标 {text!r} 格式无效，应为“ISO 时间|开票凭证号”或 ISO 日期",
            ) from None
        if changed.tzinfo is None:
            changed = changed.replace(tzinfo=UTC)
        return cls(changed.astimezone(UTC), document.strip())

    def filter(self) -> str:
        stamp = format_datetimeoffset_literal(self.changed)
        return (
            f"(LastChangeDateTime gt {stamp} or (LastChangeDateTime eq {stamp}"
            f" and BillingDocument gt {string_literal(self.document)}))"
        )
