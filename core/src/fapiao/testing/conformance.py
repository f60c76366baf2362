"""The provider conformance suite: one test class every provider plugin runs against its own
sandbox.

Using it
--------
In the plugin's tests, a module (say ``tests/test_conformance.py``)::

    from fapiao.testing.conformance import ProviderConformance

    class TestMyVendorConformance(ProviderConformance):
        pass

and, in that directory's ``conftest.py``, ONE fixture named ``conformance_harness`` that
returns a :class:`fapiao.testing.ConformanceHarness`: a provider factory wired to the
plugin's sandbox, the sandbox seller, the bad inputs per canonical error code, the secrets
given to the provider, and optionally the ``callback_receiver`` (a fixture this kit
provides: a loopback server whose ``url`` the plugin passes as ``callback_url``), a sandbox
clock and a way to mark an invoice as used by the buyer. Start the sandbox once per module
or session (``fapiao.sandboxkit.serve``); the harness fixture itself may be cheap.

What is checked
---------------
The checks of ``fapiao.checks``, the ones ``fapiao selftest`` runs before go-live, and the
few needing a harness (that package says which and why). Each ``Check.suite_test`` becomes
one test here, ``test_<suite_test>``, running its checks in order on a fresh provider: it
fails with the check's message, and is skipped naming the undeclared capability or the
harness field that would switch it on. Each check's evidence goes to the test's
``user_properties`` (a JUnit report shows it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from fapiao.checks.check import Check, CheckSkipped, Runner
from fapiao.checks.checklist import suite_tests
from fapiao.checks.context import SANDBOX_ADDRESSES, CheckContext, secret_field
from fapiao.contract.provider import Provider
from fapiao.contract.settings import ProviderSettings
from fapiao.testing.harness import ConformanceHarness
from fapiao.testing.samples import DEFAULT_BUYER
from fapiao.tools.calls import settle

__all__ = ["ProviderConformance", "settle"]

_HINTS = {
    "secrets": "list the secrets given to the provider in ConformanceHarness.secrets",
    "callbacks": "set ConformanceHarness.callbacks to the callback_receiver fixture",
    "mark_used": "set ConformanceHarness.mark_used",
    "clock": "set ConformanceHarness.advance_clock and mark_used",
    "bad_inputs": "declare at least one in ConformanceHarness.bad_inputs",
    "invoices": "ConformanceHarness.invoices is empty",
    "secret_field": "the provider has no ProviderSettings with a secret field",
}
"""Which harness field supplies what a check found missing."""

_REQUIRED = frozenset({"secrets", "callbacks", "bad_inputs"})
"""What every harness must give when the plugin declares what needs it."""


def _context(harness: ConformanceHarness, provider: Provider) -> CheckContext:
    settings = getattr(provider, "settings", None)  # ProviderBase keeps its settings
    return CheckContext(
        provider=provider,
        provider_with=harness.provider_factory,
        seller=harness.seller,
        buyer=harness.buyer or DEFAULT_BUYER,
        secrets=harness.secrets,
        settle_timeout=harness.settle_timeout,
        addresses=SANDBOX_ADDRESSES,
        hints=_HINTS,
        required=_REQUIRED,
        callbacks=harness.callbacks,
        mark_used=harness.mark_used,
        advance_clock=harness.advance_clock,
        secret_field=secret_field(settings) if isinstance(settings, ProviderSettings) else None,
        bad_inputs=harness.bad_inputs,
        invoices=harness.invoices,
    )


def _suite_test(name: str, checks: tuple[Check, ...]) -> Callable[..., Awaitable[None]]:
    """One test running ``checks`` in order on one fresh provider."""

    async def test(
        self: ProviderConformance,
        conformance_harness: ConformanceHarness,
        conformance_provider: Provider,
        request: pytest.FixtureRequest,
    ) -> None:
        caps = conformance_provider.capabilities
        runnable = [c for c in checks if c.applies(caps, Runner.CONFORMANCE)]
        if not runnable:
            pytest.skip("; ".join(sorted({c.declared.missing(caps) or "" for c in checks})))
        context = _context(conformance_harness, conformance_provider)
        skipped: list[str] = []
        for check in runnable:
            try:
                request.node.user_properties.append((check.id, await check.run(context)))
            except CheckSkipped as exc:
                skipped.append(f"{check.id}: {exc}")
        if len(skipped) == len(runnable):
            pytest.skip("; ".join(skipped))

    test.__name__ = f"test_{name}"
    test.__qualname__ = f"ProviderConformance.test_{name}"
    test.__doc__ = "; ".join(check.title for check in checks)
    return test


class ProviderConformance:
    """Subclass as ``TestXxxConformance`` and provide the ``conformance_harness`` fixture;
    the tests are made from ``fapiao.checks`` below the class."""

    @pytest.fixture
    async def conformance_provider(
        self, conformance_harness: ConformanceHarness
    ) -> AsyncIterator[Provider]:
        provider = conformance_harness.provider_factory()
        try:
            yield provider
        finally:
            await provider.aclose()


for _name, _checks in suite_tests().items():
    setattr(ProviderConformance, f"test_{_name}", _suite_test(_name, _checks))
