"""Transport: the shared HTTP client factory and rate limiting for plugins."""

from fapiao.transport.client import (
    HttpClientFactory,
    ProviderHttp,
    TransportKind,
    scrub_library_logs,
)
from fapiao.transport.ratelimit import RateLimiter

__all__ = ["HttpClientFactory", "ProviderHttp", "RateLimiter", "TransportKind", "scrub_library_logs"]
