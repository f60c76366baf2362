"""Token life cycle: one token shared by concurrent calls, refreshed before it expires, renewed
by refresh token when the platform refuses it, by password when the refresh token is gone."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest

from fapiao.errors import AuthFailed, RateLimited
from fapiao_provider_b.protocol import Method

from .conftest import SELLER, Sandbox, invoice

TAX = SELLER.tax_id or ""


async def test_concurrent_calls_share_one_token(make_sandbox: Callable[..., Sandbox]) -> None:
    box = make_sandbox()
    async with box.provider() as provider:
        results = await asyncio.gather(*(provider.issue(invoice()) for _ in range(12)))
    assert len({r.invoice_number for r in results}) == 12
    assert box.counter("password_grants") == 1
    assert box.counter(f"call:{Method.TOKEN}") == 1


async def test_refused_token_is_refreshed_and_the_call_retried_once(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    box = make_sandbox()
    async with box.provider() as provider:
        await provider.quota(TAX)
        box.app.state.expire_tokens()  # the platform now refuses the cached token (100002)
        blue = invoice()
        result = await provider.issue(blue)  # refused, refreshed, retried: one invoice
        assert result.invoice_number
    assert box.counter("refused_100002") == 1
    assert box.counter("refresh_grants") == 1
    assert box.counter("password_grants") == 1
    assert box.counter("issued") == 1


async def test_expired_refresh_token_falls_back_to_the_password(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    box = make_sandbox()
    async with box.provider() as provider:
        await provider.quota(TAX)
        box.app.advance_clock(timedelta(days=31))  # access and refresh tokens both expired
        await provider.quota(TAX)
    assert box.counter("refused_100011") == 1  # the refresh grant was refused ...
    assert box.counter("password_grants") == 2  # ... so the client logged in again


async def test_token_is_renewed_before_it_expires(make_sandbox: Callable[..., Sandbox]) -> None:
    box = make_sandbox(token_ttl_seconds=2)
    async with box.provider(token_refresh_margin_seconds=1) as provider:
        await provider.quota(TAX)
        await asyncio.sleep(1.1)  # inside the margin: renew before the platform refuses
        await provider.quota(TAX)
    assert box.counter("refresh_grants") == 1
    assert box.counter("refused_100002") == 0


async def test_wrong_password_is_auth_failed(sandbox: Sandbox) -> None:
    async with sandbox.provider(password="S3cr3t-Wr0ng-pw") as provider:
        with pytest.raises(AuthFailed) as caught:
            await provider.quota(TAX)
    assert caught.value.raw_code == "100010"
    assert "S3cr3t-Wr0ng-pw" not in str(caught.value)


async def test_token_quota_is_rate_limited(make_sandbox: Callable[..., Sandbox]) -> None:
    box = make_sandbox(token_grants_per_minute=1)
    async with box.provider() as first:
        await first.quota(TAX)
    async with box.provider() as second:  # a second client: a second grant, over the quota
        with pytest.raises(RateLimited) as caught:
            await second.quota(TAX)
    assert caught.value.raw_code == "100012"
    assert caught.value.retryable


async def test_declared_rate_keeps_under_the_platform_limit(
    make_sandbox: Callable[..., Sandbox],
) -> None:
    box = make_sandbox(rate_limit_per_second=50)
    async with box.provider() as polite:  # the declared 20 calls/s
        await asyncio.gather(*(polite.query(TAX, ["A"]) for _ in range(30)))
    assert box.counter("rate_limited") == 0
    async with box.provider(rate_limit_per_second=10_000) as eager:
        outcomes = await asyncio.gather(
            *(eager.query(TAX, ["A"]) for _ in range(80)), return_exceptions=True
        )
    refused = [o for o in outcomes if isinstance(o, RateLimited)]
    assert refused and all(r.raw_code == "100008" for r in refused)
