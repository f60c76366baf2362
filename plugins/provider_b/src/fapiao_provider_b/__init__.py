"""fapiao provider plugin for the Baiwang (百望云) open platform, with its sandbox.

Entry point ``baiwang`` in ``fapiao.providers`` → :class:`BaiwangProvider`; the sandbox is in
:mod:`fapiao_provider_b.sandbox`.
"""

from fapiao_provider_b.provider import CAPABILITIES, BaiwangProvider
from fapiao_provider_b.settings import BaiwangSettings

__all__ = ["CAPABILITIES", "BaiwangProvider", "BaiwangSettings"]
__version__ = "0.1.0"
