"""Signed callbacks: the platform notifies ``callBackUrl`` of every finished invoice and of
every change of a red form it was given a ``callbackUrl`` for.

A callback is signed like a request (inferred: sign-string path ``/open/v1/callback``), with a
fresh senid, nonce and timestamp in the query for every attempt, so a retry or a duplicate
verifies on its own and a replay of one attempt is refused. Retries, duplicates and
reordering come from the shared ``fapiao.sandboxkit.CallbackSender``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from fapiao.sandboxkit import CallbackDelivery, CallbackRequest, CallbackSender, FaultInjector
from fapiao_provider_a.protocol import CALLBACK_PATH, ISSUED, millis, money
from fapiao_provider_a.sandbox.config import Merchant
from fapiao_provider_a.sandbox.documents import file_url
from fapiao_provider_a.sandbox.red_forms import form_item
from fapiao_provider_a.sandbox.state import Record, RedForm, SandboxState
from fapiao_provider_a.signing import signed_query

__all__ = ["delivery_json", "send_callbacks"]


def _signed(payload: tuple[Merchant, dict[str, str]]) -> CallbackRequest:
    merchant, fields = payload
    body = urlencode(fields)
    query, signature = signed_query(merchant.app_secret, merchant.app_key, body, path=CALLBACK_PATH)
    return CallbackRequest(
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Nuonuo-Sign": signature,
        },
        body=body.encode(),
        params=query,
    )


def _invoice_fields(record: Record, documents: bool) -> dict[str, str]:
    sign_ = -1 if record.is_red else 1
    url = {fmt: file_url(record, fmt) if documents else "" for fmt in ("pdf", "ofd", "xml")}
    content = {
        "c_status": "1" if record.status == ISSUED else "2",
        "c_orderno": record.order_no,
        "c_fpqqlsh": record.serial,
        "c_fphm": record.number or "",
        "c_fpdm": "",
        "c_kprq": millis(record.issued_at),
        "c_bhsje": money(record.amount * sign_),
        "c_hjse": money(record.tax * sign_),
        "c_saletaxnum": record.merchant.tax_id,
        "c_invoice_type": "2" if record.is_red else "1",
        "c_yfphm": record.original_number or "",
        "c_msg": "开票完成",
        "c_resultmsg": "",
        "c_url": url["pdf"],
        "c_ofd_url": url["ofd"],
        "c_xml_url": url["xml"],
    }
    return {
        "operater": "callback",
        "orderno": record.order_no,
        "content": json.dumps(content, ensure_ascii=False),
    }


def send_callbacks(state: SandboxState, injector: FaultInjector) -> CallbackSender:
    """The sender of ``state``'s callbacks, hooked to its invoices and forms."""
    config = state.config
    sender = CallbackSender(
        _signed,
        injector=injector,
        retries=config.callback_attempts - 1,
        backoff_s=config.callback_backoff_seconds,
        reorder_hold_s=config.callback_reorder_hold_seconds,
    )

    def on_issued(record: Record) -> None:
        if config.callbacks and record.callback_url:
            fields = _invoice_fields(record, config.documents)
            sender.send(record.callback_url, (record.merchant, fields), key=record.order_no)

    def on_form_changed(form: RedForm) -> None:
        if config.callbacks and form.callback_url:
            fields = {
                "operater": "redConfirmCallback",
                "orderno": form.order_no or "",
                "content": json.dumps(form_item(form), ensure_ascii=False),
            }
            key = form.order_no or f"redform:{form.bill_id}"
            sender.send(form.callback_url, (form.merchant, fields), key=key)

    state.on_issued = on_issued
    state.on_form_changed = on_form_changed
    return sender


def delivery_json(delivery: CallbackDelivery) -> dict[str, Any]:
    """One delivery attempt, as ``GET /__sandbox__/state`` lists it."""
    return {
        "orderno": delivery.key,
        "url": delivery.url,
        "attempt": delivery.attempt,
        "duplicate": delivery.duplicate,
        "accepted": delivery.accepted,
        "status": delivery.status_code,
        "error": delivery.error,
        "senid": dict(delivery.params).get("senid"),
    }
