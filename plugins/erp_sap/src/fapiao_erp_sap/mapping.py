"""Billing document (API_BILLING_DOCUMENT_SRV JSON) → canonical ``Invoice`` or red request.

Pure: everything a mapping needs (the business partners, the referenced invoice and its
write-back record) is fetched by ``pending()`` and carried in the payload under
:data:`ENRICHMENT_KEY`, so a stored payload maps the same way again later and tests need no
server. Every problem is collected and raised at once as ``InvalidInvoice`` whose issue paths
name the SAP document and field, e.g. ``BillingDocument 90000123 / to_Item[2].Material``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from fapiao.sdk import (
    InvalidInvoice,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    MappedDocument,
    Party,
    RedLine,
    RedReason,
    RedReversalRequest,
    SourceDocument,
    TaxTreatment,
    ValidationIssue,
    ensure_valid,
)
from fapiao_erp_sap.materials import MappingTable, MaterialEntry
from fapiao_erp_sap.odata import parse_datetime
from fapiao_erp_sap.settings import SapSettings, SellerProfile

__all__ = ["ENRICHMENT_KEY", "BillingDocumentMapper", "results", "tax_number_of"]

ENRICHMENT_KEY = "_fapiao"
"""Payload key holding what pending() fetched besides the billing document itself."""

CENT = Decimal("0.01")
_PRICE_PLACES = Decimal("0.00000001")
_TAX_CONDITION_CATEGORY = "D"  # KNTYP D: taxes
_INVOICE_CATEGORY = "M"  # SD document category M: invoice


def results(value: Any) -> list[dict[str, Any]]:
    """The entities of an expanded to-many navigation (``{"results": [...]}`` in OData v2)."""
    if isinstance(value, dict):
        value = value.get("results", [])
    return [v for v in value or [] if isinstance(v, dict)]


def tax_number_of(partner: Mapping[str, Any], tax_types: Iterable[str]) -> str | None:
    """The BP's Chinese tax number: first of ``tax_types`` present (long number preferred)."""
    numbers = {row.get("BPTaxType"): row for row in results(partner.get("to_BusinessPartnerTax"))}
    for tax_type in tax_types:
        row = numbers.get(tax_type)
        if row:
            value = (row.get("BPTaxLongNumber") or row.get("BPTaxNumber") or "").strip()
            if value:
                return value.upper()
    return None


def _issue(code: str, path: str, zh: str, en: str, expected: str | None = None) -> ValidationIssue:
    return ValidationIssue(code=code, path=path, message_zh=zh, message_en=en, expected=expected)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, float):  # never produced by SAP (Edm.Decimal is a string); refuse
        raise InvalidOperation(repr(value))
    return Decimal(str(value))


def _joined(*parts: Any) -> str | None:
    text = "".join(str(p).strip() for p in parts if p and str(p).strip())
    return text or None


