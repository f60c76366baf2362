"""What a provider plugin's wire client (and its sandbox) needs beyond the shared transport.

Each of these was written twice, once per vendor, with the same rule behind it; here it is
written once, so every plugin applies the rule the same way:

* :class:`VendorCode` — one row of a vendor's table of raw answer codes (its own message,
  the canonical code, an English message, whether public material shows it, the field it
  is about), which the plugin turns into the canonical error and its sandbox answers from;
* :func:`unreadable_answer` — an answer that cannot be read is an unknown outcome after a
  call that may not be repeated (the operations table says which: the vendor may have acted
  on it, so only a query can settle it) and a plain provider error after any other;
* :class:`TokenKeeper` — one access token shared by concurrent calls: obtained by one of them
  (single flight), renewed a margin before it expires, forgotten when the gateway refuses
  it, and the refused call sent once more with a new one (a gateway checks the token before
  any business runs, so that resend can never act twice);
* :class:`SlidingWindow` — at most N events in any window: a vendor's call rate or token
  quota, counted by a client so as not to exhaust it, or enforced by a sandbox;
* :class:`ReplayGuard` — a request id (nonce) seen before is a replay; ids are remembered for
  as long as the signed timestamps they came with could still be accepted.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import TypeVar

from fapiao.contract.operations import OPERATIONS
from fapiao.errors import FapiaoError, OutcomeUnknown, ProviderError, error_for_code
from fapiao.models import Operation

__all__ = [
    "AccessToken",
    "ReplayGuard",
    "SlidingWindow",
    "TokenKeeper",
    "VendorCode",
    "unreadable_answer",
]

T = TypeVar("T")


@dataclass(frozen=True)
class VendorCode:
    """A raw code of a vendor's answers and what it means canonically."""

    code: str
    message: str  # the vendor's own (Chinese) message
    canonical: str  # a fapiao.errors code
    message_en: str
    documented: bool = False  # seen in public material; False means inferred (see the README)
    field: str | None = None  # the canonical field the code is about, when there is one

    def error(
        self,
        raw_message: str | None,
        *,
        provider: str,
        message_en: str | None = None,
        message_zh: str | None = None,
    ) -> FapiaoError:
        """The canonical exception for an answer with this code, keeping what the vendor
        said (``raw_message``, also the Chinese message unless one is given)."""
        return error_for_code(
            self.canonical,
            raw_code=self.code,
            raw_message=raw_message,
            provider=provider,
            message_en=message_en or self.message_en,
            message_zh=message_zh or raw_message or self.message,
            field=self.field,
        )


def unreadable_answer(
    operation: Operation | None, step: str, *, provider: str, status_code: int
) -> OutcomeUnknown | ProviderError:
    """The error for an answer to ``step`` (a call made for ``operation``; ``None`` for a
    call outside the operations table, such as a token grant) that is not the vendor's
    format: :class:`OutcomeUnknown` when the operation is not idempotent, since the vendor
    may have acted on the request (the engine settles it by querying, never by resending),
    else :class:`ProviderError`. The HTTP status is kept as the raw code."""
    raw = str(status_code)
    if operation is not None and not OPERATIONS[operation].idempotent:
        return OutcomeUnknown(
            f"unreadable answer to {step} (HTTP {raw}): outcome unknown, query before resending",
            message_zh=f"{step} 的应答无法解析（HTTP {raw}），结果未知，须查询确认",
            provider=provider,
            raw_code=raw,
        )
    return ProviderError(
        f"unreadable answer to {step} (HTTP {raw})",
        message_zh=f"{step} 的应答无法解析（HTTP {raw}）",
        provider=provider,
        raw_code=raw,
    )


@dataclass(frozen=True)
class AccessToken:
    """A token as the vendor granted it; times are on the :class:`TokenKeeper`'s clock."""

    value: str
    expires_at: float
    refresh_token: str | None = None
    refresh_expires_at: float | None = None


