"""What plugin authors subclass: the provider base with shared transport and scrubbing.

It sits above the transport layer (``PluginBase`` builds the plugin's HTTP client) and below
the engine; the structural contract itself is ``fapiao.contract.Provider``.

It owns the declaration checks, generically, so plugins don't repeat them: every operation
method a subclass defines (named in ``fapiao.contract.operations.OPERATIONS``) is wrapped so
that an undeclared operation is refused with ``UnsupportedOperation`` before the plugin's code
runs, and an invoice outside the declared kinds and limits is refused before ``issue`` sends
it (``Capabilities.refuse_invoice``), as is an undeclared delivery channel or document format
before ``deliver`` or ``fetch_document`` runs. Operations a subclass does not define are
refused by the defaults below, and an operation it declares but has not written yet raises
:meth:`ProviderBase.not_implemented` (what a scaffolded stub raises too).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from fapiao.contract.capabilities import Capabilities, ProviderInfo
from fapiao.contract.operations import OPERATIONS, OperationSpec
from fapiao.contract.settings import ProviderSettings
from fapiao.errors import UnsupportedOperation
from fapiao.models import (
    CallbackResult,
    Delivery,
    DeliveryResult,
    Document,
    DocumentFormat,
    Invoice,
    InvoiceStatus,
    IssueResult,
    Operation,
    Quota,
    RedConfirmation,
    RedReversalRequest,
)
from fapiao.sdk.plugin_base import PluginBase

__all__ = ["ProviderBase"]

SettingsT = TypeVar("SettingsT", bound=ProviderSettings)

_GUARDED = "__fapiao_guarded__"


_CHECKED_ARGUMENT: dict[Operation, tuple[int, str]] = {
    Operation.ISSUE: (0, "invoice"),
    Operation.DELIVER: (0, "delivery"),
    Operation.DOCUMENTS: (1, "fmt"),
}
"""The argument whose declared limits an operation checks: (position after self, name)."""


def _guard(spec: OperationSpec, method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` preceded by the declaration checks of its operation."""
    checked = _CHECKED_ARGUMENT.get(spec.operation)

    def check(self: ProviderBase[Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        caps = self.capabilities
        refusal = caps.refuse_operation(spec.operation, self.name)
        if refusal is None and checked is not None:
            position, name = checked
            value = args[position] if len(args) > position else kwargs.get(name)
            if isinstance(value, Invoice):
                strict = self.settings.strict_features
                refusal = caps.refuse_invoice(value, self.name, strict_features=strict)
            elif isinstance(value, Delivery):
                refusal = caps.refuse_delivery_channel(value.channel, self.name)
            elif isinstance(value, DocumentFormat):
                refusal = caps.refuse_document_format(value, self.name)
        if refusal is not None:
            raise refusal

    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def guarded_async(self: ProviderBase[Any], *args: Any, **kwargs: Any) -> Any:
            check(self, args, kwargs)
            return await method(self, *args, **kwargs)

        guarded: Callable[..., Any] = guarded_async
    else:

        @functools.wraps(method)
        def guarded_sync(self: ProviderBase[Any], *args: Any, **kwargs: Any) -> Any:
            check(self, args, kwargs)
            return method(self, *args, **kwargs)

        guarded = guarded_sync
    setattr(guarded, _GUARDED, True)
    return guarded


class ProviderBase(PluginBase[SettingsT]):
    """Convenience base: holds settings, the shared HTTP client and the scrubber (from
    ``PluginBase``), and refuses undeclared operations clearly."""

    info: ClassVar[ProviderInfo]
    settings_model: ClassVar[type[ProviderSettings]] = ProviderSettings
    default_capabilities: ClassVar[Capabilities]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for spec in OPERATIONS.values():
            method = cls.__dict__.get(spec.method)
            if callable(method) and not getattr(method, _GUARDED, False):
                setattr(cls, spec.method, _guard(spec, method))

    def http_rate_limit(self) -> float | None:
        """The profile's own limit, else the one the provider declares."""
        return (
            self.settings.rate_limit_per_second or self.default_capabilities.rate_limit_per_second
        )

    @property
    def capabilities(self) -> Capabilities:
        return self.default_capabilities

    def not_implemented(self, operation: Operation) -> UnsupportedOperation:
        """The refusal of ``operation``: undeclared, or declared but not written yet.

        The defaults below raise it; so does each stub ``fapiao new-plugin`` generates, until
        its author writes the operation."""
        refusal = self.capabilities.refuse_operation(operation, self.name)
        if refusal is not None:
            return refusal
        method, module = OPERATIONS[operation].method, type(self).__module__
        return UnsupportedOperation(
            f"provider {self.name!r} declares {operation.value} but does not implement it yet "
            f"(write {method} in {module})",
            message_zh=f"服务商 {self.name} 声明了操作 {operation.value} 但尚未实现"
            f"（请在 {module} 中编写 {method}）",
            provider=self.name,
        )

    async def issue(self, invoice: Invoice) -> IssueResult:
        raise self.not_implemented(Operation.ISSUE)

    async def query(self, seller_tax_id: str, order_ids: Sequence[str]) -> list[InvoiceStatus]:
        raise self.not_implemented(Operation.QUERY)

    async def red_apply(self, request: RedReversalRequest) -> RedConfirmation:
        raise self.not_implemented(Operation.RED_APPLY)

    async def red_confirm(
        self, seller_tax_id: str, confirmation_id: str, *, accept: bool = True
    ) -> RedConfirmation:
        raise self.not_implemented(Operation.RED_CONFIRM)

    async def red_query(self, seller_tax_id: str, confirmation_id: str) -> RedConfirmation:
        raise self.not_implemented(Operation.RED_QUERY)

    async def red_issue(self, confirmation: RedConfirmation) -> IssueResult:
        raise self.not_implemented(Operation.RED_ISSUE)

    async def cancel(self, seller_tax_id: str, order_id: str) -> InvoiceStatus:
        raise self.not_implemented(Operation.CANCEL)

    async def fetch_document(self, status: InvoiceStatus, fmt: DocumentFormat) -> Document:
        raise self.not_implemented(Operation.DOCUMENTS)

    async def deliver(self, delivery: Delivery) -> DeliveryResult:
        raise self.not_implemented(Operation.DELIVER)

    async def quota(self, seller_tax_id: str) -> Quota:
        raise self.not_implemented(Operation.QUOTA)

    def verify_callback(
        self, headers: Mapping[str, str], body: bytes, query: Mapping[str, str] | None = None
    ) -> CallbackResult:
        raise self.not_implemented(Operation.CALLBACK)
