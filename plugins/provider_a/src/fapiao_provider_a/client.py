"""The Nuonuo wire client: access tokens, signed calls, answers turned into data or errors.

It sits on the shared transport (``ProviderHttp``), which decides what a network failure
means. This module adds Nuonuo's own: tokens cached per (endpoint, app, merchant) for the
whole process, within the platform's quota of about 50 token calls per 30 days
(``RateLimited`` rather than burning the last ones). Fetching a token once for concurrent
callers and resending, once, a call the gateway refused *because of its token* (safe even
for issuance: the gateway checks the token before any business runs) is
``fapiao.sdk.TokenKeeper``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from fapiao.sdk import (
    OPERATIONS,
    AccessToken,
    AuthFailed,
    Operation,
    ProviderHttp,
    RateLimited,
    SlidingWindow,
    TokenKeeper,
    unreadable_answer,
)
from fapiao_provider_a.errors_map import SUCCESS, TOKEN_REJECTED, error_from_answer
from fapiao_provider_a.protocol import SERVICES_PATH
from fapiao_provider_a.settings import NuonuoSettings
from fapiao_provider_a.signing import dump_body, signed_query

__all__ = ["NuonuoClient", "TokenCache"]

_MONTH = 30 * 24 * 3600.0
_REFRESH_MARGIN = 300.0  # renew five minutes before the platform says it expires


@dataclass
class _Entry:
    keeper: TokenKeeper = field(default_factory=lambda: TokenKeeper(margin_seconds=_REFRESH_MARGIN))
    refresh_token: str | None = None
    user_id: str | None = None
    calls: SlidingWindow = field(default_factory=lambda: SlidingWindow(_MONTH))


class TokenCache:
    """Process-wide token store keyed by (token URL, app key, merchant tax ID)."""

    _entries: ClassVar[dict[tuple[str, str, str], _Entry]] = {}

    @classmethod
    def entry(cls, key: tuple[str, str, str]) -> _Entry:
        return cls._entries.setdefault(key, _Entry())

    @classmethod
    def clear(cls) -> None:
        cls._entries.clear()


class NuonuoClient:
    """Signed calls to ``/open/v1/services`` for one profile (app and merchant), and its token."""

    def __init__(self, http: ProviderHttp, settings: NuonuoSettings, *, provider: str) -> None:
        self.http = http
        self.settings = settings
        self.provider = provider
        self._secret = settings.app_secret.get_secret_value()
        self.token_url = settings.resolved_token_url()
        self._entry = TokenCache.entry((self.token_url, settings.app_key, settings.user_tax))
        if settings.access_token is not None and self._entry.keeper.current is None:
            # persisted: valid until the gateway refuses it
            persisted = settings.access_token.get_secret_value()
            self._entry.keeper.current = AccessToken(persisted, expires_at=float("inf"))
        if settings.refresh_token is not None and self._entry.refresh_token is None:
            self._entry.refresh_token = settings.refresh_token.get_secret_value()
            self._entry.user_id = settings.isv_user_id

    @property
    def calls_in_window(self) -> int:
        return len(self._entry.calls)

    async def access_token(self) -> str:
        return await self._entry.keeper.get(self._fetch_token)

    def _token_form(self) -> dict[str, str]:
        s = self.settings
        secret = self._secret
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
                provider=self.provider,
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

    async def _fetch_token(self, _previous: AccessToken | None) -> AccessToken:
        entry = self._entry
        if not entry.calls.admit(self.settings.token_calls_per_30_days):
            raise RateLimited(
                f"token quota of {self.settings.token_calls_per_30_days} calls per 30 days "
                "used up; persist and reuse tokens (settings.access_token)",
                message_zh="30 天内获取令牌次数已达上限，请持久化并复用令牌",
                provider=self.provider,
                retryable=False,
            )
        started = entry.keeper.clock()
        response = await self.http.post(
            self.token_url, data=self._token_form(), idempotent=True, operation="accessToken"
        )
        try:
            data: dict[str, Any] = response.json()
        except ValueError:
            status = response.status_code
            raise unreadable_answer(
                None, "accessToken", provider=self.provider, status_code=status
            ) from None
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            code = str(data.get("error") or data.get("code") or response.status_code)
            raise error_from_answer(code, data.get("error_description") or data.get("describe"))
        if data.get("refresh_token"):
            entry.refresh_token = str(data["refresh_token"])
        if data.get("userId"):
            entry.user_id = str(data["userId"])
        return AccessToken(token, expires_at=started + float(data.get("expires_in") or 86_400))

    async def call(self, method: str, payload: Mapping[str, Any], *, operation: Operation) -> Any:
        """One signed service call for a step of ``operation``: the ``result`` of an
        ``E0000`` answer, else the canonical error (a refused token is refreshed and the call
        resent, once). The operations table says whether the call may be repeated."""
        idempotent = OPERATIONS[operation].idempotent
        content = dump_body(payload)
        body = content.encode("utf-8")

        async def send(token: str) -> Any:
            params, signature = signed_query(self._secret, self.settings.app_key, content)
            headers = {
                "Content-Type": "application/json; charset=UTF-8",
                "X-Nuonuo-Sign": signature,
                "accessToken": token,
                "userTax": self.settings.user_tax,
                "method": method,
            }
            response = await self.http.post(
                SERVICES_PATH,
                params=params,
                content=body,
                headers=headers,
                idempotent=idempotent,
                operation=method,
            )
            try:
                answer = response.json()
                code = str(answer["code"])
            except (ValueError, KeyError, TypeError):
                status = response.status_code
                raise unreadable_answer(
                    operation, method, provider=self.provider, status_code=status
                ) from None
            if code == SUCCESS:
                return answer.get("result")
            raise error_from_answer(code, answer.get("describe"))

        return await self._entry.keeper.send(self._fetch_token, send, refused=TOKEN_REJECTED)