Obtain = Callable[[AccessToken | None], Awaitable[AccessToken]]
"""Grants a new token, given the previous one (whose refresh token it may use) or ``None``."""


class TokenKeeper:
    """The access token of one app (or app user), shared by every concurrent call.

    ``get`` returns the current token while it has more than ``margin_seconds`` left, else
    lets exactly one caller obtain a new one while the others wait for it (a vendor counts
    and limits token calls). The lock is made per event loop, so a keeper kept for the whole
    process survives the loop that created it."""

    def __init__(
        self, *, margin_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.margin_seconds = margin_seconds
        self.clock = clock
        self.current: AccessToken | None = None
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def valid(self) -> AccessToken | None:
        """The current token if it is not within the renewal margin of its expiry."""
        token = self.current
        if token is not None and self.clock() < token.expires_at - self.margin_seconds:
            return token
        return None

    async def get(self, obtain: Obtain) -> str:
        token = self.valid()
        if token is not None:
            return token.value
        async with self._loop_lock():
            token = self.valid()  # another caller may have renewed it while this one waited
            if token is None:
                token = self.current = await obtain(self.current)
            return token.value

    def invalidate(self, value: str) -> None:
        """Forget ``value`` after the gateway refused it, unless another call replaced it
        meanwhile; its refresh token stays usable for the renewal."""
        if self.current is not None and self.current.value == value:
            self.current = dataclasses.replace(self.current, expires_at=-math.inf)

    async def send(
        self, obtain: Obtain, call: Callable[[str], Awaitable[T]], *, refused: Collection[str]
    ) -> T:
        """``call(token)``; when it raises an error whose ``raw_code`` is in ``refused`` (the
        gateway refused the token itself), forget the token and call once more with a new
        one. Only the token is retried, never the business: safe even for issuance."""
        token = await self.get(obtain)
        try:
            return await call(token)
        except FapiaoError as exc:
            if exc.raw_code not in refused:
                raise
            self.invalidate(token)
        return await call(await self.get(obtain))

    def _loop_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock


class SlidingWindow:
    """Events of the last ``window_seconds``: :meth:`admit` records one unless ``limit`` of
    them already fall in the window. Thread-safe (a sandbox's handlers and its test thread
    may share one)."""

    def __init__(self, window_seconds: float, *, clock: Callable[[], float] = time.monotonic):
        self.window_seconds = window_seconds
        self.clock = clock
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def admit(self, limit: float) -> bool:
        """Record an event now and return True, or return False (recording nothing) when
        ``limit`` events happened within the window."""
        now = self.clock()
        with self._lock:
            self._prune(now)
            if len(self._times) >= limit:
                return False
            self._times.append(now)
            return True

    def __len__(self) -> int:
        """Events within the window now."""
        with self._lock:
            self._prune(self.clock())
            return len(self._times)

    def _prune(self, now: float) -> None:
        times = self._times
        while times and times[0] <= now - self.window_seconds:
            times.popleft()


class ReplayGuard:
    """Request ids seen in the last ``horizon_seconds`` (at most ``capacity`` of them, the
    oldest forgotten first): :meth:`first_time` is False for one seen before, a replay. Make
    the horizon longer than the accepted age of a signed timestamp, so that an id is only
    forgotten once a request carrying it would be refused as stale anyway."""

    def __init__(
        self,
        horizon_seconds: float,
        *,
        capacity: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.horizon_seconds = horizon_seconds
        self.capacity = capacity
        self.clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, request_id: str) -> bool:
        """Remember ``request_id`` and return True, or False when it was seen before."""
        now = self.clock()
        with self._lock:
            seen = self._seen
            if request_id in seen:
                return False
            seen[request_id] = now
            horizon = now - self.horizon_seconds
            while seen and (len(seen) > self.capacity or next(iter(seen.values())) < horizon):
                seen.popitem(last=False)
            return True
