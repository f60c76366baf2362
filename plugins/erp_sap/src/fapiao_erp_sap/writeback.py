"""The write-back target: the customer's own OData service ``ZFAPIAO_INVOICE_SRV``.

SAP's billing document API is read-only (every entity is ``sap:updatable="false"``), so SAP
customers record e-invoice results the way Golden Tax add-ons do: in a Z table exposed by a
Gateway service (SEGW). We define that service: entity set ``InvoiceResultSet`` of
``InvoiceResult``, keyed by ``BillingDocument``, whose UPDATE_ENTITY is a ``MODIFY`` (upsert).
A write-back is one ``PUT InvoiceResultSet('<BillingDocument>')`` carrying the whole entity, so
sending it twice leaves the same row: safe to retry, never half-written.
"""

from __future__ import annotations

from typing import Any

from fapiao.sdk import DocumentFormat, WriteBack
from fapiao_erp_sap.odata import format_datetimeoffset, string_literal

__all__ = [
    "ENTITY_SET",
    "ENTITY_TYPE",
    "MAX_LENGTHS",
    "entity_path",
    "result_entity",
]

ENTITY_SET = "InvoiceResultSet"
ENTITY_TYPE = "InvoiceResult"

MAX_LENGTHS = {
    "BillingDocument": 10,
    "FapiaoOrderID": 64,
    "Status": 20,
    "InvoiceNumber": 20,
    "PdfUrl": 255,
    "OfdUrl": 255,
    "XmlUrl": 255,
    "ErrorCode": 30,
    "ErrorMessage": 220,
}
"""CHAR lengths of the Z table's fields; longer values are cut, as ABAP would."""

_URL_FIELDS = {
    DocumentFormat.PDF: "PdfUrl",
    DocumentFormat.OFD: "OfdUrl",
    DocumentFormat.XML: "XmlUrl",
}


def entity_path(billing_document: str) -> str:
    return f"{ENTITY_SET}({string_literal(billing_document)})"


def _cut(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    return value[: MAX_LENGTHS[name]]


def result_entity(outcome: WriteBack) -> dict[str, Any]:
    """The full ``InvoiceResult`` for one outcome (every field present: PUT replaces)."""
    urls = {
        fmt.value if isinstance(fmt, DocumentFormat) else str(fmt): url
        for fmt, url in outcome.document_urls.items()
    }
    entity: dict[str, Any] = {
        "BillingDocument": outcome.source_id,
        "FapiaoOrderID": _cut("FapiaoOrderID", outcome.order_id),
        "Status": outcome.state.value,
        "InvoiceNumber": _cut("InvoiceNumber", outcome.invoice_number),
        "IssueDateTime": format_datetimeoffset(outcome.issued_at) if outcome.issued_at else None,
        "ErrorCode": _cut("ErrorCode", outcome.error_code),
        "ErrorMessage": _cut("ErrorMessage", outcome.error_message),
    }
    for fmt, field in _URL_FIELDS.items():
        entity[field] = _cut(field, urls.get(fmt.value))
    return entity
