"""YonBIP open-platform cryptography: the token-request signature and the event-push envelope.

Both follow the official SDKs (Python ``yonyouopenapisdk1`` 0.0.2, Go
``gitee.com/yycloudopen/yonyou-openapi-sdk``) byte for byte, because the platform verifies them
byte for byte:

* token request: ``signature = base64(HMAC-SHA256(appSecret, "appKey" + appKey + "timestamp" +
  timestamp))`` — the parameters sorted by name and concatenated as name+value;
* event push: ``{"nonce", "timestamp", "signature", "encrypt"}`` where ``signature =
  base64(HMAC-SHA256(appSecret, "".join(sorted([nonce, encrypt, str(timestamp)]))))`` and
  ``encrypt = base64(AES-256-CBC(key, iv=key[:16], random16 + len(msg) as 4 bytes big-endian +
  msg + appKey, PKCS#7 padded to 32 bytes))`` with ``key = base64decode(aesKey + "=")`` and
  ``aesKey`` = the app secret without dashes, cut or zero-padded to 43 characters.

The functions are shared by the connector (verifying what the platform pushes) and by the
simulator (producing it), so the two can never drift apart silently: the tests also check them
against the official SDK.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct
from collections.abc import Mapping

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = [
    "EventEnvelopeError",
    "aes_key_from_secret",
    "decrypt_event",
    "encrypt_event",
    "event_signature",
    "sign_params",
    "token_signature",
]

_PAD_BLOCK = 32  # the SDKs pad to 32 bytes (WeChat-style PKCS#7), not AES's 16


class EventEnvelopeError(ValueError):
    """The encrypted payload is malformed (bad base64, padding, length or app key)."""


def sign_params(secret: str, params: Mapping[str, str]) -> str:
    """base64 HMAC-SHA256 over the parameters sorted by name, each written as name+value."""
    text = "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def token_signature(app_key: str, app_secret: str, timestamp: str) -> str:
    """Signature of a self-built app's token request (自建应用获取 access_token)."""
    return sign_params(app_secret, {"appKey": app_key, "timestamp": timestamp})


def event_signature(app_secret: str, nonce: str, encrypt: str, timestamp: str) -> str:
    """Signature of an event push: the three values sorted as strings, then concatenated."""
    text = "".join(sorted([nonce, encrypt, timestamp]))
    digest = hmac.new(app_secret.encode(), text.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def aes_key_from_secret(app_secret: str) -> bytes:
    """The 32-byte AES key the platform derives from the app secret."""
    key = app_secret.replace("-", "")
    key = key[:43] if len(key) >= 43 else key + "0" * (43 - len(key))
    try:
        raw = base64.b64decode(key + "=")
    except ValueError as exc:  # pragma: no cover - only with a secret outside base64's alphabet
        raise EventEnvelopeError(f"app secret cannot derive an AES key: {exc}") from exc
    if len(raw) != 32:
        raise EventEnvelopeError("app secret must derive a 32-byte AES key")
    return raw


def encrypt_event(app_key: str, app_secret: str, message: str, *, random16: bytes | None = None) -> str:
    """Encrypt an event body the way the platform does (base64 text)."""
    key = aes_key_from_secret(app_secret)
    body = message.encode()
    prefix = random16 if random16 is not None else base64.b32encode(os.urandom(10))[:16]
    if len(prefix) != 16:
        raise ValueError("random prefix must be 16 bytes")
    plain = prefix + struct.pack(">I", len(body)) + body + app_key.encode()
    pad = _PAD_BLOCK - len(plain) % _PAD_BLOCK
    plain += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")


def decrypt_event(app_secret: str, encrypt: str, *, expected_app_key: str | None = None) -> str:
    """Decrypt an event body; checks the trailing app key when one is expected."""
    key = aes_key_from_secret(app_secret)
    try:
        cipher_text = base64.b64decode(encrypt, validate=True)
    except ValueError as exc:
        raise EventEnvelopeError(f"encrypt is not base64: {exc}") from exc
    if not cipher_text or len(cipher_text) % 16:
        raise EventEnvelopeError("encrypt is not a whole number of AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(cipher_text) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= _PAD_BLOCK or plain[-pad:] != bytes([pad]) * pad:
        raise EventEnvelopeError("bad padding (wrong app secret?)")
    plain = plain[:-pad]
    if len(plain) < 20:
        raise EventEnvelopeError("payload too short")
    (length,) = struct.unpack(">I", plain[16:20])
    if 20 + length > len(plain):
        raise EventEnvelopeError("declared length exceeds the payload")
    message = plain[20 : 20 + length]
    trailer = plain[20 + length :].decode("utf-8", errors="replace")
    if expected_app_key is not None and trailer != expected_app_key:
        raise EventEnvelopeError("payload was encrypted for another app key")
    try:
        return message.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EventEnvelopeError("payload is not UTF-8") from exc
