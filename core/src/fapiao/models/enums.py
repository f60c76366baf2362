"""The closed vocabularies of 数电发票 that every provider and connector maps onto.

Values are stable English identifiers (they appear in JSON, the ledger and the CLI); the
Chinese label of each is kept beside it for people and for provider mappings.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "DeliveryChannel",
    "DocumentFormat",
    "Environment",
    "InvoiceKind",
    "InvoiceState",
    "LineKind",
    "Operation",
    "RedApplicant",
    "RedConfirmationState",
    "RedReason",
    "SpecialBusiness",
    "TaxTreatment",
]


class InvoiceKind(StrEnum):
    """数电票 kind: 专用发票 (special, deductible) or 普通发票 (normal)."""

    SPECIAL = "special"
    NORMAL = "normal"

    @property
    def label_zh(self) -> str:
        return {"special": "数电票（增值税专用发票）", "normal": "数电票（普通发票）"}[self.value]


class TaxTreatment(StrEnum):
    """How a line's rate is to be read: taxable, or one of the zero-tax treatments."""

    TAXABLE = "taxable"
    ZERO_RATE = "zero_rate"  # 普通零税率 / 出口零税率
    EXEMPT = "exempt"  # 免税
    NOT_TAXABLE = "not_taxable"  # 不征税

    @property
    def label_zh(self) -> str:
        return {
            "taxable": "应税",
            "zero_rate": "零税率",
            "exempt": "免税",
            "not_taxable": "不征税",
        }[self.value]


class LineKind(StrEnum):
    """A normal line, or a 折扣行 that discounts the line right before it."""

    NORMAL = "normal"
    DISCOUNT = "discount"


class SpecialBusiness(StrEnum):
    """特定业务 types that change what an invoice must carry (数电票 特定要素)."""

    CONSTRUCTION = "construction"  # 建筑服务
    GOODS_TRANSPORT = "goods_transport"  # 货物运输服务
    PASSENGER_TRANSPORT = "passenger_transport"  # 旅客运输服务
    REAL_ESTATE_SALE = "real_estate_sale"  # 不动产销售
    REAL_ESTATE_LEASE = "real_estate_lease"  # 不动产经营租赁服务
    AGRICULTURAL_PURCHASE = "agricultural_purchase"  # 农产品收购
    REFINED_OIL = "refined_oil"  # 成品油
    TOBACCO = "tobacco"  # 卷烟

    @property
    def label_zh(self) -> str:
        return _SPECIAL_ZH[self.value]


_SPECIAL_ZH = {
    "construction": "建筑服务",
    "goods_transport": "货物运输服务",
    "passenger_transport": "旅客运输服务",
    "real_estate_sale": "不动产销售",
    "real_estate_lease": "不动产经营租赁服务",
    "agricultural_purchase": "农产品收购",
    "refined_oil": "成品油",
    "tobacco": "卷烟",
}


class InvoiceState(StrEnum):
    """Life cycle of one invoice request (docs/architecture.md §3); providers report a subset."""

    RECEIVED = "received"
    VALIDATED = "validated"
    SUBMITTED = "submitted"
    ISSUING = "issuing"
    ISSUED = "issued"
    FAILED = "failed"
    RED_REQUESTED = "red_requested"
    RED_CONFIRMED = "red_confirmed"
    PARTIALLY_REVERSED = "partially_reversed"
    REVERSED = "reversed"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in {InvoiceState.FAILED, InvoiceState.REVERSED, InvoiceState.CANCELLED}


class RedReason(StrEnum):
    """红冲原因. 开票有误 reverses the whole invoice only; the others allow partial reversal."""

    INVOICING_ERROR = "invoicing_error"  # 开票有误
    SALES_RETURN = "sales_return"  # 销货退回
    SERVICE_SUSPENSION = "service_suspension"  # 服务中止
    SALES_ALLOWANCE = "sales_allowance"  # 销售折让

    @property
    def label_zh(self) -> str:
        return {
            "invoicing_error": "开票有误",
            "sales_return": "销货退回",
            "service_suspension": "服务中止",
            "sales_allowance": "销售折让",
        }[self.value]

    @property
    def allows_partial(self) -> bool:
        return self is not RedReason.INVOICING_ERROR


class RedApplicant(StrEnum):
    """Who raises the 红字确认单: the seller (销方) or the buyer (购方)."""

    SELLER = "seller"
    BUYER = "buyer"


class RedConfirmationState(StrEnum):
    """State of a 红字确认单."""

    PENDING = "pending"  # 待对方确认
    CONFIRMED = "confirmed"  # 已确认或无需确认，可开红票
    REJECTED = "rejected"  # 对方否认
    LAPSED = "lapsed"  # 72 小时未确认，已失效
    REVOKED = "revoked"  # 申请方撤销
    RED_ISSUED = "red_issued"  # 已开具红字发票


class DocumentFormat(StrEnum):
    """Formats in which a 数电票 file is delivered."""

    PDF = "pdf"
    OFD = "ofd"
    XML = "xml"


class DeliveryChannel(StrEnum):
    """How an issued invoice reaches the buyer."""

    EMAIL = "email"
    SMS = "sms"


class Environment(StrEnum):
    """Which of a vendor's environments a profile talks to."""

    SANDBOX = "sandbox"
    PRODUCTION = "production"


class Operation(StrEnum):
    """Operations of the provider contract, as declared in capabilities."""

    ISSUE = "issue"
    QUERY = "query"
    RED_APPLY = "red_apply"
    RED_CONFIRM = "red_confirm"
    RED_QUERY = "red_query"
    RED_ISSUE = "red_issue"
    CANCEL = "cancel"
    DOCUMENTS = "documents"
    DELIVER = "deliver"
    QUOTA = "quota"
    CALLBACK = "callback"
