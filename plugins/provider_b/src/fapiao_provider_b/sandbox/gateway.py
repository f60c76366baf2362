"""The platform's gateway checks, in the order the platform applies them: method, public
parameters, appKey, timestamp, signature, token, call rate. Then the token method itself.

Every refusal here happens before any business code runs, which is what makes a retry after
a token error safe for the client even on issuance.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from fapiao_provider_b.errors_map import ERRORS, BaiwangError
from fapiao_provider_b.protocol import METHOD_VERSION, Method
from fapiao_provider_b.sandbox.config import SandboxApp
from fapiao_provider_b.sandbox.state import ApiError, SandboxState
from fapiao_provider_b.signing import digest_password, sign_matches

__all__ = ["authenticate", "grant_token"]

_REQUIRED = ("method", "version", "appKey", "timestamp", "token", "sign")


def _error(code: str, detail: str | None = None) -> ApiError:
    message = ERRORS[code].message
    return ApiError(code, f"{message}：{detail}" if detail else message)


def _check_timestamp(state: SandboxState, value: str | None) -> None:
    try:
        stamp = int(value or "") / 1000
    except ValueError:
        raise _error(BaiwangError.TIMESTAMP_INVALID, f"timestamp={value!r}") from None
    skew = abs(time.time() - stamp)
    if skew > state.config.timestamp_window_seconds:
        raise _error(BaiwangError.TIMESTAMP_INVALID, f"偏差 {skew:.0f} 秒")


def authenticate(state: SandboxState, params: Mapping[str, str], body: bytes) -> SandboxApp:
    """Check a business call; return the calling app or raise :class:`ApiError`."""
    method = params.get("method", "")
    if method not in METHOD_VERSION or method == Method.TOKEN:
        raise _error(BaiwangError.METHOD_UNKNOWN, method or "(empty)")
    missing = [name for name in _REQUIRED if not params.get(name)]
    if missing:
        raise _error(BaiwangError.MISSING_PARAM, ", ".join(missing))
    app = state.apps.get(params["appKey"])
    if app is None:
        raise _error(BaiwangError.APP_KEY_INVALID)
    _check_timestamp(state, params.get("timestamp"))
    if not sign_matches(params, body, app.app_secret):
        state.count("bad_signature")
        raise _error(BaiwangError.SIGN_INVALID)
    refused = state.tokens.check(params["token"], app.app_key)
    if refused:
        raise _error(
            BaiwangError.TOKEN_INVALID if refused == "invalid" else BaiwangError.TOKEN_EXPIRED
        )
    with state.lock:
        limit = state.config.rate_limit_per_second
        if limit and not state.call_times[app.app_key].admit(limit):
            state.count("rate_limited")
            raise _error(BaiwangError.RATE_LIMITED)
    return app


def grant_token(
    state: SandboxState, params: Mapping[str, str], body: Mapping[str, Any], raw: bytes
) -> dict[str, Any]:
    """``baiwang.oauth.token``: password grant or refresh-token grant."""
    app = state.apps.get(params.get("client_id", ""))
    if app is None:
        raise _error(BaiwangError.APP_KEY_INVALID)
    _check_timestamp(state, params.get("timestamp"))
    if params.get("sign") and not sign_matches(params, raw, app.app_secret):
        raise _error(BaiwangError.SIGN_INVALID)
    if body.get("client_secret") != app.app_secret:
        raise _error(BaiwangError.APP_KEY_INVALID, "client_secret")
    grant = params.get("grant_type")
    with state.lock:
        if not state.grant_times[app.app_key].admit(state.config.token_grants_per_minute):
            state.count("token_quota")
            raise _error(BaiwangError.TOKEN_QUOTA)
        if grant == "password":
            expected = digest_password(app.password, app.user_salt, app.password_digest)
            if body.get("username") != app.username or body.get("password") != expected:
                state.count("login_failed")
                raise _error(BaiwangError.LOGIN_FAILED)
            state.count("password_grants")
        elif grant == "refresh_token":
            refused = state.tokens.redeem(str(body.get("refresh_token") or ""), app.app_key)
            if refused:  # refresh tokens rotate: each one works once
                detail = "已过期" if refused == "expired" else None
                raise _error(BaiwangError.REFRESH_TOKEN_INVALID, detail)
            state.count("refresh_grants")
        else:
            raise _error(BaiwangError.MISSING_PARAM, f"grant_type={grant!r}")
        config = state.config
        token = state.tokens.grant(
            app.app_key, config.token_ttl_seconds, refresh_ttl=config.refresh_ttl_seconds
        )
    return {
        "access_token": token.value,
        "refresh_token": token.refresh,
        "token_type": "bearer",
        "expires_in": state.config.token_ttl_seconds,
        "refresh_expires_in": state.config.refresh_ttl_seconds,
        "scope": "all",
    }
