"""The one HTTP client factory every plugin uses.

Why one factory: the exactly-once guarantee depends on classifying every failure correctly.
A failure *before* the request left (connect refused, pool timeout) is safe to report as
``PROVIDER_UNAVAILABLE``; any failure *after* (read timeout, reset, 5xx on a non-idempotent
call) is ``OUTCOME_UNKNOWN`` and must be settled by a query, never by resending. Only requests
the plugin declares idempotent are retried here.

The underlying transport is chosen deliberately (docs/architecture.md §5): httpx's own async transport
slows down under concurrency on this class of machine, so ``aiohttp`` (through
``httpx-aiohttp``) is the default when installed; ``FAPIAO_HTTP_TRANSPORT=httpx`` or the
``transport`` argument selects the plain one. Plugins code against ``httpx`` either way.
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

import httpx

from fapiao.errors import OutcomeUnknown, ProviderUnavailable
from fapiao.masking import Scrubber
from fapiao.transport.ratelimit import RateLimiter

__all__ = ["HttpClientFactory", "ProviderHttp", "TransportKind", "scrub_library_logs"]

log = logging.getLogger("fapiao.transport")


class _ScrubLibraryRecords(logging.Filter):
    """httpx logs every request URL at INFO, and vendors put tokens and signatures in the
    query string (Baiwang: ``token=…&sign=…``): scrub those records like our own lines."""

    def __init__(self) -> None:
        super().__init__()
        self.scrubber = Scrubber()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's business
            return True
        scrubbed = self.scrubber.scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


_library_filter = _ScrubLibraryRecords()


def scrub_library_logs(secrets: Iterable[str] = ()) -> None:
    """Make sure the HTTP libraries' own log records are scrubbed (idempotent); ``secrets``
    are known values to remove as well (the engine passes every configured secret)."""
    _library_filter.scrubber.add(secrets)
    for name in ("httpx", "httpcore", "aiohttp.client"):
        logger = logging.getLogger(name)
        if _library_filter not in logger.filters:
            logger.addFilter(_library_filter)


TransportKind = Literal["aiohttp", "httpx"]


def _default_kind() -> TransportKind:
    wanted = os.environ.get("FAPIAO_HTTP_TRANSPORT", "aiohttp").strip().lower()
    if wanted == "httpx":
        return "httpx"
    try:
        import httpx_aiohttp  # noqa: F401
    except ImportError:
        return "httpx"
    return "aiohttp"


def _sent_before_failure(exc: httpx.TransportError) -> bool:
    """Did the request possibly reach the server before ``exc``? True means: unknown outcome."""
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        cause = exc.__cause__
        if cause is None:
            return False
        # httpx-aiohttp maps every aiohttp connection error (including a reset after the
        # request was written) to ConnectTimeout/ConnectError: trust only a real connector
        # failure as "never sent". httpx's own transport raises these only while
        # connecting (its cause is an httpcore error), so there they do mean "never sent".
        try:
            import aiohttp
        except ImportError:  # pragma: no cover - only with httpx transport
            return False
        if not isinstance(cause, aiohttp.ClientError):
            return False
        return not isinstance(cause, aiohttp.ClientConnectorError)
    return True


class ProviderHttp:
    """An ``httpx.AsyncClient`` with the provider's rate limit, retry policy and masked logs."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        provider: str,
        limiter: RateLimiter | None,
        scrub: Callable[[str], str],
        retries: int = 2,
        backoff: float = 0.2,
    ) -> None:
        self.client = client
        self.provider = provider
        self.limiter = limiter
        self.scrub = scrub
        self.retries = retries
        self.backoff = backoff

    async def request(
        self,
        method: str,
        url: str,
        *,
        idempotent: bool,
        operation: str = "",
        **kwargs: Any,
    ) -> httpx.Response:
        """Send a request. Idempotent requests are retried on transport errors and 5xx;
        others raise ``OutcomeUnknown`` as soon as the outcome can't be known."""
        attempts = 1 + (self.retries if idempotent else 0)
        last: Exception | None = None
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
            if self.limiter is not None:
                await self.limiter.acquire()
            started = time.perf_counter()
            try:
                response = await self.client.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                elapsed = time.perf_counter() - started
                self._log(operation, method, url, None, elapsed, error=repr(exc))
                if idempotent:
                    last = exc
                    continue
                if _sent_before_failure(exc):
                    raise OutcomeUnknown(
                        f"{operation or method} to {self.provider}: {type(exc).__name__} after sending",
                        message_zh=f"{operation or method} 请求已发出但未收到应答（{type(exc).__name__}），须查询确认",
                        provider=self.provider,
                        retryable=False,
                    ) from exc
                raise ProviderUnavailable(
                    f"cannot reach {self.provider}: {type(exc).__name__}",
                    message_zh=f"无法连接服务商 {self.provider}（{type(exc).__name__}）",
                    provider=self.provider,
                ) from exc
            elapsed = time.perf_counter() - started
            self._log(operation, method, url, response, elapsed)
            if response.status_code >= 500:
                if idempotent and attempt + 1 < attempts:
                    last = None
                    continue
                if not idempotent:
                    raise OutcomeUnknown(
                        f"{operation or method} to {self.provider}: HTTP {response.status_code}",
                        message_zh=f"服务商返回 HTTP {response.status_code}，结果未知，须查询确认",
                        provider=self.provider,
                        raw_code=str(response.status_code),
                        retryable=False,
                    )
                raise ProviderUnavailable(
                    f"{self.provider} answered HTTP {response.status_code}",
                    message_zh=f"服务商 {self.provider} 返回 HTTP {response.status_code}",
                    provider=self.provider,
                    raw_code=str(response.status_code),
                )
            return response
        raise ProviderUnavailable(
            f"cannot reach {self.provider} after {attempts} attempts: {last!r}",
            message_zh=f"多次重试后仍无法连接服务商 {self.provider}",
            provider=self.provider,
        ) from last

    async def post(self, url: str, *, idempotent: bool, **kwargs: Any) -> httpx.Response:
        return await self.request("POST", url, idempotent=idempotent, **kwargs)

    async def get(self, url: str, *, idempotent: bool = True, **kwargs: Any) -> httpx.Response:
        return await self.request("GET", url, idempotent=idempotent, **kwargs)

    def _log(
        self,
        operation: str,
        method: str,
        url: str,
        response: httpx.Response | None,
        elapsed: float,
        error: str | None = None,
    ) -> None:
        if not log.isEnabledFor(logging.DEBUG if error is None else logging.WARNING):
            return
        status = response.status_code if response is not None else None
        message = self.scrub(
            f"{self.provider} {operation} {method} {url} -> {status} in {elapsed * 1000:.1f} ms"
            + (f" error={error}" if error else "")
        )
        log.log(logging.DEBUG if error is None else logging.WARNING, message)

    async def aclose(self) -> None:
        await self.client.aclose()


