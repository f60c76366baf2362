"""The checklist: every check of a provider plugin, once, in the order a go-live meets them.

``fapiao selftest`` runs the checks its target's declarations call for, in this order; the
conformance suite turns each ``suite_test`` into one pytest test running its checks in this
order. Which checks only one runner runs, and why, is said in ``fapiao.checks``.
"""

from __future__ import annotations

from collections.abc import Mapping

from fapiao.checks import blue, declarations, red, refusals, security
from fapiao.checks.check import Check, Runner
from fapiao.contract.capabilities import Capabilities

__all__ = ["CHECKS", "checks_for", "suite_tests"]

CHECKS: tuple[Check, ...] = (
    declarations.declarations,
    declarations.implemented,
    declarations.coroutines,
    security.scrub,
    declarations.undeclared_refused,
    blue.quota,
    *blue.ISSUE,
    blue.issue_own_invoices,
    blue.query,
    blue.duplicate,
    *blue.DOCUMENTS,
    *blue.DELIVER,
    security.callbacks,
    red.red_full,
    red.red_partial,
    red.red_confirm,
    red.over_reversal_refused,
    red.red_lapse,
    refusals.invalid_input_refused,
    refusals.auth_refused,
    refusals.declared_errors,
    security.transport_logs_scrubbed,
)


def checks_for(caps: Capabilities, runner: Runner) -> list[Check]:
    """The checks ``runner`` runs for these declarations, in checklist order."""
    return [check for check in CHECKS if check.applies(caps, runner)]


def suite_tests() -> Mapping[str, tuple[Check, ...]]:
    """The conformance suite's tests, by name, each with its checks in checklist order."""
    tests: dict[str, tuple[Check, ...]] = {}
    for check in CHECKS:
        if Runner.CONFORMANCE in check.runners:
            tests[check.suite_test] = (*tests.get(check.suite_test, ()), check)
    return tests
