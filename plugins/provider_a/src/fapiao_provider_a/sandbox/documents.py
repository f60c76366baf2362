"""The files of a sandbox invoice, rendered by the shared sandbox kit (never re-written).

Files are served at ``/invoice/file/{serial}-{key}.{pdf|ofd|xml}`` (the key makes the URL
unguessable, as the platform's are), rendered once per invoice and format and kept, so every
download of the same file has the same bytes and hash.
"""

from __future__ import annotations

from fapiao.sandboxkit import document_data_from_invoice, render
from fapiao.sdk import MEDIA_TYPES, DocumentFormat
from fapiao_provider_a.protocol import ISSUED
from fapiao_provider_a.sandbox.state import Record, SandboxState

__all__ = ["FILE_ROUTE", "document", "file_url"]

FILE_ROUTE = "/invoice/file/{name}"
_FORMATS = ("pdf", "ofd", "xml")


def file_url(record: Record, fmt: str) -> str:
    return record.base_url + FILE_ROUTE.format(name=f"{record.serial}-{record.file_key}.{fmt}")


def document(state: SandboxState, name: str) -> tuple[bytes, str] | None:
    """The file ``{serial}-{key}.{fmt}`` and its media type; None when there is none."""
    stem, _, fmt = name.rpartition(".")
    serial, _, key = stem.partition("-")
    record = state.records.get(serial)
    if record is None or record.file_key != key or record.status != ISSUED or fmt not in _FORMATS:
        return None
    if fmt not in record.files:
        data = document_data_from_invoice(
            record.invoice,
            invoice_number=record.number or "",
            issued_at=record.issued_at or state.clock.now(),
            is_red=record.is_red,
            original_invoice_number=record.original_number,
            red_confirmation_number=record.red_form_no,
        )
        record.files[fmt] = render(data, fmt)
    return record.files[fmt], MEDIA_TYPES[DocumentFormat(fmt)]
