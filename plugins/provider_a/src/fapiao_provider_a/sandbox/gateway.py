"""The platform's gateway checks, in the order the platform applies them: common parameters,
appKey, timestamp window, signature, senid (no replays), token, ``userTax``, call rate. Then
the token endpoint itself.

Every refusal here happens before any business code runs, which is what makes a resend after
a refused token safe for the client even on issuance.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Any

from fapiao_provider_a.errors_map import CODES
from fapiao_provider_a.sandbox.config import Merchant
from fapiao_provider_a.sandbox.state import PlatformError, SandboxState
from fapiao_provider_a.signing import verify

__all__ = ["authenticate", "grant_token"]


def grant_token(state: SandboxState, form: Mapping[str, str]) -> dict[str, Any]:
    """``POST /accessToken`` (``client_credentials``): a token, or ``error``/``error_description``."""
    client_id, grant_type = form.get("client_id", ""), form.get("grant_type", "")
    with state.lock:
        merchant = state.config.merchant_by_key(client_id)
        if grant_type != "client_credentials":
            return _token_refusal("070307")
        secret = form.get("client_secret", "")
        if merchant is None or not secrets.compare_digest(merchant.app_secret, secret):
            return _token_refusal("070304")
        if not state.token_calls[client_id].admit(state.config.token_calls_per_30_days):
            return _token_refusal("070306")
        token = state.tokens.grant(client_id, state.config.token_ttl_seconds)
        return {"access_token": token.value, "expires_in": state.config.token_ttl_seconds}


def _token_refusal(code: str) -> dict[str, Any]:
    return {"error": code, "error_description": CODES[code].message}


def authenticate(
    state: SandboxState, query: Mapping[str, str], headers: Mapping[str, str], text: str | None
) -> Merchant:
    """Check a service call (``text``: its body, ``None`` when not UTF-8); return the
    calling merchant or raise :class:`PlatformError`."""
    senid, nonce, timestamp, app_key = (
        query.get(k, "") for k in ("senid", "nonce", "timestamp", "appkey")
    )
    well_formed = len(senid) == 32 and senid.isalnum() and nonce.isdigit()
    if not (well_formed and timestamp.isdigit() and app_key):
        raise PlatformError("070604")
    config = state.config
    merchant = config.merchant_by_key(app_key)
    if merchant is None:
        raise PlatformError("070101")
    if abs(time.time() - int(timestamp)) > config.timestamp_tolerance_seconds:
        raise PlatformError("070602")
    signature = headers.get("x-nuonuo-sign")
    if text is None or not verify(
        signature, merchant.app_secret, app_key, senid, nonce, timestamp, text
    ):
        raise PlatformError("070601")
    if not state.seen_senids.first_time(senid):
        raise PlatformError("070603")
    refused = state.tokens.check(headers.get("accesstoken"), app_key)
    if refused:
        raise PlatformError("070301" if refused == "invalid" else "070302")
    user_tax = headers.get("usertax") or ""
    if user_tax and user_tax != merchant.tax_id:
        raise PlatformError("070801")
    limit = config.requests_per_second
    if limit and not state.call_times[app_key].admit(limit):
        raise PlatformError("070701")
    return merchant
