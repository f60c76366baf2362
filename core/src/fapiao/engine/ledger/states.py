"""The life cycle of an invoice request (docs/architecture.md §3) as data, so every writer obeys one machine.

Two kinds of change reach a record, and they need different rules:

* **Explicit transitions** come from our own decisions (the client submitted the request, a
  red-letter form was raised). They must follow :data:`TRANSITIONS` exactly; anything else is
  a bug or a race and is refused with :class:`fapiao.errors.InvalidStateTransition`. A
  transition to the *same* non-final state is allowed: it records an event and updates fields
  (a retry, an error note) without pretending the state changed.
* **Status reports** come from providers (callbacks, polls, reconciliation). They may arrive
  twice, late or out of order, so they are judged by :func:`decide_status`: only a report that
  moves the record *forward* is applied; an older or equal one is a harmless no-op.

"Forward" is :data:`RANK`. The red-reversal loop (``partially_reversed → red_requested``) and
the lapsed-form return (``red_requested → issued``) go down in rank on purpose: they are
decisions of ours, never inferred from a report.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from enum import StrEnum

from fapiao.errors import InvalidStateTransition
from fapiao.masking import mask_tax_id
from fapiao.models import InvoiceState

__all__ = [
    "HAS_INVOICE_STATES",
    "RANK",
    "RED_WORKFLOW_STATES",
    "RESERVABLE_STATES",
    "REVERSIBLE_STATES",
    "SENT_UNSETTLED_STATES",
    "TRANSITIONS",
    "UNSENT_STATES",
    "UNSETTLED_STATES",
    "StatusDecision",
    "can_transition",
    "check_transition",
    "decide_status",
    "next_states",
]

S = InvoiceState

TRANSITIONS: Mapping[InvoiceState, frozenset[InvoiceState]] = {
    S.RECEIVED: frozenset({S.VALIDATED, S.FAILED}),
    S.VALIDATED: frozenset({S.SUBMITTED, S.FAILED}),
    # issuing is the asynchronous vendors' waiting room; synchronous ones answer at once
    S.SUBMITTED: frozenset({S.ISSUING, S.ISSUED, S.FAILED}),
    S.ISSUING: frozenset({S.ISSUED, S.FAILED}),
    S.ISSUED: frozenset({S.RED_REQUESTED, S.CANCELLED}),
    # a rejected, revoked or lapsed 红字确认单 gives the blue invoice back the state it had:
    # issued, or partially reversed when an earlier partial reversal went through
    S.RED_REQUESTED: frozenset({S.RED_CONFIRMED, S.ISSUED, S.PARTIALLY_REVERSED}),
    S.RED_CONFIRMED: frozenset({S.PARTIALLY_REVERSED, S.REVERSED}),
    # what is left of a partially reversed invoice may be reversed again
    S.PARTIALLY_REVERSED: frozenset({S.RED_REQUESTED}),
    S.FAILED: frozenset(),
    S.REVERSED: frozenset(),
    S.CANCELLED: frozenset(),
}
"""Allowed explicit transitions (a state to itself is handled by :func:`can_transition`)."""

RANK: Mapping[InvoiceState, int] = {
    S.RECEIVED: 0,
    S.VALIDATED: 10,
    S.SUBMITTED: 20,
    S.ISSUING: 30,
    S.ISSUED: 40,
    S.FAILED: 40,
    S.RED_REQUESTED: 50,
    S.RED_CONFIRMED: 60,
    S.PARTIALLY_REVERSED: 70,
    S.REVERSED: 80,
    S.CANCELLED: 80,
}
"""How far along a record is. Equal ranks are alternatives (issued/failed, reversed/cancelled):
a report of one never replaces the other."""

RESERVABLE_STATES = frozenset({S.RECEIVED, S.VALIDATED, S.SUBMITTED})
"""States a record may be created in: nothing has been issued yet."""

UNSENT_STATES = frozenset({S.RECEIVED, S.VALIDATED})
"""Recorded and provably never sent (``submitted`` is committed before any send)."""

SENT_UNSETTLED_STATES = frozenset({S.SUBMITTED, S.ISSUING})
"""Sent (or possibly sent) without a final answer: settled by asking the provider."""

RED_WORKFLOW_STATES = frozenset({S.RED_REQUESTED, S.RED_CONFIRMED})
"""A blue invoice whose 红字确认单 is in flight. A provider's report of one of these states
concerns the form, never a red request's own state."""

