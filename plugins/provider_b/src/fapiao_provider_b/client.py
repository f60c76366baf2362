"""The Baiwang wire client: token life cycle, signed calls, answers turned into data or errors.

It sits on the shared transport (``ProviderHttp``), which already decides what a network
failure means (not sent → ``ProviderUnavailable``; maybe sent → ``OutcomeUnknown``). This
module adds what is Baiwang's own: one OAuth token per app user, refreshed before it expires
with the refresh token (falling back to the password grant), never fetched once per request,
and one retry of a call the platform refused *because of the token*, which is safe even for
issuance since the platform checks the token before it looks at the business content.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from fapiao.sdk import (
    OPERATIONS,
    AccessToken,
    AuthFailed,
    Operation,
    ProviderError,
    ProviderHttp,
    TokenKeeper,
    unreadable_answer,
)
from fapiao_provider_b.errors_map import TOKEN_REJECTED, to_canonical
from fapiao_provider_b.protocol import Method, dumps, loads
from fapiao_provider_b.settings import BaiwangSettings
from fapiao_provider_b.signing import digest_password, public_params, sign

__all__ = ["BaiwangClient"]

_JSON = {"Content-Type": "application/json;charset=UTF-8"}


class BaiwangClient:
    """Signed calls to ``/router/rest`` for one app user."""

    def __init__(
        self,
        http: ProviderHttp,
        settings: BaiwangSettings,
        *,
        provider: str = "baiwang",
        clock: Callable[[], float] = time.monotonic,
        on_secret: Callable[[str], None] | None = None,
    ) -> None:
        self.http = http
        self.settings = settings
        self.provider = provider
        self.clock = clock
        self.on_secret = on_secret  # lets the scrubber learn each token as it is issued
        self._secret = settings.app_secret.get_secret_value()
        margin = float(settings.token_refresh_margin_seconds)
        self.tokens = TokenKeeper(margin_seconds=margin, clock=clock)
        self.token_requests = 0  # password grants + refreshes made (observable in tests)
        self.refreshes = 0

    # --- token -------------------------------------------------------------------------

    async def access_token(self) -> str:
        return await self.tokens.get(self._renew)

    async def _renew(self, old: AccessToken | None) -> AccessToken:
        if (
            old is not None
            and old.refresh_token
            and (old.refresh_expires_at is None or self.clock() < old.refresh_expires_at)
        ):
            try:
                self.refreshes += 1
                return await self._grant(
                    "refresh_token",
                    {"refresh_token": old.refresh_token, "client_secret": self._secret},
                )
            except AuthFailed:
                pass  # refresh token revoked or expired: log in again below
        password = digest_password(
            self.settings.password.get_secret_value(),
            self.settings.user_salt.get_secret_value() if self.settings.user_salt else None,
            self.settings.password_digest,
        )
        return await self._grant(
            "password",
            {
                "username": self.settings.username,
                "password": password,
                "client_secret": self._secret,
            },
        )

    async def _grant(self, grant_type: str, body: dict[str, Any]) -> AccessToken:
        self.token_requests += 1
        params = {
            "method": Method.TOKEN,
            "grant_type": grant_type,
            "client_id": self.settings.app_key,
            "version": "7.0",
            "timestamp": str(int(time.time() * 1000)),
            "signType": "MD5",
            "encryptType": "NONE",
            "encryptScope": "00",
        }
        if self.settings.org_auth_code is not None:
            params["orgAuthCode"] = self.settings.org_auth_code.get_secret_value()
        raw = dumps(body)
        params["sign"] = sign(params, raw, self._secret)
        started = self.clock()
        answer = await self._post(params, raw, operation=None, step="token")
        data = answer if isinstance(answer, dict) else {}
        access = data.get("access_token")
        if not access:
            raise ProviderError(
                "token answer without access_token",
                message_zh="令牌应答缺少 access_token",
                provider=self.provider,
            )
        refresh = data.get("refresh_token")
        for secret in (access, refresh):
            if secret and self.on_secret is not None:
                self.on_secret(str(secret))
        expires_in = float(data.get("expires_in") or 7200)
        refresh_in = data.get("refresh_expires_in")
        return AccessToken(
            str(access),
            refresh_token=str(refresh) if refresh else None,
            expires_at=started + expires_in,
            refresh_expires_at=started + float(refresh_in) if refresh_in else None,
        )

    # --- business calls ----------------------------------------------------------------

    async def call(self, method: str, body: dict[str, Any], *, operation: Operation) -> Any:
        """Call ``method`` with ``body`` (``taxNo`` and ``data``/flat fields) for one step of
        ``operation`` and return ``response`` of a successful answer; raise the canonical
        error otherwise. The operations table says whether the call may be repeated."""
        raw = dumps(body)

        async def send(token: str) -> Any:
            params = public_params(method, app_key=self.settings.app_key, token=token)
            params["sign"] = sign(params, raw, self._secret)
            return await self._post(params, raw, operation=operation, step=method)

        return await self.tokens.send(self._renew, send, refused=TOKEN_REJECTED)

    async def _post(
        self, params: dict[str, str], raw: bytes, *, operation: Operation | None, step: str
    ) -> Any:
        """POST one call made for ``operation`` (``None``: the token grant, repeatable)."""
        idempotent = operation is None or OPERATIONS[operation].idempotent
        response = await self.http.request(
            "POST",
            self.settings.api_path,
            idempotent=idempotent,
            operation=step,
            params=params,
            content=raw,
            headers=_JSON,
        )
        try:
            answer = loads(response.content)
        except Exception as exc:  # a garbled answer: was it processed? only a query can tell
            status = response.status_code
            raise unreadable_answer(
                operation, step, provider=self.provider, status_code=status
            ) from exc
        if not isinstance(answer, dict):
            raise ProviderError(
                f"unexpected answer to {step}",
                message_zh=f"{step} 应答格式异常",
                provider=self.provider,
            )
        if answer.get("success") is True:
            return answer.get("response")
        error = answer.get("errorResponse") or {}
        raise to_canonical(
            error.get("code"),
            error.get("message"),
            sub_code=error.get("subCode"),
            sub_message=error.get("subMessage"),
            provider=self.provider,
        )
