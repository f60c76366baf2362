"""Checks of blue invoices: the credit line, issue → query for each kind of everyday invoice,
queries omitting unknown orders, the same order id twice never making a second invoice, the
files in each declared format (type, structure, number, hash) and delivery on each channel."""

from __future__ import annotations

import hashlib
import time

from fapiao.checks.check import SUITE_ONLY, Check, CheckFailed, Declared, Evidence, check
from fapiao.checks.context import CheckContext
from fapiao.errors import DuplicateOrder, FapiaoError
from fapiao.models import Delivery, DeliveryChannel, DocumentFormat, InvoiceKind, Operation
from fapiao.testing.samples import new_order_id

__all__ = ["DELIVER", "DOCUMENTS", "ISSUE", "duplicate", "issue_own_invoices", "query", "quota"]


@check("quota", "quota / 授信额度", "quota", Declared(Operation.QUOTA))
async def quota(ctx: CheckContext) -> Evidence:
    answer = await ctx.provider.quota(ctx.seller_tax_id)
    if answer.seller_tax_id != ctx.seller_tax_id:
        raise CheckFailed("quota answered for another seller")
    if answer.remaining is None and answer.invoices_remaining is None:
        raise CheckFailed("quota gives neither a remaining amount nor a remaining count")
    if answer.remaining is not None and answer.remaining < 0:
        raise CheckFailed(f"negative remaining quota {answer.remaining}")
    evidence = {"remaining": "-" if answer.remaining is None else str(answer.remaining)}
    if answer.invoices_remaining is not None:
        evidence["invoices_remaining"] = str(answer.invoices_remaining)
    return evidence


def _issue(id: str, title: str, name: str, kind: InvoiceKind) -> Check:
    """Issue the mix invoice ``name`` (``CheckContext.issue`` says what is held)."""

    async def run(ctx: CheckContext) -> Evidence:
        from fapiao.rules import compute_totals

        invoice, started = ctx.mix[name], time.perf_counter()
        issued = await ctx.issue(invoice)
        return {
            "order_id": invoice.order_id,
            "invoice_number": issued.number,
            "total_with_tax": str(compute_totals(invoice).total_with_tax),
            "seconds_to_issued": f"{time.perf_counter() - started:.3f}",
        }

    return Check(id, title, "issue_then_query_until_issued", run, Declared(kind=kind))


_SPECIAL, _NORMAL = InvoiceKind.SPECIAL, InvoiceKind.NORMAL
ISSUE = (
    _issue("issue_special", "issue 专票, three rates / 开具专票（多税率）", "special_multi_rate", _SPECIAL),
    _issue("issue_normal_person", "issue 普票 to a natural person / 开具普票（自然人）", "normal_natural_person", _NORMAL),
    _issue("issue_normal_simplified", "issue 普票 at 3 % and 1 % / 开具普票（征收率）", "normal_simplified_rates", _NORMAL),
)  # fmt: skip


@check(
    "issue_own_invoices",
    "issue the plugin's own invoices / 开具插件自带发票",
    "issue_then_query_until_issued",
    runners=SUITE_ONLY,
)
async def issue_own_invoices(ctx: CheckContext) -> Evidence:
    """The runner's own blue invoices (a conformance harness's ``invoices``)."""
    if not ctx.invoices:
        raise ctx.lacks("invoices", "no invoices of the plugin's own to issue")
    return {"invoice_numbers": ", ".join([(await ctx.issue(i)).number for i in ctx.invoices])}


@check("query", "query by order id / 按订单号查询", "query_batch_omits_unknown_orders")
async def query(ctx: CheckContext) -> Evidence:
    """Every issued order is found unchanged; unknown ones are omitted, not an error, also
    in a batch larger than the declared ``max_query_batch`` (the plugin splits it)."""
    await ctx.blue("a query")
    wanted = {i.invoice.order_id: i.number for i in ctx.issued}
    unknown = new_order_id("NONE")
    statuses = await ctx.provider.query(ctx.seller_tax_id, [*wanted, unknown])
    got = {s.order_id: s.invoice_number for s in statuses}
    if unknown in got:
        raise CheckFailed("an unknown order id was answered instead of omitted")
    if lost := [order for order, number in wanted.items() if got.get(order) != number]:
        raise CheckFailed(f"query lost or changed {len(lost)} order(s): {', '.join(lost)}")
    many = [new_order_id("NONE") for _ in range(ctx.caps.max_query_batch + 3)]
    if answered := await ctx.provider.query(ctx.seller_tax_id, many):
        raise CheckFailed(f"{len(answered)} unknown order(s) of a large batch were answered")
    return {"orders": str(len(wanted)), "unknown_omitted": unknown}


