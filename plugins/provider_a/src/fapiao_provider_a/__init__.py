"""fapiao provider plugin for the Nuonuo open platform (诺诺开放平台 / 诺税通 SaaS)."""

from fapiao_provider_a.provider import NuonuoProvider
from fapiao_provider_a.settings import NuonuoSettings

__all__ = ["NuonuoProvider", "NuonuoSettings"]
