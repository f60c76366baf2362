"""Pure parts: the signature (published vector), the error map, the mappings."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from fapiao.errors import (
    AuthFailed,
    DuplicateOrder,
    InvalidTaxId,
    NotFound,
    ProviderError,
    QuotaExceeded,
)
from fapiao.models import InvoiceState, RedConfirmationState, TaxTreatment
from fapiao.rules import compute_totals
from fapiao.testing.samples import sample_invoices
from fapiao_provider_a import mapping, protocol
from fapiao_provider_a.errors_map import CODES, error_from_answer
from fapiao_provider_a.signing import (
    dump_body,
    new_nonce,
    new_senid,
    sign,
    sign_string,
    signed_query,
    verify,
)

from .conftest import SELLER


def test_signature_matches_the_published_vector() -> None:
    # Vector published with the third-party nuonuo-sdk, checked against the official sample.
    body = '{"name":"中文"}'
    assert (
        sign("secret", "app", "a" * 32, "12345678", "1700000000", body)
        == "4BzcKzrcoqxPis0W/W3X2ae0uIo="
    )
    assert sign_string("app", "s", "1", "2", "f") == "a=services&l=v1&p=open&k=app&i=s&n=1&t=2&f=f"
    assert verify(
        "4BzcKzrcoqxPis0W/W3X2ae0uIo=", "secret", "app", "a" * 32, "12345678", "1700000000", body
    )
    assert not verify(
        "4BzcKzrcoqxPis0W/W3X2ae0uIo=", "secret", "app", "a" * 32, "12345678", "1700000001", body
    )
    assert not verify(None, "secret", "app", "a" * 32, "12345678", "1700000000", body)


def test_common_parameters_have_the_documented_shape() -> None:
    senid, nonce = new_senid(), new_nonce()
    assert len(senid) == 32 and senid.isalnum()
    assert len(nonce) == 8 and nonce.isdigit() and nonce[0] != "0"
    query, signature = signed_query("secret", "app", '{"a":1}', path="/open/v1/callback")
    assert sorted(query) == ["appkey", "nonce", "senid", "timestamp"] and query["appkey"] == "app"
    assert abs(int(query["timestamp"]) - time.time()) < 5
    parts = (query["senid"], query["nonce"], query["timestamp"], '{"a":1}')
    assert verify(signature, "secret", "app", *parts, path="/open/v1/callback")
    assert not verify(signature, "secret", "app", *parts)  # bound to the path it was made for
    assert (
        signed_query("secret", "app", "")[0]["senid"]
        != signed_query("secret", "app", "")[0]["senid"]
    )


def test_bodies_keep_decimals_exact_and_chinese_unescaped() -> None:
    assert dump_body({"a": Decimal("0.10"), "b": "中"}) == '{"a":"0.10","b":"中"}'
    with pytest.raises(TypeError):
        dump_body({"a": object()})


@pytest.mark.parametrize(
    ("code", "klass", "field"),
    [
        ("E9102", InvalidTaxId, "buyer.tax_id"),
        ("E9106", DuplicateOrder, "order_id"),
        ("E9201", QuotaExceeded, None),
        ("070601", AuthFailed, None),
        ("E9500", NotFound, None),
    ],
)
def test_platform_codes_map_to_canonical_errors(code: str, klass: type, field: str | None) -> None:
    err = error_from_answer(code, "平台说明")
    assert isinstance(err, klass)
    assert err.raw_code == code and err.raw_message == "平台说明"
    assert err.message_zh == "平台说明" and err.message_en == CODES[code].message_en
    assert err.field == field


def test_unknown_code_is_a_provider_error_never_a_crash() -> None:
    err = error_from_answer("E1234", None)
    assert type(err) is ProviderError and err.code == "PROVIDER_ERROR" and err.raw_code == "E1234"


def test_order_payload_carries_rules_totals_and_discount_properties() -> None:
    invoice = sample_invoices(SELLER)[2]  # a line and its discount line
    totals = compute_totals(invoice)
    order = mapping.order_payload(
        invoice, totals, clerk="张三", extension_number="923", callback_url="https://x/cb"
    )
    first, discount = order["invoiceDetail"]
    assert (first["invoiceLineProperty"], discount["invoiceLineProperty"]) == ("2", "1")
    assert discount["taxExcludedAmount"] == "-60.00" and "num" not in discount
    assert order["invoiceLine"] == "pc" and order["extensionNumber"] == "923"
    assert order["callBackUrl"] == "https://x/cb" and order["orderNo"] == invoice.order_id
    total = sum(Decimal(d["taxExcludedAmount"]) for d in order["invoiceDetail"])
    assert total == totals.total_amount


def test_query_statuses_map_onto_canonical_states() -> None:
    item = {
        "status": "2",
        "orderNo": "O1",
        "serialNo": "S1",
        "allElectronicInvoiceNumber": "26330000000000000001",
        "invoiceTime": 1790121600000,
        "exTaxAmount": "100.00",
        "taxAmount": "6.00",
        "orderAmount": "106.00",
        "pdfUrl": "https://x/a.pdf",
    }
    status = mapping.status_from_result(item, SELLER.tax_id or "")
    assert status.state is InvoiceState.ISSUED and status.total_with_tax == Decimal("106.00")
    assert status.documents[0].url == "https://x/a.pdf"
    failed = mapping.status_from_result(
        {"status": "22", "orderNo": "O2", "failCause": "购方税号有误"}, ""
    )
    assert (
        failed.state is InvoiceState.FAILED
        and failed.error
        and failed.error.raw_message == "购方税号有误"
    )
    assert (
        mapping.status_from_result({"status": "20", "orderNo": "O3"}, "").state
        is InvoiceState.ISSUING
    )


def test_red_form_states_and_the_72_hour_deadline() -> None:
    form = {
        "billId": "B1",
        "billStatus": "02",
        "billTime": 1790121600000,
        "redReason": "1",
        "taxExcludedAmount": "-10.00",
        "taxAmount": "-0.60",
        "orderNo": "R1",
    }
    pending = mapping.confirmation_from_form(form, "")
    assert pending.state is RedConfirmationState.PENDING and pending.requires_confirmation
    assert pending.expires_at and pending.created_at
    assert (pending.expires_at - pending.created_at).total_seconds() == 72 * 3600
    assert (
        mapping.confirmation_from_form({**form, "billStatus": "07"}, "").state
        is RedConfirmationState.LAPSED
    )
    issued = mapping.confirmation_from_form({**form, "billStatus": "01", "openStatus": 1}, "")
    assert issued.state is RedConfirmationState.RED_ISSUED


def test_bill_id_is_derived_from_the_red_order_id() -> None:
    assert mapping.bill_id_for("RED123") == "RED123"
    long_id = "red-order/" + "x" * 60
    assert (
        mapping.bill_id_for(long_id) == mapping.bill_id_for(long_id)
        and len(mapping.bill_id_for(long_id)) == 32
    )


def test_zero_rate_flags_and_millisecond_times_round_trip() -> None:
    # The sandbox reads and writes these with the same helpers as the plugin.
    flags = {t: protocol.zero_rate_flag(t) for t in TaxTreatment}
    assert flags == {
        TaxTreatment.TAXABLE: "",
        TaxTreatment.EXEMPT: "1",
        TaxTreatment.NOT_TAXABLE: "2",
        TaxTreatment.ZERO_RATE: "3",
    }
    assert all(protocol.treatment_of(flag) is t for t, flag in flags.items())
    assert protocol.treatment_of(None) is TaxTreatment.TAXABLE
    moment = datetime(2026, 11, 26, 2, 0, 0, 123000, tzinfo=UTC)
    assert protocol.millis(moment) == 1795658400123 and protocol.millis(None) is None
    assert protocol.from_millis(protocol.millis(moment)) == moment