class BillingDocumentMapper:
    """Maps one expanded ``A_BillingDocument`` payload with the user's material table."""

    def __init__(self, settings: SapSettings, table: MappingTable) -> None:
        self.settings = settings
        self.table = table

    # -- entry point -------------------------------------------------------------------------

    def map(self, document: SourceDocument) -> MappedDocument:
        payload = document.payload
        billing_type = str(payload.get("BillingDocumentType") or "")
        if billing_type in self.settings.cancellation_billing_types:
            return MappedDocument(source_id=document.id, red=self._cancellation(payload))
        if billing_type in self.settings.credit_memo_billing_types:
            return MappedDocument(source_id=document.id, red=self._credit_memo(payload))
        return MappedDocument(source_id=document.id, invoice=self.invoice(payload))

    # -- blue invoice ------------------------------------------------------------------------

    def invoice(self, payload: Mapping[str, Any]) -> Invoice:
        """The blue invoice for an F2-style document (raises ``InvalidInvoice``)."""
        prefix = self._prefix(payload)
        issues: list[ValidationIssue] = []
        self._check_currency(payload, prefix, issues)
        seller = self._seller(payload, prefix, issues)
        customer, function = self.buyer_number(payload)
        partner = self._partner(payload, customer)
        kind = self._kind(payload, customer, partner)
        buyer = self._buyer(payload, prefix, customer, function, partner, kind, issues)
        lines, line_items = self._lines(payload, prefix, issues)
        if issues:
            raise InvalidInvoice(issues)
        assert seller is not None and buyer is not None  # issues were raised otherwise
        try:
            invoice = Invoice(
                order_id=self._order_id(payload["BillingDocument"]),
                kind=kind,
                seller=_party(seller),
                buyer=buyer,
                lines=tuple(lines),
                remarks=self._remarks(payload),
            )
        except ValidationError as exc:
            raise InvalidInvoice(self._pydantic_issues(exc, prefix, line_items)) from None
        self._validate(invoice, prefix, line_items, function)
        return invoice

    def _prefix(self, payload: Mapping[str, Any]) -> str:
        return f"BillingDocument {payload.get('BillingDocument', '?')}"

    def _order_id(self, billing_document: str) -> str:
        return f"{self.settings.order_id_prefix}{billing_document}"

    def _remarks(self, payload: Mapping[str, Any]) -> str | None:
        reference = (payload.get("PurchaseOrderByCustomer") or "").strip()
        return f"客户订单号 {reference}" if reference else None

    def _check_currency(
        self, payload: Mapping[str, Any], prefix: str, issues: list[ValidationIssue]
    ) -> None:
        currency = payload.get("TransactionCurrency")
        if currency != "CNY":
            issues.append(
                _issue(
                    "CURRENCY_NOT_SUPPORTED",
                    f"{prefix} / TransactionCurrency",
                    f"数电发票只能以人民币开具，该凭证币种为 {currency}",
                    f"数电 invoices are issued in CNY only; this document is in {currency}",
                    expected="CNY",
                )
            )

    def _seller(
        self, payload: Mapping[str, Any], prefix: str, issues: list[ValidationIssue]
    ) -> SellerProfile | None:
        company = payload.get("CompanyCode")
        org = payload.get("SalesOrganization")
        seller = self.settings.seller_for(company, org)
        if seller is None:
            issues.append(
                _issue(
                    "UNKNOWN_SELLER",
                    f"{prefix} / CompanyCode",
                    f"公司代码 {company}（销售组织 {org}）未在 sellers 中配置销方税号",
                    f"company code {company} (sales organization {org}) has no seller in settings.sellers",
                )
            )
        return seller

    def buyer_number(self, payload: Mapping[str, Any]) -> tuple[str | None, str]:
        partners = {p.get("PartnerFunction"): p for p in results(payload.get("to_Partner"))}
        for function in self.settings.buyer_partner_functions:
            row = partners.get(function)
            if row and row.get("Customer"):
                return str(row["Customer"]), function
        if payload.get("PayerParty"):
            return str(payload["PayerParty"]), "PayerParty"
        if payload.get("SoldToParty"):
            return str(payload["SoldToParty"]), "SoldToParty"
        return None, self.settings.buyer_partner_functions[0]

    def _partner(self, payload: Mapping[str, Any], customer: str | None) -> dict[str, Any] | None:
        partners = payload.get(ENRICHMENT_KEY, {}).get("business_partners", {})
        found = partners.get(customer) if customer else None
        return found if isinstance(found, dict) else None

    def _kind(
        self, payload: Mapping[str, Any], customer: str | None, partner: Mapping[str, Any] | None
    ) -> InvoiceKind:
        if customer and customer in self.settings.kind_by_customer:
            return self.settings.kind_by_customer[customer]
        if partner is not None and partner.get("BusinessPartnerCategory") == "1":
            return InvoiceKind.NORMAL  # a private person cannot receive a 专票
        billing_type = str(payload.get("BillingDocumentType") or "")
        return self.settings.kind_by_billing_type.get(billing_type, self.settings.default_kind)

    def _buyer(
        self,
        payload: Mapping[str, Any],
        prefix: str,
        customer: str | None,
        function: str,
        partner: Mapping[str, Any] | None,
        kind: InvoiceKind,
        issues: list[ValidationIssue],
    ) -> Party | None:
        where = f"{prefix} / to_Partner({function})"
        if customer is None:
            issues.append(
                _issue(
                    "BUYER_NOT_FOUND",
                    f"{where}.Customer",
                    "凭证没有收票方/付款方/售达方，无法确定购买方",
                    "the document has no bill-to, payer or sold-to party: no buyer",
                )
            )
            return None
        if partner is None:
            issues.append(
                _issue(
                    "BUYER_NOT_FOUND",
                    f"{where}.Customer",
                    f"业务伙伴 {customer} 在 API_BUSINESS_PARTNER 中不存在",
                    f"business partner {customer} was not found in API_BUSINESS_PARTNER",
                )
            )
            return None
        natural = partner.get("BusinessPartnerCategory") == "1"
        tax_id = tax_number_of(partner, self.settings.buyer_tax_types)
        if kind is InvoiceKind.SPECIAL and tax_id is None:
            types = "/".join(self.settings.buyer_tax_types)
            issues.append(
                _issue(
                    "MISSING_TAX_ID",
                    f"{where}.Customer {customer} / A_BusinessPartnerTaxNumber({types})",
                    f"开具专票须有购买方税号，业务伙伴 {customer} 未维护税号类别 {types}",
                    f"a 专票 needs the buyer's tax ID; business partner {customer} has no tax number of category {types}",
                    expected="统一社会信用代码 / USCC",
                )
            )
        name = (
            _joined(*(partner.get(f"OrganizationBPName{i}") for i in range(1, 5)))
            or (partner.get("BusinessPartnerFullName") or "").strip()
            or (partner.get("BusinessPartnerName") or "").strip()
        )
        if not name:
            issues.append(
                _issue(
                    "MISSING_FIELD",
                    f"{where}.Customer {customer} / OrganizationBPName1",
                    f"业务伙伴 {customer} 没有名称",
                    f"business partner {customer} has no name",
                )
            )
            return None
        address = _first(results(partner.get("to_BusinessPartnerAddress")))
        bank = _first(results(partner.get("to_BusinessPartnerBank")))
        phone = _first(results(address.get("to_PhoneNumber"))) if address else None
        email = _first(results(address.get("to_EmailAddress"))) if address else None
        try:
            return Party(
                name=name,
                tax_id=tax_id,
                natural_person=natural,
                address=_joined(
                    address.get("CityName"),
                    address.get("District"),
                    address.get("StreetName"),
                    address.get("HouseNumber"),
                )
                if address
                else None,
                phone=(phone.get("PhoneNumber") or None) if phone else None,
                bank=(bank.get("BankName") or None) if bank else None,
                # China: accounts longer than 18 characters continue in the reference field.
                account=_joined(bank.get("BankAccount"), bank.get("BankAccountReferenceText"))
                if bank
                else None,
                email=(email.get("EmailAddress") or None) if email else None,
            )
        except ValidationError as exc:
            for error in exc.errors():
                field = ".".join(str(p) for p in error["loc"])
                issues.append(
                    _issue(
                        "INVALID_FIELD",
                        f"{where}.Customer {customer} / {field}",
                        f"业务伙伴 {customer} 的 {field} 无效：{error['msg']}",
                        f"business partner {customer}: invalid {field}: {error['msg']}",
                    )
                )
            return None

    # -- lines -------------------------------------------------------------------------------

    def invoice_items(self, payload: Mapping[str, Any]) -> list[tuple[int, dict[str, Any]]]:
        """(index in to_Item, item) of the items that become lines; free items are left out.

        Items with no net value (free goods, BOM sub-items priced at the header item) print
        nothing on a 数电票, which refuses zero-amount lines anyway.
        """
        chosen = []
        for index, item in enumerate(results(payload.get("to_Item"))):
            try:
                net = _decimal(item.get("NetAmount"))
            except InvalidOperation:
                net = None
            if net is not None and net == 0:
                continue
            chosen.append((index, item))
        return chosen

    def _lines(
        self, payload: Mapping[str, Any], prefix: str, issues: list[ValidationIssue]
    ) -> tuple[list[InvoiceLine], list[int]]:
        lines: list[InvoiceLine] = []
        line_items: list[int] = []
        items = self.invoice_items(payload)
        if not items:
            issues.append(
                _issue(
                    "NO_ITEMS",
                    f"{prefix} / to_Item",
                    "凭证没有金额不为零的行项目",
                    "the document has no item with a net value",
                )
            )
        for index, item in items:
            line = self._line(prefix, index, item, issues)
            if line is not None:
                lines.append(line)
                line_items.append(index)
        return lines, line_items

    def _line(
        self, prefix: str, index: int, item: Mapping[str, Any], issues: list[ValidationIssue]
    ) -> InvoiceLine | None:
        where = f"{prefix} / to_Item[{index}]"
        number = item.get("BillingDocumentItem", "?")
        material = item.get("Material")
        entry = self.table.material(material)
        before = len(issues)
        if entry is None:
            issues.append(
                _issue(
                    "UNKNOWN_MATERIAL",
                    f"{where}.Material",
                    f"行项目 {number} 的物料 {material or '（空）'} 不在物料映射表 {self.table.source} 中，无法确定税收分类编码",
                    f"item {number}: material {material or '(empty)'} is not in the mapping table {self.table.source}; no tax classification code",
                )
            )
        try:
            amount = _decimal(item.get("NetAmount"))
            tax = _decimal(item.get("TaxAmount"))
            quantity = _decimal(item.get("BillingQuantity"))
        except InvalidOperation:
            issues.append(
                _issue(
                    "INVALID_FIELD",
                    f"{where}.NetAmount",
                    f"行项目 {number} 的金额不是十进制数",
                    f"item {number}: amounts are not decimal numbers",
                )
            )
            return None
        if amount is None:
            issues.append(
                _issue(
                    "MISSING_FIELD",
                    f"{where}.NetAmount",
                    f"行项目 {number} 缺少净值",
                    f"item {number} has no NetAmount",
                )
            )
            return None
        if amount != amount.quantize(CENT):
            issues.append(
                _issue(
                    "TOO_MANY_DECIMALS",
                    f"{where}.NetAmount",
                    f"行项目 {number} 的净值 {amount} 超过两位小数",
                    f"item {number}: NetAmount {amount} has more than 2 decimals",
                )
            )
        rate, treatment, policy = self._rate(where, number, item, entry, issues)
        if len(issues) > before or entry is None or rate is None:
            return None
        amount = amount.quantize(CENT, ROUND_HALF_UP)
        unit_price = None
        if quantity is not None and quantity > 0:
            unit_price = (amount / quantity).quantize(_PRICE_PLACES, ROUND_HALF_UP).normalize()
            quantity = quantity.normalize()
        else:
            quantity = None
        name = entry.name or (item.get("BillingDocumentItemText") or "").strip() or str(material)
        return InvoiceLine(
            name=name[:100],
            tax_code=entry.tax_code,
            spec=entry.spec,
            unit=entry.unit or self.table.unit(item.get("BillingQuantityUnit")),
            quantity=quantity,
            unit_price=unit_price,
            amount=amount,
            tax_rate=rate,
            tax=tax.quantize(CENT, ROUND_HALF_UP) if tax is not None else None,
            treatment=treatment,
            preferential_policy=policy,
        )

    def _rate(
        self,
        where: str,
        number: Any,
        item: Mapping[str, Any],
        entry: MaterialEntry | None,
        issues: list[ValidationIssue],
    ) -> tuple[Decimal | None, TaxTreatment, str | None]:
        """Rate from the item's active tax condition (category D), else from the mapping."""
        taxes = [
            element
            for element in results(item.get("to_PricingElement"))
            if element.get("ConditionCategory") == _TAX_CONDITION_CATEGORY
            and not element.get("ConditionInactiveReason")
        ]
        rate: Decimal | None = None
        sap_tax_code: str | None = None
        if taxes:
            sap_tax_code = taxes[0].get("TaxCode") or None
            try:
                percent = _decimal(taxes[0].get("ConditionRateValue"))
            except InvalidOperation:
                percent = None
            if percent is not None:
                rate = (percent / 100).quantize(Decimal("0.0001")).normalize()
        rule = self.table.tax_codes.get(sap_tax_code or "")
        if rule is not None and rule.rate is not None and rate is None:
            rate = rule.rate
        expected = entry.tax_rate if entry else None
        if rate is None:
            rate = expected
        elif expected is not None and expected != rate:
            issues.append(
                _issue(
                    "RATE_MISMATCH",
                    f"{where}.to_PricingElement(ConditionCategory=D).ConditionRateValue",
                    f"行项目 {number} 的税率 {rate} 与映射表中物料 {entry.material if entry else ''} 的税率 {expected} 不一致",
                    f"item {number}: tax rate {rate} differs from {expected} in the mapping for material {entry.material if entry else ''}",
                    expected=str(expected),
                )
            )
        if rate is None:
            issues.append(
                _issue(
                    "MISSING_TAX_RATE",
                    f"{where}.to_PricingElement",
                    f"行项目 {number} 没有税金条件（类别 D），映射表也未给出税率",
                    f"item {number} has no tax condition (category D) and the mapping gives no rate",
                )
            )
        treatment = (entry.treatment if entry else None) or (
            rule.treatment if rule else TaxTreatment.TAXABLE
        )
        policy = (entry.preferential_policy if entry else None) or (
            rule.preferential_policy if rule else None
        )
        return (rate.normalize() if rate is not None else None), treatment, policy

    # -- validation --------------------------------------------------------------------------

    def _validate(
        self, invoice: Invoice, prefix: str, line_items: list[int], function: str
    ) -> None:
        try:
            ensure_valid(invoice)
        except InvalidInvoice as exc:
            raise InvalidInvoice(
                [self._sap_issue(i, prefix, line_items, function) for i in exc.issues]
            ) from None

    def _sap_issue(
        self, issue: ValidationIssue, prefix: str, line_items: list[int], function: str
    ) -> ValidationIssue:
        return ValidationIssue(
            code=issue.code,
            path=self._sap_path(issue.path, prefix, line_items, function),
            message_zh=issue.message_zh,
            message_en=issue.message_en,
            expected=issue.expected,
            warning=issue.warning,
        )

    def _sap_path(self, path: str, prefix: str, line_items: list[int], function: str) -> str:
        """``lines[1].tax_code`` → ``BillingDocument X / to_Item[3].Material (lines[1].tax_code)``."""
        match = re.match(r"^lines\[(\d+)\]\.?(\w*)", path)
        if match and int(match.group(1)) < len(line_items):
            sap_field = _LINE_FIELDS.get(match.group(2), match.group(2))
            item = line_items[int(match.group(1))]
            return f"{prefix} / to_Item[{item}].{sap_field} ({path})"
        if path.startswith("buyer"):
            return f"{prefix} / to_Partner({function}) ({path})"
        if path.startswith("seller"):
            return f"{prefix} / CompanyCode → sellers ({path})"
        return f"{prefix} / {path}" if path else prefix

    def _pydantic_issues(
        self, exc: ValidationError, prefix: str, line_items: list[int]
    ) -> list[ValidationIssue]:
        found = []
        for error in exc.errors():
            path = ".".join(
                f"[{p}]" if isinstance(p, int) else str(p) for p in error["loc"]
            ).replace(".[", "[")
            found.append(
                _issue(
                    "INVALID_FIELD",
                    self._sap_path(path, prefix, line_items, "RE"),
                    f"字段无效：{error['msg']}",
                    f"invalid field: {error['msg']}",
                )
            )
        return found

    # -- red reversal ------------------------------------------------------------------------

    def _original(
        self, payload: Mapping[str, Any], prefix: str, reference: str, where: str
    ) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        """(original billing document, its write-back record) or InvalidInvoice."""
        original = payload.get(ENRICHMENT_KEY, {}).get("original") or {}
        result = original.get("result") or {}
        if not result.get("InvoiceNumber"):
            raise InvalidInvoice(
                [
                    _issue(
                        "ORIGINAL_NOT_ISSUED",
                        f"{prefix} / {where}",
                        f"被冲销的开票凭证 {reference} 尚未开具数电票（ZFAPIAO_INVOICE_SRV 中无发票号码），无法红冲",
                        f"the referenced billing document {reference} has no issued invoice (no InvoiceNumber in ZFAPIAO_INVOICE_SRV); nothing to reverse",
                    )
                ]
            )
        return original.get("document") or {}, result

    def _red_base(
        self, payload: Mapping[str, Any], prefix: str, reference: str, result: Mapping[str, Any]
    ) -> dict[str, Any]:
        issues: list[ValidationIssue] = []
        self._check_currency(payload, prefix, issues)
        seller = self._seller(payload, prefix, issues)
        if issues:
            raise InvalidInvoice(issues)
        assert seller is not None
        customer, _ = self.buyer_number(payload)
        partner = self._partner(payload, customer)
        issued = result.get("IssueDateTime")
        issue_date: date | None = None
        if isinstance(issued, str) and issued.startswith("/Date("):
            issue_date = parse_datetime(issued).date()
        return {
            "order_id": self._order_id(payload["BillingDocument"]),
            "seller_tax_id": seller.tax_id,
            "buyer_tax_id": tax_number_of(partner, self.settings.buyer_tax_types)
            if partner
            else None,
            "original_invoice_number": result["InvoiceNumber"],
            "original_issue_date": issue_date,
            "original_order_id": self._order_id(reference),
        }

    def _cancellation(self, payload: Mapping[str, Any]) -> RedReversalRequest:
        """S1 cancels the whole invoice: a full reversal for 开票有误."""
        prefix = self._prefix(payload)
        reference = str(payload.get("CancelledBillingDocument") or "")
        if not reference:
            raise InvalidInvoice(
                [
                    _issue(
                        "RED_REFERENCE_MISSING",
                        f"{prefix} / CancelledBillingDocument",
                        "冲销凭证未指明被冲销的开票凭证",
                        "the cancellation document names no cancelled billing document",
                    )
                ]
            )
        _, result = self._original(payload, prefix, reference, "CancelledBillingDocument")
        base = self._red_base(payload, prefix, reference, result)
        return _red(base, RedReason.INVOICING_ERROR, (), prefix)

    def _credit_memo(self, payload: Mapping[str, Any]) -> RedReversalRequest:
        """G2 credits some items of one invoice: a partial reversal line by line."""
        prefix = self._prefix(payload)
        items = self.invoice_items(payload)
        references = {
            str(item.get("ReferenceSDDocument"))
            for _, item in items
            if item.get("ReferenceSDDocumentCategory") == _INVOICE_CATEGORY
            and item.get("ReferenceSDDocument")
        }
        if len(references) != 1:
            found = ", ".join(sorted(references)) or "none"
            raise InvalidInvoice(
                [
                    _issue(
                        "RED_REFERENCE_MISSING",
                        f"{prefix} / to_Item.ReferenceSDDocument",
                        f"贷项凭证须参照且仅参照一张发票（类别 M），实际为：{found}",
                        f"a credit memo must reference exactly one invoice (category M); found: {found}",
                    )
                ]
            )
        reference = references.pop()
        original, result = self._original(payload, prefix, reference, "to_Item.ReferenceSDDocument")
        base = self._red_base(payload, prefix, reference, result)
        positions = {
            str(item.get("BillingDocumentItem")).lstrip("0"): line
            for line, (_, item) in enumerate(self.invoice_items(original))
        }
        issues: list[ValidationIssue] = []
        lines: list[RedLine] = []
        reason_codes: list[str] = []
        for index, item in items:
            where = f"{prefix} / to_Item[{index}]"
            referenced = str(item.get("ReferenceSDDocumentItem") or "").lstrip("0")
            if referenced not in positions:
                issues.append(
                    _issue(
                        "RED_LINE_OUT_OF_RANGE",
                        f"{where}.ReferenceSDDocumentItem",
                        f"参照的发票 {reference} 没有行项目 {referenced or '（空）'}",
                        f"the referenced invoice {reference} has no item {referenced or '(empty)'}",
                    )
                )
                continue
            try:
                amount = _decimal(item.get("NetAmount")) or Decimal(0)
                tax = _decimal(item.get("TaxAmount"))
                quantity = _decimal(item.get("BillingQuantity"))
            except InvalidOperation:
                issues.append(
                    _issue(
                        "INVALID_FIELD",
                        f"{where}.NetAmount",
                        "金额不是十进制数",
                        "amounts are not decimal numbers",
                    )
                )
                continue
            if item.get("SDDocumentReason"):
                reason_codes.append(str(item["SDDocumentReason"]))
            lines.append(
                RedLine(
                    original_line=positions[referenced],
                    amount=abs(amount).quantize(CENT, ROUND_HALF_UP),
                    tax=abs(tax).quantize(CENT, ROUND_HALF_UP) if tax is not None else None,
                    quantity=abs(quantity).normalize() if quantity else None,
                )
            )
        if issues:
            raise InvalidInvoice(issues)
        reason = next(
            (
                self.settings.reason_by_order_reason[code]
                for code in reason_codes
                if code in self.settings.reason_by_order_reason
            ),
            self.settings.credit_memo_reason,
        )
        if not reason.allows_partial:
            return _red(base, reason, (), prefix)
        return _red(base, reason, tuple(lines), prefix)


