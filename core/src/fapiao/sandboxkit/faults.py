"""Fault injection for sandboxes: the failures a real provider shows, on demand or at a rate.

The failures that matter for exactly-once are the ones *after* the provider has committed
(it created the invoice, then the answer never arrives): a client that resends then issues
twice. So besides latency and a plain 5xx (rejected before anything happened) the injector
can hold the response of a committed request until the client times out, or abort the TCP
connection (RST) instead of answering, before or after the handler ran.

How it is wired: wrap the sandbox app in :class:`FaultMiddleware`. For every request it
makes one :class:`FaultDecision` (seeded RNG over :class:`FaultConfig` rates, or the
``X-Sandbox-Fault`` header for this request only), applies latency, answers a 5xx or resets
*before* the handler runs, and applies "timeout after commit" / "reset after commit" when the
handler starts its response, i.e. after it committed its state. Handlers that want finer
control read or change the decision with :func:`fault_of` / :func:`request_fault`.
The middleware also serves ``GET/PUT/PATCH/DELETE /__sandbox__/faults`` so a running
sandbox can be switched from outside.

``X-Sandbox-Fault`` grammar (comma-separated, case-insensitive): ``none``, ``5xx`` or
``5xx=502``, ``timeout`` or ``timeout=2.5`` (hang seconds), ``reset`` (before the handler),
``reset-after-commit``, ``latency=250`` (ms), ``dup-callback``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import struct
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = [
    "FAULT_HEADER",
    "FaultConfig",
    "FaultDecision",
    "FaultHeaderError",
    "FaultInjector",
    "FaultMiddleware",
    "abort_connection",
    "add_latency",
    "fault_admin_routes",
    "fault_error_response",
    "fault_of",
    "parse_fault_header",
    "request_fault",
]

FAULT_HEADER = "x-sandbox-fault"
ADMIN_PATH = "/__sandbox__/faults"
_STATE_KEY = "fapiao_sandbox_fault"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class FaultConfig(BaseModel):
    """Rates are probabilities per request (0–1); times are in milliseconds or seconds as
    named. ``seed`` makes a run reproducible."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    latency_ms: float = Field(default=0, ge=0, description="added to every request")
    latency_jitter_ms: float = Field(default=0, ge=0, description="uniform extra 0..jitter")
    error_5xx_rate: float = Field(default=0, ge=0, le=1, description="answer 5xx, no commit")
    error_status: int = Field(default=503, ge=500, le=599, description="status of the 5xx")
    timeout_after_commit_rate: float = Field(
        default=0, ge=0, le=1, description="commit, then hold the response for hang_seconds"
    )
    hang_seconds: float = Field(default=30, ge=0, description="how long a held response waits")
    reset_rate: float = Field(default=0, ge=0, le=1, description="abort the TCP connection")
    reset_after_commit: bool = Field(
        default=False, description="resets happen after the handler committed (else before)"
    )
    duplicate_callback_rate: float = Field(
        default=0, ge=0, le=1, description="deliver a callback a second time"
    )
    out_of_order_callbacks: bool = Field(
        default=False, description="deliver callbacks queued close together newest first"
    )
    seed: int | None = Field(default=None, description="RNG seed for reproducible runs")


class FaultHeaderError(ValueError):
    """An ``X-Sandbox-Fault`` value the sandbox does not understand (answered with 400)."""


@dataclass(slots=True)
class FaultDecision:
    """What happens to one request. Mutable: a handler may add a fault to its own request."""

    latency_s: float = 0.0
    error_status: int | None = None
    timeout_after_commit: bool = False
    hang_seconds: float = 30.0
    reset: bool = False
    reset_after_commit: bool = False
    duplicate_callback: bool = False
    explicit: bool = False  # chosen by the request's header, not by rates

    @property
    def faulty(self) -> bool:
        return bool(
            self.latency_s
            or self.error_status
            or self.timeout_after_commit
            or self.reset
            or self.duplicate_callback
        )

    @property
    def before_commit(self) -> bool:
        """True when the request must fail before the handler runs."""
        return self.error_status is not None or (self.reset and not self.reset_after_commit)


