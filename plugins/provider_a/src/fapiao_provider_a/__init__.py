"""fapiao provider plugin for the Nuonuo open platform (诺诺开放平台 / 诺税通 SaaS), with its sandbox.

Entry point ``nuonuo`` in ``fapiao.providers`` → :class:`NuonuoProvider`; the sandbox is in
:mod:`fapiao_provider_a.sandbox`.
"""

from fapiao_provider_a.provider import CAPABILITIES, NuonuoProvider
from fapiao_provider_a.settings import NuonuoSettings

__all__ = ["CAPABILITIES", "NuonuoProvider", "NuonuoSettings"]
