"""Request signing as the Baiwang platform defines it (TOP-style MD5).

``sign = MD5(appSecret + k1v1k2v2… + body + appSecret)``, upper-case hex, where ``k/v`` are
the URL query parameters sorted by name, ``sign`` itself and empty values left out, and
``body`` is the exact request body. Both sides compute it from what is on the wire, so the
sandbox verifies the bytes it received, never a re-serialisation.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Mapping
from typing import Literal

from fapiao_provider_b.protocol import METHOD_VERSION

__all__ = [
    "PasswordDigest",
    "digest_password",
    "public_params",
    "sign",
    "sign_matches",
    "string_to_sign",
]

PasswordDigest = Literal["sha256", "md5_sha1"]


def string_to_sign(params: Mapping[str, str], body: bytes, secret: str) -> bytes:
    parts = [secret.encode()]
    for key in sorted(params):
        value = params[key]
        if key == "sign" or value is None or not str(value).strip():
            continue
        parts.append(key.encode())
        parts.append(str(value).encode())
    parts.append(body)
    parts.append(secret.encode())
    return b"".join(parts)


def sign(params: Mapping[str, str], body: bytes, secret: str) -> str:
    return hashlib.md5(string_to_sign(params, body, secret)).hexdigest().upper()


def sign_matches(params: Mapping[str, str], body: bytes, secret: str) -> bool:
    """Constant-time comparison, case-insensitive as the platform's hex is."""
    given = str(params.get("sign", "")).upper()
    return hmac.compare_digest(given.encode(), sign(params, body, secret).encode())


def digest_password(password: str, salt: str | None, scheme: PasswordDigest) -> str:
    """The password is never sent in clear: the platform expects a salted digest.

    Two schemes are in public use: ``sha256(password + salt)`` (current v7.0 apps) and the
    older ``sha1(md5(password + salt).hexdigest())``; the merchant's console says which.
    """
    raw = (password + (salt or "")).encode()
    if scheme == "sha256":
        return hashlib.sha256(raw).hexdigest()
    return hashlib.sha1(hashlib.md5(raw).hexdigest().encode()).hexdigest()


def public_params(
    method: str,
    *,
    app_key: str,
    token: str | None,
    request_id: str | None = None,
    timestamp_ms: int | None = None,
) -> dict[str, str]:
    """The public (公共) query parameters of a business call, before ``sign``."""
    version = METHOD_VERSION.get(method, "6.0")
    params = {
        "method": method,
        "version": version,
        "appKey": app_key,
        "format": "json",
        "timestamp": str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)),
        "type": "sync",
        "requestId": request_id or uuid.uuid4().hex,
    }
    if token:
        params["token"] = token
    if version == "7.0":
        params["signType"] = "MD5"
        params["encryptType"] = "NONE"
        params["encryptScope"] = "00"
    return params
