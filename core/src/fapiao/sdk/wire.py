"""What a provider plugin's wire client (and its sandbox) needs beyond the shared transport.

Each piece was written by both vendors' plugins, the same rule twice; each is now written
once, and its docstring states the rule, so every plugin applies it the same way.
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
from decimal import Decimal
from typing import Any, TypeVar

from fapiao.contract.operations import OPERATIONS
from fapiao.errors import FapiaoError, OutcomeUnknown, ProviderError, error_for_code
from fapiao.models import Operation

__all__ = [
    "AccessToken",
    "ReplayGuard",
    "SlidingWindow",
    "TokenKeeper",
    "VendorCode",
    "optional_decimal",
    "unreadable_answer",
]

T = TypeVar("T")


@dataclass(frozen=True)
class VendorCode:
    """A raw code of a vendor's answers and what it means canonically: one row of the table
    the plugin maps answers with and its sandbox answers from, so the two cannot drift."""

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
        """The canonical exception, keeping what the vendor said (also as ``message_zh``)."""
        return error_for_code(
            self.canonical,
            raw_code=self.code,
            raw_message=raw_message,
            provider=provider,
            message_en=message_en or self.message_en,
            message_zh=message_zh or raw_message or self.message,
            field=self.field,
        )


def optional_decimal(value: Any) -> Decimal | None:
    """A number as a vendor's answer carries it (text, an integer, an exact-JSON ``Decimal``)
    as an exact ``Decimal``, through its text and never a float; ``None`` when absent."""
    if value is None or value == "":
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def unreadable_answer(
    operation: Operation | None, step: str, *, provider: str, status_code: int
) -> OutcomeUnknown | ProviderError:
    """The error for an answer to ``step`` (made for ``operation``; ``None``: outside the
    operations table, e.g. a token grant) that is not the vendor's format. After a call that
    may not be repeated the vendor may have acted on it: :class:`OutcomeUnknown`, settled by
    querying, never by resending; after any other, :class:`ProviderError`."""
    raw = str(status_code)
    en, zh = f"unreadable answer to {step} (HTTP {raw})", f"{step} 的应答无法解析（HTTP {raw}）"
    if operation is not None and not OPERATIONS[operation].idempotent:
        en, zh = f"{en}: outcome unknown, query before resending", f"{zh}，结果未知，须查询确认"
        return OutcomeUnknown(en, message_zh=zh, provider=provider, raw_code=raw)
    return ProviderError(en, message_zh=zh, provider=provider, raw_code=raw)


@dataclass(frozen=True)
class AccessToken:
    """A token as the vendor granted it; times are on the :class:`TokenKeeper`'s clock."""

    value: str
    expires_at: float
    refresh_token: str | None = None
    refresh_expires_at: float | None = None


Obtain = Callable[[AccessToken | None], Awaitable[AccessToken]]  # given the previous token


class TokenKeeper:
    """The access token of one app (or app user), shared by every concurrent call: renewed
    ``margin_seconds`` before it expires, by one caller while the others wait (vendors count
    and limit token calls). Its lock is made per event loop, so a process-wide keeper
    outlives the loop that created it."""

    def __init__(
        self, *, margin_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.margin_seconds = margin_seconds
        self.clock = clock
        self.current: AccessToken | None = None
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def valid(self) -> AccessToken | None:
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
        """Forget a refused token (unless already replaced), keeping its refresh token."""
        if self.current is not None and self.current.value == value:
            self.current = dataclasses.replace(self.current, expires_at=-math.inf)

    async def send(
        self, obtain: Obtain, call: Callable[[str], Awaitable[T]], *, refused: Collection[str]
    ) -> T:
        """``call(token)``, once more with a new token if the gateway refused this one (an
        error whose ``raw_code`` is in ``refused``): a gateway checks the token before any
        business runs, so this resend is safe even for issuance."""
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
    """At most ``limit`` events in any ``window_seconds`` (a call rate, a token quota), as a
    client counts them to stay within a vendor's quota and a sandbox to enforce it."""

    def __init__(self, window_seconds: float, *, clock: Callable[[], float] = time.monotonic):
        self.window_seconds = window_seconds
        self.clock = clock
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def admit(self, limit: float) -> bool:
        """Record an event now, unless ``limit`` fall in the window already (then False)."""
        now = self.clock()
        with self._lock:
            self._prune(now)
            if len(self._times) >= limit:
                return False
            self._times.append(now)
            return True

    def __len__(self) -> int:
        with self._lock:
            self._prune(self.clock())
            return len(self._times)

    def _prune(self, now: float) -> None:
        times = self._times
        while times and times[0] <= now - self.window_seconds:
            times.popleft()


class ReplayGuard:
    """A request id (nonce) seen before is a replay. Ids are kept ``horizon_seconds`` (at
    most ``capacity``, oldest first out): longer than a signed timestamp stays acceptable,
    so an id is only forgotten once a request carrying it is refused as stale anyway."""

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
