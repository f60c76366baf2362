"""Checks on downloaded invoice files before they are recorded (docs/domain-rules.md, "Documents").

A provider may hand back an HTML error page with a 200, a truncated download, or the wrong
format; recording such a file as "the invoice PDF" is worse than failing, because nobody
looks again until the buyer complains. So every file is checked for its type and its
structure (not rendered): PDF header, ``%%EOF`` and cross-reference; OFD package (GB/T 33190)
entry, document and pages; the tax bureau's XML root and invoice number. Pure functions,
stdlib only; XML with a DTD or entity declarations is refused before parsing (no entity
expansion, no external fetches).
"""

from __future__ import annotations

import codecs
import hashlib
import io
import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile

from fapiao.errors import DocumentInvalid
from fapiao.models import Document, DocumentFormat

__all__ = [
    "EINVOICE_ROOT",
    "MEDIA_TYPES",
    "OFD_NAMESPACE",
    "sniff_format",
    "verified_document",
    "verify_document",
]

OFD_NAMESPACE = "http://www.ofdspec.org/2016"
MEDIA_TYPES = {
    DocumentFormat.PDF: "application/pdf",
    DocumentFormat.OFD: "application/ofd",
    DocumentFormat.XML: "application/xml",
}
"""What each format is served as (HTTP ``Content-Type``), by our API and the sandboxes alike."""
EINVOICE_ROOT = "EInvoice"

_MAX_ZIP_ENTRIES = 5000
_MAX_ZIP_TOTAL = 64 * 1024 * 1024
_MAX_XML_PART = 16 * 1024 * 1024
_DTD_RE = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_STARTXREF_RE = re.compile(rb"startxref\s+(\d+)\s+%%EOF", re.DOTALL)
_OBJ_RE = re.compile(rb"\s*\d+\s+\d+\s+obj\b")
_LABELS = {DocumentFormat.PDF: "PDF", DocumentFormat.OFD: "OFD", DocumentFormat.XML: "XML"}
_OFD = f"{{{OFD_NAMESPACE}}}"


def _invalid(fmt: DocumentFormat, zh: str, en: str) -> DocumentInvalid:
    label = _LABELS[fmt]
    return DocumentInvalid(
        f"{label} document invalid: {en}",
        message_zh=f"{label} 版式文件无效：{zh}",
        field=f"document.{fmt.value}",
    )


def _zip_names(content: bytes) -> list[str] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


def sniff_format(content: bytes) -> DocumentFormat | None:
    """Which format ``content`` looks like, from its first bytes (``None``: none of ours)."""
    if b"%PDF-" in content[:1024]:
        return DocumentFormat.PDF
    if content.startswith(b"PK\x03\x04"):
        names = _zip_names(content)
        if names is not None and any(n.lstrip("/").upper() == "OFD.XML" for n in names):
            return DocumentFormat.OFD
        return None
    head = content[:512]
    for bom in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if head.startswith(bom):
            return DocumentFormat.XML if bom != codecs.BOM_UTF8 else _xml_or_none(head[3:])
    return _xml_or_none(head)


def _xml_or_none(head: bytes) -> DocumentFormat | None:
    stripped = head.lstrip()
    if stripped.startswith(b"<?xml") or re.match(rb"<[A-Za-z_]", stripped):
        if stripped[:64].lower().startswith((b"<!doctype html", b"<html")):
            return None
        return DocumentFormat.XML
    return None


def _parse_xml(fmt: DocumentFormat, data: bytes, part: str) -> ET.Element:
    text_for_scan = data
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text_for_scan = data.decode("utf-16", errors="replace").encode("utf-8")
    if _DTD_RE.search(text_for_scan):
        raise _invalid(
            fmt,
            f"{part} 含 DTD 或实体声明，已拒绝",
            f"{part} contains a DTD or entity declaration (refused)",
        )
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise _invalid(
            fmt, f"{part} 不是格式正确的 XML（{exc}）", f"{part} is not well-formed XML ({exc})"
        ) from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# --- PDF -----------------------------------------------------------------------------------


