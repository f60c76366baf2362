"""The shared checklist (``fapiao.checks``): defined once, importable without pytest, naming
what is undeclared, and failing a provider that breaks the contract."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

import pytest

from fapiao.checks.check import CheckFailed, Declared, Runner
from fapiao.checks.checklist import CHECKS, checks_for, suite_tests
from fapiao.checks.context import SANDBOX_ADDRESSES, CheckContext
from fapiao.contract.capabilities import Capabilities
from fapiao.models import DocumentFormat, InvoiceStatus, Operation
from fapiao.tools.targets import Target, sandbox_target

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_selftest_and_the_checks_import_without_pytest() -> None:
    probe = (
        "import sys; sys.modules['pytest'] = None; "
        "import fapiao.tools.selftest, fapiao.checks.checklist; "
        "print(sorted(m for m in sys.modules if 'pytest' in m))"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "['pytest']"  # only the blocked entry itself


def test_every_check_is_defined_once_with_a_bilingual_title() -> None:
    ids = [c.id for c in CHECKS]
    assert len(ids) == len(set(ids))
    for check in CHECKS:
        english, _, chinese = check.title.partition(" / ")
        assert english and CJK.search(chinese), check.title
        assert check.suite_test.isidentifier() and check.runners, check.id
    # the names the scaffold's round trip and the plugin authors' guide rely on
    assert {
        "declarations_are_well_formed",
        "operations_are_coroutines",
        "issue_then_query_until_issued",
        "query_batch_omits_unknown_orders",
        "same_order_twice_never_makes_a_second_invoice",
        "documents_in_every_declared_format",
        "red_reversal_full",
    } <= set(suite_tests())


def test_a_check_of_something_undeclared_is_left_out_or_skipped_naming_it() -> None:
    caps = Capabilities(
        operations=frozenset({Operation.ISSUE, Operation.QUERY, Operation.DOCUMENTS}),
        document_formats=frozenset({DocumentFormat.PDF}),
        issuance="sync",
        status_updates="polling",
    )
    assert Declared(Operation.CALLBACK).missing(caps) == "callback not declared / 未声明 callback"
    assert Declared(Operation.DOCUMENTS, document_format=DocumentFormat.OFD).missing(caps) == (
        "ofd not declared / 未声明 ofd"
    )
    assert Declared(Operation.DOCUMENTS, document_format=DocumentFormat.PDF).missing(caps) is None
    selftest = {c.id for c in checks_for(caps, Runner.SELFTEST)}
    assert {"documents_pdf", "undeclared_refused", "issue_special"} <= selftest
    assert not selftest & {"documents_ofd", "callbacks", "red_full", "quota", "red_lapse"}


def _context(target: Target, provider: Any) -> CheckContext:
    return CheckContext(
        provider=provider,
        provider_with=target.provider,
        seller=target.seller,
        buyer=target.buyer,
        secrets=target.secrets,
        settle_timeout=5.0,
        addresses=SANDBOX_ADDRESSES,
        hints={},
    )


async def test_the_checks_fail_a_provider_that_breaks_the_contract() -> None:
    with sandbox_target("baiwang") as target:

        class Broken(target.plugin):  # type: ignore[name-defined,misc]
            """Leaks its secrets and answers for orders it does not know."""

            def scrub(self, transcript: str) -> str:
                return transcript

            async def query(
                self, seller_tax_id: str, order_ids: Sequence[str]
            ) -> list[InvoiceStatus]:
                known = await super().query(seller_tax_id, order_ids)
                invented = [
                    InvoiceStatus(
                        provider=self.name, seller_tax_id=seller_tax_id, order_id=o, state="issuing"
                    )
                    for o in order_ids
                    if o not in {s.order_id for s in known}
                ]
                return [*known, *invented]

        broken = Broken(target.settings)
        context = _context(target, broken)
        checks = {c.id: c for c in CHECKS}
        try:
            with pytest.raises(CheckFailed, match="scrub left"):
                await checks["scrub"].run(context)
            with pytest.raises(CheckFailed, match="unknown order id was answered"):
                await checks["query"].run(context)
        finally:
            await broken.aclose()
