"""What one check is: an id, a bilingual title, the declaration it applies to, the runners
and the coroutine that exercises a provider. Each check module makes its checks with
:func:`check`, next to their code; the two runners read nothing else."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from fapiao.contract.capabilities import Capabilities
from fapiao.errors import FapiaoError
from fapiao.models import DeliveryChannel, DocumentFormat, InvoiceKind, Operation

if TYPE_CHECKING:
    from fapiao.checks.context import CheckContext

__all__ = ["SELFTEST_ONLY", "SUITE_ONLY", "Check", "CheckFailed", "CheckSkipped", "Declared"]
__all__ += ["Evidence", "Runner", "check", "refusal_evidence"]

Evidence = dict[str, str]
"""What a person can verify elsewhere: invoice numbers, form ids, hashes, raw codes."""
Run = Callable[["CheckContext"], Awaitable[Evidence]]


class CheckFailed(AssertionError):
    """The provider broke the contract (the message says how); an ``AssertionError``, so
    that pytest reports it as the failed assertion it is."""


class CheckSkipped(Exception):
    """The environment cannot do this at all (the message says why and how to supply it)."""


class Runner(Enum):
    SELFTEST = "selftest"
    CONFORMANCE = "conformance"


SUITE_ONLY = frozenset({Runner.CONFORMANCE})
SELFTEST_ONLY = frozenset({Runner.SELFTEST})


def refusal_evidence(error: FapiaoError) -> str:
    """A refusal as evidence: the canonical code and the provider's own, when it gave one."""
    return error.code + (f" (raw {error.raw_code})" if error.raw_code else "")


@dataclass(frozen=True)
class Declared:
    """The declaration a check applies to (the conformance suite skips a check of anything
    undeclared, giving :meth:`missing` as the reason; selftest leaves it out)."""

    operation: Operation | None = None
    kind: InvoiceKind | None = None
    document_format: DocumentFormat | None = None
    channel: DeliveryChannel | None = None
    red_partial: bool = False

    def missing(self, caps: Capabilities) -> str | None:
        """Why the check does not apply to ``caps``, or ``None`` when it does."""
        wanted: list[tuple[Enum | None, AbstractSet[Enum]]] = [
            (self.operation, caps.operations),
            (self.kind, caps.invoice_kinds),
            (self.document_format, caps.document_formats),
            (self.channel, caps.delivery_channels),
        ]
        names = [str(w.value) for w, declared in wanted if w is not None and w not in declared]
        names += ["red_partial"] if self.red_partial and not caps.red_partial else []
        return f"{names[0]} not declared / 未声明 {names[0]}" if names else None


@dataclass(frozen=True)
class Check:
    id: str
    """Stable: the key of selftest's JSON and of the conformance test's evidence."""
    title: str
    """``English / 中文``: what a person reads in the checklist."""
    suite_test: str
    """The conformance test (``test_<suite_test>``) running it, with the other checks of
    that test, in checklist order on one provider (like the document check of each format)."""
    run: Run
    declared: Declared = Declared()
    runners: frozenset[Runner] = frozenset(Runner)

    def applies(self, caps: Capabilities, runner: Runner) -> bool:
        return runner in self.runners and self.declared.missing(caps) is None


def check(
    id: str,
    title: str,
    suite_test: str,
    declared: Declared = Declared(),
    runners: frozenset[Runner] = frozenset(Runner),
) -> Callable[[Run], Check]:
    """Decorate a check's coroutine to make it that :class:`Check`."""
    return lambda run: Check(id, title, suite_test, run, declared, runners)