def _verify_pdf(content: bytes) -> None:
    fmt = DocumentFormat.PDF
    start = content.find(b"%PDF-", 0, 1024)
    if start < 0:
        raise _invalid(fmt, "缺少 %PDF- 文件头", "no %PDF- header")
    if not re.match(rb"%PDF-\d\.\d", content[start : start + 8]):
        raise _invalid(fmt, "文件头版本号无效", "bad version in the %PDF- header")
    tail = content[-2048:]
    if b"%%EOF" not in tail:
        raise _invalid(fmt, "缺少 %%EOF 结束标记（文件被截断？）", "no %%EOF marker (truncated?)")
    found = _STARTXREF_RE.findall(tail)
    if not found:
        raise _invalid(fmt, "缺少 startxref", "no startxref before %%EOF")
    offset = start + int(found[-1])
    if offset >= len(content):
        raise _invalid(
            fmt, "startxref 偏移超出文件长度", "startxref points past the end of the file"
        )
    at = content[offset : offset + 4096]
    if at.startswith(b"xref"):
        trailer = content.find(b"trailer", offset)
        if trailer < 0 or b"/Root" not in content[trailer : trailer + 4096]:
            raise _invalid(fmt, "交叉引用表后缺少含 /Root 的 trailer", "no trailer with /Root")
    elif _OBJ_RE.match(at):
        if b"/XRef" not in at or b"/Root" not in at:
            raise _invalid(
                fmt, "交叉引用流缺少 /XRef 或 /Root", "xref stream without /XRef or /Root"
            )
    else:
        raise _invalid(
            fmt, "startxref 未指向交叉引用表", "startxref does not point at a cross-reference"
        )


# --- OFD -----------------------------------------------------------------------------------


def _read_part(fmt: DocumentFormat, archive: zipfile.ZipFile, path: str, what: str) -> bytes:
    name = path.lstrip("/")
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise _invalid(
            fmt, f"{what} 不存在：{name}", f"{what} missing from the package: {name}"
        ) from None
    if info.file_size > _MAX_XML_PART:
        raise _invalid(fmt, f"{what} 过大", f"{what} is too large ({info.file_size} bytes)")
    try:
        return archive.read(info)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:  # CRC error, bad compression
        raise _invalid(fmt, f"{what} 无法解压（{exc}）", f"{what} cannot be read ({exc})") from None


def _resolve(base_dir: str, location: str) -> str:
    location = location.strip()
    if location.startswith("/"):
        return posixpath.normpath(location.lstrip("/"))
    return posixpath.normpath(posixpath.join(base_dir, location))


def _verify_ofd(content: bytes, invoice_number: str | None) -> None:
    fmt = DocumentFormat.OFD
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _invalid(fmt, "不是 zip 包", "not a zip package") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > _MAX_ZIP_ENTRIES or sum(i.file_size for i in infos) > _MAX_ZIP_TOTAL:
            raise _invalid(fmt, "包内文件过多或过大", "too many or too large entries")
        entry_name = next((i.filename for i in infos if i.filename.upper() == "OFD.XML"), None)
        if entry_name is None:
            raise _invalid(fmt, "缺少入口文件 OFD.xml", "no OFD.xml entry file")
        root = _parse_xml(fmt, _read_part(fmt, archive, entry_name, "OFD.xml"), "OFD.xml")
        if root.tag != f"{_OFD}OFD":
            raise _invalid(
                fmt,
                f"OFD.xml 根元素须为 ofd:OFD（命名空间 {OFD_NAMESPACE}）",
                f"OFD.xml root must be ofd:OFD in namespace {OFD_NAMESPACE}, got {root.tag}",
            )
        doc_root = root.findtext(f"{_OFD}DocBody/{_OFD}DocRoot")
        if not doc_root or not doc_root.strip():
            raise _invalid(fmt, "OFD.xml 缺少 DocBody/DocRoot", "OFD.xml has no DocBody/DocRoot")
        texts = [el.text or "" for el in root.iter(f"{_OFD}CustomData")]
        doc_path = _resolve("", doc_root)
        document = _parse_xml(fmt, _read_part(fmt, archive, doc_path, "Document.xml"), doc_path)
        if document.tag != f"{_OFD}Document":
            raise _invalid(
                fmt, f"{doc_path} 根元素须为 ofd:Document", f"{doc_path} root must be ofd:Document"
            )
        doc_dir = posixpath.dirname(doc_path)
        if document.find(f"{_OFD}CommonData/{_OFD}PageArea") is None:
            raise _invalid(
                fmt,
                "Document.xml 缺少 CommonData/PageArea",
                "Document.xml has no CommonData/PageArea",
            )
        for res in document.iterfind(f"{_OFD}CommonData/{_OFD}PublicRes"):
            res_path = _resolve(doc_dir, res.text or "")
            _parse_xml(fmt, _read_part(fmt, archive, res_path, "PublicRes"), res_path)
        pages = document.findall(f"{_OFD}Pages/{_OFD}Page")
        if not pages:
            raise _invalid(fmt, "文档没有页面", "the document has no page")
        for page in pages:
            loc = page.get("BaseLoc")
            if not loc:
                raise _invalid(fmt, "页面缺少 BaseLoc", "a page has no BaseLoc")
            page_path = _resolve(doc_dir, loc)
            content_root = _parse_xml(
                fmt, _read_part(fmt, archive, page_path, "page content"), page_path
            )
            texts.append("".join(t.text or "" for t in content_root.iter(f"{_OFD}TextCode")))
    if invoice_number and not any(invoice_number in text for text in texts):
        raise _invalid(
            fmt,
            f"文件中未找到发票号码 {invoice_number}",
            f"invoice number {invoice_number} not found in the document",
        )


