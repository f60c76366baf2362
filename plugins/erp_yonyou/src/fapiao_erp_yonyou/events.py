"""Business-event push (事件订阅): verify, decrypt and read what YonBIP posts to a subscriber.

YonBIP pushes subscribed business events (e.g. a sales invoice audited) to an HTTPS URL as
``{"nonce", "timestamp", "signature", "encrypt"}`` (see ``signing``). A sync can use the event
to start at once instead of waiting for its next poll; the poll's cursor stays the source of
truth, so a lost or repeated event costs nothing.

The decrypted message's shape is not published for these documents; the simulator and this
parser agree on ``{"eventType", "tenantId", "timestamp", "content": {"id", "code",
"billType"}}`` (inferred from the ISV event demo's fields, see README).
"""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from fapiao.sdk import CallbackRejected
from fapiao_erp_yonyou.signing import EventEnvelopeError, decrypt_event, event_signature

__all__ = ["YonyouEvent", "parse_event"]

MAX_SKEW_MS = 5 * 60 * 1000


class YonyouEvent(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    eventType: str
    tenantId: str | None = None
    timestamp: int | None = None
    content: dict[str, Any] = {}

    @property
    def document_id(self) -> str | None:
        value = self.content.get("id")
        return str(value) if value is not None else None

    @property
    def document_code(self) -> str | None:
        value = self.content.get("code")
        return str(value) if value is not None else None


def _reject(en: str, zh: str) -> CallbackRejected:
    return CallbackRejected(en, message_zh=zh, provider="yonyou")


def parse_event(
    body: bytes | str | Mapping[str, Any],
    *,
    app_key: str,
    app_secret: str,
    now_ms: int | None = None,
    max_skew_ms: int = MAX_SKEW_MS,
) -> YonyouEvent:
    """Verify the signature and freshness, decrypt, and parse one pushed event."""
    if isinstance(body, bytes | str):
        try:
            envelope = json.loads(body)
        except ValueError:
            raise _reject("event body is not JSON", "事件推送内容不是 JSON") from None
    else:
        envelope = dict(body)
    if not isinstance(envelope, dict):
        raise _reject("event body is not a JSON object", "事件推送内容不是 JSON 对象")
    try:
        nonce = str(envelope["nonce"])
        encrypt = str(envelope["encrypt"])
        timestamp = str(envelope["timestamp"])
        signature = str(envelope["signature"])
    except KeyError as exc:
        raise _reject(f"event field {exc.args[0]} missing", f"事件推送缺少字段 {exc.args[0]}") from None
    expected = event_signature(app_secret, nonce, encrypt, timestamp)
    if not hmac.compare_digest(expected, signature):
        raise _reject("event signature does not verify", "事件推送验签失败")
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    if not timestamp.isdigit() or abs(now - int(timestamp)) > max_skew_ms:
        raise _reject("event timestamp is stale or invalid", "事件推送时间戳过期或无效")
    try:
        message = decrypt_event(app_secret, encrypt, expected_app_key=app_key)
        return YonyouEvent.model_validate_json(message)
    except EventEnvelopeError as exc:
        raise _reject(f"event payload cannot be decrypted: {exc}", "事件推送解密失败") from exc
    except ValueError as exc:
        raise _reject(f"event payload is not an event: {exc}", "事件推送内容格式不符") from exc