UNSETTLED_STATES = UNSENT_STATES | SENT_UNSETTLED_STATES | RED_WORKFLOW_STATES
"""Records whose outcome is still open: never sent, sent without a final answer, or a red
form in flight. ``issued`` and ``partially_reversed`` are settled (though not final)."""

HAS_INVOICE_STATES = frozenset(
    {S.ISSUED, S.RED_REQUESTED, S.RED_CONFIRMED, S.PARTIALLY_REVERSED, S.REVERSED}
)
"""States in which an invoice number exists and documents can be fetched."""

REVERSIBLE_STATES = frozenset({S.ISSUED, S.PARTIALLY_REVERSED})
"""A blue invoice that a new red reversal may start on (one reversal at a time)."""


def next_states(state: InvoiceState) -> frozenset[InvoiceState]:
    """States an explicit transition may lead to from ``state`` (itself included if not final)."""
    allowed = TRANSITIONS[state]
    return allowed if state.is_final else allowed | {state}


def can_transition(src: InvoiceState, dst: InvoiceState) -> bool:
    return dst in next_states(src)


def check_transition(
    src: InvoiceState,
    dst: InvoiceState,
    *,
    seller_tax_id: str | None = None,
    order_id: str | None = None,
) -> None:
    """Refuse an explicit transition the machine does not allow, saying what would be."""
    if can_transition(src, dst):
        return
    allowed = sorted(next_states(src), key=lambda s: RANK[s])
    who_en = who_zh = ""
    if order_id is not None:
        seller = f"{mask_tax_id(seller_tax_id)}/" if seller_tax_id else ""
        who_en = f" for order {seller}{order_id}"
        who_zh = f"（订单 {seller}{order_id}）"
    options = ", ".join(s.value for s in allowed) or "none (final state)"
    options_zh = "、".join(s.value for s in allowed) or "无（终态）"
    raise InvalidStateTransition(
        f"state transition not allowed{who_en}: {src.value} → {dst.value}; "
        f"allowed from {src.value}: {options}",
        message_zh=f"状态转换不允许{who_zh}：{src.value} → {dst.value}；"
        f"{src.value} 之后只能是：{options_zh}",
        field="state",
    )


class StatusDecision(StrEnum):
    """What to do with a provider's status report, given the record's current state."""

    APPLY = "apply"  # newer: move the record forward
    SAME = "same"  # already there: at most fill in fields the ledger lacks
    STALE = "stale"  # older than what the ledger knows: ignore silently
    HELD = "held"  # a red-reversal workflow owns the record: partial progress is not inferred
    CONFLICT = "conflict"  # incompatible with the record (issued vs failed): keep, but note it


def _reachable(src: InvoiceState, dst: InvoiceState) -> bool:
    seen = {src}
    todo = deque([src])
    while todo:
        state = todo.popleft()
        for nxt in TRANSITIONS[state]:
            if nxt == dst:
                return True
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def decide_status(current: InvoiceState, reported: InvoiceState) -> StatusDecision:
    """Judge a report so that duplicates and late arrivals never move a record backwards.

    While a 红字确认单 is in flight (``red_requested``/``red_confirmed``) a report of
    ``partially_reversed`` is ambiguous: it may describe an earlier partial reversal of the
    same invoice. The red workflow settles those records with explicit transitions, so such a
    report is held; a final report (``reversed``, ``cancelled``) still applies.
    """
    if reported == current:
        return StatusDecision.SAME
    if RANK[reported] < RANK[current]:
        return StatusDecision.STALE
    if RANK[reported] == RANK[current] or not _reachable(current, reported):
        return StatusDecision.CONFLICT
    if current in RED_WORKFLOW_STATES and not reported.is_final:
        return StatusDecision.HELD
    return StatusDecision.APPLY
