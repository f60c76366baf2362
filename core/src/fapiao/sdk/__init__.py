"""The plugin author's toolkit: base classes that wire in transport and scrubbing."""

from fapiao.sdk.provider_base import ProviderBase

__all__ = ["ProviderBase"]
