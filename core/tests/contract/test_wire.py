"""The wire helpers every provider plugin shares (``fapiao.sdk.wire``): what an unreadable
answer means, the token keeper, the sliding window and the replay guard."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from fapiao.errors import AuthFailed, DuplicateOrder, InvalidInvoice, OutcomeUnknown, ProviderError
from fapiao.models import Operation
from fapiao.sdk import (
    AccessToken,
    ReplayGuard,
    SlidingWindow,
    TokenKeeper,
    VendorCode,
    optional_decimal,
    unreadable_answer,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_unreadable_answer_is_unknown_only_after_a_call_that_may_not_be_repeated() -> None:
    issue = unreadable_answer(Operation.ISSUE, "issue.method", provider="acme", status_code=502)
    assert type(issue) is OutcomeUnknown
    assert (issue.raw_code, issue.provider) == ("502", "acme")
    assert "issue.method" in issue.message_en and "issue.method" in issue.message_zh
    query = unreadable_answer(Operation.QUERY, "query.method", provider="acme", status_code=200)
    assert type(query) is ProviderError and query.raw_code == "200"
    token = unreadable_answer(None, "token", provider="acme", status_code=500)
    assert type(token) is ProviderError  # a grant changes nothing at the vendor


async def test_concurrent_callers_share_one_token_renewed_within_the_margin() -> None:
    clock = FakeClock()
    keeper = TokenKeeper(margin_seconds=10, clock=clock)
    seen: list[AccessToken | None] = []

    async def obtain(previous: AccessToken | None) -> AccessToken:
        seen.append(previous)
        await asyncio.sleep(0.01)
        return AccessToken(f"t{len(seen)}", expires_at=clock() + 100, refresh_token="r")

    assert set(await asyncio.gather(*(keeper.get(obtain) for _ in range(8)))) == {"t1"}
    assert seen == [None]
    clock.now += 89  # 11 s left: still outside the margin
    assert await keeper.get(obtain) == "t1"
    clock.now += 2  # 9 s left: renewed, handing over the old token (for its refresh token)
    assert await keeper.get(obtain) == "t2"
    assert seen[1] is not None and seen[1].value == "t1"


async def test_a_refused_token_is_forgotten_and_the_call_sent_once_more() -> None:
    keeper = TokenKeeper(margin_seconds=0)
    grants: list[str] = []

    async def obtain(previous: AccessToken | None) -> AccessToken:
        grants.append(previous.refresh_token if previous else "-")
        return AccessToken(f"t{len(grants)}", expires_at=float("inf"), refresh_token="r")

    sent: list[str] = []

    async def refused_once(token: str) -> str:
        sent.append(token)
        if len(sent) == 1:
            raise AuthFailed("token refused", raw_code="T1")
        return "done"

    assert await keeper.send(obtain, refused_once, refused={"T1"}) == "done"
    assert sent == ["t1", "t2"] and grants == ["-", "r"]  # the refresh token stayed usable

    async def always_refused(token: str) -> str:
        sent.append(token)
        raise AuthFailed("token refused", raw_code="T1")

    sent.clear()
    with pytest.raises(AuthFailed):  # the resend happens once, never twice
        await keeper.send(obtain, always_refused, refused={"T1"})
    assert len(sent) == 2

    async def other_error(token: str) -> str:
        sent.append(token)
        raise AuthFailed("wrong secret", raw_code="S9")

    sent.clear()
    with pytest.raises(AuthFailed):
        await keeper.send(obtain, other_error, refused={"T1"})
    assert len(sent) == 1  # not a refused token: no resend


async def test_invalidating_a_token_replaced_meanwhile_keeps_the_new_one() -> None:
    keeper = TokenKeeper(margin_seconds=0)
    keeper.current = AccessToken("new", expires_at=float("inf"))
    keeper.invalidate("old")
    assert keeper.valid() is not None
    keeper.invalidate("new")
    assert keeper.valid() is None and keeper.current is not None  # kept for its refresh token


def test_a_keeper_outlives_the_event_loop_that_made_its_lock() -> None:
    keeper = TokenKeeper(margin_seconds=0)
    count = 0

    async def obtain(previous: AccessToken | None) -> AccessToken:
        nonlocal count
        count += 1
        return AccessToken(f"t{count}", expires_at=float("-inf"))  # never valid: always renew

    assert asyncio.run(keeper.get(obtain)) == "t1"
    assert asyncio.run(keeper.get(obtain)) == "t2"


def test_sliding_window_admits_up_to_the_limit_per_window() -> None:
    clock = FakeClock()
    window = SlidingWindow(10, clock=clock)
    assert [window.admit(2) for _ in range(3)] == [True, True, False]
    assert len(window) == 2
    clock.now += 9.5
    assert not window.admit(2)
    clock.now += 0.5  # the first two leave the window
    assert window.admit(2) and len(window) == 1
    assert window.admit(3)  # the limit is read per call (a setting may change)


def test_replay_guard_refuses_a_request_id_seen_within_the_horizon() -> None:
    clock = FakeClock()
    guard = ReplayGuard(60, capacity=3, clock=clock)
    assert guard.first_time("a") and not guard.first_time("a")
    clock.now += 61
    assert guard.first_time("b")  # remembering b forgets a, older than the horizon
    assert guard.first_time("a")
    for key in ("c", "d", "e"):
        assert guard.first_time(key)
    assert guard.first_time("b")  # beyond the capacity the oldest is forgotten first
    assert not guard.first_time("e")


def test_a_vendor_code_becomes_its_canonical_error_keeping_what_the_vendor_said() -> None:
    duplicate = VendorCode("E1", "订单重复", "DUPLICATE_ORDER", "duplicate order", field="order_id")
    error = duplicate.error("订单号已存在", provider="acme")
    assert type(error) is DuplicateOrder
    assert (error.raw_code, error.raw_message, error.provider) == ("E1", "订单号已存在", "acme")
    assert (error.message_zh, error.message_en, error.field) == (
        "订单号已存在",
        "duplicate order",
        "order_id",
    )
    silent = duplicate.error(None, provider="acme", message_en="duplicate (acme E1)")
    assert (silent.message_zh, silent.message_en) == ("订单重复", "duplicate (acme E1)")
    amount = VendorCode("E2", "金额有误", "INVALID_INVOICE", "bad amount", field="lines")
    invalid = amount.error("第1行", provider="acme")
    assert isinstance(invalid, InvalidInvoice) and invalid.issues[0].path == "lines"


def test_optional_decimal_reads_a_vendors_number_exactly_or_none() -> None:
    assert optional_decimal("12.30") == Decimal("12.30") and optional_decimal(7) == Decimal(7)
    exact = Decimal("0.1000000000000000055511151231257827")
    assert optional_decimal(exact) is exact
    assert optional_decimal(None) is None and optional_decimal("") is None
