"""The Baiwang sandbox: a real server on loopback speaking the platform's protocol.

``create_app(config)`` builds the ASGI app; serve it with ``fapiao.sandboxkit.serve`` (tests,
benchmarks) or ``python -m fapiao_provider_b.sandbox --port N [--tls]``. ``start_sandbox``
is the starter advertised in the ``fapiao.sandboxes`` entry-point group for the demo,
``fapiao compare`` and ``fapiao selftest``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fapiao.sdk import RunningSandbox, SandboxOptions
from fapiao_provider_b.sandbox.app import BaiwangSandbox, create_app
from fapiao_provider_b.sandbox.config import (
    DEMO_APP,
    DEMO_SELLER,
    SandboxApp,
    SandboxConfig,
    SandboxSeller,
)

__all__ = [
    "DEMO_APP",
    "DEMO_SELLER",
    "BaiwangSandbox",
    "SandboxApp",
    "SandboxConfig",
    "SandboxSeller",
    "create_app",
    "demo_settings",
    "start_sandbox",
]


def demo_settings(base_url: str, *, ca_file: str | None = None) -> dict[str, Any]:
    """Settings (credentials in clear: the sandbox's documented demo values) for a client."""
    settings: dict[str, Any] = {
        "base_url": base_url,
        "app_key": DEMO_APP.app_key,
        "app_secret": DEMO_APP.app_secret,
        "username": DEMO_APP.username,
        "password": DEMO_APP.password,
        "user_salt": DEMO_APP.user_salt,
        "password_digest": DEMO_APP.password_digest,
    }
    if ca_file:
        settings["verify_tls"] = ca_file
    return settings


@contextmanager
def start_sandbox(options: SandboxOptions | None = None) -> Iterator[RunningSandbox]:
    """Start a sandbox on a free loopback port for the lifetime of the ``with`` block."""
    from fapiao.sandboxkit import FaultConfig, serve_sandbox

    options = options or SandboxOptions()
    sellers = [DEMO_SELLER]
    for n, tax_no in enumerate(options.seller_tax_ids):
        if tax_no != DEMO_SELLER.tax_no:
            sellers.append(SandboxSeller(tax_no=tax_no, name=f"示例销方{n + 1}有限公司"))
    app_credentials = DEMO_APP.model_copy(update={"tax_nos": frozenset(s.tax_no for s in sellers)})
    config = SandboxConfig(
        sellers=tuple(sellers),
        apps=(app_credentials,),
        faults=FaultConfig.model_validate(dict(options.faults)),
    )
    sandbox = create_app(config)
    with serve_sandbox(
        sandbox,
        sandbox.faults,
        provider="baiwang",
        tls=options.tls,
        seller_tax_ids=[s.tax_no for s in sellers],
        settings=lambda server: demo_settings(server.base_url, ca_file=server.ca_file),
    ) as running:
        yield running
