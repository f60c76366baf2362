"""The canonical invoice request: what business code hands to fapiao, for any vendor.

Models carry shape (types, enums, required fields); the 数电 domain rules (tax ID check
characters, code table, rates, arithmetic tolerances) live in ``fapiao.rules`` so they can
report every problem of an invoice at once, each with its field path.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from fapiao.models.base import ValueModel
from fapiao.models.enums import InvoiceKind, LineKind, SpecialBusiness, TaxTreatment
from fapiao.models.limits import (
    MAX_EXTRA_BYTES,
    MAX_JSON_DEPTH,
    MAX_LINES,
    holds_nul,
    nesting_depth,
)
from fapiao.models.money import Money, Quantity, Rate

__all__ = ["Invoice", "InvoiceLine", "Party"]


def _bounded_extra(extra: dict[str, Any]) -> dict[str, Any]:
    """Vendor-only fields stay small and shallow: they are stored with the request and sent
    on, so their size is bounded like everything else a caller sends."""
    depth_limit = MAX_JSON_DEPTH - 2  # the invoice object and provider_extra itself
    if nesting_depth(extra, stop_at=depth_limit + 1) > depth_limit:
        raise ValueError(
            f"嵌套过深：至多 {depth_limit} 层 / nested too deep: at most {depth_limit} levels"
        )
    if holds_nul(extra):
        raise ValueError("不允许 NUL 字符（\\u0000）/ the NUL character (\\u0000) is not allowed")
    size = len(json.dumps(extra, ensure_ascii=False, default=str).encode())
    if size > MAX_EXTRA_BYTES:
        raise ValueError(
            f"过大：{size} 字节，上限 {MAX_EXTRA_BYTES} / too large: {size} bytes, "
            f"at most {MAX_EXTRA_BYTES}"
        )
    return extra


class Party(ValueModel):
    """Seller (销售方) or buyer (购买方).

    ``natural_person`` marks a buyer who is a private individual: on a 普票 such a buyer may
    have no tax ID; a 专票 buyer must be an entity with a valid one.
    """

    name: str = Field(min_length=1, max_length=200, description="名称 / name")
    tax_id: str | None = Field(
        default=None, max_length=40, description="纳税人识别号 / taxpayer ID (USCC)"
    )
    natural_person: bool = Field(default=False, description="自然人 / buyer is a natural person")
    address: str | None = Field(default=None, max_length=300, description="地址 / address")
    phone: str | None = Field(default=None, max_length=40, description="电话 / phone")
    bank: str | None = Field(default=None, max_length=100, description="开户银行 / bank")
    account: str | None = Field(default=None, max_length=60, description="银行账号 / account")
    email: str | None = Field(default=None, max_length=100, description="交付邮箱 / e-mail")
    mobile: str | None = Field(default=None, max_length=20, description="交付手机 / mobile")


class InvoiceLine(ValueModel):
    """One 明细行.

    ``amount`` is 不含税 unless the invoice says ``prices_include_tax``; then ``amount`` and
    ``unit_price`` are 含税 and the rules convert them. ``tax`` may be given (it must then be
    within 0.06 of amount × rate) or left out to be computed.
    """

    name: str = Field(min_length=1, max_length=100, description="项目名称 / item name")
    tax_code: str = Field(
        max_length=40, description="税收分类编码 (19 digits) / tax classification code"
    )
    spec: str | None = Field(default=None, max_length=100, description="规格型号 / specification")
    unit: str | None = Field(default=None, max_length=20, description="单位 / unit")
    quantity: Quantity | None = Field(default=None, description="数量 / quantity")
    unit_price: Quantity | None = Field(default=None, description="单价 / unit price")
    amount: Money = Field(description="金额 / amount")
    tax_rate: Rate = Field(description="税率，如 0.13 / tax rate as a fraction, e.g. 0.13")
    tax: Money | None = Field(default=None, description="税额 / tax (computed when absent)")
    treatment: TaxTreatment = Field(default=TaxTreatment.TAXABLE, description="征税方式")
    preferential_policy: str | None = Field(
        default=None, max_length=50, description="优惠政策 / preferential policy label"
    )
    kind: LineKind = Field(default=LineKind.NORMAL, description="正常行 / 折扣行")


class Invoice(ValueModel):
    """A request to issue one blue (正数) 数电票.

    ``(seller.tax_id, order_id)`` is the idempotency key: the same pair twice yields the first
    outcome and never a second invoice. ``provider_extra`` passes vendor-only fields through
    untouched (the anymail ``esp_extra`` pattern); business code that uses it is vendor-bound
    by choice.
    """

    order_id: str = Field(
        min_length=1, max_length=64, description="外部订单号（幂等键）/ external order id"
    )
    kind: InvoiceKind = Field(description="发票种类 / invoice kind")
    seller: Party
    buyer: Party
    lines: tuple[InvoiceLine, ...] = Field(min_length=1, max_length=MAX_LINES)
    prices_include_tax: bool = Field(default=False, description="金额含税 / amounts include tax")
    remarks: str | None = Field(default=None, max_length=450, description="备注 / remarks")
    issuer: str | None = Field(default=None, max_length=20, description="开票人 / issuer")
    payee: str | None = Field(default=None, max_length=20, description="收款人 / payee")
    reviewer: str | None = Field(default=None, max_length=20, description="复核人 / reviewer")
    special_business: SpecialBusiness | None = Field(default=None, description="特定业务")
    provider_extra: Annotated[dict[str, Any], AfterValidator(_bounded_extra)] = Field(
        default_factory=dict, description="供应商专有字段 / vendor-only fields, passed through"
    )

    def __hash__(self) -> int:  # provider_extra is a dict: hash by identity key instead
        return hash((self.seller.tax_id, self.order_id))
