"""Overhead of the Baiwang plugin over a minimal hand-written client, against one sandbox.

Both clients issue N invoices (``baiwang.output.invoice.issue``, synchronous) to the same
sandbox with the same concurrency, in one run; the figures are invoices/s of each and the
ratio plugin time / minimal time (target ≤ 1.15). The minimal client is what a developer
would write by hand: one token from the password grant, MD5 signing over the sorted
parameters and the body, one precomputed JSON body per invoice with only the serialNo
changed; no validation, no canonical models, no error mapping. It runs twice, on httpx's
default transport and on the aiohttp transport the plugin uses by default (docs/architecture.md §5), so
the transport's share of the difference is visible. The sandbox runs in its own process by
default (``--sandbox thread`` puts it in this one, where it shares the interpreter lock with
the client and every client microsecond shows twice).

The plugin's declared call rate (20/s, the platform's) is lifted for the measurement: it
measures the plugin's own cost, not the platform's throttle (the sandbox has none here).

    python bench/provider_b_overhead.py --n 2000 --concurrency 8
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import NamedTuple

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


class Timing(NamedTuple):
    wall: float  # seconds for the N invoices
    cpu: float  # CPU seconds this (client) process spent on them


SELLER = Party(name=DEMO_SELLER.name, tax_id=DEMO_SELLER.tax_no)
ISSUE = "baiwang.output.invoice.issue"
PATH = "/router/rest"


async def run_plugin(base: str, n: int, concurrency: int) -> Timing:
    provider = BaiwangProvider(
        BaiwangSettings(**demo_settings(base), rate_limit_per_second=1_000_000)
    )
    invoices = [service_invoice(SELLER, amount="100.00") for _ in range(n)]
    await provider.query(SELLER.tax_id or "", ["WARMUP"])  # token and a connection, untimed
    sem = asyncio.Semaphore(concurrency)

    async def one(invoice: object) -> None:
        async with sem:
            await provider.issue(invoice)  # type: ignore[arg-type]

    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(i) for i in invoices))
    elapsed = Timing(time.perf_counter() - started, time.process_time() - cpu)
    await provider.aclose()
    return elapsed


def _md5_sign(params: dict[str, str], body: bytes, secret: str) -> str:
    text = secret.encode() + b"".join(f"{k}{params[k]}".encode() for k in sorted(params))
    return hashlib.md5(text + body + secret.encode()).hexdigest().upper()


async def run_minimal(base: str, n: int, concurrency: int, transport: str) -> Timing:
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

        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(one() for _ in range(n)))
        return Timing(time.perf_counter() - started, time.process_time() - cpu)


@contextmanager
def sandbox_url(where: str) -> Iterator[str]:
    """The sandbox in its own process (default: like a real platform, it does not share the
    client's interpreter lock) or in a thread of this one."""
    if where == "thread":
        seller = DEMO_SELLER.model_copy(update={"credit_line": Decimal("1e12")})
        app = create_app(SandboxConfig(sellers=(seller,), token_grants_per_minute=1000))
        with serve(app) as server:
            yield server.base_url
        return
    command = [sys.executable, "-m", "fapiao_provider_b.sandbox", "--port", "0"]
    process = subprocess.Popen(
        [*command, "--log-level", "warning"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                yield found.group(1)
                break
        else:
            raise RuntimeError("the sandbox process did not start")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--sandbox", choices=("process", "thread"), default="process")
    args = parser.parse_args()
    with sandbox_url(args.sandbox) as url:
        minimal = asyncio.run(run_minimal(url, args.n, args.concurrency, "httpx"))
        minimal_aio = asyncio.run(run_minimal(url, args.n, args.concurrency, "aiohttp"))
        plugin = asyncio.run(run_plugin(url, args.n, args.concurrency))
    print(f"invoices: {args.n}, concurrency: {args.concurrency}, sandbox in a {args.sandbox}")
    rows = (
        ("minimal httpx+MD5 client (httpx transport)", minimal),
        ("minimal httpx+MD5 client (aiohttp transport)", minimal_aio),
        ("fapiao baiwang plugin", plugin),
    )
    for label, t in rows:
        print(
            f"{label:46} {args.n / t.wall:8.1f} invoices/s  "
            f"client CPU {t.cpu / args.n * 1000:.3f} ms/invoice"
        )
    print(f"overhead ratio vs httpx-transport minimal:   {plugin.wall / minimal.wall:.3f}")
    print(
        f"overhead ratio vs aiohttp-transport minimal: {plugin.wall / minimal_aio.wall:.3f}"
        "  (target <= 1.15)"
    )
    print(f"client CPU ratio vs aiohttp-transport minimal: {plugin.cpu / minimal_aio.cpu:.3f}")


if __name__ == "__main__":
    main()
