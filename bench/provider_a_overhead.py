"""Overhead of the Nuonuo plugin over a minimal hand-written client, against one sandbox.

Both clients issue N invoices (``requestBillingNew``) to the same sandbox (issue delay 0,
callbacks off) with the same concurrency, in one run; the figures are invoices/s of each
and the ratio plugin time / minimal time (target ≤ 1.15). The minimal client is what a
developer would write by hand: httpx.AsyncClient, one token, HMAC-SHA1 signing, a JSON
body per invoice built from precomputed amounts; no validation, no canonical models.

    python bench/provider_a_overhead.py --n 2000 --concurrency 8
"""

from __future__ import annotations

import argparse
import asyncio
import time
from decimal import Decimal
from typing import Any

import httpx

from fapiao.models import Party
from fapiao.rules import compute_totals
from fapiao.sandboxkit import serve
from fapiao.testing.samples import new_order_id, service_invoice
from fapiao_provider_a import NuonuoProvider, NuonuoSettings
from fapiao_provider_a.mapping import order_payload
from fapiao_provider_a.sandbox import (
    DEMO_APP_KEY,
    DEMO_APP_SECRET,
    DEMO_MERCHANT,
    DEMO_TAX_ID,
    SandboxConfig,
    create_app,
)
from fapiao_provider_a.signing import SERVICES_PATH, dump_body, new_nonce, new_senid, sign

SELLER = Party(name=DEMO_MERCHANT.name, tax_id=DEMO_TAX_ID)
ISSUE = "nuonuo.OpeMplatform.requestBillingNew"


async def run_plugin(base: str, n: int, concurrency: int) -> float:
    provider = NuonuoProvider(
        NuonuoSettings(
            app_key=DEMO_APP_KEY, app_secret=DEMO_APP_SECRET, user_tax=DEMO_TAX_ID, base_url=base
        )
    )
    invoices = [service_invoice(SELLER, amount="100.00") for _ in range(n)]
    await provider.query(DEMO_TAX_ID, ["WARMUP"])  # token and connections, outside the timing
    sem = asyncio.Semaphore(concurrency)

    async def one(invoice: Any) -> None:
        async with sem:
            await provider.issue(invoice)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in invoices))
    elapsed = time.perf_counter() - started
    await provider.aclose()
    return elapsed


async def run_minimal(base: str, n: int, concurrency: int) -> float:
    template = service_invoice(SELLER, amount="100.00")
    order = order_payload(
        template, compute_totals(template), clerk="张三", extension_number=None, callback_url=None
    )
    async with httpx.AsyncClient(base_url=base, timeout=15) as client:
        token = (
            await client.post(
                "/accessToken",
                data={
                    "client_id": DEMO_APP_KEY,
                    "client_secret": DEMO_APP_SECRET,
                    "grant_type": "client_credentials",
                },
            )
        ).json()["access_token"]
        sem = asyncio.Semaphore(concurrency)

        async def one() -> None:
            body = dump_body({"order": {**order, "orderNo": new_order_id("MIN")}})
            senid, nonce, ts = new_senid(), new_nonce(), str(int(time.time()))
            async with sem:
                r = await client.post(
                    SERVICES_PATH,
                    params={
                        "senid": senid,
                        "nonce": nonce,
                        "timestamp": ts,
                        "appkey": DEMO_APP_KEY,
                    },
                    content=body.encode(),
                    headers={
                        "Content-Type": "application/json; charset=UTF-8",
                        "X-Nuonuo-Sign": sign(
                            DEMO_APP_SECRET, DEMO_APP_KEY, senid, nonce, ts, body
                        ),
                        "accessToken": token,
                        "userTax": DEMO_TAX_ID,
                        "method": ISSUE,
                    },
                )
            assert r.json()["code"] == "E0000", r.text

        await client.post("/accessToken", data={})  # warm the connection
        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    merchant = DEMO_MERCHANT.model_copy(update={"credit_line": Decimal("1e12")})
    app = create_app(
        SandboxConfig(
            merchants=(merchant,), issue_delay_seconds=0, callbacks=False, documents=False
        )
    )
    with serve(app) as server:
        minimal = asyncio.run(run_minimal(server.base_url, args.n, args.concurrency))
        plugin = asyncio.run(run_plugin(server.base_url, args.n, args.concurrency))
    print(f"invoices: {args.n}, concurrency: {args.concurrency}")
    print(f"minimal httpx+HMAC client: {args.n / minimal:8.1f} invoices/s ({minimal:.2f} s)")
    print(f"fapiao nuonuo plugin:      {args.n / plugin:8.1f} invoices/s ({plugin:.2f} s)")
    print(f"overhead ratio (plugin/minimal time): {plugin / minimal:.3f}  (target <= 1.15)")


if __name__ == "__main__":
    main()
