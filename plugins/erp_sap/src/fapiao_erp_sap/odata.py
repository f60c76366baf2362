"""OData v2 as SAP Gateway speaks it: the JSON wire format and a small async client.

Shared by the connector (client side) and the simulator (server side) so both agree on the
details that trip integrations up: ``/Date(ms)/`` and ``/Date(ms+0000)/`` datetimes, decimals as
strings, ``'`` doubled in string literals, ``datetimeoffset'…'`` literals in ``$filter``, the
``{"d": {"results": [...], "__next": ...}}`` envelope, and the CSRF token dance on writes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx

from fapiao.sdk import AuthFailed, NotFound, ProviderError, ProviderHttp

__all__ = [
    "ODataClient",
    "format_datetime",
    "format_datetimeoffset",
    "format_datetimeoffset_literal",
    "odata_error",
    "parse_datetime",
    "string_literal",
]

_DATE_RE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_datetime(value: str) -> datetime:
    """``/Date(1700000000000)/`` or ``/Date(1700000000000+0480)/`` → aware datetime (UTC).

    The optional suffix is an offset in minutes (SAP writes ``+0000``); the tick count is
    always UTC milliseconds, so the offset only changes the zone the value is shown in.
    """
    match = _DATE_RE.match(value)
    if match is None:
        raise ValueError(f"not an OData v2 JSON date: {value!r}")
    instant = _EPOCH + timedelta(milliseconds=int(match.group(1)))
    if match.group(2):
        return instant.astimezone(timezone(timedelta(minutes=int(match.group(2)))))
    return instant


def _ticks(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // timedelta(milliseconds=1)


def format_datetime(value: datetime) -> str:
    """Edm.DateTime in JSON: ``/Date(ms)/`` (naive values are taken as UTC)."""
    return f"/Date({_ticks(value)})/"


def format_datetimeoffset(value: datetime) -> str:
    """Edm.DateTimeOffset in JSON: ``/Date(ms+0000)/`` as SAP Gateway writes it."""
    return f"/Date({_ticks(value)}+0000)/"


def format_datetimeoffset_literal(value: datetime) -> str:
    """``datetimeoffset'2024-05-01T08:00:00.123Z'`` for ``$filter`` (UTC, millisecond precision)."""
    utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond // 1000:03d}"
    return f"datetimeoffset'{text}Z'"


def string_literal(value: str) -> str:
    """An Edm.String literal: quotes doubled, as the OData v2 ABNF requires."""
    return "'" + value.replace("'", "''") + "'"


def odata_error(response: httpx.Response) -> tuple[str | None, str]:
    """(code, message) of an SAP Gateway error body; falls back to the HTTP status."""
    try:
        body = response.json()
        error = body["error"]
        message = error.get("message")
        text = message.get("value") if isinstance(message, dict) else str(message)
        return error.get("code"), text or f"HTTP {response.status_code}"
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, f"HTTP {response.status_code}: {response.text[:200]}"


class _TokenSource:
    """Bearer tokens from an OAuth 2.0 client-credentials endpoint, cached until near expiry."""

    def __init__(
        self, http: ProviderHttp, token_url: str, client_id: str, secret: str, scope: str | None
    ) -> None:
        self._http = http
        self._url = token_url
        self._client_id = client_id
        self._secret = secret
        self._scope = scope
        self._token: str | None = None
        self._expires = 0.0

    def invalidate(self) -> None:
        self._token = None

    async def token(self) -> str:
        if self._token and time.monotonic() < self._expires:
            return self._token
        form = {"grant_type": "client_credentials"}
        if self._scope:
            form["scope"] = self._scope
        # Asking for a token twice is harmless, so the request may be retried.
        response = await self._http.request(
            "POST",
            self._url,
            idempotent=True,
            operation="oauth_token",
            data=form,
            auth=(self._client_id, self._secret),
            headers={"Accept": "application/json"},
        )
        if response.status_code != 200:
            raise AuthFailed(
                f"SAP OAuth token endpoint refused the client credentials (HTTP {response.status_code})",
                message_zh=f"SAP OAuth 令牌接口拒绝了客户端凭据（HTTP {response.status_code}）",
                raw_code=str(response.status_code),
                provider="sap",
            )
        body = response.json()
        self._token = str(body["access_token"])
        lifetime = float(body.get("expires_in", 3600))
        self._expires = time.monotonic() + max(lifetime - 60.0, lifetime / 2)
        return self._token


class ODataClient:
    """Reads and writes SAP OData v2 services through the project's transport (the client
    it is given belongs to the connector, which closes it).

    Reads are idempotent and retried by the transport. Writes are PUTs of a whole entity by key
    (the same PUT twice leaves the same state), so they are retried too; a CSRF token is fetched
    before the first write and fetched again once if SAP answers ``x-csrf-token: Required``.
    """

    def __init__(
        self,
        http: ProviderHttp,
        *,
        basic: tuple[str, str] | None = None,
        oauth: _TokenSource | None = None,
        sap_client: str | None = None,
        language: str | None = None,
    ) -> None:
        self.http = http
        self._basic = basic
        self._oauth = oauth
        self._params: dict[str, str] = {}
        if sap_client:
            self._params["sap-client"] = sap_client
        if language:
            self._params["sap-language"] = language
        self._csrf: dict[str, str] = {}

    @classmethod
    def oauth_source(
        cls, http: ProviderHttp, token_url: str, client_id: str, secret: str, scope: str | None
    ) -> _TokenSource:
        return _TokenSource(http, token_url, client_id, secret, scope)

    async def _auth_kwargs(self) -> dict[str, Any]:
        if self._oauth is not None:
            return {"headers": {"Authorization": f"Bearer {await self._oauth.token()}"}}
        if self._basic is not None:
            return {"auth": self._basic}
        return {}

    async def _send(
        self,
        method: str,
        url: str,
        *,
        idempotent: bool,
        operation: str,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        for attempt in range(2):
            auth = await self._auth_kwargs()
            all_headers = {"Accept": "application/json", **(headers or {})}
            all_headers.update(auth.pop("headers", {}))
            kwargs: dict[str, Any] = {"headers": all_headers, **auth}
            query = {**self._params, **(params or {})}
            if query:
                kwargs["params"] = query
            if json is not None:
                kwargs["json"] = json
            response = await self.http.request(
                method, url, idempotent=idempotent, operation=operation, **kwargs
            )
            if response.status_code == 401 and self._oauth is not None and attempt == 0:
                self._oauth.invalidate()  # expired or revoked: one fresh token, then give up
                continue
            return response
        return response

    def _raise_for(self, response: httpx.Response, what: str) -> None:
        if response.status_code < 400:
            return
        code, message = odata_error(response)
        if response.status_code in (401, 403):
            raise AuthFailed(
                f"SAP refused {what}: {message}",
                message_zh=f"SAP 拒绝访问（{what}）：{message}",
                raw_code=code or str(response.status_code),
                raw_message=message,
                provider="sap",
            )
        if response.status_code == 404:
            raise NotFound(
                f"SAP: {what} not found: {message}",
                message_zh=f"SAP 中未找到 {what}：{message}",
                raw_code=code or "404",
                raw_message=message,
                provider="sap",
            )
        raise ProviderError(
            f"SAP answered HTTP {response.status_code} to {what}: {message}",
            message_zh=f"SAP 对 {what} 返回 HTTP {response.status_code}：{message}",
            raw_code=code or str(response.status_code),
            raw_message=message,
            provider="sap",
        )

    async def get(self, url: str, params: Mapping[str, str] | None = None) -> Any:
        """GET one resource; returns the content of the ``d`` envelope."""
        response = await self._send("GET", url, idempotent=True, operation="read", params=params)
        self._raise_for(response, url)
        try:
            return response.json()["d"]
        except (ValueError, KeyError) as exc:
            raise ProviderError(
                f"SAP answered {url} without an OData v2 JSON body",
                message_zh=f"SAP 对 {url} 的应答不是 OData v2 JSON",
                provider="sap",
            ) from exc

    async def get_optional(self, url: str, params: Mapping[str, str] | None = None) -> Any:
        try:
            return await self.get(url, params)
        except NotFound:
            return None

    async def _fetch_csrf(self, service_root: str) -> str:
        response = await self._send(
            "GET",
            service_root + "/",
            idempotent=True,
            operation="csrf_fetch",
            headers={"x-csrf-token": "Fetch"},
        )
        self._raise_for(response, "CSRF token fetch")
        token = str(response.headers.get("x-csrf-token") or "")
        if not token or token.lower() == "required":
            raise AuthFailed(
                "SAP did not hand out a CSRF token",
                message_zh="SAP 未返回 CSRF 令牌",
                provider="sap",
            )
        self._csrf[service_root] = token
        return token

    async def put(self, service_root: str, entity_path: str, entity: Mapping[str, Any]) -> None:
        """Replace one entity by key (idempotent: the same PUT twice leaves the same state)."""
        url = f"{service_root}/{entity_path}"
        for attempt in range(2):
            token = self._csrf.get(service_root) or await self._fetch_csrf(service_root)
            response = await self._send(
                "PUT",
                url,
                idempotent=True,
                operation="write_back",
                headers={"x-csrf-token": token, "Content-Type": "application/json"},
                json=dict(entity),
            )
            if (
                response.status_code == 403
                and response.headers.get("x-csrf-token", "").lower() == "required"
                and attempt == 0
            ):
                self._csrf.pop(service_root, None)  # token expired with the session: refetch
                continue
            self._raise_for(response, f"write-back {entity_path}")
            return