def parse_fault_header(value: str, *, default_hang_seconds: float = 30.0) -> FaultDecision:
    """Parse an ``X-Sandbox-Fault`` header value into an explicit decision."""
    decision = FaultDecision(explicit=True, hang_seconds=default_hang_seconds)
    for raw in value.split(","):
        token = raw.strip().lower()
        if not token:
            continue
        name, _, arg = token.partition("=")
        name = name.strip().replace("_", "-")
        arg = arg.strip()
        try:
            if name in {"none", "off"}:
                continue
            if name in {"5xx", "error"}:
                status = int(arg) if arg else 503
                if not 500 <= status <= 599:
                    raise FaultHeaderError(f"5xx status must be 500-599, got {status}")
                decision.error_status = status
            elif name in {"timeout", "timeout-after-commit", "hang"}:
                decision.timeout_after_commit = True
                if arg:
                    decision.hang_seconds = max(0.0, float(arg))
            elif name == "reset":
                decision.reset = True
                decision.reset_after_commit = arg in {"after", "after-commit"}
            elif name == "reset-after-commit":
                decision.reset = True
                decision.reset_after_commit = True
            elif name in {"latency", "delay"}:
                if not arg:
                    raise FaultHeaderError("latency needs a value in ms, e.g. latency=250")
                decision.latency_s = max(0.0, float(arg)) / 1000
            elif name in {"dup-callback", "duplicate-callback"}:
                decision.duplicate_callback = True
            else:
                raise FaultHeaderError(
                    f"unknown {FAULT_HEADER} token {raw.strip()!r}; known: none, 5xx[=NNN], "
                    "timeout[=s], reset, reset-after-commit, latency=ms, dup-callback"
                )
        except ValueError as exc:
            if isinstance(exc, FaultHeaderError):
                raise
            raise FaultHeaderError(f"bad {FAULT_HEADER} value {raw.strip()!r}: {exc}") from None
    return decision