def _aiohttp_transport(
    verify: bool | ssl.SSLContext, limits: httpx.Limits
) -> httpx.AsyncBaseTransport:
    """An ``AiohttpTransport`` whose session never resends on its own.

    aiohttp silently repeats a GET/PUT/DELETE (its "idempotent" methods) once when the
    connection drops after sending (``ClientOSError``/``ServerDisconnectedError``). That
    breaks exactly-once for a vendor whose non-idempotent call is a PUT or DELETE, and
    doubles the retries ``ProviderHttp`` already decides for idempotent ones: the decision
    to resend belongs to ``ProviderHttp`` alone.
    """
    import aiohttp
    from httpx_aiohttp import AiohttpTransport

    transport = AiohttpTransport(verify=verify, limits=limits)

    def session() -> aiohttp.ClientSession:  # built lazily, inside the running loop
        connector = aiohttp.TCPConnector(
            keepalive_timeout=limits.keepalive_expiry,
            ssl=transport.ssl_context,
            limit=limits.max_connections or 0,
        )
        client = aiohttp.ClientSession(connector=connector)
        client._retry_connection = False  # no public switch (aiohttp 3.10-3.14)
        return client

    transport.client = session
    return transport


class HttpClientFactory:
    """Builds one pooled client per plugin instance with the project's policies."""

    def __init__(self, transport: TransportKind | None = None) -> None:
        self.kind: TransportKind = transport or _default_kind()
        scrub_library_logs()

    def create(
        self,
        *,
        provider: str,
        base_url: str,
        timeout: float = 15.0,
        max_connections: int = 32,
        rate_limit_per_second: float | None = None,
        verify: bool | str | ssl.SSLContext = True,
        scrub: Callable[[str], str] = lambda s: s,
        headers: Mapping[str, str] | None = None,
        retries: int = 2,
    ) -> ProviderHttp:
        limits = httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        )
        timeouts = httpx.Timeout(timeout, connect=min(timeout, 5.0))
        verify_arg: bool | ssl.SSLContext
        if isinstance(verify, str):
            verify_arg = ssl.create_default_context(cafile=verify)
        else:
            verify_arg = verify
        transport: httpx.AsyncBaseTransport
        if self.kind == "aiohttp":
            transport = _aiohttp_transport(verify_arg, limits)
        else:
            transport = httpx.AsyncHTTPTransport(verify=verify_arg, limits=limits)
        client = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeouts,
            transport=transport,
            headers=dict(headers or {}),
        )
        limiter = RateLimiter(rate_limit_per_second) if rate_limit_per_second else None
        return ProviderHttp(
            client, provider=provider, limiter=limiter, scrub=scrub, retries=retries
        )
