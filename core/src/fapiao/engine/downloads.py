"""Downloading an issued invoice's files: fetch, verify, record the hashes, hand to archivers.

Why a workflow of its own: a file is only recorded once it is verified (type, structure,
invoice number, hash; ``fapiao.documents``), it is written to disk atomically, and the
``fapiao_archive_invoice`` hook sees exactly the verified set.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from fapiao.errors import DocumentInvalid, InvalidRequest
from fapiao.models import Document, DocumentFormat, Operation

from .kernel import Kernel
from .ledger import HAS_INVOICE_STATES, RequestKey
from .outcomes import status_from_record

__all__ = ["Downloads"]


class Downloads:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    async def fetch(
        self,
        key: RequestKey,
        formats: Sequence[DocumentFormat | str] | None,
        dest_dir: str | os.PathLike[str] | None,
    ) -> list[Document]:
        """Every requested format (default: all the provider declares), verified, recorded,
        written to ``dest_dir`` as ``<invoice number>.<format>`` when given."""
        from fapiao.documents import verify_document

        kernel = self.kernel
        record = await kernel.record(key)
        if record.state not in HAS_INVOICE_STATES or not record.invoice_number:
            raise InvalidRequest(
                f"order {key.order_id} has no issued invoice yet ({record.state.value})",
                message_zh=f"订单 {key.order_id} 尚未开具发票（{record.state.value}）",
                field="state",
            )
        profile = record.provider_profile
        kernel.require(profile, Operation.DOCUMENTS)
        caps = kernel.providers.capabilities(profile)
        wanted = [DocumentFormat(f) for f in formats] if formats else sorted(caps.document_formats)
        for fmt in wanted:
            if refusal := caps.refuse_document_format(fmt, record.provider, field="formats"):
                raise refusal
        provider = kernel.providers.get(profile)
        status = status_from_record(record)
        target = Path(dest_dir) if dest_dir is not None else None
        fetched: list[Document] = []
        for fmt in wanted:
            document = await kernel.call(
                profile,
                Operation.DOCUMENTS,
                {"invoice_number": record.invoice_number, "format": fmt.value},
                lambda fmt=fmt: provider.fetch_document(status, fmt),  # type: ignore[misc]
            )
            if document.content is None:
                raise DocumentInvalid(
                    f"{record.provider} returned no content for the {fmt.value} file",
                    message_zh=f"服务商 {record.provider} 未返回 {fmt.value} 文件内容",
                    provider=record.provider,
                )
            verify_document(fmt, document.content, invoice_number=record.invoice_number)
            sha256 = hashlib.sha256(document.content).hexdigest()
            location = document.url or f"{record.provider}:{record.invoice_number}.{fmt.value}"
            if target is not None:
                name = document.filename or f"{record.invoice_number}.{fmt.value}"
                path = target / Path(name).name
                await asyncio.to_thread(write_atomically, path, document.content)
                location = str(path)
            await kernel.ledger.add_document(key, fmt, sha256, len(document.content), location)
            fetched.append(document)
        kernel.notify("fapiao_archive_invoice", status=status, documents=list(fetched))
        return fetched


def write_atomically(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` so that a reader sees the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