class FaultInjector:
    """Decides faults per request from a :class:`FaultConfig` (thread-safe: the config may be
    switched from a test thread while the server thread serves)."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self._config = config or FaultConfig()
        self._rng = random.Random(self._config.seed)
        self.counts: Counter[str] = Counter()

    @property
    def config(self) -> FaultConfig:
        return self._config

    def configure(self, config: FaultConfig | Mapping[str, Any]) -> FaultConfig:
        """Replace the whole configuration (fields left out take their defaults)."""
        new = config if isinstance(config, FaultConfig) else FaultConfig.model_validate(config)
        with self._lock:
            self._config = new
            if new.seed is not None:
                self._rng = random.Random(new.seed)
        return new

    def update(self, **changes: Any) -> FaultConfig:
        """Change some fields, keep the others."""
        return self.configure({**self._config.model_dump(), **changes})

    def clear(self) -> None:
        """Back to no faults, counters zeroed."""
        self.configure(FaultConfig())
        with self._lock:
            self.counts.clear()

    def record(self, kind: str) -> None:
        with self._lock:
            self.counts[kind] += 1

    def decide(
        self, headers: Mapping[str, str] | None = None, *, apply_rates: bool = True
    ) -> FaultDecision:
        """One request's faults: the header's when it has one, else drawn from the rates."""
        cfg = self._config
        if headers is not None:
            value = headers.get(FAULT_HEADER) or headers.get("X-Sandbox-Fault")
            if value is not None:
                return parse_fault_header(value, default_hang_seconds=cfg.hang_seconds)
        decision = FaultDecision(hang_seconds=cfg.hang_seconds)
        if not apply_rates:
            return decision
        with self._lock:
            rng = self._rng
            if cfg.latency_ms or cfg.latency_jitter_ms:
                decision.latency_s = (cfg.latency_ms + rng.uniform(0, cfg.latency_jitter_ms)) / 1000
            if cfg.error_5xx_rate and rng.random() < cfg.error_5xx_rate:
                decision.error_status = cfg.error_status
            elif cfg.reset_rate and rng.random() < cfg.reset_rate:
                decision.reset = True
                decision.reset_after_commit = cfg.reset_after_commit
            elif cfg.timeout_after_commit_rate and rng.random() < cfg.timeout_after_commit_rate:
                decision.timeout_after_commit = True
        return decision

    def duplicate_callback(self) -> bool:
        """Should this callback be delivered twice? (drawn from ``duplicate_callback_rate``)"""
        rate = self._config.duplicate_callback_rate
        if not rate:
            return False
        with self._lock:
            return self._rng.random() < rate

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"config": self._config.model_dump(mode="json"), "injected": dict(self.counts)}


# --- primitives usable from a handler -------------------------------------------------------


def fault_of(request_or_scope: Any) -> FaultDecision | None:
    """The decision :class:`FaultMiddleware` made for this request (``None`` without it).

    Accepts a Starlette ``Request`` or a raw ASGI scope.
    """
    scope = getattr(request_or_scope, "scope", request_or_scope)
    state = scope.get("state")
    if isinstance(state, Mapping):
        found = state.get(_STATE_KEY)
        if isinstance(found, FaultDecision):
            return found
    return None


def request_fault(
    request_or_scope: Any,
    *,
    timeout_after_commit: bool = False,
    hang_seconds: float | None = None,
    reset_after_commit: bool = False,
) -> FaultDecision:
    """From a handler, ask for a fault on its own response (enacted when the response
    starts, i.e. after the handler committed). Needs :class:`FaultMiddleware`."""
    decision = fault_of(request_or_scope)
    if decision is None:
        raise RuntimeError("request_fault needs the app to be wrapped in FaultMiddleware")
    if timeout_after_commit:
        decision.timeout_after_commit = True
        if hang_seconds is not None:
            decision.hang_seconds = hang_seconds
    if reset_after_commit:
        decision.reset = True
        decision.reset_after_commit = True
    return decision


async def add_latency(ms: float) -> None:
    """Sleep ``ms`` milliseconds inside a handler (e.g. a slow operation)."""
    if ms > 0:
        await asyncio.sleep(ms / 1000)


def fault_error_response(status: int = 503, reason: str = "sandbox injected fault") -> Any:
    """A vendor-neutral 5xx answer (a gateway error: the request was not processed)."""
    from starlette.responses import JSONResponse

    return JSONResponse({"sandbox_fault": "5xx", "status": status, "reason": reason}, status)


async def abort_connection(send: Send) -> bool:
    """Abort the connection under ``send`` with a TCP RST, so the client sees a transport
    error (httpx ``ReadError``/``RemoteProtocolError``), never an HTTP answer.

    ``send`` must be the server's own callable (uvicorn's; :class:`FaultMiddleware` holds it).
    Returns False when the transport was not reachable and a truncated response was sent
    instead (the client still sees a protocol error).
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None or not hasattr(transport, "abort"):
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", b"1048576"), (b"content-type", b"text/plain")],
            }
        )
        await send({"type": "http.response.body", "body": b"truncated", "more_body": True})
        return False
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            # linger on, 0 s: close() sends RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    for _ in range(20):  # let connection_lost mark the cycle disconnected before we return
        if getattr(cycle, "disconnected", True):
            break
        await asyncio.sleep(0)
    return True


async def _hold_until_disconnect(receive: Receive, seconds: float) -> bool:
    """Wait ``seconds`` or until the client hangs up; True when it hung up."""

    async def wait_disconnect() -> None:
        while True:
            message = await receive()
            if message.get("type") == "http.disconnect":
                return

    try:
        await asyncio.wait_for(wait_disconnect(), timeout=seconds)
    except TimeoutError:
        return False
    return True