@check(
    "duplicate",
    "same order twice, one invoice / 重复订单",
    "same_order_twice_never_makes_a_second_invoice",
)
async def duplicate(ctx: CheckContext) -> Evidence:
    """The same order id again either raises ``DuplicateOrder`` keeping the provider's own
    code, or returns the first invoice; the order still shows that one invoice."""
    first = await ctx.blue("a duplicate order")
    try:
        again = await ctx.provider.issue(first.invoice)
    except DuplicateOrder as exc:
        if not exc.raw_code:
            raise CheckFailed("DUPLICATE_ORDER without the provider's own code") from exc
        outcome = f"DUPLICATE_ORDER (raw {exc.raw_code})"
    else:
        number, serial = again.invoice_number, again.serial_number
        if number not in {None, first.number} or serial not in {None, first.status.serial_number}:
            raise CheckFailed(f"a second invoice {again.invoice_number} for the same order id")
        outcome = "first invoice returned"
    order = first.invoice.order_id
    numbers = [s.invoice_number for s in await ctx.provider.query(ctx.seller_tax_id, [order])]
    if numbers != [first.number]:
        raise CheckFailed(f"after the duplicate, the order shows {numbers}")
    return {"order_id": order, "outcome": outcome}


def _documents(fmt: DocumentFormat) -> Check:
    async def run(ctx: CheckContext) -> Evidence:
        from fapiao.documents import sniff_format, verify_document

        issued = await ctx.blue(f"a {fmt.value} document")
        document = await ctx.provider.fetch_document(issued.status, fmt)
        content = document.content
        if not content:
            raise CheckFailed(f"no {fmt.value} content downloaded")
        if document.format is not fmt or sniff_format(content) is not fmt:
            raise CheckFailed(f"asked for {fmt.value}, got {document.format.value} content")
        if document.invoice_number != issued.number:
            raise CheckFailed(f"the document is of invoice {document.invoice_number}")
        try:
            verify_document(fmt, content, invoice_number=issued.number)
        except FapiaoError as exc:
            raise CheckFailed(f"{fmt.value} file does not verify: {exc.message_en}") from exc
        digest = hashlib.sha256(content).hexdigest()
        if document.sha256 != digest or document.size != len(content):
            raise CheckFailed("declared sha256 or size does not match the content")
        return {"invoice_number": issued.number, "sha256": digest, "bytes": str(len(content))}

    title = f"{fmt.value.upper()} document / 版式文件"
    declared = Declared(Operation.DOCUMENTS, document_format=fmt)
    return Check(
        f"documents_{fmt.value}", title, "documents_in_every_declared_format", run, declared
    )


def _deliver(channel: DeliveryChannel) -> Check:
    async def run(ctx: CheckContext) -> Evidence:
        address = ctx.addresses.get(channel)
        if not address:
            raise ctx.lacks(channel.value, f"no {channel.value} address to deliver to")
        issued = await ctx.blue(f"{channel.value} delivery")
        result = await ctx.provider.deliver(
            Delivery(
                seller_tax_id=ctx.seller_tax_id,
                invoice_number=issued.number,
                order_id=issued.invoice.order_id,
                channel=channel,
                address=address,
            )
        )
        if not result.accepted or result.channel is not channel:
            code = f" {result.error.code}" if result.error else ""
            raise CheckFailed(f"{channel.value} delivery not accepted{code}")
        return {"invoice_number": issued.number, "provider_ref": result.provider_ref or "-"}

    title = f"deliver by {channel.value} / 交付"
    declared = Declared(Operation.DELIVER, channel=channel)
    return Check(
        f"deliver_{channel.value}", title, "delivery_on_every_declared_channel", run, declared
    )


DOCUMENTS = tuple(_documents(fmt) for fmt in sorted(DocumentFormat))
DELIVER = tuple(_deliver(channel) for channel in sorted(DeliveryChannel))
