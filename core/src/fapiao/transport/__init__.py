"""Transport: the shared HTTP client factory and rate limiting for plugins."""

from fapiao.transport.client import HttpClientFactory, ProviderHttp, TransportKind
from fapiao.transport.ratelimit import RateLimiter

__all__ = ["HttpClientFactory", "ProviderHttp", "RateLimiter", "TransportKind"]
