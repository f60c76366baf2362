"""Overhead of the Baiwang plugin over a minimal hand-written client, against one sandbox.

Both clients issue N invoices (``baiwang.output.invoice.issue``, synchronous) to the same
sandbox with the same concurrency, in one run; the figures are invoices/s of each and the
ratio plugin time / minimal time (target ≤ 1.15). The minimal client is what a developer
would write by hand: one token from the password grant, MD5 signing over the sorted
parameters and the body, one precomputed JSON body per invoice with only the serialNo
changed; no validation, no canonical models, no error mapping. It runs twice, on httpx's
default transport and on the aiohttp transport the plugin uses by default (DESIGN §8), so
the transport's share of the difference is visible.

The plugin's declared call rate (20/s, the platform's) is lifted for the measurement: it
measures the plugin's own cost, not the platform's throttle (the sandbox has none here).

    python bench/provider_b_overhead.py --n 2000 --concurrency 8
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import time
import uuid
from decimal import Decimal

import httpx

from fapiao.models import Party
from fapiao.rules import compute_totals
from fapiao.sandboxkit import serve
from fapiao.testing.samples import new_order_id, service_invoice
from fapiao_provider_b import BaiwangProvider, BaiwangSettings
from fapiao_provider_b.mapping import issue_data
from fapiao_provider_b.protocol import dumps
from fapiao_provider_b.sandbox import (
    DEMO_APP,
    DEMO_SELLER,
    SandboxConfig,
    create_app,
    demo_settings,
)

SELLER = Party(name=DEMO_SELLER.name, tax_id=DEMO_SELLER.tax_no)
ISSUE = "baiwang.output.invoice.issue"
PATH = "/router/rest"


async def run_plugin(base: str, n: int, concurrency: int) -> float:
    provider = BaiwangProvider(
        BaiwangSettings(**demo_settings(base), rate_limit_per_second=1_000_000)
    )
    invoices = [service_invoice(SELLER, amount="100.00") for _ in range(n)]
    await provider.query(SELLER.tax_id or "", ["WARMUP"])  # token and a connection, untimed
    sem = asyncio.Semaphore(concurrency)

    async def one(invoice: object) -> None:
        async with sem:
            await provider.issue(invoice)  # type: ignore[arg-type]

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in invoices))
    elapsed = time.perf_counter() - started
    await provider.aclose()
    return elapsed


def _md5_sign(params: dict[str, str], body: bytes, secret: str) -> str:
    text = secret.encode() + b"".join(f"{k}{params[k]}".encode() for k in sorted(params))
    return hashlib.md5(text + body + secret.encode()).hexdigest().upper()


async def run_minimal(base: str, n: int, concurrency: int, transport: str) -> float:
    template = service_invoice(SELLER, amount="100.00")
    data = issue_data(template, compute_totals(template))
    data["serialNo"] = "__SERIAL__"
    body_template = dumps({"taxNo": SELLER.tax_id, "data": data})
    password = hashlib.sha256((DEMO_APP.password + (DEMO_APP.user_salt or "")).encode())
    kwargs: dict[str, object] = {}
    if transport == "aiohttp":
        from httpx_aiohttp import AiohttpTransport

        kwargs["transport"] = AiohttpTransport()
    async with httpx.AsyncClient(base_url=base, timeout=15, **kwargs) as client:  # type: ignore[arg-type]
        token = (
            await client.post(
                PATH,
                params={
                    "method": "baiwang.oauth.token",
                    "grant_type": "password",
                    "client_id": DEMO_APP.app_key,
                    "version": "7.0",
                    "timestamp": str(int(time.time() * 1000)),
                },
                json={
                    "username": DEMO_APP.username,
                    "password": password.hexdigest(),
                    "client_secret": DEMO_APP.app_secret,
                },
            )
        ).json()["response"]["access_token"]
        sem = asyncio.Semaphore(concurrency)

        async def one() -> None:
            body = body_template.replace(b"__SERIAL__", new_order_id("MIN").encode())
            params = {
                "method": ISSUE,
                "version": "6.0",
                "appKey": DEMO_APP.app_key,
                "format": "json",
                "timestamp": str(int(time.time() * 1000)),
                "type": "sync",
                "requestId": uuid.uuid4().hex,
                "token": token,
            }
            params["sign"] = _md5_sign(params, body, DEMO_APP.app_secret)
            async with sem:
                r = await client.post(
                    PATH,
                    params=params,
                    content=body,
                    headers={"Content-Type": "application/json;charset=UTF-8"},
                )
            answer = r.json()
            assert answer["success"] and answer["response"]["success"], r.text

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    seller = DEMO_SELLER.model_copy(update={"credit_line": Decimal("1e12")})
    app = create_app(SandboxConfig(sellers=(seller,), token_grants_per_minute=1000))
    with serve(app) as server:
        minimal = asyncio.run(run_minimal(server.base_url, args.n, args.concurrency, "httpx"))
        minimal_aio = asyncio.run(run_minimal(server.base_url, args.n, args.concurrency, "aiohttp"))
        plugin = asyncio.run(run_plugin(server.base_url, args.n, args.concurrency))
    issued = app.state.counters.get("issued", 0)
    print(f"invoices: {args.n}, concurrency: {args.concurrency} (sandbox issued {issued})")
    print(f"minimal httpx+MD5 client (httpx transport):   {args.n / minimal:8.1f} invoices/s")
    print(f"minimal httpx+MD5 client (aiohttp transport): {args.n / minimal_aio:8.1f} invoices/s")
    print(f"fapiao baiwang plugin:                        {args.n / plugin:8.1f} invoices/s")
    print(f"overhead ratio vs httpx-transport minimal:  {plugin / minimal:.3f}  (target <= 1.15)")
    print(f"overhead ratio vs aiohttp-transport minimal: {plugin / minimal_aio:.3f}")


if __name__ == "__main__":
    main()
