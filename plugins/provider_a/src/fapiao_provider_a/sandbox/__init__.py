"""A faithful sandbox of the Nuonuo open platform, served on loopback.

``create_app(config)`` builds the ASGI app; ``start_sandbox(options)`` (entry point
``fapiao.sandboxes``: ``nuonuo``) runs it with ``fapiao.sandboxkit.serve`` and yields what a
profile needs; ``python -m fapiao_provider_a.sandbox --port 8000 [--tls]`` runs it alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fapiao.sdk import RunningSandbox, SandboxOptions
from fapiao_provider_a.sandbox.app import create_app
from fapiao_provider_a.sandbox.config import (
    DEMO_APP_KEY,
    DEMO_APP_SECRET,
    DEMO_BUYER,
    DEMO_MERCHANT,
    DEMO_TAX_ID,
    Merchant,
    SandboxConfig,
)

__all__ = [
    "DEMO_APP_KEY",
    "DEMO_APP_SECRET",
    "DEMO_BUYER",
    "DEMO_MERCHANT",
    "DEMO_TAX_ID",
    "Merchant",
    "SandboxConfig",
    "create_app",
    "start_sandbox",
]


@contextmanager
def start_sandbox(options: SandboxOptions | None = None) -> Iterator[RunningSandbox]:
    from fapiao.sandboxkit import FaultConfig, serve_sandbox

    opts = options or SandboxOptions()
    merchants = [DEMO_MERCHANT, DEMO_BUYER]
    for i, tax_id in enumerate(opts.seller_tax_ids):
        if tax_id not in {m.tax_id for m in merchants}:
            merchants.append(
                Merchant(
                    app_key=f"SDEXTRA{i:03d}",
                    app_secret=f"SDEXTRASECRET{i:03d}",
                    tax_id=tax_id,
                    name=f"示例销方{i + 1}",
                )
            )
    config = SandboxConfig(
        merchants=tuple(merchants),
        issue_delay_seconds=opts.issue_delay_seconds,
        faults=FaultConfig(**dict(opts.faults)),
    )
    app = create_app(config)
    with serve_sandbox(
        app,
        app.injector,
        provider="nuonuo",
        tls=opts.tls,
        seller_tax_ids=[m.tax_id for m in merchants],
        settings=lambda server: {
            "app_key": DEMO_APP_KEY,
            "app_secret": DEMO_APP_SECRET,
            "user_tax": DEMO_TAX_ID,
            "base_url": server.base_url,
            "verify_tls": server.ca_file or True,
        },
    ) as running:
        yield running
