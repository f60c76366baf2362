"""A provider-like server on loopback (plain and TLS) that records what it committed, wrapped
in the sandbox fault middleware, for testing the shared transport against real sockets."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fapiao.sandboxkit import FaultInjector, FaultMiddleware, RunningServer, request_fault, serve
from fapiao.transport import HttpClientFactory, ProviderHttp


@dataclass
class Recorder:
    committed: list[str] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    arrivals: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def clear(self) -> None:
        with self.lock:
            self.committed.clear()
            self.calls.clear()
            self.arrivals.clear()


def build_app(recorder: Recorder) -> FaultMiddleware:
    async def orders(request: Request) -> JSONResponse:
        body = await request.json()
        with recorder.lock:
            recorder.committed.append(body["id"])
        return JSONResponse({"ok": True})

    async def flaky(request: Request) -> JSONResponse:
        key = request.query_params["key"]
        with recorder.lock:
            recorder.calls[key] = n = recorder.calls.get(key, 0) + 1
        if n <= int(request.query_params.get("fail", "0")):
            if request.query_params.get("mode") == "reset":
                request_fault(request, reset_after_commit=True)
            else:
                return JSONResponse({"error": "busy"}, 503)
        return JSONResponse({"calls": n})

    async def ping(request: Request) -> JSONResponse:
        with recorder.lock:
            recorder.arrivals.append(time.monotonic())
        return JSONResponse({"pong": True})

    async def slow(request: Request) -> JSONResponse:
        await asyncio.sleep(float(request.query_params.get("s", "0")))
        return JSONResponse({"slow": True})

    app = Starlette(
        routes=[
            Route("/orders", orders, methods=["POST", "PUT", "DELETE"]),
            Route("/flaky", flaky, methods=["GET", "POST"]),
            Route("/ping", ping),
            Route("/slow", slow),
            Route("/echo/{rest:path}", ping),
        ]
    )
    return FaultMiddleware(app, FaultInjector())


@dataclass
class Provider:
    server: RunningServer
    recorder: Recorder

    @property
    def url(self) -> str:
        return self.server.base_url


@pytest.fixture(scope="module")
def provider_module() -> Iterator[Provider]:
    recorder = Recorder()
    with serve(build_app(recorder)) as server:
        yield Provider(server, recorder)


@pytest.fixture
def provider(provider_module: Provider) -> Provider:
    provider_module.recorder.clear()
    return provider_module


@pytest.fixture(scope="module")
def tls_provider() -> Iterator[Provider]:
    recorder = Recorder()
    with serve(build_app(recorder), tls=True) as server:
        yield Provider(server, recorder)


@pytest.fixture(params=["httpx", "aiohttp"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


MakeHttp = Callable[..., ProviderHttp]


@pytest.fixture
async def make_http(kind: str) -> AsyncIterator[MakeHttp]:
    """Build ``ProviderHttp`` clients of the parametrised transport kind; closed after."""
    clients: list[ProviderHttp] = []

    def make(base_url: str, *, backoff: float = 0.01, **options: Any) -> ProviderHttp:
        factory = HttpClientFactory("aiohttp" if kind == "aiohttp" else "httpx")
        http = factory.create(provider="testvendor", base_url=base_url, **options)
        http.backoff = backoff
        clients.append(http)
        return http

    yield make
    for http in clients:
        await http.aclose()


@pytest.fixture
def dead_url() -> str:
    """A loopback URL where nothing listens (the port was bound once, then released)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = int(probe.getsockname()[1])
    probe.close()
    return f"http://127.0.0.1:{port}"
