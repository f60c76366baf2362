"""The files of a sandbox invoice, rendered by the shared sandbox kit (never re-written).

Files are rendered once per invoice and format and kept, so every download of the same file
has the same bytes and hash, as with the real platform.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fapiao.sdk import DocumentFormat

if TYPE_CHECKING:
    from fapiao_provider_b.sandbox.state import InvoiceRecord, SandboxState

__all__ = ["render_record"]


def render_record(state: SandboxState, record: InvoiceRecord, fmt: DocumentFormat) -> bytes:
    with state.lock:
        cached = record.documents.get(fmt.value)
    if cached is not None:
        return cached
    from fapiao.sandboxkit.render import document_data_from_invoice, render

    data = document_data_from_invoice(
        record.invoice,
        record.totals,
        invoice_number=record.invoice_number,
        issued_at=record.issued_at,
        is_red=record.is_red,
        original_invoice_number=record.original_invoice_number,
        red_confirmation_number=record.red_form_number,
    )
    content = render(data, fmt)
    with state.lock:
        return record.documents.setdefault(fmt.value, content)