# --- XML -----------------------------------------------------------------------------------


def _verify_xml(content: bytes, invoice_number: str | None) -> None:
    fmt = DocumentFormat.XML
    root = _parse_xml(fmt, content, "XML")
    if _local(root.tag) != EINVOICE_ROOT:
        raise _invalid(
            fmt,
            f"根元素须为 {EINVOICE_ROOT}，实际为 {_local(root.tag)}",
            f"root element must be {EINVOICE_ROOT}, got {_local(root.tag)}",
        )
    found: dict[str, str] = {}
    for element in root.iter():
        name = _local(element.tag)
        if name in {"EInvoiceData", "InvoiceNumber", "EIid"}:
            found.setdefault(name, (element.text or "").strip())
    if "EInvoiceData" not in found:
        raise _invalid(fmt, "缺少 EInvoiceData", "no EInvoiceData element")
    numbers = {found.get("InvoiceNumber"), found.get("EIid")} - {None, ""}
    if not numbers:
        raise _invalid(
            fmt,
            "缺少发票号码（TaxSupervisionInfo/InvoiceNumber 或 Header/EIid）",
            "no invoice number (TaxSupervisionInfo/InvoiceNumber or Header/EIid)",
        )
    if invoice_number and invoice_number not in numbers:
        raise _invalid(
            fmt,
            f"发票号码不符：期望 {invoice_number}，文件中为 {'/'.join(sorted(n for n in numbers if n))}",
            f"invoice number mismatch: expected {invoice_number}, "
            f"file has {'/'.join(sorted(n for n in numbers if n))}",
        )


def verify_document(
    fmt: DocumentFormat | str, content: bytes, *, invoice_number: str | None = None
) -> None:
    """Raise :class:`~fapiao.errors.DocumentInvalid` unless ``content`` is a well-formed
    ``fmt`` file (and, for OFD and XML, shows ``invoice_number`` when given)."""
    fmt = DocumentFormat(fmt)
    if not content:
        raise _invalid(fmt, "文件为空", "the file is empty")
    sniffed = sniff_format(content)
    if sniffed is not None and sniffed is not fmt:
        raise _invalid(
            fmt,
            f"文件类型不符：期望 {_LABELS[fmt]}，实际为 {_LABELS[sniffed]}",
            f"wrong file type: expected {_LABELS[fmt]}, got {_LABELS[sniffed]}",
        )
    if fmt is DocumentFormat.PDF:
        _verify_pdf(content)
    elif fmt is DocumentFormat.OFD:
        if sniffed is None:
            raise _invalid(
                fmt, "不是 OFD 包（zip 且含 OFD.xml）", "not an OFD package (a zip with OFD.xml)"
            )
        _verify_ofd(content, invoice_number)
    else:
        if sniffed is None:
            raise _invalid(fmt, "不是 XML 文件", "not an XML file")
        _verify_xml(content, invoice_number)


def verified_document(
    fmt: DocumentFormat | str,
    invoice_number: str,
    content: bytes,
    *,
    url: str | None = None,
    expected_sha256: str | None = None,
) -> Document:
    """Verify ``content`` and wrap it as a :class:`~fapiao.models.Document` with its hash;
    a provider-declared ``expected_sha256`` that does not match is a ``DocumentInvalid``."""
    fmt = DocumentFormat(fmt)
    if expected_sha256 is not None:
        digest = hashlib.sha256(content).hexdigest()
        if digest.lower() != expected_sha256.strip().lower():
            raise _invalid(
                fmt,
                f"哈希不符：服务商声明 {expected_sha256}，实际 {digest}",
                f"sha256 mismatch: provider declared {expected_sha256}, computed {digest}",
            )
    verify_document(fmt, content, invoice_number=invoice_number)
    return Document.from_bytes(fmt, invoice_number, content, url=url)
