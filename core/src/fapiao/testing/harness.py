"""What a provider plugin hands the conformance suite: one :class:`ConformanceHarness`.

The suite knows nothing about any vendor; the harness tells it how to build a provider wired
to the plugin's own sandbox, who the sandbox's seller is, which bad inputs produce which
canonical errors, and (optionally) how to steer the sandbox (its clock, a buyer's use of an
invoice). Every field is plain data or a small callable, so a plugin's ``conftest.py`` stays
a dozen lines.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from fapiao.contract.provider import Provider
from fapiao.models import Invoice, Party

if TYPE_CHECKING:
    from fapiao.sandboxkit.server import RunningServer

__all__ = [
    "BadInput",
    "CallbackReceiver",
    "CapturedRequest",
    "ConformanceHarness",
    "ProviderFactory",
    "answer_lifespan",
    "read_body",
]

ProviderFactory = Callable[..., Provider]
"""Builds a fresh provider for the plugin's sandbox. Keyword arguments are settings fields
to override (the suite passes ``base_url=`` to prove some operations never touch the
network, and ``callback_url=`` is already set by the plugin to the receiver's URL)."""

BadInput = Invoice | Callable[[Provider], Awaitable[Any]]
"""An invoice to issue, or a coroutine function run with a provider, that must fail with
the canonical error code it is keyed by (e.g. ``"INVALID_TAX_ID"``)."""


async def answer_lifespan(receive: Any, send: Any) -> None:
    """Serve the ASGI lifespan protocol for a bare app that has nothing to start or stop
    (uvicorn asks; an app that never answers would block its startup)."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def read_body(receive: Any) -> bytes:
    """The whole request body of a bare ASGI app (it may come in several messages)."""
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


@dataclass(frozen=True)
class CapturedRequest:
    """One HTTP request a sandbox sent to the receiver, exactly as it arrived."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    received_at: float


class CallbackReceiver:
    """A loopback HTTP server that records every request (a provider's status callbacks).

    It is a real server (``fapiao.sandboxkit.serve``) so the sandbox's callback sender, its
    retries and its signing run exactly as in production; tests then replay, tamper with or
    drop what was captured.
    """

    def __init__(self, response_body: bytes = b'{"status":"0000","message":"ok"}') -> None:
        self.response_body = response_body
        self.requests: list[CapturedRequest] = []
        self._lock = threading.Lock()
        self._server: RunningServer | None = None

    # -- the ASGI app ---------------------------------------------------------------
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await answer_lifespan(receive, send)
            return
        if scope["type"] != "http":  # pragma: no cover - websockets are not used
            return
        body = await read_body(receive)
        from urllib.parse import parse_qsl

        captured = CapturedRequest(
            method=scope["method"],
            path=scope["path"],
            query=dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"))),
            headers={k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]},
            body=body,
            received_at=time.time(),
        )
        with self._lock:
            self.requests.append(captured)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": self.response_body})

    # -- lifecycle ------------------------------------------------------------------
    def start(self) -> CallbackReceiver:
        from fapiao.sandboxkit import serve

        self._server = serve(self)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the callback receiver is not running")
        return self._server.base_url + "/callback"

    # -- queries --------------------------------------------------------------------
    def snapshot(self) -> list[CapturedRequest]:
        with self._lock:
            return list(self.requests)

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    async def wait_for(
        self, predicate: Callable[[CapturedRequest], bool], *, within: float = 10.0
    ) -> CapturedRequest:
        """The first captured request matching ``predicate``, waiting up to ``within`` s."""
        deadline = time.monotonic() + within
        while True:
            for request in self.snapshot():
                if predicate(request):
                    return request
            if time.monotonic() > deadline:
                seen = len(self.snapshot())
                raise TimeoutError(
                    f"no matching callback within {within} s ({seen} request(s) received)"
                )
            await asyncio.sleep(0.01)


@dataclass
class ConformanceHarness:
    """Everything the suite needs from one provider plugin and its sandbox.

    Required: ``provider_factory``, ``seller`` (the sandbox merchant, with its tax ID),
    ``bad_inputs`` and ``secrets``. The rest switches optional parts of the suite on.
    """

    provider_factory: ProviderFactory
    seller: Party
    bad_inputs: Mapping[str, BadInput]
    secrets: Sequence[str]
    buyer: Party | None = None
    """An entity buyer with a valid tax ID; the kit's default buyer when ``None``."""
    invoices: Sequence[Invoice] = ()
    """Blue invoices of the plugin's own, issued and checked next to the everyday mix every
    check issues for ``seller`` (``fapiao.tools.invoices.invoice_mix``)."""
    callbacks: CallbackReceiver | None = None
    """The receiver the plugin pointed its sandbox's callbacks at (``callback_url``)."""
    advance_clock: Callable[[timedelta], None] | None = None
    """Move the sandbox clock forward (the 72 h red confirmation rule)."""
    mark_used: Callable[[str], None] | None = None
    """Make the sandbox's buyer use (deduct/enter) the invoice with this number, so that a
    red confirmation form then needs the other party's confirmation."""
    settle_timeout: float = 10.0
    """Longest wait for an asynchronous issuance to finish."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Plugin-specific values its own tests may want next to the harness."""
