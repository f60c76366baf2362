"""The access tokens a sandbox grants, judged the way every vendor's gateway judges them.

A token unknown to the sandbox or granted to another app is invalid; one past its time has
expired; a refresh token (where the vendor has them) works once, within its own time. Tests
expire every access token at once to make a client renew. The clock is the sandbox's choice
(its business clock, or the wall clock where the vendor's tokens follow real time).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

__all__ = ["SandboxToken", "SandboxTokens"]

Refusal = Literal["invalid", "expired"]


@dataclass
class SandboxToken:
    app_key: str
    value: str
    expires_at: datetime
    refresh: str | None = None
    refresh_expires_at: datetime | None = None
    refresh_used: bool = False


class SandboxTokens:
    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.access: dict[str, SandboxToken] = {}
        self.refresh: dict[str, SandboxToken] = {}
        self._lock = threading.Lock()

    def grant(self, app_key: str, ttl: float, *, refresh_ttl: float | None = None) -> SandboxToken:
        """A new access token for ``app_key`` (and a refresh token when ``refresh_ttl``)."""
        now = self.clock()
        token = SandboxToken(app_key, secrets.token_hex(16), now + timedelta(seconds=ttl))
        if refresh_ttl is not None:
            token.refresh = secrets.token_hex(16)
            token.refresh_expires_at = now + timedelta(seconds=refresh_ttl)
        with self._lock:
            self.access[token.value] = token
            if token.refresh is not None:
                self.refresh[token.refresh] = token
        return token

    def check(self, value: str | None, app_key: str) -> Refusal | None:
        """Why the access token ``value`` presented by ``app_key`` is refused, or None."""
        with self._lock:
            token = self.access.get(value or "")
        if token is None or token.app_key != app_key:
            return "invalid"
        return "expired" if self.clock() >= token.expires_at else None

    def redeem(self, refresh: str, app_key: str) -> Refusal | None:
        """Use the refresh token once (it rotates), or say why it is refused."""
        with self._lock:
            token = self.refresh.get(refresh)
            if token is None or token.app_key != app_key or token.refresh_used:
                return "invalid"
            if token.refresh_expires_at is not None and self.clock() >= token.refresh_expires_at:
                return "expired"
            token.refresh_used = True
            return None

    def expire_all(self) -> int:
        """Expire every access token now (refresh tokens stay valid); how many there are."""
        past = self.clock() - timedelta(seconds=1)
        with self._lock:
            for token in self.access.values():
                token.expires_at = min(token.expires_at, past)
            return len(self.access)
