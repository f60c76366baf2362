"""The shared provider conformance suite, run against the Nuonuo sandbox."""

from fapiao.testing.conformance import ProviderConformance


class TestNuonuoConformance(ProviderConformance):
    pass
