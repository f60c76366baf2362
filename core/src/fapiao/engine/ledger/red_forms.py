"""红字确认单 (red-letter confirmation forms) raised against blue requests, and what they reverse.

The rule "the sum of red amounts never exceeds what remains of the blue invoice, per line and
in total" (docs/domain-rules.md) needs, per blue line, what has been reversed so far: each form keeps the
amount it reverses per blue line index, and :func:`reversed_amounts` sums them.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import RowMapping, select, update
from sqlalchemy.engine import Connection

from fapiao.engine.ledger import schema as t
from fapiao.engine.ledger.records import RedConfirmationRecord, RequestKey
from fapiao.engine.ledger.statements import KEY, key_params, now, request_id
from fapiao.models import RedConfirmation, RedConfirmationState

__all__ = ["red_confirmations", "reversed_amounts", "save_red_confirmation"]

F = RedConfirmationState

# ordered so that a late report never downgrades a form
_FORM_RANK = {
    F.PENDING: 0,
    F.CONFIRMED: 1,
    F.REJECTED: 2,
    F.LAPSED: 2,
    F.REVOKED: 2,
    F.RED_ISSUED: 3,
}
_COUNTED = frozenset({F.PENDING, F.CONFIRMED, F.RED_ISSUED})

_SELECT_FORMS = (
    select(t.red_confirmations)
    .join(t.requests, t.requests.c.id == t.red_confirmations.c.request_id)
    .where(KEY)
    .order_by(t.red_confirmations.c.id)
)


def _form(key: RequestKey, m: RowMapping) -> RedConfirmationRecord:
    return RedConfirmationRecord(
        original=key,
        provider=m["provider"],
        confirmation_id=m["confirmation_id"],
        confirmation_number=m["confirmation_number"],
        red_order_id=m["red_order_id"],
        state=F(m["state"]),
        reason=m["reason"],
        amount=m["amount"],
        tax=m["tax"],
        line_amounts={int(k): Decimal(v) for k, v in m["line_amounts"].items()},
        requires_confirmation=m["requires_confirmation"],
        expires_at=m["expires_at"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )


def _select_one(connection: Connection, blue_id: int, confirmation_id: str) -> RowMapping | None:
    table = t.red_confirmations
    row = connection.execute(
        select(table).where(
            table.c.request_id == blue_id, table.c.confirmation_id == confirmation_id
        )
    ).first()
    return row._mapping if row is not None else None


def save_red_confirmation(
    connection: Connection,
    original: RequestKey,
    confirmation: RedConfirmation,
    *,
    line_amounts: Mapping[int, Decimal],
    red_order_id: str,
) -> RedConfirmationRecord:
    """Insert or update a form; its state only ever moves forward (see ``_FORM_RANK``), and
    a report lacking the form number or expiry keeps the ones already known."""
    blue_id = request_id(connection, original)
    table = t.red_confirmations
    existing = _select_one(connection, blue_id, confirmation.confirmation_id)
    at = now()
    values: dict[str, Any] = {
        "provider": confirmation.provider,
        "confirmation_number": confirmation.confirmation_number,
        "red_order_id": red_order_id,
        "state": confirmation.state.value,
        "reason": confirmation.reason.value,
        "amount": confirmation.amount,
        "tax": confirmation.tax,
        "line_amounts": {str(i): format(a, "f") for i, a in sorted(line_amounts.items())},
        "requires_confirmation": confirmation.requires_confirmation,
        "expires_at": confirmation.expires_at,
        "updated_at": at,
    }
    if existing is None:
        values.update(
            request_id=blue_id,
            confirmation_id=confirmation.confirmation_id,
            created_at=confirmation.created_at or at,
        )
        connection.execute(table.insert().values(**values))
    else:
        current = F(existing["state"])
        new = confirmation.state
        if _FORM_RANK[new] < _FORM_RANK[current] or (
            _FORM_RANK[new] == _FORM_RANK[current] and new != current
        ):
            values["state"] = current.value  # late or conflicting report: keep what we know
        for name in ("confirmation_number", "expires_at"):
            if values[name] is None:
                values[name] = existing[name]
        connection.execute(update(table).where(table.c.id == existing["id"]).values(**values))
    saved = _select_one(connection, blue_id, confirmation.confirmation_id)
    assert saved is not None
    return _form(original, saved)


def red_confirmations(connection: Connection, key: RequestKey) -> list[RedConfirmationRecord]:
    rows = connection.execute(_SELECT_FORMS, key_params(key))
    return [_form(key, row._mapping) for row in rows]


def reversed_amounts(
    connection: Connection, key: RequestKey, *, include_pending: bool
) -> dict[int, Decimal]:
    """Per blue line, what red forms have reversed (or, while pending, have claimed) so far.

    Pending forms count by default: two partial reversals raised together must not both
    pass the "not above what remains" rule against the same remainder. Rejected, lapsed and
    revoked forms reverse nothing.
    """
    counted = _COUNTED if include_pending else _COUNTED - {F.PENDING}
    totals: dict[int, Decimal] = {}
    for form in red_confirmations(connection, key):
        if form.state in counted:
            for line, amount in form.line_amounts.items():
                totals[line] = totals.get(line, Decimal(0)) + amount
    return totals
