"""Checks of what a plugin declares, made without invoicing: declarations well formed, every
declared operation implemented with the right shape, every undeclared one refused offline."""

from __future__ import annotations

import inspect
import logging

from fapiao.checks.check import CheckFailed, CheckSkipped, Evidence, check
from fapiao.checks.context import CheckContext
from fapiao.contract.capabilities import Capabilities
from fapiao.contract.operations import OPERATIONS, probe
from fapiao.contract.provider import Provider
from fapiao.contract.settings import ProviderSettings
from fapiao.errors import FapiaoError, ProviderUnavailable, UnsupportedOperation
from fapiao.models import Operation
from fapiao.testing.samples import new_order_id

__all__ = ["CLOSED_PORT_URL", "coroutines", "declarations", "implemented", "undeclared_refused"]

CLOSED_PORT_URL = "http://127.0.0.1:9"
"""The discard port on loopback: nothing listens, so any request to it fails before sending."""


def _fail_on(problems: dict[str, bool]) -> None:
    if found := [text for text, broken in problems.items() if broken]:
        raise CheckFailed("; ".join(found))


@check("declarations", "declarations well formed / 能力声明完整", "declarations_are_well_formed")
async def declarations(ctx: CheckContext) -> Evidence:
    provider, caps, ops = ctx.provider, ctx.caps, ctx.caps.operations
    _fail_on(
        {
            "the provider does not meet the contract": not isinstance(provider, Provider),
            f"name {provider.name!r} is not an identifier": not provider.name.isidentifier(),
            "no display name": not provider.info.display_name,
            "no ProviderSettings model": not issubclass(provider.settings_model, ProviderSettings),
            "capabilities are not a Capabilities": not isinstance(caps, Capabilities),
            "issue or query not declared": not {Operation.ISSUE, Operation.QUERY} <= ops,
            "documents without a format": Operation.DOCUMENTS in ops and not caps.document_formats,
            "delivery without a channel": Operation.DELIVER in ops and not caps.delivery_channels,
            "status by callback without the callback operation": caps.status_updates == "callback"
            and Operation.CALLBACK not in ops,
            "partial red reversal without red_apply": caps.red_partial
            and Operation.RED_APPLY not in ops,
        }
    )
    return {
        "operations": ", ".join(sorted(o.value for o in ops)),
        "issuance": caps.issuance,
        "status_updates": caps.status_updates,
        "formats": ", ".join(sorted(f.value for f in caps.document_formats)) or "-",
        "channels": ", ".join(sorted(c.value for c in caps.delivery_channels)) or "-",
    }


@check(
    "implemented",
    "declared operations implemented / 已声明操作均已实现",
    "declared_operations_are_implemented",
)
async def implemented(ctx: CheckContext) -> Evidence:
    """A declared operation left to ``ProviderBase`` would refuse every call at run time."""
    from fapiao.sdk import ProviderBase

    methods = {op: OPERATIONS[op].method for op in sorted(ctx.caps.operations)}
    _fail_on(
        {
            f"{op.value} declared but not implemented": getattr(type(ctx.provider), name)
            is getattr(ProviderBase, name)
            for op, name in methods.items()
        }
    )
    return {"implemented": ", ".join(op.value for op in methods)}


@check("coroutines", "operations are coroutines / 操作为协程", "operations_are_coroutines")
async def coroutines(ctx: CheckContext) -> Evidence:
    """Every operation is a coroutine but the callback check (the web framework calls it)."""
    _fail_on(
        {
            f"{spec.method} must {'' if spec.is_coroutine else 'not '}be async": (
                inspect.iscoroutinefunction(getattr(ctx.provider, spec.method)) != spec.is_coroutine
            )
            for spec in OPERATIONS.values()
        }
    )
    return {"methods": str(len(OPERATIONS))}


@check(
    "undeclared_refused",
    "undeclared operations refused offline / 未声明操作离线拒绝",
    "undeclared_operations_refused_without_network",
)
async def undeclared_refused(ctx: CheckContext) -> Evidence:
    """Refused before the network: the provider is pointed at a closed port, where a call
    would surface as ``ProviderUnavailable`` (the closing query proves it)."""
    undeclared = [op for op in Operation if op not in ctx.caps.operations]
    if not undeclared:
        raise CheckSkipped("every operation is declared / 所有操作均已声明")
    offline = ctx.provider_with(base_url=CLOSED_PORT_URL)
    transport = logging.getLogger("fapiao.transport")
    level = transport.level
    transport.setLevel(logging.ERROR)  # each call failing on purpose would log a warning
    try:
        wrong: list[str] = []
        for operation in undeclared:
            try:
                await probe(offline, operation, ctx.seller_tax_id)
                wrong.append(f"{operation.value}: no error")
            except UnsupportedOperation:
                continue
            except FapiaoError as exc:
                wrong.append(f"{operation.value}: {exc.code}")
        if wrong:
            raise CheckFailed("undeclared operations not refused offline: " + "; ".join(wrong))
        try:
            await offline.query(ctx.seller_tax_id, [new_order_id("NONE")])
        except ProviderUnavailable:
            return {"refused": ", ".join(op.value for op in undeclared)}
    finally:
        transport.setLevel(level)
        await offline.aclose()
    raise CheckFailed("a query to a closed port succeeded: the probe was not offline")