_LINE_FIELDS = {
    "amount": "NetAmount",
    "tax": "TaxAmount",
    "quantity": "BillingQuantity",
    "unit_price": "NetAmount/BillingQuantity",
    "tax_code": "Material",
    "tax_rate": "to_PricingElement(ConditionCategory=D).ConditionRateValue",
    "treatment": "to_PricingElement(ConditionCategory=D).TaxCode",
    "name": "BillingDocumentItemText",
    "unit": "BillingQuantityUnit",
}


def _first(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The default row (IsDefault… flag) if one is marked, else the first."""
    for row in rows:
        if any(k.startswith("IsDefault") and v is True for k, v in row.items()):
            return row
    return rows[0] if rows else None


def _party(seller: SellerProfile) -> Party:
    return Party(
        name=seller.name,
        tax_id=seller.tax_id,
        address=seller.address,
        phone=seller.phone,
        bank=seller.bank,
        account=seller.account,
    )


def _red(
    base: Mapping[str, Any], reason: RedReason, lines: tuple[RedLine, ...], prefix: str
) -> RedReversalRequest:
    try:
        return RedReversalRequest(**base, reason=reason, lines=lines)
    except ValidationError as exc:
        raise InvalidInvoice(
            [
                _issue(
                    "INVALID_FIELD",
                    f"{prefix} / {'.'.join(str(p) for p in error['loc'])}",
                    f"红冲请求字段无效：{error['msg']}",
                    f"invalid red reversal field: {error['msg']}",
                )
                for error in exc.errors()
            ]
        ) from None
