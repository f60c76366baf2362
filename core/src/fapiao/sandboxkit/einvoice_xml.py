"""The structured XML of a 数电票, in the element vocabulary of the files the national
platform (电子发票服务平台) hands out: an ``EInvoice`` root with ``Header`` (``EIid``,
``InherentLabel``), ``EInvoiceData`` (``SellerInformation``, ``BuyerInformation``,
``BasicInformation``, one ``IssuItemInformation`` per line, ``AdditionalInformation``) and
``TaxSupervisionInfo`` (``InvoiceNumber``, ``IssueTime``, ``TaxBureauCode/Name``).

Those names follow what public parsers of real downloaded files read. Where public material
is silent we kept the same style: red invoices carry ``RedInvoiceLabel`` (Y) and
``OriginalInvoiceNumber`` / ``RedConfirmationNumber`` in ``AdditionalInformation``.
The platform's own files carry a digital signature (``SignatureValue``), which a sandbox
cannot produce; there is none here.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from decimal import Decimal

from fapiao.models import InvoiceKind
from fapiao.sandboxkit.document_data import InvoiceDocumentData
from fapiao.sandboxkit.layout import format_money, format_quantity

__all__ = ["ROOT_ELEMENT", "render_xml", "xml_text"]

ROOT_ELEMENT = "EInvoice"
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value: str) -> str:
    """Drop characters XML 1.0 cannot carry (control characters), keep everything else."""
    return _INVALID_XML_CHARS.sub("", value)


def _add(parent: ET.Element, tag: str, value: str | Decimal | None) -> ET.Element:
    child = ET.SubElement(parent, tag)
    if value is not None:
        child.text = xml_text(value if isinstance(value, str) else f"{value:f}")
    return child


def _label(parent: ET.Element, tag: str, code: str, name: str) -> None:
    element = ET.SubElement(parent, tag)
    _add(element, "LabelCode", code)
    _add(element, "LabelName", name)


def _rate(value: Decimal | None, label: str) -> str:
    if label in {"免税", "不征税"} or value is None:
        return label
    return format_quantity(value)


def render_xml(data: InvoiceDocumentData) -> bytes:
    """UTF-8 XML bytes with a declaration; passes ``fapiao.documents.verify_document``."""
    root = ET.Element(ROOT_ELEMENT)
    header = ET.SubElement(root, "Header")
    _add(header, "EIid", data.invoice_number)
    _add(header, "EInvoiceTag", f"SWEI{data.invoice_number[2:4]}00")
    _add(header, "Version", "0.1")
    labels = ET.SubElement(header, "InherentLabel")
    _label(labels, "EInvoiceType", "1", "电子发票")
    if data.kind is InvoiceKind.SPECIAL:
        _label(labels, "GeneralOrSpecialVAT", "01", "增值税专用发票")
    else:
        _label(labels, "GeneralOrSpecialVAT", "02", "普通发票")
    _label(
        labels, "RedInvoiceLabel", "Y" if data.is_red else "N", "红字" if data.is_red else "蓝字"
    )

    body = ET.SubElement(root, "EInvoiceData")
    seller = ET.SubElement(body, "SellerInformation")
    _add(seller, "SellerIdNum", data.seller.tax_id)
    _add(seller, "SellerName", data.seller.name)
    _add(seller, "SellerAddr", data.seller.address)
    _add(seller, "SellerTelNum", data.seller.phone)
    _add(seller, "SellerBankName", data.seller.bank)
    _add(seller, "SellerBankAccNum", data.seller.account)
    buyer = ET.SubElement(body, "BuyerInformation")
    _add(buyer, "BuyerIdNum", data.buyer.tax_id)
    _add(buyer, "BuyerName", data.buyer.name)
    _add(buyer, "BuyerAddr", data.buyer.address)
    _add(buyer, "BuyerTelNum", data.buyer.phone)
    _add(buyer, "BuyerBankName", data.buyer.bank)
    _add(buyer, "BuyerBankAccNum", data.buyer.account)
    basic = ET.SubElement(body, "BasicInformation")
    _add(basic, "TotalAmWithoutTax", format_money(data.total_amount))
    _add(basic, "TotalTaxAm", format_money(data.total_tax))
    _add(basic, "TotalTax-includedAmount", format_money(data.total_with_tax))
    _add(basic, "TotalTax-includedAmountInChinese", data.amount_in_words)
    _add(basic, "Drawer", data.issuer)
    _add(basic, "RequestTime", f"{data.issued_at:%Y-%m-%d %H:%M:%S}")
    for line in data.lines:
        item = ET.SubElement(body, "IssuItemInformation")
        _add(item, "ItemName", line.name)
        _add(item, "SpecMod", line.spec)
        _add(item, "MeaUnits", line.unit)
        _add(item, "Quantity", format_quantity(line.quantity) or None)
        _add(item, "UnPrice", format_quantity(line.unit_price) or None)
        _add(item, "Amount", format_money(line.amount))
        _add(item, "TaxRate", _rate(line.tax_rate, line.rate_label))
        _add(item, "ComTaxAm", format_money(line.tax) if line.tax_shown else "***")
        _add(item, "TotaltaxIncludedAmount", format_money(line.amount + line.tax))
        _add(item, "TaxClassificationCode", line.tax_code)
    extra = ET.SubElement(body, "AdditionalInformation")
    _add(extra, "Remark", data.remarks)
    if data.is_red:
        _add(extra, "OriginalInvoiceNumber", data.original_invoice_number)
        _add(extra, "RedConfirmationNumber", data.red_confirmation_number)

    supervision = ET.SubElement(root, "TaxSupervisionInfo")
    _add(supervision, "InvoiceNumber", data.invoice_number)
    _add(supervision, "IssueTime", f"{data.issued_at:%Y-%m-%d %H:%M:%S}")
    _add(supervision, "TaxBureauCode", data.tax_bureau_code)
    _add(supervision, "TaxBureauName", data.tax_bureau_name)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document
