"""The Nuonuo open platform's request signature (``X-Nuonuo-Sign``), both sides.

The platform signs a fixed canonical string built from the gateway path and the query
parameters, then the exact body text::

    a=services&l=v1&p=open&k={appKey}&i={senid}&n={nonce}&t={timestamp}&f={body}

with HMAC-SHA1 keyed by the app secret, Base64-encoded. ``a``/``l``/``p`` are the last,
middle and first segments of ``/open/v1/services``. Because ``f`` is the body *text*, the
bytes sent must be exactly the UTF-8 encoding of what was signed; :func:`dump_body` is the
one place that turns a payload into that text (compact separators, Chinese left as is, the
platform's own SDKs do the same).

Callbacks from the sandbox are signed the same way with ``a=callback`` (see the README:
the public material shows no callback signature, so this part is inferred in the
platform's style).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from decimal import Decimal
from typing import Any

from fapiao_provider_a.protocol import SERVICES_PATH

__all__ = [
    "SERVICES_PATH",
    "dump_body",
    "new_nonce",
    "new_senid",
    "sign",
    "sign_string",
    "signed_query",
    "verify",
]


def sign_string(
    app_key: str,
    senid: str,
    nonce: str,
    timestamp: str,
    body: str,
    *,
    path: str = SERVICES_PATH,
) -> str:
    """The canonical text that is signed, for ``path`` of the form ``/p/l/a``."""
    pieces = path.strip("/").split("/")
    if len(pieces) != 3:
        raise ValueError(f"a Nuonuo gateway path has three segments, got {path!r}")
    p, l_, a = pieces
    return f"a={a}&l={l_}&p={p}&k={app_key}&i={senid}&n={nonce}&t={timestamp}&f={body}"


def sign(
    app_secret: str,
    app_key: str,
    senid: str,
    nonce: str,
    timestamp: str,
    body: str,
    *,
    path: str = SERVICES_PATH,
) -> str:
    """Base64(HMAC-SHA1(app_secret, sign_string)) — the ``X-Nuonuo-Sign`` header value."""
    message = sign_string(app_key, senid, nonce, timestamp, body, path=path)
    digest = hmac.new(app_secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(digest.digest()).decode("ascii")


def signed_query(
    app_secret: str, app_key: str, body: str, *, path: str = SERVICES_PATH
) -> tuple[dict[str, str], str]:
    """Fresh common parameters for one request (or one callback attempt) and the signature
    over them and ``body``: the query to send and the ``X-Nuonuo-Sign`` value. A resend
    gets new ones, so the gateway's senid replay check never refuses it."""
    senid, nonce, timestamp = new_senid(), new_nonce(), str(int(time.time()))
    query = {"senid": senid, "nonce": nonce, "timestamp": timestamp, "appkey": app_key}
    return query, sign(app_secret, app_key, senid, nonce, timestamp, body, path=path)


def verify(
    signature: str | None,
    app_secret: str,
    app_key: str,
    senid: str,
    nonce: str,
    timestamp: str,
    body: str,
    *,
    path: str = SERVICES_PATH,
) -> bool:
    """Constant-time check of a received signature (some clients URL-encode it)."""
    if not signature:
        return False
    expected = sign(app_secret, app_key, senid, nonce, timestamp, body, path=path)
    candidates = {signature, signature.replace("%2B", "+").replace("%2F", "/").replace("%3D", "=")}
    return any(hmac.compare_digest(expected, c) for c in candidates)


def new_senid() -> str:
    """32 hexadecimal characters, unique per request (the platform's request id)."""
    return uuid.uuid4().hex


def new_nonce() -> str:
    """An 8-digit positive integer, as the platform documents it."""
    return str(10_000_000 + secrets.randbelow(90_000_000))


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"cannot serialise {type(value).__name__} into a Nuonuo body")


def dump_body(payload: Any) -> str:
    """The exact JSON text that is both signed and sent. Decimals become strings (the
    platform types every amount as String), never floats."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=_default)
