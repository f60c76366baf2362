"""The operations table, the error categories and the base class's generic declaration checks:
each fact has one owner, and these tests pin what that owner says."""

from __future__ import annotations

import inspect
from decimal import Decimal
from typing import Any, ClassVar

import pytest

from fapiao.contract import Capabilities, Provider, ProviderInfo
from fapiao.contract.operations import OPERATIONS, probe, spec
from fapiao.errors import (
    AuthFailed,
    DuplicateOrder,
    FapiaoError,
    NotAccepted,
    OutcomeUnknown,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    UnsupportedOperation,
    error_class_for,
)
from fapiao.models import (
    Delivery,
    DeliveryChannel,
    DocumentFormat,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceState,
    InvoiceStatus,
    IssueResult,
    Operation,
    Party,
)
from fapiao.sdk import ProviderBase

SELLER = "91310000MA1FL8XQ37"


def test_every_operation_has_one_entry_naming_a_provider_method() -> None:
    assert list(OPERATIONS) == list(Operation)
    for operation, entry in OPERATIONS.items():
        assert entry.operation is operation
        assert entry.method in Provider.__dict__, entry.method
        assert spec(operation.value) is entry
    # what changes something at the provider may never be repeated blindly
    assert {op for op, e in OPERATIONS.items() if not e.idempotent} == {
        Operation.ISSUE,
        Operation.RED_APPLY,
        Operation.RED_CONFIRM,
        Operation.RED_ISSUE,
        Operation.CANCEL,
        Operation.DELIVER,
    }


def test_error_categories_are_types_and_flags() -> None:
    assert {c.code for c in (ProviderUnavailable, RateLimited, AuthFailed)} == {
        "PROVIDER_UNAVAILABLE",
        "RATE_LIMITED",
        "AUTH_FAILED",
    }
    for klass in (ProviderUnavailable, RateLimited, AuthFailed):
        assert issubclass(klass, NotAccepted)
    assert ProviderUnavailable.retry_now and RateLimited.retry_now
    assert not AuthFailed.retry_now  # a person must fix the secret first
    assert not issubclass(OutcomeUnknown, NotAccepted)
    assert not issubclass(DuplicateOrder, NotAccepted)
    faults = {
        klass.code for klass in {error_class_for(c) for c in _all_codes()} if klass.client_fault
    }
    assert faults == {
        "INVALID_INVOICE",
        "INVALID_TAX_ID",
        "INVALID_REQUEST",
        "QUOTA_EXCEEDED",
        "DUPLICATE_ORDER",
        "NOT_FOUND",
        "UNSUPPORTED",
        "RED_NOT_ALLOWED",
        "INVALID_TRANSITION",
        "DOCUMENT_INVALID",
    }
    # a stored error rebuilt from its code keeps its category
    rebuilt = FapiaoError.from_info(RateLimited("slow down").to_info())
    assert isinstance(rebuilt, NotAccepted) and rebuilt.retry_now
    assert not ProviderError().client_fault


def _all_codes() -> set[str]:
    found: set[str] = set()
    todo: list[type[FapiaoError]] = [FapiaoError]
    while todo:
        klass = todo.pop()
        found.add(klass.code)
        todo.extend(klass.__subclasses__())
    return found


def _invoice(**update: Any) -> Invoice:
    base = Invoice(
        order_id="OPS-1",
        kind=InvoiceKind.NORMAL,
        seller=Party(name="销方", tax_id=SELLER),
        buyer=Party(name="购方", natural_person=True),
        lines=[
            InvoiceLine(
                name="软件服务",
                tax_code="3040201010000000000",
                amount=Decimal("100.00"),
                tax_rate=Decimal("0.06"),
            )
        ],
    )
    return base.model_copy(update=update)


def _provider(operations: set[Operation], **caps: Any) -> tuple[ProviderBase[Any], list[str]]:
    from fapiao.contract import ProviderSettings

    ran: list[str] = []

    class Settings(ProviderSettings):
        base_urls: ClassVar[dict[Any, str]] = {}

    class Toy(ProviderBase[Settings]):
        name: ClassVar[str] = "toy"
        info: ClassVar[ProviderInfo] = ProviderInfo(display_name="Toy")
        settings_model = Settings
        default_capabilities: ClassVar[Capabilities] = Capabilities(
            operations=frozenset(operations), issuance="sync", status_updates="polling", **caps
        )

        async def issue(self, invoice: Invoice) -> IssueResult:
            ran.append("issue")
            raise ProviderError("the toy never issues")

        async def quota(self, seller_tax_id: str) -> Any:
            ran.append("quota")
            raise ProviderError("the toy has no quota")

        async def deliver(self, delivery: Delivery) -> Any:
            ran.append("deliver")
            raise ProviderError("the toy delivers nothing")

        async def fetch_document(self, status: Any, fmt: DocumentFormat) -> Any:
            ran.append("documents")
            raise ProviderError("the toy has no files")

    return Toy(Settings(base_url="http://127.0.0.1:9")), ran


