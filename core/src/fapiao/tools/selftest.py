"""Go-live readiness: run every capability a profile's plugin declares against that
profile's environment, within a time budget, and keep the evidence.

Why: 乐企 direct connection requires passing a full-capability test in the sandbox within
72 hours, and a pilot of a few real invoices should precede any go-live. The checklist is
built from the plugin's *declared* capabilities (an undeclared operation is checked to be
refused without a network call), so a plugin cannot pass by declaring little and a reader
sees which capabilities were exercised. Evidence is what a person can verify elsewhere:
invoice numbers, red form ids, document hashes, the provider's raw error codes.

Checks run one after another on one provider instance, in the order a go-live would meet
them; checks that need an issued invoice fail (they are not skipped) when issuance failed,
so a broken environment can never look half-ready. A check is skipped only when the
environment cannot do it at all (e.g. callbacks without a receiver), and says why.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from fapiao.contract.capabilities import Capabilities
from fapiao.contract.operations import OPERATIONS, probe
from fapiao.contract.provider import Provider
from fapiao.errors import (
    AuthFailed,
    CallbackRejected,
    DuplicateOrder,
    FapiaoError,
    InvalidStateTransition,
    ProviderUnavailable,
    RedReversalNotAllowed,
    UnsupportedOperation,
)
from fapiao.masking import mask_tax_id
from fapiao.models import (
    Delivery,
    DeliveryChannel,
    DocumentFormat,
    ErrorInfo,
    Invoice,
    InvoiceKind,
    InvoiceState,
    InvoiceStatus,
    Operation,
    RedApplicant,
    RedConfirmation,
    RedConfirmationState,
    RedLine,
    RedReason,
    RedReversalRequest,
)
from fapiao.testing.samples import new_order_id
from fapiao.tools.calls import error_codes, settle
from fapiao.tools.invoices import BAD_BUYER_TAX_ID, invoice_mix
from fapiao.tools.targets import CLOSED_PORT_URL, Target

__all__ = [
    "CheckFailed",
    "CheckResult",
    "CheckSkipped",
    "SelftestReport",
    "run_selftest",
]

Status = Literal["pass", "fail", "skip"]
Evidence = dict[str, str]


class CheckFailed(Exception):
    """The capability did not behave as declared (the message says how)."""


class CheckSkipped(Exception):
    """The environment cannot exercise this capability at all (the message says why)."""


@dataclass
class CheckResult:
    id: str
    title: str
    status: Status
    seconds: float
    evidence: Evidence = field(default_factory=dict)
    detail: str = ""
    error: ErrorInfo | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "evidence": self.evidence,
            "detail": self.detail,
            "error": self.error.model_dump(mode="json") if self.error else None,
        }


@dataclass
class SelftestReport:
    profile: str
    provider: str
    source: str
    environment: str
    seller: str
    budget_seconds: float
    elapsed_seconds: float = 0.0
    checks: list[CheckResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[CheckResult]:
        return [c for c in self.checks if c.status == "fail"]

    @property
    def passed(self) -> bool:
        return not self.failed and any(c.status == "pass" for c in self.checks)

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for c in self.checks if c.status == s) for s in ("pass", "fail", "skip")}

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "provider": self.provider,
            "source": self.source,
            "environment": self.environment,
            "seller": self.seller,
            "passed": self.passed,
            "counts": self.counts(),
            "budget_seconds": self.budget_seconds,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "notes": self.notes,
            "checks": [c.to_dict() for c in self.checks],
        }


CheckFn = Callable[["_Session"], Awaitable[Evidence]]


@dataclass(frozen=True)
class _Check:
    id: str
    title: str
    run: CheckFn


@dataclass
class _Session:
    """What checks share: the provider, the target and what earlier checks issued."""

    target: Target
    provider: Provider
    settle_timeout: float
    email: str | None
    mobile: str | None
    issued: dict[str, tuple[Invoice, InvoiceStatus]] = field(default_factory=dict)
    reversed_fully: tuple[Invoice, InvoiceStatus] | None = None

    @property
    def caps(self) -> Capabilities:
        return self.provider.capabilities

    @property
    def seller(self) -> str:
        return self.target.seller_tax_id

    def any_issued(self, purpose: str) -> tuple[Invoice, InvoiceStatus]:
        if not self.issued:
            raise CheckFailed(f"needs an issued invoice for {purpose}, and issuance failed")
        return next(iter(self.issued.values()))

    async def issue_settled(self, invoice: Invoice) -> InvoiceStatus:
        result = await self.provider.issue(invoice)
        if result.order_id != invoice.order_id:
            raise CheckFailed(f"issue answered for order {result.order_id}, not {invoice.order_id}")
        if self.caps.issuance == "sync" and result.state is not InvoiceState.ISSUED:
            raise CheckFailed(f"declared sync issuance but the answer is {result.state.value}")
        if result.state is InvoiceState.ISSUED and result.invoice_number:
            status: InvoiceStatus = result
        else:
            status = await settle(
                self.provider, self.seller, invoice.order_id, within=self.settle_timeout
            )
        if status.state is not InvoiceState.ISSUED:
            reason = f": {status.error.code} {status.error.message_en}" if status.error else ""
            raise CheckFailed(f"order {invoice.order_id} ended {status.state.value}{reason}")
        if not status.invoice_number:
            raise CheckFailed(f"order {invoice.order_id} issued without an invoice number")
        return status


# -- the checks ------------------------------------------------------------------------------


async def _declarations(s: _Session) -> Evidence:
    caps = s.caps
    problems: list[str] = []
    for needed in (Operation.ISSUE, Operation.QUERY):
        if needed not in caps.operations:
            problems.append(f"{needed.value} not declared")
    if Operation.DOCUMENTS in caps.operations and not caps.document_formats:
        problems.append("documents declared without a format")
    if Operation.DELIVER in caps.operations and not caps.delivery_channels:
        problems.append("delivery declared without a channel")
    if caps.status_updates == "callback" and Operation.CALLBACK not in caps.operations:
        problems.append("status by callback but the callback operation is not declared")
    from fapiao.sdk import ProviderBase

    if isinstance(s.provider, ProviderBase):
        for operation in caps.operations:
            name = OPERATIONS[operation].method
            if getattr(type(s.provider), name) is getattr(ProviderBase, name):
                problems.append(f"{operation.value} declared but not implemented")
    if problems:
        raise CheckFailed("; ".join(problems))
    return {
        "operations": ", ".join(sorted(o.value for o in caps.operations)),
        "issuance": caps.issuance,
        "status_updates": caps.status_updates,
        "formats": ", ".join(sorted(f.value for f in caps.document_formats)) or "-",
        "channels": ", ".join(sorted(c.value for c in caps.delivery_channels)) or "-",
    }


async def _scrub(s: _Session) -> Evidence:
    secrets = [x for x in s.target.secrets if x]
    if not secrets:
        raise CheckSkipped("the profile holds no secret to scrub")
    tax_id = s.seller
    leaks = 0
    for secret in secrets:
        for transcript in (
            f"POST /api HTTP/1.1\nAuthorization: Bearer {secret}\nX-Api-Key: {secret}\n",
            f'{{"client_secret": "{secret}", "appSecret": "{secret}", "taxNum": "{tax_id}"}}',
            f"grant_type=client_credentials&client_secret={secret}",
            f"raw {secret} in text and {tax_id}",
        ):
            scrubbed = s.provider.scrub(transcript)
            leaks += sum(1 for x in secrets if x in scrubbed) + (tax_id in scrubbed)
    if leaks:
        raise CheckFailed(f"scrub left {leaks} secret or tax ID occurrence(s) in transcripts")
    return {"secrets_checked": str(len(secrets)), "tax_id_masked": mask_tax_id(tax_id)}


async def _undeclared_refused(s: _Session) -> Evidence:
    undeclared = [op for op in Operation if op not in s.caps.operations]
    if not undeclared:
        raise CheckSkipped("every operation is declared")
    offline = s.target.provider(base_url=CLOSED_PORT_URL)
    try:
        with _quiet_transport():
            await _probe_undeclared(offline, undeclared, s.seller)
    finally:
        await offline.aclose()
    return {"refused": ", ".join(op.value for op in undeclared)}


async def _probe_undeclared(offline: Provider, undeclared: list[Operation], seller: str) -> None:
    wrong: list[str] = []
    for operation in undeclared:
        try:
            await probe(offline, operation, seller)
        except UnsupportedOperation:
            continue
        except FapiaoError as exc:
            wrong.append(f"{operation.value}: {exc.code}")
            continue
        wrong.append(f"{operation.value}: no error")
    if wrong:
        raise CheckFailed("undeclared operations not refused offline: " + "; ".join(wrong))
    try:  # the proof that the refusals above never reached a network
        await offline.query(seller, [new_order_id("NONE")])
    except ProviderUnavailable:
        return
    raise CheckFailed("a query to a closed port succeeded: the probe was not offline")


@contextmanager
def _quiet_transport() -> Iterator[None]:
    """The transport logs each failed call as a warning; an offline probe fails on purpose."""
    transport = logging.getLogger("fapiao.transport")
    level = transport.level
    transport.setLevel(logging.ERROR)
    try:
        yield
    finally:
        transport.setLevel(level)


async def _quota(s: _Session) -> Evidence:
    quota = await s.provider.quota(s.seller)
    if quota.seller_tax_id != s.seller:
        raise CheckFailed("quota answered for another seller")
    if quota.remaining is None and quota.invoices_remaining is None:
        raise CheckFailed("quota gives neither a remaining amount nor a remaining count")
    if quota.remaining is not None and quota.remaining < 0:
        raise CheckFailed(f"negative remaining quota {quota.remaining}")
    evidence = {"remaining": str(quota.remaining) if quota.remaining is not None else "-"}
    if quota.invoices_remaining is not None:
        evidence["invoices_remaining"] = str(quota.invoices_remaining)
    return evidence


def _issue_check(name: str) -> CheckFn:
    async def run(s: _Session) -> Evidence:
        from fapiao.rules import compute_totals

        invoice = invoice_mix(s.target.seller, s.target.buyer)[name]
        started = time.perf_counter()
        status = await s.issue_settled(invoice)
        seconds = time.perf_counter() - started
        totals = compute_totals(invoice)
        if status.total_with_tax is not None and status.total_with_tax != totals.total_with_tax:
            raise CheckFailed(
                f"provider total {status.total_with_tax} ≠ rules total {totals.total_with_tax}"
            )
        if status.invoice_number is None or len(status.invoice_number) != 20:
            raise CheckFailed(f"invoice number {status.invoice_number!r} is not 20 digits")
        s.issued[name] = (invoice, status)
        return {
            "order_id": invoice.order_id,
            "invoice_number": status.invoice_number,
            "total_with_tax": str(totals.total_with_tax),
            "seconds_to_issued": f"{seconds:.3f}",
        }

    return run


async def _query(s: _Session) -> Evidence:
    if not s.issued:
        raise CheckFailed("needs issued invoices to query, and issuance failed")
    wanted = {st.order_id: st.invoice_number for _inv, st in s.issued.values()}
    unknown = new_order_id("NONE")
    ids = [*wanted, unknown][: s.caps.max_query_batch]
    statuses = await s.provider.query(s.seller, ids)
    got = {st.order_id: st.invoice_number for st in statuses}
    if unknown in got:
        raise CheckFailed("an unknown order id was answered instead of omitted")
    missing = [o for o in ids if o != unknown and got.get(o) != wanted[o]]
    if missing:
        raise CheckFailed(f"query lost or changed {len(missing)} order(s): {', '.join(missing)}")
    return {"orders": str(len(ids) - 1), "unknown_omitted": unknown}


async def _duplicate(s: _Session) -> Evidence:
    invoice, status = s.any_issued("a duplicate order")
    try:
        again = await s.provider.issue(invoice)
    except DuplicateOrder as exc:
        outcome = f"DUPLICATE_ORDER (raw {exc.raw_code or '-'})"
    else:
        if again.invoice_number not in {None, status.invoice_number}:
            raise CheckFailed(f"a second invoice {again.invoice_number} for the same order id")
        outcome = "first invoice returned"
    numbers = [x.invoice_number for x in await s.provider.query(s.seller, [invoice.order_id])]
    if numbers != [status.invoice_number]:
        raise CheckFailed(f"after the duplicate, the order shows {numbers}")
    return {"order_id": invoice.order_id, "outcome": outcome}


def _documents_check(fmt: DocumentFormat) -> CheckFn:
    async def run(s: _Session) -> Evidence:
        from fapiao.documents import verify_document

        _invoice, status = s.any_issued(f"a {fmt.value} document")
        document = await s.provider.fetch_document(status, fmt)
        if not document.content:
            raise CheckFailed(f"no {fmt.value} content downloaded")
        try:
            verify_document(fmt, document.content, invoice_number=status.invoice_number)
        except FapiaoError as exc:
            raise CheckFailed(f"{fmt.value} file does not verify: {exc.message_en}") from exc
        digest = hashlib.sha256(document.content).hexdigest()
        if document.sha256 != digest:
            raise CheckFailed("declared sha256 does not match the content")
        return {
            "invoice_number": status.invoice_number or "",
            "sha256": digest,
            "bytes": str(len(document.content)),
        }

    return run


def _deliver_check(channel: DeliveryChannel) -> CheckFn:
    async def run(s: _Session) -> Evidence:
        address = s.email if channel is DeliveryChannel.EMAIL else s.mobile
        if not address:
            raise CheckSkipped(
                f"no {channel.value} address to deliver to (give --{'email' if channel is DeliveryChannel.EMAIL else 'mobile'})"
            )
        invoice, status = s.any_issued(f"{channel.value} delivery")
        result = await s.provider.deliver(
            Delivery(
                seller_tax_id=s.seller,
                invoice_number=status.invoice_number or "",
                order_id=invoice.order_id,
                channel=channel,
                address=address,
            )
        )
        if not result.accepted:
            code = f"{result.error.code} " if result.error else ""
            raise CheckFailed(f"{channel.value} delivery not accepted {code}".strip())
        return {
            "invoice_number": status.invoice_number or "",
            "provider_ref": result.provider_ref or "-",
        }

    return run


async def _callbacks(s: _Session) -> Evidence:
    receiver = s.target.callbacks
    if receiver is None:
        raise CheckSkipped(
            "no callback receiver: callbacks go to the profile's callback_url "
            "(give --callback-listen HOST:PORT to receive them here)"
        )
    invoice, status = s.any_issued("a callback")
    order = invoice.order_id.encode()
    try:
        genuine = await receiver.wait_for(lambda r: order in r.body, within=s.settle_timeout)
    except TimeoutError as exc:
        raise CheckFailed(f"no callback for order {invoice.order_id}: {exc}") from exc
    result = s.provider.verify_callback(genuine.headers, genuine.body, genuine.query)
    mine = [x for x in result.statuses if x.order_id == invoice.order_id]
    if not mine or mine[0].invoice_number != status.invoice_number:
        raise CheckFailed("the genuine callback did not normalise to the issued invoice")
    from dataclasses import replace

    body = bytearray(genuine.body)
    digit = next((i for i, b in enumerate(body) if 0x30 <= b <= 0x38), len(body) - 1)
    body[digit] += 1
    forged = {
        "tampered": replace(genuine, body=bytes(body)),
        "unsigned": replace(
            genuine, headers={k: v for k, v in genuine.headers.items() if "sign" not in k.lower()}
        ),
    }
    accepted = []
    for name, request in forged.items():
        try:
            s.provider.verify_callback(request.headers, request.body, request.query)
        except CallbackRejected:
            continue
        accepted.append(name)
    try:
        s.provider.verify_callback(genuine.headers, genuine.body, genuine.query)
    except CallbackRejected:
        pass
    else:
        accepted.append("replayed")
    if accepted:
        raise CheckFailed(f"forged callbacks accepted: {', '.join(accepted)}")
    return {
        "order_id": invoice.order_id,
        "invoice_number": mine[0].invoice_number or "",
        "refused": "tampered, unsigned, replayed",
    }


async def _reverse(
    s: _Session,
    invoice: Invoice,
    status: InvoiceStatus,
    reason: RedReason,
    lines: tuple[RedLine, ...] = (),
) -> tuple[RedConfirmation, InvoiceStatus]:
    request = RedReversalRequest(
        order_id=new_order_id("RED"),
        seller_tax_id=s.seller,
        buyer_tax_id=invoice.buyer.tax_id,
        original_invoice_number=status.invoice_number or "",
        original_order_id=invoice.order_id,
        reason=reason,
        lines=lines,
    )
    form = await s.provider.red_apply(request)
    if form.state not in {RedConfirmationState.CONFIRMED, RedConfirmationState.RED_ISSUED}:
        raise CheckFailed(f"red form {form.confirmation_id} is {form.state.value}, not confirmed")
    if Operation.RED_QUERY in s.caps.operations:
        again = await s.provider.red_query(s.seller, form.confirmation_id)
        if again.confirmation_id != form.confirmation_id:
            raise CheckFailed("red_query answered for another form")
    return form, await _issue_red(s, form)


async def _issue_red(s: _Session, form: RedConfirmation) -> InvoiceStatus:
    await s.provider.red_issue(form)
    red = await settle(s.provider, s.seller, form.order_id, within=s.settle_timeout)
    if red.state is not InvoiceState.ISSUED or not red.is_red:
        raise CheckFailed(f"red invoice for form {form.confirmation_id} ended {red.state.value}")
    return red


async def _red_full(s: _Session) -> Evidence:
    from fapiao.rules import compute_totals

    invoice, status = s.issued.get("special_multi_rate") or s.any_issued("a red reversal")
    form, red = await _reverse(s, invoice, status, RedReason.INVOICING_ERROR)
    totals = compute_totals(invoice)
    if form.amount != -totals.total_amount:
        raise CheckFailed(f"red form amount {form.amount} ≠ −{totals.total_amount}")
    s.reversed_fully = (invoice, status)
    return {
        "blue_invoice_number": status.invoice_number or "",
        "confirmation_id": form.confirmation_id,
        "confirmation_number": form.confirmation_number or "-",
        "red_invoice_number": red.invoice_number or "",
        "red_amount": str(form.amount),
    }


async def _red_partial(s: _Session) -> Evidence:
    candidates = [v for k, v in s.issued.items() if k != "special_multi_rate"]
    if not candidates:
        raise CheckFailed("needs an issued invoice that is not fully reversed")
    invoice, status = candidates[0]
    half = (invoice.lines[0].amount / 2).quantize(Decimal("0.01"))
    if invoice.prices_include_tax:
        from fapiao.rules import compute_totals

        half = (compute_totals(invoice).lines[0].amount / 2).quantize(Decimal("0.01"))
    form, red = await _reverse(
        s, invoice, status, RedReason.SALES_RETURN, (RedLine(original_line=0, amount=half),)
    )
    if form.amount != -half:
        raise CheckFailed(f"partial red form amount {form.amount} ≠ −{half}")
    return {
        "blue_invoice_number": status.invoice_number or "",
        "confirmation_id": form.confirmation_id,
        "red_invoice_number": red.invoice_number or "",
        "red_amount": str(form.amount),
    }


async def _red_confirm(s: _Session) -> Evidence:
    mark_used = s.target.mark_used()
    if mark_used is None:
        raise CheckSkipped(
            "needs an invoice the buyer has used (the form then needs the seller's "
            "confirmation); this environment offers no way to arrange it"
        )
    invoice = invoice_mix(s.target.seller, s.target.buyer)["normal_discount"]
    status = await s.issue_settled(invoice)
    mark_used(status.invoice_number or "")
    pending = await s.provider.red_apply(
        RedReversalRequest(
            order_id=new_order_id("RED"),
            seller_tax_id=s.seller,
            buyer_tax_id=invoice.buyer.tax_id,
            original_invoice_number=status.invoice_number or "",
            original_order_id=invoice.order_id,
            reason=RedReason.SALES_RETURN,
            applicant=RedApplicant.BUYER,
        )
    )
    if pending.state is not RedConfirmationState.PENDING:
        raise CheckFailed(f"a buyer-raised form on a used invoice is {pending.state.value}")
    confirmed = await s.provider.red_confirm(s.seller, pending.confirmation_id, accept=True)
    if confirmed.state is not RedConfirmationState.CONFIRMED:
        raise CheckFailed(f"after confirmation the form is {confirmed.state.value}")
    red = await _issue_red(s, confirmed)
    return {
        "blue_invoice_number": status.invoice_number or "",
        "confirmation_id": confirmed.confirmation_id,
        "red_invoice_number": red.invoice_number or "",
    }


async def _over_reversal_refused(s: _Session) -> Evidence:
    if s.reversed_fully is None:
        raise CheckFailed("needs the fully reversed invoice of the red reversal check")
    invoice, status = s.reversed_fully
    try:
        await _reverse(s, invoice, status, RedReason.INVOICING_ERROR)
    except (RedReversalNotAllowed, InvalidStateTransition) as exc:
        return {"invoice_number": status.invoice_number or "", "refused_with": _code(exc)}
    except CheckFailed as exc:
        if "not confirmed" in str(exc):
            return {"invoice_number": status.invoice_number or "", "refused_with": str(exc)}
        raise
    raise CheckFailed("a second full reversal of a reversed invoice was accepted")


async def _invalid_input_refused(s: _Session) -> Evidence:
    invoice = invoice_mix(s.target.seller, s.target.buyer)["special_multi_rate"]
    bad = invoice.model_copy(
        update={
            "order_id": new_order_id("BAD"),
            "buyer": invoice.buyer.model_copy(update={"tax_id": BAD_BUYER_TAX_ID}),
        }
    )
    try:
        result: InvoiceStatus = await s.provider.issue(bad)
    except FapiaoError as exc:
        codes = error_codes(exc)
        if "INVALID_TAX_ID" not in codes:
            raise CheckFailed(f"refused, but with {', '.join(sorted(codes))}") from exc
        if not (exc.message_zh and exc.message_en):
            raise CheckFailed("the refusal lacks a Chinese or an English message") from exc
        return {"refused_with": _code(exc), "field": exc.field or "-"}
    if result.state is InvoiceState.ISSUING:
        result = await settle(s.provider, s.seller, bad.order_id, within=s.settle_timeout)
    if result.state is InvoiceState.FAILED and result.error is not None:
        return {"refused_with": result.error.code, "field": result.error.field or "-"}
    raise CheckFailed(f"an invoice with a bad buyer tax ID ended {result.state.value}")


async def _auth_refused(s: _Session) -> Evidence:
    name = s.target.secret_field()
    if name is None:
        raise CheckSkipped("the settings hold no secret field to get wrong")
    wrong = s.target.provider(**{name: "selftest-wrong-secret-0000"})
    try:
        if Operation.QUOTA in s.caps.operations:
            await wrong.quota(s.seller)
        else:
            await wrong.query(s.seller, [new_order_id("NONE")])
    except AuthFailed as exc:
        return {"setting": name, "refused_with": _code(exc)}
    except FapiaoError as exc:
        raise CheckFailed(f"a wrong {name} gave {exc.code}, not AUTH_FAILED") from exc
    finally:
        await wrong.aclose()
    raise CheckFailed(f"a wrong {name} was accepted")


def _code(exc: FapiaoError) -> str:
    return exc.code + (f" (raw {exc.raw_code})" if exc.raw_code else "")


def plan(caps: Capabilities) -> list[_Check]:
    """The checklist for these declarations, in go-live order."""
    ops = caps.operations
    checks = [
        _Check("declarations", "declarations well formed / 能力声明完整", _declarations),
        _Check("scrub", "secrets scrubbed / 日志脱敏", _scrub),
        _Check(
            "undeclared_refused",
            "undeclared operations refused offline / 未声明操作离线拒绝",
            _undeclared_refused,
        ),
    ]
    if Operation.QUOTA in ops:
        checks.append(_Check("quota", "quota / 授信额度", _quota))
    if InvoiceKind.SPECIAL in caps.invoice_kinds:
        checks.append(
            _Check(
                "issue_special",
                "issue 专票, three rates / 开具专票（多税率）",
                _issue_check("special_multi_rate"),
            )
        )
    if InvoiceKind.NORMAL in caps.invoice_kinds:
        checks.append(
            _Check(
                "issue_normal_person",
                "issue 普票 to a natural person / 开具普票（自然人）",
                _issue_check("normal_natural_person"),
            )
        )
        checks.append(
            _Check(
                "issue_normal_simplified",
                "issue 普票 at 3 % and 1 % / 开具普票（征收率）",
                _issue_check("normal_simplified_rates"),
            )
        )
    checks.append(_Check("query", "query by order id / 按订单号查询", _query))
    checks.append(_Check("duplicate", "same order twice, one invoice / 重复订单", _duplicate))
    if Operation.DOCUMENTS in ops:
        for fmt in sorted(caps.document_formats):
            checks.append(
                _Check(
                    f"documents_{fmt.value}",
                    f"{fmt.value.upper()} document / 版式文件",
                    _documents_check(fmt),
                )
            )
    if Operation.DELIVER in ops:
        for channel in sorted(caps.delivery_channels):
            checks.append(
                _Check(
                    f"deliver_{channel.value}",
                    f"deliver by {channel.value} / 交付",
                    _deliver_check(channel),
                )
            )
    if Operation.CALLBACK in ops:
        checks.append(_Check("callbacks", "signed callbacks verified / 回调验签", _callbacks))
    if Operation.RED_APPLY in ops:
        checks.append(_Check("red_full", "full red reversal / 全额红冲", _red_full))
        if caps.red_partial:
            checks.append(_Check("red_partial", "partial red reversal / 部分红冲", _red_partial))
        if Operation.RED_CONFIRM in ops:
            checks.append(
                _Check(
                    "red_confirm", "confirm a buyer-raised red form / 确认红字确认单", _red_confirm
                )
            )
        checks.append(
            _Check(
                "over_reversal_refused",
                "over-reversal refused / 超额红冲被拒",
                _over_reversal_refused,
            )
        )
    checks.append(
        _Check("invalid_input_refused", "bad tax ID refused / 错误税号被拒", _invalid_input_refused)
    )
    checks.append(_Check("auth_refused", "wrong secret refused / 错误密钥被拒", _auth_refused))
    return checks


async def run_selftest(
    target: Target,
    *,
    budget: float = 300.0,
    settle_timeout: float = 20.0,
    email: str | None = None,
    mobile: str | None = None,
) -> SelftestReport:
    """Run the checklist against ``target`` within ``budget`` seconds; a check that would
    end after the budget is stopped and failed, the ones after it are failed as not run."""
    started = time.monotonic()
    deadline = started + budget
    if target.source == "sandbox":
        email = email or "buyer@example.com"
        mobile = mobile or "13812345678"
    report = SelftestReport(
        profile=target.profile,
        provider=target.provider_name,
        source=target.source,
        environment=target.settings.environment.value,
        seller=mask_tax_id(target.seller_tax_id),
        budget_seconds=budget,
        notes=list(target.notes),
    )
    provider = target.provider()
    session = _Session(target, provider, min(settle_timeout, budget), email, mobile)
    try:
        for check in plan(provider.capabilities):
            report.checks.append(await _run_one(check, session, deadline))
    finally:
        await provider.aclose()
    report.elapsed_seconds = time.monotonic() - started
    return report


async def _run_one(check: _Check, session: _Session, deadline: float) -> CheckResult:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return CheckResult(
            check.id, check.title, "fail", 0.0, detail="not run: time budget used up"
        )
    started = time.perf_counter()

    def result(status: Status, **kwargs: Any) -> CheckResult:
        return CheckResult(check.id, check.title, status, time.perf_counter() - started, **kwargs)

    try:
        evidence = await asyncio.wait_for(check.run(session), timeout=remaining)
    except CheckSkipped as exc:
        return result("skip", detail=str(exc))
    except CheckFailed as exc:
        cause = exc.__cause__
        info = cause.to_info() if isinstance(cause, FapiaoError) else None
        return result("fail", detail=str(exc), error=info)
    except FapiaoError as exc:
        raw = f" (raw {exc.raw_code} {exc.raw_message or ''})".rstrip() if exc.raw_code else ""
        return result("fail", detail=f"{exc.code}: {exc.message_en}{raw}", error=exc.to_info())
    except TimeoutError as exc:
        if time.monotonic() >= deadline:
            return result("fail", detail="stopped: time budget used up")
        return result("fail", detail=str(exc))
    except Exception as exc:  # a plugin bug must fail its check, not end the checklist
        return result("fail", detail=f"unexpected {type(exc).__name__}: {exc}")
    return result("pass", evidence=evidence)