# --- middleware and admin ------------------------------------------------------------------


def fault_admin_routes(injector: FaultInjector, path: str = ADMIN_PATH) -> list[Any]:
    """Starlette routes for ``path``: GET the config and counts, PUT to replace the config,
    PATCH to change some fields, DELETE to clear. Invalid input answers 422."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def faults(request: Request) -> JSONResponse:
        if request.method == "GET":
            return JSONResponse(injector.snapshot())
        if request.method == "DELETE":
            injector.clear()
            return JSONResponse(injector.snapshot())
        try:
            body = json.loads(await request.body() or b"{}")
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
            if request.method == "PATCH":
                injector.update(**body)
            else:
                injector.configure(body)
        except ValidationError as exc:
            errors = [
                {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()
            ]
            return JSONResponse({"error": "invalid fault config", "detail": errors}, 422)
        except ValueError as exc:
            return JSONResponse({"error": "invalid fault config", "detail": str(exc)}, 422)
        return JSONResponse(injector.snapshot())

    return [Route(path, faults, methods=["GET", "PUT", "PATCH", "DELETE"])]


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


class FaultMiddleware:
    """Wrap a sandbox's ASGI app so every request goes through the injector.

    ``applies_to(scope)`` limits *rate-based* faults to some requests (e.g. only the
    business API, not the token endpoint); a request's explicit header always applies.
    Paths under ``exempt_prefix`` (the admin endpoint) are never faulted.
    """

    def __init__(
        self,
        app: ASGIApp,
        injector: FaultInjector,
        *,
        applies_to: Callable[[Scope], bool] | None = None,
        admin_path: str | None = ADMIN_PATH,
        exempt_prefix: str = "/__sandbox__/",
    ) -> None:
        self.app = app
        self.injector = injector
        self.applies_to = applies_to
        self.admin_path = admin_path
        self.exempt_prefix = exempt_prefix
        self._admin: ASGIApp | None = None
        if admin_path:
            from starlette.routing import Router

            self._admin = Router(routes=fault_admin_routes(injector, admin_path))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if self._admin is not None and path == self.admin_path:
            await self._admin(scope, receive, send)
            return
        if path.startswith(self.exempt_prefix):
            await self.app(scope, receive, send)
            return
        try:
            decision = self.injector.decide(
                _headers(scope),
                apply_rates=self.applies_to(scope) if self.applies_to else True,
            )
        except FaultHeaderError as exc:
            await _send_json(send, 400, {"error": "bad X-Sandbox-Fault header", "detail": str(exc)})
            return
        scope.setdefault("state", {})[_STATE_KEY] = decision
        if decision.latency_s:
            self.injector.record("latency")
            await asyncio.sleep(decision.latency_s)
        if decision.error_status is not None:
            self.injector.record("5xx")
            await _send_json(
                send,
                decision.error_status,
                {"sandbox_fault": "5xx", "status": decision.error_status},
            )
            return
        if decision.reset and not decision.reset_after_commit:
            self.injector.record("reset")
            await abort_connection(send)
            return
        await self.app(scope, receive, self._wrap_send(decision, receive, send))

    def _wrap_send(self, decision: FaultDecision, receive: Receive, send: Send) -> Send:
        dropped = False

        async def faulty_send(message: Message) -> None:
            nonlocal dropped
            if dropped:
                return
            if message["type"] == "http.response.start":
                # The handler has finished its work (state committed) and starts answering.
                if decision.reset and decision.reset_after_commit:
                    self.injector.record("reset_after_commit")
                    dropped = True
                    await abort_connection(send)
                    return
                if decision.timeout_after_commit:
                    self.injector.record("timeout_after_commit")
                    if await _hold_until_disconnect(receive, decision.hang_seconds):
                        dropped = True  # the client gave up: nothing to answer
                        return
            await send(message)

        return faulty_send


async def _send_json(send: Send, status: int, body: Mapping[str, Any]) -> None:
    data = json.dumps(body, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})
