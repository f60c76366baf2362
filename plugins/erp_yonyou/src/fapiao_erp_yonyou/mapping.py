"""YonBIP document → canonical request.

Field names are those of the YonBIP open API (销售发票详情查询 ``/yonbip/sd/vouchersaleinvoice/
detail``, 销售订单详情查询 ``/yonbip/sd/voucherorder/detail``); where the public docs are silent
(the order's invoice-title block, ``redType`` values) the README says what was inferred.

Every problem of a document is collected before raising, so one run reports all of them; each
issue's path names the document (type and 单据编号) and the YonBIP field, e.g.
``销售发票 TI0001 / saleInvoiceDetails[1].productCode``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from fapiao.sdk import (
    CENT,
    InvalidInvoice,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    LineKind,
    MappedDocument,
    Party,
    RedLine,
    RedReason,
    RedReversalRequest,
    SourceDocument,
    TaxTreatment,
    ValidationIssue,
)
from fapiao_erp_yonyou.settings import SellerOrg, YonyouSettings

__all__ = ["DocumentMapper", "document_label"]

_LABELS = {"saleinvoice": ("销售发票", "sales invoice"), "saleorder": ("销售订单", "sales order")}
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")


def document_label(document: str) -> tuple[str, str]:
    return _LABELS.get(document, (document, document))


@dataclass(frozen=True)
class _Schema:
    """Where one YonBIP document type keeps what the mapping needs."""

    lines: str
    seller_orgs: tuple[str, ...]
    spec: str
    unit: str


_SCHEMAS = {
    "saleinvoice": _Schema("saleInvoiceDetails", ("orgId", "orgName"), "speciDes", "unitName"),
    "saleorder": _Schema(
        "orderDetails",
        ("settlementOrgId", "salesOrgId", "settlementOrgId_name", "salesOrgId_name"),
        "specDescription",
        "productUnitName",
    ),
}


@dataclass
class _Issues:
    prefix: str
    items: list[ValidationIssue] = field(default_factory=list)

    def add(self, code: str, path: str, zh: str, en: str, expected: str | None = None) -> None:
        self.items.append(
            ValidationIssue(
                code=code,
                path=f"{self.prefix} / {path}",
                message_zh=zh,
                message_en=en,
                expected=expected,
            )
        )


class DocumentMapper:
    def __init__(self, settings: YonyouSettings) -> None:
        self.settings = settings
        self.schema = _SCHEMAS[settings.document]
        self.tax_codes = settings.product_tax_codes()

    def map(self, document: SourceDocument) -> MappedDocument:
        doc = document.payload
        zh, _en = document_label(self.settings.document)
        issues = _Issues(prefix=f"{zh} {document.id}")
        seller_key, seller = self._seller(doc)
        if seller is None:
            keys = ", ".join(f"{k}={doc.get(k)!r}" for k in self.schema.seller_orgs if doc.get(k))
            issues.add(
                "UNKNOWN_SELLER_ORG",
                seller_key,
                f"开票组织未配置销方（{keys or '空'}），请在 sellers 中添加",
                f"invoicing organisation has no seller configured ({keys or 'empty'}); add it to sellers",
            )
        currency = self._currency(doc)
        if currency not in ("CNY", None):
            issues.add(
                "FOREIGN_CURRENCY",
                self._currency_path(),
                f"币种为 {currency}，数电票只能以人民币开具",
                f"currency is {currency}; 数电 invoices are issued in CNY only",
                expected="CNY",
            )
        if str(doc.get("invDirection", "2")) == "1":
            red = self._red(document, doc, seller, issues)
            if issues.items:
                raise InvalidInvoice(issues.items)
            return MappedDocument(source_id=document.id, red=red)
        invoice = self._invoice(document, doc, seller, issues)
        if issues.items or invoice is None:
            raise InvalidInvoice(issues.items)
        return MappedDocument(source_id=document.id, invoice=invoice)

    # -- header --------------------------------------------------------------------------
    def _seller(self, doc: Mapping[str, Any]) -> tuple[str, SellerOrg | None]:
        for key in self.schema.seller_orgs:
            value = doc.get(key)
            if value not in (None, "") and str(value) in self.settings.sellers:
                return key, self.settings.sellers[str(value)]
        return self.schema.seller_orgs[0], None

    def _currency(self, doc: Mapping[str, Any]) -> str | None:
        if self.settings.document == "saleorder":
            prices = doc.get("orderPrices") or {}
            value = prices.get("originalCode") or prices.get("domesticCode")
        else:
            value = doc.get("currency_code")
        return str(value).upper() if value else None

    def _currency_path(self) -> str:
        return "orderPrices.originalCode" if self.settings.document == "saleorder" else "currency_code"

    def _title(self, doc: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
        """The invoice-title block and the path prefix of its fields."""
        if self.settings.document == "saleorder":
            return dict(doc.get("orderInvoice") or {}), "orderInvoice."
        return dict(doc), ""

    def _kind(self, doc: Mapping[str, Any], issues: _Issues) -> InvoiceKind | None:
        title, prefix = self._title(doc)
        raw = title.get("invoiceType")
        if raw not in (None, ""):
            kind = self.settings.invoice_kinds.get(str(raw))
            if kind is not None:
                return kind
            if self.settings.default_kind is None:
                issues.add(
                    "UNKNOWN_INVOICE_TYPE",
                    f"{prefix}invoiceType",
                    f"发票类型 {raw} 无对应的数电票种类，请在 invoice_kinds 中映射",
                    f"invoiceType {raw} has no 数电 kind; map it in invoice_kinds",
                    expected=", ".join(sorted(self.settings.invoice_kinds)),
                )
                return None
        return self.settings.default_kind or InvoiceKind.NORMAL

    def _buyer(self, doc: Mapping[str, Any], kind: InvoiceKind | None, issues: _Issues) -> Party | None:
        title, prefix = self._title(doc)
        if self.settings.document == "saleorder":
            name = title.get("invoiceTitle") or doc.get("agentId_name")
            tax_id, tax_path = title.get("taxNum"), f"{prefix}taxNum"
            address, phone = title.get("address"), title.get("telephone")
            bank, account = title.get("bankName"), title.get("bankAccount")
        else:
            name = doc.get("invoiceTitle") or doc.get("invAgentName") or doc.get("agentName")
            if doc.get("retailInvestors") in (True, "true") and doc.get("retailAgentName"):
                name = doc.get("retailAgentName")
            tax_id, tax_path = doc.get("invAgentTaxNo"), "invAgentTaxNo"
            address, phone = doc.get("invAgentAdress"), doc.get("invAgentTel")
            bank = " ".join(str(b) for b in (doc.get("invAgentBank"), doc.get("invAgentSubBank")) if b)
            account = doc.get("invAgentBankNo")
        natural = str(title.get("invoiceTitleType", "0")) == "1" or doc.get("retailInvestors") in (
            True,
            "true",
        )
        if not name:
            issues.add(
                "MISSING_FIELD",
                f"{prefix}invoiceTitle" if self.settings.document == "saleorder" else "invAgentName",
                "购买方名称为空",
                "buyer name is empty",
            )
            return None
        tax_id = str(tax_id).strip().upper() if tax_id else None
        if kind is InvoiceKind.SPECIAL and (not tax_id or natural):
            issues.add(
                "MISSING_TAX_ID",
                tax_path,
                "专票购买方须为有纳税人识别号的单位",
                "a 专票 buyer must be an entity with a taxpayer ID",
            )
        return Party(
            name=str(name),
            tax_id=tax_id or None,
            natural_person=natural,
            address=_text(address),
            phone=_text(phone),
            bank=_text(bank),
            account=_text(account),
            email=_text(doc.get("receievInvoiceEmail")),
            mobile=_text(doc.get("receievInvoiceMobile")),
        )

    # -- blue ----------------------------------------------------------------------------
    def _invoice(
        self, document: SourceDocument, doc: Mapping[str, Any], seller: SellerOrg | None, issues: _Issues
    ) -> Invoice | None:
        kind = self._kind(doc, issues)
        buyer = self._buyer(doc, kind, issues)
        lines = self._lines(doc, issues)
        if issues.items or seller is None or buyer is None or kind is None:
            return None
        try:
            return Invoice(
                order_id=document.id,
                kind=kind,
                seller=_party(seller),
                buyer=buyer,
                lines=tuple(lines),
                prices_include_tax=self.settings.amounts == "gross",
                remarks=_text(doc.get("memo")),
                issuer=self.settings.issuer,
                provider_extra={},
            )
        except ValueError as exc:  # pydantic: a field outside the canonical shape
            issues.add("INVALID_FIELD", "(document)", f"单据无法转换：{exc}", f"cannot convert: {exc}")
            return None

    def _lines(self, doc: Mapping[str, Any], issues: _Issues) -> list[InvoiceLine]:
        rows = doc.get(self.schema.lines) or []
        if not rows:
            issues.add("MISSING_FIELD", self.schema.lines, "单据没有明细行", "the document has no lines")
        lines: list[InvoiceLine] = []
        for index, row in enumerate(rows):
            path = f"{self.schema.lines}[{index}]"
            line = self._line(row, path, issues)
            if line is not None:
                lines.append(line)
        return lines

    def _line(self, row: Mapping[str, Any], path: str, issues: _Issues) -> InvoiceLine | None:
        product = str(row.get("productCode") or row.get("skuCode") or "")
        tax_code = self.tax_codes.get(product)
        if tax_code is None:
            issues.add(
                "UNKNOWN_PRODUCT",
                f"{path}.productCode",
                f"物料 {product or '（空）'} 未配置税收分类编码，请在 tax_codes 中添加",
                f"product {product or '(empty)'} has no tax classification code; add it to tax_codes",
            )
        gross = self.settings.amounts == "gross"
        amount_field = "oriSum" if gross else "oriMoney"
        price_field = "oriTaxUnitPrice" if gross else "oriUnitPrice"
        amount = _decimal(row.get(amount_field), f"{path}.{amount_field}", issues, required=True)
        price = _decimal(row.get(price_field), f"{path}.{price_field}", issues)
        quantity = _decimal(row.get("qty"), f"{path}.qty", issues)
        rate, treatment = self._rate(row, path, issues)
        tax = None
        if not gross:
            tax = _decimal(row.get("oriTax"), f"{path}.oriTax", issues)
        name = row.get("productName") or row.get("skuName")
        if not name:
            issues.add("MISSING_FIELD", f"{path}.productName", "商品名称为空", "product name is empty")
        if tax_code is None or amount is None or rate is None or not name:
            return None
        if not gross:
            amount = amount.quantize(CENT, ROUND_HALF_UP)
            tax = tax.quantize(CENT, ROUND_HALF_UP) if tax is not None else None
        return InvoiceLine(
            name=str(name),
            tax_code=tax_code,
            spec=_text(row.get(self.schema.spec)),
            unit=_text(row.get(self.schema.unit) or row.get("chargeUnitName")),
            quantity=quantity,
            unit_price=price,
            amount=amount,
            tax_rate=rate,
            tax=tax,
            treatment=treatment,
            kind=LineKind.DISCOUNT if amount < 0 else LineKind.NORMAL,
        )

    def _rate(
        self, row: Mapping[str, Any], path: str, issues: _Issues
    ) -> tuple[Decimal | None, TaxTreatment]:
        items = str(row.get("taxItems") or "")
        raw = row.get("taxRate")
        percent: Decimal | None = None
        if raw not in (None, ""):
            percent = _decimal(raw, f"{path}.taxRate", issues)
        elif (match := _PERCENT.search(items)) is not None:
            percent = Decimal(match.group(1))
        elif "免税" not in items and "不征税" not in items:
            issues.add("MISSING_FIELD", f"{path}.taxRate", "税率为空", "tax rate is empty")
            return None, TaxTreatment.TAXABLE
        rate = (percent or Decimal(0)) / 100
        if rate:
            return rate.normalize(), TaxTreatment.TAXABLE
        if "免税" in items:
            return Decimal(0), TaxTreatment.EXEMPT
        if "不征税" in items:
            return Decimal(0), TaxTreatment.NOT_TAXABLE
        return Decimal(0), TaxTreatment.ZERO_RATE

    # -- red -----------------------------------------------------------------------------
    def _red(
        self, document: SourceDocument, doc: Mapping[str, Any], seller: SellerOrg | None, issues: _Issues
    ) -> RedReversalRequest | None:
        blue = doc.get("_blue") or {}
        blue_number = blue.get("einvoiceHm") or doc.get("blueEinvoiceHm")
        if not blue_number:
            issues.add(
                "MISSING_BLUE_INVOICE",
                "blueEinvoiceHm",
                "红字发票未关联已开具的蓝字税票号码",
                "the red invoice does not reference an issued blue tax invoice number",
            )
        raw_reason = str(doc.get("redType") or "")
        reason = self.settings.red_reasons.get(raw_reason)
        if reason is None:
            issues.add(
                "UNKNOWN_RED_TYPE",
                "redType",
                f"红冲类型 {raw_reason or '（空）'} 无对应红冲原因，请在 red_reasons 中映射",
                f"redType {raw_reason or '(empty)'} has no red reason; map it in red_reasons",
                expected=", ".join(sorted(self.settings.red_reasons)),
            )
        red_lines = () if reason is RedReason.INVOICING_ERROR else self._red_lines(doc, blue, issues)
        if issues.items or seller is None or reason is None or not blue_number:
            return None
        return RedReversalRequest(
            order_id=document.id,
            seller_tax_id=seller.tax_id,
            buyer_tax_id=_text(doc.get("invAgentTaxNo")),
            original_invoice_number=str(blue_number),
            original_order_id=_text(blue.get("code") or doc.get("blueInvNo")),
            reason=reason,
            lines=red_lines,
        )

    def _red_lines(
        self, doc: Mapping[str, Any], blue: Mapping[str, Any], issues: _Issues
    ) -> tuple[RedLine, ...]:
        blue_rows = blue.get(self.schema.lines) or []
        position = {str(r.get("lineno")): i for i, r in enumerate(blue_rows)}
        result: list[RedLine] = []
        for index, row in enumerate(doc.get(self.schema.lines) or []):
            path = f"{self.schema.lines}[{index}]"
            original = position.get(str(row.get("blueInvlineno")))
            if original is None:
                issues.add(
                    "UNKNOWN_BLUE_LINE",
                    f"{path}.blueInvlineno",
                    f"蓝字发票中没有行号 {row.get('blueInvlineno')}",
                    f"the blue invoice has no line {row.get('blueInvlineno')}",
                )
                continue
            money = _decimal(row.get("oriMoney"), f"{path}.oriMoney", issues, required=True)
            tax = _decimal(row.get("oriTax"), f"{path}.oriTax", issues)
            qty = _decimal(row.get("qty"), f"{path}.qty", issues)
            if money is None:
                continue
            result.append(
                RedLine(
                    original_line=original,
                    amount=abs(money).quantize(CENT, ROUND_HALF_UP),
                    tax=abs(tax).quantize(CENT, ROUND_HALF_UP) if tax is not None else None,
                    quantity=abs(qty) if qty is not None else None,
                )
            )
        return tuple(result)


def _party(seller: SellerOrg) -> Party:
    return Party(
        name=seller.name,
        tax_id=seller.tax_id,
        address=seller.address,
        phone=seller.phone,
        bank=seller.bank,
        account=seller.account,
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _decimal(value: Any, path: str, issues: _Issues, *, required: bool = False) -> Decimal | None:
    if value is None or value == "":
        if required:
            issues.add("MISSING_FIELD", path, "必填金额为空", "a required amount is empty")
        return None
    if isinstance(value, bool):
        issues.add("INVALID_FIELD", path, "不是数值", "not a number")
        return None
    try:
        # YonBIP JSON numbers are parsed as Decimal by the client; str() keeps a stray float's
        # shortest representation rather than its binary expansion.
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        issues.add("INVALID_FIELD", path, f"不是数值：{value!r}", f"not a number: {value!r}")
        return None
    if not number.is_finite():
        issues.add("INVALID_FIELD", path, "不是有限数值", "not a finite number")
        return None
    return number
