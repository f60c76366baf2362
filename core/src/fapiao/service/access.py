"""Who may reach which part of the service, and how a bearer token is checked.

Why surfaces and not one switch: the gateway (``/v1``) issues real invoices and is always
behind the token when one is configured, but the other parts serve other readers.
Integrators generate clients from ``/openapi.json`` and read ``/docs`` before they hold a
token, so those stay public unless the operator says otherwise; ``/metrics`` names the
profiles (subsidiaries) and their volumes, so it is protected unless the operator opens it
for a scraper that cannot send a token. ``/healthz`` and the providers' callbacks are no
surface here: the platform's probes must reach the first, the provider's signature
authenticates the second.

The token is checked as RFC 6750 says: ``Authorization: Bearer <token>``, the scheme
required and case-insensitive, the token compared in constant time.
"""

from __future__ import annotations

import enum
import hmac
from dataclasses import dataclass

__all__ = ["Access", "Surface", "TokenCheck"]


class Surface(enum.Enum):
    """A part of the service that a token may guard."""

    GATEWAY = "gateway"  # /v1/...: always guarded when a token is configured
    METRICS = "metrics"  # /metrics
    DOCS = "docs"  # /docs, /redoc, /openapi.json


class TokenCheck(enum.Enum):
    """The outcome of checking a request's ``Authorization`` header."""

    ADMITTED = "admitted"
    MISSING = "missing"  # no Authorization header at all
    NOT_BEARER = "not_bearer"  # a header without the Bearer scheme (e.g. the bare token)
    WRONG = "wrong"  # a bearer token that is not the configured one


@dataclass(frozen=True)
class Access:
    """One app's access settings (``create_app`` keeps them on ``app.state.access``)."""

    api_token: str | None = None
    public_docs: bool = True
    public_metrics: bool = False

    def requires_token(self, surface: Surface) -> bool:
        """Whether a request to ``surface`` must carry the token."""
        if self.api_token is None:
            return False
        if surface is Surface.DOCS:
            return not self.public_docs
        if surface is Surface.METRICS:
            return not self.public_metrics
        return True

    def check(self, authorization: str | None) -> TokenCheck:
        """Check an ``Authorization`` header value against the configured token."""
        if self.api_token is None:
            return TokenCheck.ADMITTED
        if not authorization or not authorization.strip():
            return TokenCheck.MISSING
        scheme, _, credentials = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            return TokenCheck.NOT_BEARER
        given = credentials.strip().encode("utf-8", "surrogateescape")
        if hmac.compare_digest(given, self.api_token.encode("utf-8", "surrogateescape")):
            return TokenCheck.ADMITTED
        return TokenCheck.WRONG
