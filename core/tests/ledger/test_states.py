"""The state machine (docs/architecture.md §3): explicit transitions and monotonic status reports."""

from __future__ import annotations

import itertools

import pytest

from fapiao.engine.ledger.states import (
    RANK,
    TRANSITIONS,
    StatusDecision,
    can_transition,
    check_transition,
    decide_status,
)
from fapiao.errors import InvalidStateTransition
from fapiao.models import InvoiceState

S = InvoiceState

# The specification, written out independently of the module under test.
SPEC = {
    (S.RECEIVED, S.VALIDATED),
    (S.VALIDATED, S.SUBMITTED),
    (S.SUBMITTED, S.ISSUING),
    (S.ISSUING, S.ISSUED),
    (S.ISSUING, S.FAILED),
    (S.SUBMITTED, S.ISSUED),
    (S.SUBMITTED, S.FAILED),
    (S.RECEIVED, S.FAILED),
    (S.VALIDATED, S.FAILED),
    (S.ISSUED, S.RED_REQUESTED),
    (S.RED_REQUESTED, S.RED_CONFIRMED),
    (S.RED_CONFIRMED, S.PARTIALLY_REVERSED),
    (S.RED_CONFIRMED, S.REVERSED),
    (S.PARTIALLY_REVERSED, S.RED_REQUESTED),
    (S.RED_REQUESTED, S.ISSUED),  # a form rejected/lapsed on a never-reversed invoice
    (S.RED_REQUESTED, S.PARTIALLY_REVERSED),  # … on one already partially reversed
    (S.ISSUED, S.CANCELLED),
}


def test_explicit_transitions_match_the_specification() -> None:
    for src, dst in itertools.product(S, S):
        expected = (src, dst) in SPEC or (src == dst and not src.is_final)
        assert can_transition(src, dst) is expected, (src, dst)
        if expected:
            check_transition(src, dst)
        else:
            with pytest.raises(InvalidStateTransition):
                check_transition(src, dst)


def test_every_state_has_an_entry_and_finals_lead_nowhere() -> None:
    assert set(TRANSITIONS) == set(S)
    assert set(RANK) == set(S)
    for state in S:
        if state.is_final:
            assert TRANSITIONS[state] == frozenset()
            assert not can_transition(state, state)


def test_refusal_is_bilingual_names_the_order_and_masks_the_tax_id() -> None:
    with pytest.raises(InvalidStateTransition) as caught:
        check_transition(
            S.ISSUED, S.SUBMITTED, seller_tax_id="91310000MA1FL8XQ30", order_id="ORD-7"
        )
    error = caught.value
    assert error.code == "INVALID_TRANSITION"
    assert "issued → submitted" in error.message_en
    assert "issued → submitted" in error.message_zh
    assert "不允许" in error.message_zh
    assert "red_requested" in error.message_en  # says what would be allowed
    assert "ORD-7" in str(error)
    assert "91310000MA1FL8XQ30" not in str(error)
    assert "9131" in str(error)


def test_final_state_refusal_says_it_is_final() -> None:
    with pytest.raises(InvalidStateTransition) as caught:
        check_transition(S.REVERSED, S.ISSUED)
    assert "final" in caught.value.message_en
    assert "终态" in caught.value.message_zh


@pytest.mark.parametrize(
    ("current", "reported", "decision"),
    [
        # duplicates
        (S.ISSUED, S.ISSUED, StatusDecision.SAME),
        (S.ISSUING, S.ISSUING, StatusDecision.SAME),
        # newer reports move forward, skipping what the ledger never saw
        (S.SUBMITTED, S.ISSUING, StatusDecision.APPLY),
        (S.SUBMITTED, S.ISSUED, StatusDecision.APPLY),
        (S.ISSUING, S.FAILED, StatusDecision.APPLY),
        (S.VALIDATED, S.ISSUED, StatusDecision.APPLY),
        (S.ISSUED, S.REVERSED, StatusDecision.APPLY),
        (S.ISSUED, S.PARTIALLY_REVERSED, StatusDecision.APPLY),
        (S.PARTIALLY_REVERSED, S.REVERSED, StatusDecision.APPLY),
        (S.ISSUED, S.CANCELLED, StatusDecision.APPLY),
        # late reports never move backwards
        (S.ISSUED, S.ISSUING, StatusDecision.STALE),
        (S.ISSUED, S.SUBMITTED, StatusDecision.STALE),
        (S.FAILED, S.ISSUING, StatusDecision.STALE),
        (S.REVERSED, S.ISSUED, StatusDecision.STALE),
        (S.RED_REQUESTED, S.ISSUED, StatusDecision.STALE),
        (S.REVERSED, S.PARTIALLY_REVERSED, StatusDecision.STALE),
        # alternatives of equal rank, and finals, are never overwritten by a report
        (S.ISSUED, S.FAILED, StatusDecision.CONFLICT),
        (S.FAILED, S.ISSUED, StatusDecision.CONFLICT),
        (S.REVERSED, S.CANCELLED, StatusDecision.CONFLICT),
        (S.FAILED, S.REVERSED, StatusDecision.CONFLICT),
        (S.CANCELLED, S.REVERSED, StatusDecision.CONFLICT),
        # a red form in flight owns partial progress; a final report still applies
        (S.RED_REQUESTED, S.PARTIALLY_REVERSED, StatusDecision.HELD),
        (S.RED_CONFIRMED, S.PARTIALLY_REVERSED, StatusDecision.HELD),
        (S.RED_REQUESTED, S.REVERSED, StatusDecision.APPLY),
        (S.RED_CONFIRMED, S.REVERSED, StatusDecision.APPLY),
    ],
)
def test_status_reports(current: S, reported: S, decision: StatusDecision) -> None:
    assert decide_status(current, reported) is decision


def test_an_applied_report_always_moves_forward_and_never_leaves_a_final_state() -> None:
    applied = 0
    for current, reported in itertools.product(S, S):
        if decide_status(current, reported) is StatusDecision.APPLY:
            applied += 1
            assert RANK[reported] > RANK[current], (current, reported)
            assert not current.is_final, (current, reported)
    assert applied > 10
