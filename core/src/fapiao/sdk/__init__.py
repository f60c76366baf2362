"""The plugin author's kit: everything a provider or connector plugin imports, from one place.

    from fapiao.sdk import Capabilities, Invoice, IssueResult, Operation, ProviderBase, ...
    from fapiao.sdk import ConnectorBase, MappedDocument, SourceDocument, WriteBack, ...

Why one namespace: a plugin written against ``fapiao.sdk`` keeps working when core moves a
class between its own modules; everything listed here is the stable surface, pinned by a test
(``core/tests/contract/test_public_surface.py``), so a change to it is deliberate. Two
companions stay separate because a production install must not load them: ``fapiao.testing``
(the conformance suite, pytest) and ``fapiao.sandboxkit`` (building a sandbox server).
See docs/plugin-authors.md.
"""

# the contract: protocols, declarations, settings, sandbox discovery
from fapiao.contract import (
    SANDBOX_GROUP,
    Capabilities,
    Connector,
    ConnectorSettings,
    MappedDocument,
    PluginSettings,
    Provider,
    ProviderInfo,
    ProviderSettings,
    RunningSandbox,
    SandboxOptions,
    SandboxStarter,
    SourceDocument,
    WriteBack,
)

# the operations table
from fapiao.contract.operations import (
    OPERATIONS,
    OperationSpec,
)

# checking downloaded files
from fapiao.documents import (
    MEDIA_TYPES,
    verified_document,
    verify_document,
)

# the canonical errors (map every vendor code onto these)
from fapiao.errors import (
    AuthFailed,
    CallbackRejected,
    ConfigError,
    DocumentInvalid,
    DuplicateOrder,
    FapiaoError,
    InvalidInvoice,
    InvalidRequest,
    InvalidStateTransition,
    InvalidTaxId,
    LedgerUnavailable,
    NotAccepted,
    NotFound,
    OutcomeUnknown,
    ProviderError,
    ProviderUnavailable,
    QuotaExceeded,
    RateLimited,
    RedReversalNotAllowed,
    SecretError,
    UnsupportedOperation,
    ValidationIssue,
    error_class_for,
    error_for_code,
)

# the marker for pluggy hook implementations
from fapiao.hookspecs import (
    hookimpl,
)

# scrubbing transcripts and logs
from fapiao.masking import (
    Scrubber,
    mask_phone,
    mask_tax_id,
)

# the canonical models
from fapiao.models import (
    CENT,
    RED_FORM_STATUS_CODES,
    CallbackResult,
    CanonicalModel,
    Delivery,
    DeliveryChannel,
    DeliveryResult,
    Document,
    DocumentFormat,
    Environment,
    ErrorInfo,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceState,
    InvoiceStatus,
    IssueResult,
    LineKind,
    Money,
    Operation,
    Party,
    Quantity,
    Quota,
    Rate,
    RedApplicant,
    RedConfirmation,
    RedConfirmationState,
    RedLine,
    RedReason,
    RedReversalRequest,
    SpecialBusiness,
    TaxTreatment,
    ValueModel,
    to_decimal,
)

# the 数电 rules a plugin applies before it sends
from fapiao.rules import (
    InvoiceTotals,
    LineTotals,
    amount_in_words,
    check_invoice,
    check_red_reversal,
    compute_totals,
    ensure_red_reversal,
    ensure_valid,
    item_display_name,
    line_nature,
    red_lines,
    reversible_lines,
)

# the base classes
from fapiao.sdk.connector_base import (
    ConnectorBase,
)
from fapiao.sdk.provider_base import (
    ProviderBase,
)

# what a wire client needs beyond the transport: unreadable answers, tokens, windows, replays
from fapiao.sdk.wire import (
    AccessToken,
    ReplayGuard,
    SlidingWindow,
    TokenKeeper,
    VendorCode,
    optional_decimal,
    unreadable_answer,
)

# the shared HTTP client (never build your own)
from fapiao.transport import (
    HttpClientFactory,
    ProviderHttp,
)

__all__ = [
    "CENT",
    "MEDIA_TYPES",
    "OPERATIONS",
    "RED_FORM_STATUS_CODES",
    "SANDBOX_GROUP",
    "AccessToken",
    "AuthFailed",
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
    "MappedDocument",
    "Money",
    "NotAccepted",
    "NotFound",
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
