"""The sandbox speaks the platform's protocol: checked with a hand-written raw client.

The client here signs by the published recipe on its own (not with the plugin's code), so
these tests would catch the plugin and the sandbox agreeing on a wrong signature.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from fapiao.testing.samples import SERVICE_CODE, code_for, new_order_id
from fapiao_provider_b.sandbox import DEMO_APP, DEMO_SELLER

from .conftest import Sandbox

TOKEN = "baiwang.oauth.token"
ISSUE = "baiwang.output.invoice.issue"
QUERY = "baiwang.output.invoice.query"
FORMAT = "baiwang.output.format.query"


def md5_sign(params: dict[str, str], body: bytes, secret: str) -> str:
    text = secret + "".join(f"{k}{params[k]}" for k in sorted(params) if params[k]) + body.decode()
    return hashlib.md5((text + secret).encode()).hexdigest().upper()


class RawClient:
    def __init__(
        self, url: str, app_key: str = DEMO_APP.app_key, secret: str = DEMO_APP.app_secret
    ):
        self.http = httpx.Client(base_url=url, timeout=10)
        self.app_key = app_key
        self.secret = secret

    def token(self, grant: str = "password", **body: Any) -> dict[str, Any]:
        password = hashlib.sha256(
            (DEMO_APP.password + (DEMO_APP.user_salt or "")).encode()
        ).hexdigest()
        payload = body or {
            "username": DEMO_APP.username,
            "password": password,
            "client_secret": self.secret,
        }
        params = {
            "method": TOKEN,
            "grant_type": grant,
            "client_id": self.app_key,
            "version": "7.0",
            "timestamp": str(int(time.time() * 1000)),
        }
        raw = json.dumps(payload).encode()  # the token call needs no signature
        return self.http.post("/router/rest", params=params, content=raw).json()

    def access_token(self) -> str:
        return str(self.token()["response"]["access_token"])

    def call(
        self,
        method: str,
        body: dict[str, Any] | bytes,
        token: str | None,
        *,
        tweak: Callable[[dict[str, str]], None] | None = None,
        version: str = "6.0",
    ) -> dict[str, Any]:
        raw = (
            body
            if isinstance(body, bytes)
            else json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        )
        params = {
            "method": method,
            "version": version,
            "appKey": self.app_key,
            "format": "json",
            "timestamp": str(int(time.time() * 1000)),
            "type": "sync",
            "requestId": uuid.uuid4().hex,
            "token": token or "",
        }
        params["sign"] = md5_sign(params, raw, self.secret)
        if tweak:
            tweak(params)
        response = self.http.post(
            "/router/rest",
            params={k: v for k, v in params.items() if v},
            content=raw,
            headers={"Content-Type": "application/json;charset=UTF-8"},
        )
        assert response.status_code == 200
        return response.json(parse_float=Decimal)


def issue_body(
    order_id: str, *, tax_no: str = DEMO_SELLER.tax_no, lines: int = 1
) -> dict[str, Any]:
    """A blue 专票 with ``lines`` 1000.00 service lines, as a client writes it by hand."""
    code, rate = code_for("0.06", SERVICE_CODE)  # a leaf of the installed national table
    amount = Decimal("1000.00")
    tax = (amount * rate).quantize(Decimal("0.01"))
    details = [
        {
            "goodsLineNo": n + 1,
            "invoiceLineNature": "0",
            "goodsCode": code,
            "goodsName": "软件开发服务",
            "goodsTaxRate": rate,
            "goodsTotalPrice": amount,
            "goodsTotalTax": tax,
            "preferentialMarkFlag": "0",
        }
        for n in range(lines)
    ]
    return {
        "taxNo": tax_no,
        "data": {
            "invoiceType": "0",
            "invoiceTypeCode": "01",
            "serialNo": order_id,
            "priceTaxMark": "0",
            "buyerName": "上海示例信息技术有限公司",
            "buyerTaxNo": "91310000MA1FL8XQ37",
            "invoiceTotalPrice": amount * lines,
            "invoiceTotalTax": tax * lines,
            "invoiceTotalPriceTax": (amount + tax) * lines,
            "invoiceDetailsList": details,
        },
    }


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, default=str).encode()


@pytest.fixture
def raw(sandbox: Sandbox) -> RawClient:
    return RawClient(sandbox.url)


def _error(answer: dict[str, Any]) -> tuple[int, str | None]:
    assert answer["success"] is False, answer
    error = answer["errorResponse"]
    assert error["message"]
    return error["code"], error.get("subCode")


def test_password_grant_answers_a_token_pair(raw: RawClient) -> None:
    answer = raw.token()
    assert answer["success"] is True and answer["method"] == TOKEN
    token = answer["response"]
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == 8 * 3600
    assert token["access_token"] != token["refresh_token"]


def test_wrong_password_and_wrong_secret_are_refused(raw: RawClient) -> None:
    assert _error(
        raw.token(username=DEMO_APP.username, password="x", client_secret=raw.secret)
    ) == (
        100010,
        None,
    )
    assert (
        _error(raw.token(username=DEMO_APP.username, password="x", client_secret="nope"))[0]
        == 100004
    )


def test_refresh_tokens_rotate_and_work_once(raw: RawClient) -> None:
    first = raw.token()["response"]
    body = {"refresh_token": first["refresh_token"], "client_secret": raw.secret}
    renewed = raw.token("refresh_token", **body)
    assert renewed["success"] is True
    assert renewed["response"]["access_token"] != first["access_token"]
    assert _error(raw.token("refresh_token", **body)) == (100011, None)


@pytest.mark.parametrize(
    ("tweak", "code"),
    [
        (lambda p: p.update(sign="0" * 32), 100007),
        (lambda p: p.update(timestamp=str(int(time.time() * 1000) - 3_600_000)), 100005),
        (lambda p: p.update(appKey="99999999"), 100004),
        (lambda p: p.update(method="baiwang.output.nothing"), 100009),
    ],
)
def test_gateway_refusals(
    raw: RawClient, tweak: Callable[[dict[str, str]], None], code: int
) -> None:
    token = raw.access_token()
    answer = raw.call(
        QUERY, {"taxNo": DEMO_SELLER.tax_no, "data": {"serialNos": ["A"]}}, token, tweak=tweak
    )
    assert _error(answer) == (code, None)


def test_unknown_or_missing_token(raw: RawClient) -> None:
    body = {"taxNo": DEMO_SELLER.tax_no, "data": {"serialNos": ["A"]}}
    assert _error(raw.call(QUERY, body, "not-a-token")) == (100001, None)
    assert _error(raw.call(QUERY, body, None)) == (100003, None)


def test_a_changed_body_byte_breaks_the_signature(raw: RawClient) -> None:
    token = raw.access_token()
    body = _json({"taxNo": DEMO_SELLER.tax_no, "data": {"serialNos": ["A"]}})
    params: dict[str, str] = {}

    def capture(p: dict[str, str]) -> None:
        params.update(p)

    assert raw.call(QUERY, body, token, tweak=capture)["success"] is True
    resent = raw.http.post("/router/rest", params=params, content=body.replace(b'"A"', b'"B"'))
    assert _error(resent.json()) == (100007, None)


def test_issue_is_synchronous_with_exact_numbers(raw: RawClient) -> None:
    token = raw.access_token()
    order = new_order_id()
    response = raw.http.post("/router/rest")  # warm: a bare POST is refused, not a crash
    assert response.json()["success"] is False
    answer = raw.call(ISSUE, _json(issue_body(order)), token)
    assert answer["success"] is True and answer["method"] == ISSUE
    (issued,) = answer["response"]["success"]
    assert answer["response"]["fail"] == []
    assert issued["serialNo"] == order
    assert len(issued["invoiceNo"]) == 20 and issued["invoiceNo"].isdigit()
    assert len(issued["invoiceDate"]) == 14
    assert issued["invoiceTotalPriceTax"] == issue_body(order)["data"]["invoiceTotalPriceTax"]
    # the platform writes the printed name *简称*名称 itself
    assert issued["invoiceDetailsList"][0]["goodsName"].endswith("软件开发服务")
    found = raw.call(QUERY, {"taxNo": DEMO_SELLER.tax_no, "data": {"serialNos": [order]}}, token)
    (row,) = found["response"]["list"]
    assert (row["invoiceNo"], row["invoiceStatus"]) == (issued["invoiceNo"], "00")


def test_amounts_are_json_numbers_on_the_wire(sandbox: Sandbox, raw: RawClient) -> None:
    token = raw.access_token()
    answer = raw.call(ISSUE, _json(issue_body(new_order_id())), token)
    params: dict[str, str] = {}
    number = answer["response"]["success"][0]["invoiceNo"]
    body = _json({"taxNo": DEMO_SELLER.tax_no, "data": {"invoiceNo": number}})
    raw.call(QUERY, body, token, tweak=params.update)
    text = raw.http.post("/router/rest", params=params, content=body).text
    total = issue_body("x")["data"]["invoiceTotalPriceTax"]
    assert f'"invoiceTotalPriceTax":{total}' in text


def test_per_invoice_failures_come_in_the_fail_list(raw: RawClient) -> None:
    token = raw.access_token()
    order = new_order_id()
    assert raw.call(ISSUE, _json(issue_body(order)), token)["success"] is True
    again = raw.call(ISSUE, _json(issue_body(order)), token)
    assert again["success"] is True
    assert again["response"]["success"] == []
    (failed,) = again["response"]["fail"]
    assert (failed["serialNo"], failed["errorCode"]) == (order, "70110")
    assert failed["errorMessage"]

    wrong_total = issue_body(new_order_id())
    wrong_total["data"]["invoiceTotalTax"] += Decimal("1.00")
    assert raw.call(ISSUE, _json(wrong_total), token)["response"]["fail"][0]["errorCode"] == "70140"

    too_long = raw.call(ISSUE, _json(issue_body(new_order_id(), lines=201)), token)
    assert too_long["response"]["fail"][0]["errorCode"] == "70130"


def test_business_refusals_carry_a_sub_code(raw: RawClient) -> None:
    token = raw.access_token()
    other_seller = issue_body(new_order_id(), tax_no="91310115MA1K4BW00G")
    assert _error(raw.call(ISSUE, _json(other_seller), token)) == (100006, "70102")
    no_type = issue_body(new_order_id())
    no_type["data"]["invoiceTypeCode"] = "99"
    assert _error(raw.call(ISSUE, _json(no_type), token)) == (100006, "20019")
    many = {"taxNo": DEMO_SELLER.tax_no, "data": {"serialNos": [str(i) for i in range(21)]}}
    assert _error(raw.call(QUERY, many, token)) == (100006, "70170")
    assert _error(raw.call(QUERY, b"{not json", token)) == (100006, "70169")


def test_documents_come_back_inline_as_base64(raw: RawClient) -> None:
    token = raw.access_token()
    issued = raw.call(ISSUE, _json(issue_body(new_order_id())), token)["response"]["success"][0]
    for file_type, magic in (("PDF", b"%PDF-"), ("OFD", b"PK"), ("XML", b"<?xml")):
        answer = raw.call(
            FORMAT,
            {
                "taxNo": DEMO_SELLER.tax_no,
                "data": {
                    "invoiceNo": issued["invoiceNo"],
                    "fileType": file_type,
                    "returnType": "1",
                },
            },
            token,
        )
        assert answer["success"] is True, answer
        content = base64.b64decode(answer["response"]["content"])
        assert content.startswith(magic), file_type
        assert answer["response"]["fileName"] == f"{issued['invoiceNo']}.{file_type.lower()}"


def test_token_grants_per_minute_are_limited(make_sandbox: Callable[..., Sandbox]) -> None:
    limited = RawClient(make_sandbox(token_grants_per_minute=2).url)
    assert limited.token()["success"] and limited.token()["success"]
    assert _error(limited.token()) == (100012, None)


def test_business_call_rate_is_limited(make_sandbox: Callable[..., Sandbox]) -> None:
    box = make_sandbox(rate_limit_per_second=3)
    client = RawClient(box.url)
    token = client.access_token()
    body = {"taxNo": DEMO_SELLER.tax_no, "data": {"serialNos": ["A"]}}
    codes = [
        (a["success"], a.get("errorResponse", {}).get("code"))
        for a in (client.call(QUERY, body, token) for _ in range(6))
    ]
    assert codes[:3] == [(True, None)] * 3
    assert (False, 100008) in codes[3:]
