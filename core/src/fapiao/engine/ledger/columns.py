"""Column types that keep money exact and instants unambiguous on every supported database.

SQLite has no decimal type: a ``NUMERIC`` column there silently becomes a binary float, which
is exactly the rounding the project forbids. So amounts are stored as canonical decimal
strings on SQLite and as unconstrained ``NUMERIC`` on PostgreSQL (where SQL can sum them);
both read back as the very same ``Decimal``. Floats are refused on the way in.

Instants are stored in UTC. A naive datetime is read as China Standard Time (UTC+8): every
数电票 timestamp a provider prints is Beijing time, so that is what a plugin forgetting the
zone most likely meant.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Integer, Numeric, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

from fapiao.models import to_decimal

__all__ = ["CHINA_TZ", "ExactDecimal", "IdType", "JsonType", "UTCDateTime", "to_utc"]

CHINA_TZ = timezone(timedelta(hours=8), "CST")

IdType = BigInteger().with_variant(Integer(), "sqlite")
"""64-bit ids; SQLite only auto-increments a column declared exactly ``INTEGER``."""

JsonType = JSON().with_variant(JSONB(), "postgresql")


def to_utc(value: datetime) -> datetime:
    """An aware UTC datetime; naive input is read as Beijing time (see the module docstring)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=CHINA_TZ)
    return value.astimezone(UTC)


class ExactDecimal(TypeDecorator[Decimal]):
    """A ``Decimal`` that survives the round trip digit for digit (``1.10`` stays ``1.10``)."""

    impl = String(64)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(asdecimal=True))
        return dialect.type_descriptor(String(64))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        number = to_decimal(value)
        return number if dialect.name == "postgresql" else format(number, "f")

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(value)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime in UTC (SQLite stores it naive; it is re-zoned on the way out)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        value = to_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
