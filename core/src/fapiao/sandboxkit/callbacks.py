"""Signed status callbacks from a sandbox to the client's URL, delivered the way real
providers deliver them: in the background, retried with backoff until the receiver accepts,
sometimes twice, sometimes in the wrong order.

The sandbox supplies ``build(payload) -> (headers, body)``, its vendor's signing; it is
called again for every attempt (a retry or a duplicate carries a fresh timestamp and
signature, as a vendor's re-sent notification does). A vendor that signs in the query string
(a nonce, a timestamp and a request id next to the URL) returns a :class:`CallbackRequest`
instead, whose ``params`` join the receiver URL's own query for that attempt only.
Deliveries to one key (an order id) go through one worker in order, unless the injector asks
for ``out_of_order_callbacks``: then a callback is held back up to ``reorder_hold_s`` and, if
a newer one for the same key comes meanwhile, the newer is delivered first. Every attempt
is recorded in :attr:`CallbackSender.deliveries` so tests can assert what the receiver was
sent.

Lifecycle: ``await start()`` in the server's loop (e.g. the app lifespan, see
:meth:`CallbackSender.running`), ``await stop()`` when the server stops; ``send()`` may be
called from the server's handlers or from any thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
import time
import zlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from fapiao.sandboxkit.faults import FaultInjector

__all__ = ["BuildCallback", "CallbackDelivery", "CallbackRequest", "CallbackSender"]


@dataclass(frozen=True, slots=True)
class CallbackRequest:
    """One signed attempt, for vendors whose signature also covers query parameters: those
    change with every attempt, so they cannot be part of the URL given to ``send()``."""

    headers: Mapping[str, str]
    body: bytes
    params: Mapping[str, str] = field(default_factory=dict)


BuildCallback = Callable[[Any], tuple[Mapping[str, str], bytes] | CallbackRequest]


@dataclass(frozen=True, slots=True)
class CallbackDelivery:
    """One HTTP attempt to deliver one callback."""

    sequence: int  # order in which attempts were made, across the sender
    key: str
    url: str
    attempt: int  # 1 for the first try of this callback, then 2, 3… for retries
    duplicate: bool  # a deliberate second delivery of an accepted callback
    accepted: bool
    status_code: int | None
    error: str | None
    body: bytes
    sent_at: float  # time.time()
    params: tuple[tuple[str, str], ...] = ()  # query parameters build() added to the URL


@dataclass(slots=True)
class _Callback:
    url: str
    payload: Any
    key: str
    duplicate: bool
    attempts: int = 0
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)


class CallbackSender:
    """Background delivery of signed callbacks with retries, duplicates and reordering."""

    def __init__(
        self,
        build: BuildCallback,
        *,
        injector: FaultInjector | None = None,
        retries: int = 3,
        backoff_s: float = 0.5,
        backoff_factor: float = 2.0,
        timeout_s: float = 5.0,
        reorder_hold_s: float = 0.5,
        workers: int = 4,
        accept: Callable[[httpx.Response], bool] | None = None,
        verify: bool | str = True,
    ) -> None:
        self.build = build
        self.injector = injector
        self.retries = retries
        self.backoff_s = backoff_s
        self.backoff_factor = backoff_factor
        self.timeout_s = timeout_s
        self.reorder_hold_s = reorder_hold_s
        self.workers = max(1, workers)
        self.accept = accept or (lambda response: 200 <= response.status_code < 300)
        self.verify = verify
        self._deliveries: list[CallbackDelivery] = []
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._outstanding = 0
        self._sequence = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: httpx.AsyncClient | None = None
        self._queues: list[asyncio.Queue[list[_Callback]]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._held: dict[str, _Callback] = {}
        self._closed = False

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        if self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._closed = False
        verify: bool | ssl.SSLContext = (
            ssl.create_default_context(cafile=self.verify)
            if isinstance(self.verify, str)
            else self.verify
        )
        self._client = httpx.AsyncClient(timeout=self.timeout_s, verify=verify)
        self._queues = [asyncio.Queue() for _ in range(self.workers)]
        for queue in self._queues:
            self._spawn(self._worker(queue))

    async def stop(self, *, drain_timeout: float = 1.0) -> None:
        """Deliver what is held or queued (up to ``drain_timeout``), then stop everything."""
        if self._loop is None:
            return
        for key in list(self._held):
            self._release(key)
        if drain_timeout > 0:
            await self.wait_idle(drain_timeout)
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        for held in self._held.values():
            if held.timer is not None:
                held.timer.cancel()
        self._held.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self._loop = None
        with self._idle:
            self._outstanding = 0
            self._idle.notify_all()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[CallbackSender]:
        """``async with sender.running():`` — for a Starlette/FastAPI lifespan."""
        await self.start()
        try:
            yield self
        finally:
            await self.stop()

    # --- sending ----------------------------------------------------------------------------

    def send(
        self, url: str, payload: Any, *, key: str | None = None, duplicate: bool | None = None
    ) -> None:
        """Queue ``payload`` for delivery to ``url``. ``key`` groups callbacks of one order
        (ordering, reordering); ``duplicate`` forces or forbids a second delivery, else the
        injector's ``duplicate_callback_rate`` decides."""
        loop = self._loop
        if loop is None or self._closed:
            raise RuntimeError("CallbackSender is not running: await start() first")
        if duplicate is None:
            duplicate = self.injector.duplicate_callback() if self.injector else False
        callback = _Callback(url, payload, key or url, duplicate)
        with self._lock:
            self._outstanding += 1
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._enqueue(callback)
        else:
            loop.call_soon_threadsafe(self._enqueue, callback)

    def _enqueue(self, callback: _Callback) -> None:
        reorder = self.injector is not None and self.injector.config.out_of_order_callbacks
        if not reorder:
            self._dispatch([callback])
            return
        previous = self._held.pop(callback.key, None)
        if previous is not None:
            if previous.timer is not None:
                previous.timer.cancel()
            self._dispatch([callback, previous])  # newest first
            return
        assert self._loop is not None
        callback.timer = self._loop.call_later(self.reorder_hold_s, self._release, callback.key)
        self._held[callback.key] = callback

    def _release(self, key: str) -> None:
        held = self._held.pop(key, None)
        if held is not None:
            if held.timer is not None:
                held.timer.cancel()
            self._dispatch([held])

    def _dispatch(self, group: list[_Callback]) -> None:
        index = zlib.crc32(group[0].key.encode()) % len(self._queues)
        self._queues[index].put_nowait(group)

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _worker(self, queue: asyncio.Queue[list[_Callback]]) -> None:
        while True:
            group = await queue.get()
            for callback in group:
                await self._attempt(callback)

    async def _attempt(self, callback: _Callback) -> None:
        callback.attempts += 1
        accepted = await self._post(callback, callback.attempts, duplicate=False)
        if accepted:
            if callback.duplicate:
                if self.injector is not None:
                    self.injector.record("duplicate_callback")
                await self._post(callback, callback.attempts, duplicate=True)
            self._finish()
        elif callback.attempts <= self.retries and not self._closed:
            delay = self.backoff_s * self.backoff_factor ** (callback.attempts - 1)
            self._spawn(self._retry_later(callback, delay))
        else:
            self._finish()

    async def _retry_later(self, callback: _Callback, delay: float) -> None:
        await asyncio.sleep(delay)
        await self._attempt(callback)

    async def _post(self, callback: _Callback, attempt: int, *, duplicate: bool) -> bool:
        assert self._client is not None
        status: int | None = None
        error: str | None = None
        accepted = False
        body = b""
        params: tuple[tuple[str, str], ...] = ()
        try:
            built = self.build(callback.payload)
            request = built if isinstance(built, CallbackRequest) else CallbackRequest(*built)
            body, params = request.body, tuple(request.params.items())
            url = httpx.URL(callback.url)
            if params:  # merged into the receiver's own query, which httpx would drop
                url = url.copy_merge_params(params)
            response = await self._client.post(url, content=body, headers=dict(request.headers))
            status = response.status_code
            accepted = self.accept(response)
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # a build() bug must not kill the worker
            error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            self._sequence += 1
            self._deliveries.append(
                CallbackDelivery(
                    sequence=self._sequence,
                    key=callback.key,
                    url=callback.url,
                    attempt=attempt,
                    duplicate=duplicate,
                    accepted=accepted,
                    status_code=status,
                    error=error,
                    body=body,
                    sent_at=time.time(),
                    params=params,
                )
            )
        return accepted

    def _finish(self) -> None:
        with self._idle:
            self._outstanding = max(0, self._outstanding - 1)
            if self._outstanding == 0:
                self._idle.notify_all()

    # --- observing --------------------------------------------------------------------------

    @property
    def deliveries(self) -> list[CallbackDelivery]:
        """Every attempt so far, in the order made (a copy)."""
        with self._lock:
            return list(self._deliveries)

    @property
    def outstanding(self) -> int:
        """Callbacks queued, held or being retried."""
        with self._lock:
            return self._outstanding

    def clear(self) -> None:
        with self._lock:
            self._deliveries.clear()

    def wait_idle_sync(self, timeout: float = 5.0) -> bool:
        """From a thread other than the sender's loop: wait until nothing is outstanding."""
        with self._idle:
            return self._idle.wait_for(lambda: self._outstanding == 0, timeout)

    async def wait_idle(self, within_s: float = 5.0) -> bool:
        """From any event loop: wait until nothing is outstanding (polls every 5 ms)."""
        deadline = time.monotonic() + within_s
        while self.outstanding:
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.005)
        return True
