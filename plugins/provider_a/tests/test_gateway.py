"""The sandbox gateway's checks, seen by a raw signed client, and the plugin's token care."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from fapiao.errors import RateLimited
from fapiao.sandboxkit import RunningServer
from fapiao_provider_a import NuonuoProvider
from fapiao_provider_a.sandbox import DEMO_APP_KEY, DEMO_APP_SECRET, DEMO_TAX_ID
from fapiao_provider_a.signing import SERVICES_PATH, dump_body, new_nonce, new_senid, sign

from .conftest import SELLER

QUERY = "nuonuo.OpeMplatform.queryInvoiceResult"


def _token(base: str) -> str:
    answer = httpx.post(
        f"{base}/accessToken",
        data={
            "client_id": DEMO_APP_KEY,
            "client_secret": DEMO_APP_SECRET,
            "grant_type": "client_credentials",
        },
    ).json()
    return str(answer["access_token"])


def _call(
    base: str,
    token: str,
    *,
    senid: str | None = None,
    timestamp: int | None = None,
    secret: str = DEMO_APP_SECRET,
) -> dict[str, Any]:
    body = dump_body({"orderNos": ["NONE"], "isOfferInvoiceDetail": "0"})
    senid = senid or new_senid()
    nonce, ts = new_nonce(), str(timestamp or int(time.time()))
    response = httpx.post(
        base + SERVICES_PATH,
        params={"senid": senid, "nonce": nonce, "timestamp": ts, "appkey": DEMO_APP_KEY},
        content=body.encode(),
        headers={
            "X-Nuonuo-Sign": sign(secret, DEMO_APP_KEY, senid, nonce, ts, body),
            "accessToken": token,
            "userTax": DEMO_TAX_ID,
            "method": QUERY,
        },
    )
    assert response.status_code == 200
    return dict(response.json())


def test_gateway_refuses_stale_replayed_forged_and_tokenless_calls(sandbox: RunningServer) -> None:
    base = sandbox.base_url
    token = _token(base)
    assert _call(base, token)["code"] == "E9500"  # passes the gateway: the order is unknown
    assert _call(base, token, timestamp=int(time.time()) - 3600)["code"] == "070602"
    senid = new_senid()
    assert _call(base, token, senid=senid)["code"] == "E9500"
    assert _call(base, token, senid=senid)["code"] == "070603"
    assert _call(base, token, secret="forged")["code"] == "070601"
    assert _call(base, "no-such-token")["code"] == "070301"
    bad_token = httpx.post(
        f"{base}/accessToken",
        data={"client_id": DEMO_APP_KEY, "client_secret": "x", "grant_type": "client_credentials"},
    ).json()
    assert bad_token["error"] == "070304" and "access_token" not in bad_token


async def test_expired_token_is_refreshed_once_and_the_call_resent(
    provider_factory: Callable[..., NuonuoProvider], sandbox_app: Any
) -> None:
    provider = provider_factory()
    try:
        assert await provider.query(SELLER.tax_id or "", ["NONE"]) == []
        calls = provider.client.calls_in_window
        sandbox_app.state_ref.expire_tokens()
        assert await provider.query(SELLER.tax_id or "", ["NONE"]) == []
        assert provider.client.calls_in_window == calls + 1
        assert await provider.query(SELLER.tax_id or "", ["NONE"]) == []  # cached again
        assert provider.client.calls_in_window == calls + 1
    finally:
        await provider.aclose()


async def test_token_quota_is_respected_client_side(
    provider_factory: Callable[..., NuonuoProvider], sandbox_app: Any
) -> None:
    provider = provider_factory(token_calls_per_30_days=1)
    try:
        await provider.query(SELLER.tax_id or "", ["NONE"])
        sandbox_app.state_ref.expire_tokens()
        with pytest.raises(RateLimited):
            await provider.query(SELLER.tax_id or "", ["NONE"])
    finally:
        await provider.aclose()


async def test_concurrent_first_calls_share_one_token_fetch(
    provider_factory: Callable[..., NuonuoProvider], sandbox_app: Any
) -> None:
    import asyncio

    provider = provider_factory()
    before = sandbox_app.state_ref.counters.get("token", 0)
    try:
        await asyncio.gather(*(provider.query(SELLER.tax_id or "", ["NONE"]) for _ in range(10)))
        assert sandbox_app.state_ref.counters.get("token", 0) == before + 1
    finally:
        await provider.aclose()