async def test_base_class_refuses_an_undeclared_operation_before_the_plugin_code() -> None:
    provider, ran = _provider({Operation.QUERY})
    try:
        assert inspect.iscoroutinefunction(type(provider).issue)
        with pytest.raises(UnsupportedOperation) as caught:
            await provider.issue(_invoice())
        assert "issue" in caught.value.message_en and "issue" in caught.value.message_zh
        with pytest.raises(UnsupportedOperation):
            await provider.quota(SELLER)
        # not overridden and not declared: the default refuses it the same way
        with pytest.raises(UnsupportedOperation):
            await probe(provider, Operation.RED_APPLY, SELLER)
        assert ran == []
    finally:
        await provider.aclose()


async def test_base_class_refuses_what_breaks_the_declared_limits() -> None:
    provider, ran = _provider({Operation.ISSUE, Operation.QUERY}, max_lines_per_invoice=1)
    try:
        line = _invoice().lines[0]
        with pytest.raises(UnsupportedOperation) as too_many:
            await provider.issue(_invoice(lines=[line, line]))
        assert too_many.value.field == "lines"
        assert ran == []
        with pytest.raises(ProviderError):  # within the limits the plugin's own code runs
            await provider.issue(_invoice())
        assert ran == ["issue"]
    finally:
        await provider.aclose()


async def test_base_class_refuses_an_undeclared_channel_or_format_before_the_plugin_code() -> None:
    provider, ran = _provider(
        {Operation.DELIVER, Operation.DOCUMENTS},
        delivery_channels=frozenset({DeliveryChannel.EMAIL}),
        document_formats=frozenset({DocumentFormat.PDF}),
    )
    sms = Delivery(
        seller_tax_id=SELLER,
        invoice_number="26310000000000000001",
        channel=DeliveryChannel.SMS,
        address="13812345678",
    )
    status = InvoiceStatus(
        provider="toy",
        seller_tax_id=SELLER,
        order_id="OPS-1",
        state=InvoiceState.ISSUED,
        invoice_number="26310000000000000001",
    )
    try:
        with pytest.raises(UnsupportedOperation) as channel:
            await provider.deliver(sms)
        assert channel.value.field == "channel" and "sms" in channel.value.message_zh
        with pytest.raises(UnsupportedOperation) as fmt:
            await provider.fetch_document(status, fmt=DocumentFormat.OFD)
        assert fmt.value.field == "format" and "ofd" in fmt.value.message_en
        assert ran == []
        with pytest.raises(ProviderError):  # declared: the plugin's own code runs
            await provider.deliver(sms.model_copy(update={"channel": DeliveryChannel.EMAIL}))
        with pytest.raises(ProviderError):
            await provider.fetch_document(status, DocumentFormat.PDF)
        assert ran == ["deliver", "documents"]
    finally:
        await provider.aclose()


def test_capabilities_refuse_an_undeclared_format_or_channel() -> None:
    caps = Capabilities(
        operations=frozenset({Operation.DOCUMENTS, Operation.DELIVER}),
        document_formats=frozenset({DocumentFormat.PDF, DocumentFormat.XML}),
        delivery_channels=frozenset({DeliveryChannel.EMAIL}),
        issuance="sync",
        status_updates="polling",
    )
    assert caps.refuse_document_format(DocumentFormat.XML, "toy") is None
    ofd = caps.refuse_document_format(DocumentFormat.OFD, "toy", field="formats")
    assert ofd is not None and ofd.field == "formats" and ofd.provider == "toy"
    assert "ofd" in ofd.message_en and "ofd" in ofd.message_zh
    assert caps.refuse_delivery_channel(DeliveryChannel.EMAIL, "toy") is None
    sms = caps.refuse_delivery_channel(DeliveryChannel.SMS, "toy")
    assert sms is not None and sms.field == "channel"
    assert "email" in sms.message_en and "sms" in sms.message_zh


async def test_declared_but_not_implemented_is_named_as_such() -> None:
    provider, _ = _provider({Operation.ISSUE, Operation.QUERY, Operation.RED_QUERY})
    try:
        with pytest.raises(UnsupportedOperation) as caught:
            await provider.red_query(SELLER, "F-1")
        assert "declares red_query but does not implement it" in caught.value.message_en
    finally:
        await provider.aclose()


def test_capabilities_refuse_invoice_names_the_field() -> None:
    caps = Capabilities(
        operations=frozenset({Operation.ISSUE}),
        invoice_kinds=frozenset({InvoiceKind.NORMAL}),
        issuance="sync",
        status_updates="polling",
        max_order_id_length=3,
    )
    assert caps.refuse_invoice(_invoice(order_id="ABC"), "toy") is None
    too_long = caps.refuse_invoice(_invoice(order_id="ABCD"), "toy")
    assert too_long is not None and too_long.field == "order_id"
    assert "3" in too_long.message_en and "3" in too_long.message_zh
    special = caps.refuse_invoice(_invoice(order_id="A", kind=InvoiceKind.SPECIAL), "toy")
    assert special is not None and special.field == "kind"


def test_capabilities_split_queries_into_declared_batches_without_repeats() -> None:
    caps = Capabilities(
        operations=frozenset({Operation.QUERY}),
        issuance="sync",
        status_updates="polling",
        max_query_batch=2,
    )
    assert caps.query_batches(["A", "B", "A", "C", "D", "E"]) == [["A", "B"], ["C", "D"], ["E"]]
    assert caps.query_batches([]) == []
