"""Access tokens: fetched rarely, cached until shortly before expiry, shared per app.

The token endpoint is a plain form POST (``client_id``, ``client_secret``, ``grant_type``),
not a signed service call, and the platform caps it (about 50 calls per 30 days per app).
So tokens are cached per (endpoint, app, merchant) for the whole process — every provider
instance of the same profile shares one — and a local counter refuses to exceed the quota
with ``RateLimited`` instead of burning the last calls. Concurrent requests wait on one
fetch (a lock), never fetch in parallel.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, ClassVar

from fapiao.errors import AuthFailed, ProviderError, RateLimited
from fapiao.transport import ProviderHttp
from fapiao_provider_a.errors_map import error_from_answer
from fapiao_provider_a.settings import NuonuoSettings

__all__ = ["TokenCache", "TokenManager"]

_MONTH = 30 * 24 * 3600.0
_REFRESH_MARGIN = 300.0  # renew five minutes before the platform says it expires


@dataclass
class _Entry:
    token: str | None = None
    expires_at: float = 0.0
    refresh_token: str | None = None
    user_id: str | None = None
    calls: deque[float] = field(default_factory=deque)
    lock: asyncio.Lock | None = None


class TokenCache:
    """Process-wide token store keyed by (token URL, app key, merchant tax ID)."""

    _entries: ClassVar[dict[tuple[str, str, str], _Entry]] = {}

    @classmethod
    def entry(cls, key: tuple[str, str, str]) -> _Entry:
        return cls._entries.setdefault(key, _Entry())

    @classmethod
    def clear(cls) -> None:
        cls._entries.clear()


class TokenManager:
    def __init__(self, settings: NuonuoSettings, http: ProviderHttp) -> None:
        self.settings = settings
        self.http = http
        self.url = settings.resolved_token_url()
        self._entry = TokenCache.entry((self.url, settings.app_key, settings.user_tax))
        if settings.access_token is not None and self._entry.token is None:
            self._entry.token = settings.access_token.get_secret_value()
            self._entry.expires_at = float("inf")  # persisted: valid until refused
        if settings.refresh_token is not None and self._entry.refresh_token is None:
            self._entry.refresh_token = settings.refresh_token.get_secret_value()
            self._entry.user_id = settings.isv_user_id

    @property
    def calls_in_window(self) -> int:
        return len(self._entry.calls)

    async def get(self) -> str:
        entry = self._entry
        if entry.token is not None and time.time() < entry.expires_at - _REFRESH_MARGIN:
            return entry.token
        if entry.lock is None:
            entry.lock = asyncio.Lock()
        try:
            async with entry.lock:
                if entry.token is not None and time.time() < entry.expires_at - _REFRESH_MARGIN:
                    return entry.token
                return await self._fetch()
        except RuntimeError:  # the lock belongs to another (finished) event loop
            entry.lock = asyncio.Lock()
            return await self.get()

    def invalidate(self, token: str) -> None:
        """Forget ``token`` after the gateway refused it (next ``get`` fetches anew)."""
        if self._entry.token == token:
            self._entry.token = None
            self._entry.expires_at = 0.0

    def _form(self) -> dict[str, str]:
        s = self.settings
        secret = s.app_secret.get_secret_value()
        entry = self._entry
        if s.grant == "client_credentials":
            return {
                "client_id": s.app_key,
                "client_secret": secret,
                "grant_type": "client_credentials",
            }
        if entry.refresh_token and entry.user_id:
            return {
                "client_id": entry.user_id,  # the platform wants the authorised userId here
                "client_secret": secret,
                "grant_type": "refresh_token",
                "refresh_token": entry.refresh_token,
            }
        if s.authorization_code is None or not s.redirect_uri:
            raise AuthFailed(
                "ISV profile without a usable authorization_code/redirect_uri or refresh token",
                message_zh="第三方应用缺少授权码与回调地址或刷新令牌",
                provider="nuonuo",
                field="authorization_code",
            )
        return {
            "client_id": s.app_key,
            "client_secret": secret,
            "grant_type": "authorization_code",
            "code": s.authorization_code.get_secret_value(),
            "taxNum": s.user_tax,
            "redirect_uri": s.redirect_uri,
        }

    async def _fetch(self) -> str:
        entry = self._entry
        now = time.time()
        while entry.calls and entry.calls[0] < now - _MONTH:
            entry.calls.popleft()
        if len(entry.calls) >= self.settings.token_calls_per_30_days:
            raise RateLimited(
                f"token quota of {self.settings.token_calls_per_30_days} calls per 30 days "
                "used up; persist and reuse tokens (settings.access_token)",
                message_zh="30 天内获取令牌次数已达上限，请持久化并复用令牌",
                provider="nuonuo",
                retryable=False,
            )
        entry.calls.append(now)
        response = await self.http.post(
            self.url, data=self._form(), idempotent=True, operation="accessToken"
        )
        try:
            data: dict[str, Any] = response.json()
        except ValueError:
            raise ProviderError(
                f"token endpoint answered HTTP {response.status_code} without JSON",
                message_zh="令牌接口返回非 JSON 内容",
                provider="nuonuo",
                raw_code=str(response.status_code),
            ) from None
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            code = str(data.get("error") or data.get("code") or response.status_code)
            raise error_from_answer(code, data.get("error_description") or data.get("describe"))
        entry.token = token
        entry.expires_at = now + float(data.get("expires_in") or 86_400)
        if data.get("refresh_token"):
            entry.refresh_token = str(data["refresh_token"])
        if data.get("userId"):
            entry.user_id = str(data["userId"])
        return token
