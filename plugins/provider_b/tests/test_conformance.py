"""provider_b runs the same conformance suite as every provider plugin."""

from fapiao.testing.conformance import ProviderConformance


class TestBaiwangConformance(ProviderConformance):
    pass
