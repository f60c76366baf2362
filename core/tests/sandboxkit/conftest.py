"""A small sandbox-like app that commits state, wrapped in the fault middleware, served on
loopback once per module."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fapiao.sandboxkit import FaultInjector, FaultMiddleware, RunningServer, request_fault, serve


@dataclass
class Ledger:
    """What the server committed: a test checks it instead of trusting the client."""

    committed: list[str] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def commit(self, key: str) -> None:
        with self.lock:
            self.committed.append(key)

    def count(self, key: str) -> int:
        with self.lock:
            self.calls[key] = self.calls.get(key, 0) + 1
            return self.calls[key]

    def clear(self) -> None:
        with self.lock:
            self.committed.clear()
            self.calls.clear()


def build_app(ledger: Ledger, injector: FaultInjector, **middleware: object) -> FaultMiddleware:
    async def create(request: Request) -> JSONResponse:
        body = await request.json()
        ledger.commit(str(body["id"]))
        return JSONResponse({"ok": True, "id": body["id"]})

    async def flaky(request: Request) -> JSONResponse:
        """Fails the first ``fail`` calls per ``key`` with ``mode`` (5xx or reset)."""
        key = request.query_params["key"]
        n = ledger.count(key)
        if n <= int(request.query_params.get("fail", "0")):
            if request.query_params.get("mode", "5xx") == "reset":
                request_fault(request, reset_after_commit=True)
            else:
                return JSONResponse({"error": "busy"}, 503)
        return JSONResponse({"ok": True, "calls": n})

    async def echo(request: Request) -> JSONResponse:
        return JSONResponse({"path": request.url.path, "query": str(request.query_params)})

    app = Starlette(
        routes=[
            Route("/create", create, methods=["POST"]),
            Route("/flaky", flaky, methods=["GET", "POST"]),
            Route("/echo", echo, methods=["GET", "POST"]),
            Route("/token", echo, methods=["POST"]),
        ]
    )
    return FaultMiddleware(app, injector, **middleware)  # type: ignore[arg-type]


@dataclass
class Sandbox:
    server: RunningServer
    ledger: Ledger
    injector: FaultInjector

    @property
    def url(self) -> str:
        return self.server.base_url


@pytest.fixture(scope="module")
def sandbox_module() -> Iterator[Sandbox]:
    ledger, injector = Ledger(), FaultInjector()
    app = build_app(ledger, injector, applies_to=lambda scope: scope["path"] != "/token")
    with serve(app) as server:
        yield Sandbox(server, ledger, injector)


@pytest.fixture
def sandbox(sandbox_module: Sandbox) -> Sandbox:
    sandbox_module.ledger.clear()
    sandbox_module.injector.clear()
    return sandbox_module
