"""Fixtures for the CLI and service tests: both provider sandboxes on loopback (real servers,
started through their advertised starters) and a fresh installation per test — config,
encrypted secrets, SQLite ledger — written exactly as ``fapiao demo`` writes one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from fapiao.contract import SandboxOptions
from fapiao.demo.environment import ProfileSpec, StartedSandboxes, start_sandboxes
from fapiao.demo.environment import write_installation as write
from fapiao.demo.scenario import special_two_rate
from fapiao.models import Invoice, Party

NUONUO_PROFILE = "hz"
BAIWANG_PROFILE = "bj"


@pytest.fixture(scope="session")
def sandboxes() -> Iterator[StartedSandboxes]:
    with start_sandboxes(
        {
            "nuonuo": SandboxOptions(issue_delay_seconds=0.05),
            "baiwang": SandboxOptions(),
        }
    ) as started:
        yield started


@dataclass
class Installation:
    dir: Path
    config: Path
    secrets: list[str]
    sandboxes: StartedSandboxes

    @property
    def nuonuo_seller(self) -> str:
        return self.sandboxes["nuonuo"].seller_tax_ids[0]

    @property
    def baiwang_seller(self) -> str:
        return self.sandboxes["baiwang"].seller_tax_ids[0]

    def seller(self, provider: str) -> Party:
        tax_id = self.nuonuo_seller if provider == "nuonuo" else self.baiwang_seller
        return Party(name="示例销方有限公司", tax_id=tax_id, address="示例路1号")

    def invoice(self, provider: str, order_id: str, i: int = 0) -> Invoice:
        """A two-line 专票 (software 6 %, computers 13 %) of that provider's seller."""
        from fapiao.demo.scenario import demo_buyers

        return special_two_rate(order_id, self.seller(provider), demo_buyers()[0][0], i)

    def write_invoice(self, invoice: Invoice, name: str = "invoice.json") -> Path:
        path = self.dir / name
        path.write_text(invoice.model_dump_json(exclude_defaults=True), encoding="utf-8")
        return path


@pytest.fixture
def install(tmp_path: Path, sandboxes: StartedSandboxes) -> Any:
    """``install(callback_url=None, **engine)`` → an :class:`Installation` in ``tmp_path``."""

    def make(
        callback_url: str | None = None,
        *,
        engine: dict[str, Any] | None = None,
        extra: Sequence[ProfileSpec] = (),
    ) -> Installation:
        nuonuo, baiwang = sandboxes["nuonuo"], sandboxes["baiwang"]
        nuonuo_settings: dict[str, Any] = {"timeout_seconds": 5.0}
        if callback_url is not None:
            nuonuo_settings["callback_url"] = callback_url
        config, secrets = write(
            tmp_path,
            [
                ProfileSpec(
                    NUONUO_PROFILE, nuonuo, [nuonuo.seller_tax_ids[0]], settings=nuonuo_settings
                ),
                ProfileSpec(
                    BAIWANG_PROFILE,
                    baiwang,
                    [baiwang.seller_tax_ids[0]],
                    settings={"timeout_seconds": 5.0},
                ),
                *extra,
            ],
            engine={"documents_dir": "documents", **(engine or {})},
        )
        return Installation(tmp_path, config, secrets, sandboxes)

    return make


@pytest.fixture
def cli() -> Any:
    """Run ``fapiao ARGS`` in-process; returns click's Result (stdout and stderr apart)."""
    from fapiao.cli.app import app

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Any:
        return runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)

    return invoke


def computers(invoice: Invoice) -> Decimal:
    return invoice.lines[1].unit_price or Decimal(0)


@pytest.fixture
def gateway(install: Any) -> Any:
    """``async with gateway(engine=..., extra=..., **create_app_options) as (inst, client,
    http)``: an installation whose Nuonuo callbacks point at a service started for it on a
    loopback port, the engine client the service runs, and an HTTP client on the service
    (carrying ``Authorization: Bearer <api_token>`` when a token is given)."""
    from fapiao.engine.client import AsyncClient
    from fapiao.service import bind, create_app, serve_app

    @asynccontextmanager
    async def start(
        *,
        engine: dict[str, Any] | None = None,
        extra: Sequence[ProfileSpec] = (),
        **options: Any,
    ) -> AsyncIterator[tuple[Installation, AsyncClient, httpx.AsyncClient]]:
        bound = bind()
        inst = install(callback_url=f"{bound.base_url}/callbacks/hz", engine=engine, extra=extra)
        client = AsyncClient.from_config(inst.config)
        app = create_app(client, **options)
        token = options.get("api_token")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            async with (
                serve_app(app, bound) as url,
                httpx.AsyncClient(base_url=url, timeout=30, headers=headers) as http,
            ):
                yield inst, client, http
        finally:
            await client.aclose()

    return start
