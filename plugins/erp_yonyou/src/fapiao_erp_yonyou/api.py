"""A small async client of the YonBIP open API: token, list/detail queries, write-back.

Why its own token cache: a token lasts ``expire`` seconds (7200 in the docs) and the platform
counts token calls, so one token serves every request until shortly before it expires; a
``310036`` (非法token) answer drops it and retries the call once with a fresh one.

Success is judged by the body, never by the HTTP status: the gateway answers authentication
failures with HTTP 200 and a ``code``; the token API succeeds with ``"00000"``, business APIs
with ``200`` (number or string); some APIs answer a bare text ``非法token``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Mapping
from decimal import Decimal
from typing import Any

from fapiao.sdk import (
    AuthFailed,
    FapiaoError,
    NotFound,
    ProviderError,
    ProviderHttp,
    ProviderUnavailable,
    RateLimited,
    Scrubber,
)
from fapiao_erp_yonyou.settings import YonyouSettings
from fapiao_erp_yonyou.signing import token_signature

__all__ = ["YonyouApi", "YonyouApiError", "error_for_yonyou_code"]

NAME = "yonyou"

_TOKEN_INVALID = {"310001", "310036"}
_AUTH = {"10018", "310003", "310005", "310006", "310037"}
_RATE = {"310032", "310039", "310042", "310046"}
_UNAVAILABLE = {"310043", "310071", "310072", "310076", "310077", "310504", "315001"}


class YonyouApiError(ProviderError):
    """A YonBIP business error without a canonical meaning (raw code and message kept)."""


def error_for_yonyou_code(code: str, message: str) -> FapiaoError:
    """Map a YonBIP platform code onto the canonical error family."""
    kwargs: dict[str, Any] = {"raw_code": code, "raw_message": message, "provider": NAME}
    if code in _TOKEN_INVALID or code in _AUTH:
        return AuthFailed(
            f"Yonyou rejected the credentials or token ({code})",
            message_zh=f"用友开放平台认证失败（{code}）",
            **kwargs,
        )
    if code in _RATE:
        return RateLimited(
            f"Yonyou rate limit hit ({code})", message_zh=f"用友开放平台限流（{code}）", **kwargs
        )
    if code in _UNAVAILABLE:
        return ProviderUnavailable(
            f"Yonyou gateway could not serve the call ({code})",
            message_zh=f"用友网关暂不可用（{code}）",
            **kwargs,
        )
    if code == "1002":
        return NotFound("Yonyou document not found", message_zh="用友单据不存在", **kwargs)
    return YonyouApiError(
        f"Yonyou answered {code}: {message}", message_zh=f"用友返回错误 {code}：{message}", **kwargs
    )


class YonyouApi:
    """The open API over the connector's shared client; tokens it fetches join the connector's
    scrubber, so they never reach a log line either."""

    def __init__(self, settings: YonyouSettings, http: ProviderHttp, scrubber: Scrubber) -> None:
        self.settings = settings
        self.http = http
        self.scrubber = scrubber
        self._token: str | None = None
        self._token_expires = 0.0
        self._lock = asyncio.Lock()
        self.token_fetches = 0

    # -- token ---------------------------------------------------------------------------
    async def access_token(self, *, force: bool = False) -> str:
        async with self._lock:
            margin = self.settings.token_refresh_margin_seconds
            if not force and self._token and time.monotonic() < self._token_expires - margin:
                return self._token
            timestamp = str(int(time.time() * 1000))
            secret = self.settings.app_secret.get_secret_value()
            params = {
                "appKey": self.settings.app_key,
                "timestamp": timestamp,
                "signature": token_signature(self.settings.app_key, secret, timestamp),
            }
            response = await self.http.get(
                self.settings.token_path, params=params, operation="getAccessToken"
            )
            body = _json_body(response.text)
            code = str(body.get("code", ""))
            if code != "00000":
                raise error_for_yonyou_code(code or str(response.status_code), _message(body))
            data = body.get("data") or {}
            token = data.get("access_token")
            if not isinstance(token, str) or not token:
                raise error_for_yonyou_code("310003", "token response without access_token")
            self.scrubber.add([token])
            self._token = token
            self._token_expires = time.monotonic() + float(data.get("expire", 7200))
            self.token_fetches += 1
            return token

    # -- calls ---------------------------------------------------------------------------
    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        operation: str = "",
    ) -> Any:
        """Call a gateway API and return its ``data``; retries once with a fresh token."""
        url = self.settings.gateway_prefix + path
        for attempt in range(2):
            token = await self.access_token(force=attempt > 0)
            query = {**(params or {}), "access_token": token}
            kwargs: dict[str, Any] = {"params": query, "operation": operation or path}
            if body is not None:
                kwargs["content"] = json.dumps(body, ensure_ascii=False, default=str).encode()
                kwargs["headers"] = {"Content-Type": "application/json; charset=UTF-8"}
            # Queries are reads and the write-back carries a resubmitCheckKey (MDD idempotency),
            # so every call this connector makes is safe to repeat.
            response = await self.http.request(method, url, idempotent=True, **kwargs)
            payload = _json_body(response.text)
            code = str(payload.get("code", ""))
            if code == "200":
                return payload.get("data")
            if code in _TOKEN_INVALID and attempt == 0:
                self._token = None
                continue
            raise error_for_yonyou_code(code or str(response.status_code), _message(payload))
        raise AssertionError("unreachable")  # pragma: no cover

    async def list_pages(
        self, path: str, body: Mapping[str, Any], *, page_size: int
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Yield each page's ``recordList`` until ``pageCount`` is reached."""
        page = 1
        while True:
            data = await self.call(
                "POST", path, body={**body, "pageIndex": page, "pageSize": page_size}
            )
            data = data or {}
            records = list(data.get("recordList") or [])
            if records:
                yield records
            page_count = int(data.get("pageCount") or 0)
            if not records or page >= page_count:
                return
            page += 1


def _json_body(text: str) -> dict[str, Any]:
    try:
        # Decimal, never float: amounts must stay exact from the ERP to the invoice.
        value = json.loads(text, parse_float=Decimal) if text else {}
    except ValueError:
        stripped = text.strip()
        if "token" in stripped.lower():  # some APIs answer a bare "非法token"
            return {"code": "310036", "message": stripped[:200]}
        return {"code": "", "message": stripped[:200]}
    return value if isinstance(value, dict) else {"code": "", "message": str(value)[:200]}


def _message(body: Mapping[str, Any]) -> str:
    return str(body.get("message") or body.get("msg") or "")
