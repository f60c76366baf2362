"""The public surfaces, pinned: ``fapiao`` (business code) and ``fapiao.sdk`` (plugin authors).

Why literal lists: a name added to or dropped from either surface must show up in review as a
change to this file, so a change of the surface is always deliberate (httpx pins its exported
members the same way). ``fapiao.sdk`` is what every plugin imports in production, so it must
also stay free of the engine, the test tools and the sandbox kit (checked in a fresh
interpreter, where nothing else has imported them yet).
"""

from __future__ import annotations

import json
import subprocess
import sys
import types

import fapiao
import fapiao.sdk

FAPIAO_ALL = [
    "AsyncClient",
    "Client",
    "Delivery",
    "Document",
    "DocumentFormat",
    "FapiaoError",
    "Invoice",
    "InvoiceKind",
    "InvoiceLine",
    "InvoiceState",
    "InvoiceStatus",
    "IssueResult",
    "Party",
    "Quota",
    "RedConfirmation",
    "RedLine",
    "RedReason",
    "RedReversalRequest",
    "ValidationIssue",
    "__version__",
]

SDK_ALL = [
    "AccessToken",
    "AuthFailed",
    "CENT",
    "CallbackRejected",
    "CallbackResult",
    "CanonicalModel",
    "Capabilities",
    "ConfigError",
    "Connector",
    "ConnectorBase",
    "ConnectorSettings",
    "Delivery",
    "DeliveryChannel",
    "DeliveryResult",
    "Document",
    "DocumentFormat",
    "DocumentInvalid",
    "DuplicateOrder",
    "Environment",
    "ErrorInfo",
    "FapiaoError",
    "HttpClientFactory",
    "InvalidInvoice",
    "InvalidRequest",
    "InvalidStateTransition",
    "InvalidTaxId",
    "Invoice",
    "InvoiceKind",
    "InvoiceLine",
    "InvoiceState",
    "InvoiceStatus",
    "InvoiceTotals",
    "IssueResult",
    "LedgerUnavailable",
    "LineKind",
    "LineTotals",
    "MEDIA_TYPES",
    "MappedDocument",
    "Money",
    "NotAccepted",
    "NotFound",
    "OPERATIONS",
    "Operation",
    "OperationSpec",
    "OutcomeUnknown",
    "Party",
    "PluginSettings",
    "Provider",
    "ProviderBase",
    "ProviderError",
    "ProviderHttp",
    "ProviderInfo",
    "ProviderSettings",
    "ProviderUnavailable",
    "Quantity",
    "Quota",
    "QuotaExceeded",
    "RED_FORM_STATUS_CODES",
    "Rate",
    "RateLimited",
    "RedApplicant",
    "RedConfirmation",
    "RedConfirmationState",
    "RedLine",
    "RedReason",
    "RedReversalNotAllowed",
    "RedReversalRequest",
    "ReplayGuard",
    "RunningSandbox",
    "SANDBOX_GROUP",
    "SandboxOptions",
    "SandboxStarter",
    "Scrubber",
    "SecretError",
    "SlidingWindow",
    "SourceDocument",
    "SpecialBusiness",
    "TaxTreatment",
    "TokenKeeper",
    "UnsupportedOperation",
    "ValidationIssue",
    "ValueModel",
    "VendorCode",
    "WriteBack",
    "amount_in_words",
    "check_invoice",
    "check_red_reversal",
    "compute_totals",
    "ensure_red_reversal",
    "ensure_valid",
    "error_class_for",
    "error_for_code",
    "hookimpl",
    "item_display_name",
    "line_nature",
    "mask_phone",
    "mask_tax_id",
    "optional_decimal",
    "red_lines",
    "reversible_lines",
    "to_decimal",
    "unreadable_answer",
    "verified_document",
    "verify_document",
]

NOT_IN_THE_SDK = (
    "pytest",
    "fapiao.engine",
    "fapiao.testing",
    "fapiao.sandboxkit",
    "fapiao.service",
    "fapiao.cli",
    "sqlalchemy",
    "fastapi",
    "uvicorn",
    "starlette",
)
"""What a production plugin must not drag in by importing the kit."""


def test_fapiao_exports_exactly_the_pinned_names() -> None:
    assert sorted(fapiao.__all__) == FAPIAO_ALL
    assert len(set(fapiao.__all__)) == len(fapiao.__all__)


def test_sdk_exports_exactly_the_pinned_names() -> None:
    assert sorted(fapiao.sdk.__all__) == SDK_ALL
    assert len(set(fapiao.sdk.__all__)) == len(fapiao.sdk.__all__)


def test_every_exported_name_resolves() -> None:
    for module in (fapiao, fapiao.sdk):
        missing = [name for name in module.__all__ if getattr(module, name, None) is None]
        assert missing == [], (module.__name__, missing)


def test_the_sdk_has_no_public_name_outside_its_list() -> None:
    # (its own submodules excepted: they are where the base classes live)
    public = {
        name
        for name, value in vars(fapiao.sdk).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(SDK_ALL)


def test_importing_the_sdk_leaves_engine_tests_and_sandbox_unloaded() -> None:
    probe = "import json, sys, fapiao.sdk; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = json.loads(done.stdout)
    assert "fapiao.sdk" in loaded
    dragged = [
        name
        for name in loaded
        if any(name == banned or name.startswith(banned + ".") for banned in NOT_IN_THE_SDK)
    ]
    assert dragged == []
