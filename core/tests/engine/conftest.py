"""Shared fixtures for the engine tests.

Every provider here is a real plugin talking to its real sandbox on loopback. Between the
engine and each sandbox sits a :class:`RecordingProxy` — also a real loopback server — that
counts every vendor operation on the wire (so "one provider call" is counted at the network,
never with a mock) and adds the sandbox's ``X-Sandbox-Fault`` header to chosen requests
(so a fault hits exactly the request a test means, e.g. the first issue of one order).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import httpx
import pytest
import tomli_w
from pydantic import SecretStr

from fapiao.contract import (
    Capabilities,
    ProviderInfo,
    ProviderSettings,
    RunningSandbox,
    SandboxOptions,
)
from fapiao.engine.client import AsyncClient
from fapiao.engine.secrets import KEY_ENV, SecretStore, generate_key
from fapiao.models import Environment, Operation, Party
from fapiao.plugins import LoadedPlugin, PluginRegistry, sandbox_starters
from fapiao.rules import uscc_check_char
from fapiao.sdk import ProviderBase
from fapiao.testing.harness import answer_lifespan, read_body

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def make_tax_id(n: int, region: str = "913100") -> str:
    """A valid USCC (GB 32100-2015 check character) that differs by ``n``."""
    body = f"{region}{n:011d}"[:17]
    return body + uscc_check_char(body)


@pytest.fixture
def tax_id() -> Callable[..., str]:
    return make_tax_id


# -- a network-free provider class for config resolution tests --------------------------------


class DemoSettings(ProviderSettings):
    base_urls: ClassVar[dict[Environment, str]] = {
        Environment.SANDBOX: "http://127.0.0.1:9/",
        Environment.PRODUCTION: "https://demo.invalid/",
    }
    app_key: str
    app_secret: SecretStr
    token: SecretStr | None = None


class DemoProvider(ProviderBase[DemoSettings]):
    """A provider class used only where no network is involved (config resolution)."""

    name = "demo"
    info = ProviderInfo(display_name="Demo")
    settings_model = DemoSettings
    default_capabilities = Capabilities(
        operations=frozenset({Operation.ISSUE, Operation.QUERY}),
        issuance="sync",
        status_updates="polling",
        order_visibility_seconds=5,
    )


@pytest.fixture
def demo_registry() -> PluginRegistry:
    registry = PluginRegistry()
    registry.providers["demo"] = LoadedPlugin("provider", "demo", DemoProvider, None, None)
    return registry


# -- the recording proxy ----------------------------------------------------------------------


@dataclass
class WireCall:
    operation: str
    body: bytes
    fault: str | None


class RecordingProxy:
    """A loopback HTTP proxy in front of a sandbox: records each vendor operation (the
    ``method`` header of Nuonuo, the ``method`` query parameter of Baiwang, else the path)
    and injects the sandbox's own faults into planned requests."""

    def __init__(self, upstream: str, verify: Any = True) -> None:
        self.upstream = upstream.rstrip("/")
        self.verify = verify
        self.calls: list[WireCall] = []
        self._plan: list[list[Any]] = []  # [operation substring, order id | None, fault, times]
        self._lock = threading.Lock()
        self._server: Any = None
        self.delay = 0.0  # seconds added before forwarding each request (a slow provider)
        self._client: httpx.AsyncClient | None = None

    # -- control ------------------------------------------------------------------------------
    def fault_next(
        self, operation: str, fault: str, *, order_id: str | None = None, times: int = 1
    ) -> None:
        """Add ``X-Sandbox-Fault: fault`` to the next ``times`` requests of ``operation``
        (a substring of the vendor method) whose body mentions ``order_id``."""
        with self._lock:
            self._plan.append([operation, order_id, fault, times])

    def clear_faults(self) -> None:
        with self._lock:
            self._plan.clear()

    def count(self, operation: str, order_id: str | None = None) -> int:
        needle = order_id.encode() if order_id else None
        with self._lock:
            return sum(
                1
                for call in self.calls
                if operation in call.operation and (needle is None or needle in call.body)
            )

    def _fault_for(self, operation: str, body: bytes) -> str | None:
        with self._lock:
            for entry in self._plan:
                wanted, order_id, fault, times = entry
                if wanted in operation and (order_id is None or order_id.encode() in body):
                    entry[3] = times - 1
                    if entry[3] <= 0:
                        self._plan.remove(entry)
                    return str(fault)
        return None

    # -- the ASGI app -------------------------------------------------------------------------
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await answer_lifespan(receive, send)
            return
        from fapiao.sandboxkit import abort_connection

        body = await read_body(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query_string = scope.get("query_string", b"").decode("latin-1")
        query = dict(parse_qsl(query_string))
        operation = headers.get("method") or query.get("method") or scope["path"]
        fault = self._fault_for(operation, body)
        with self._lock:
            self.calls.append(WireCall(operation, body, fault))
        forward = {k: v for k, v in headers.items() if k not in {"host", "content-length"}}
        if fault:
            forward["x-sandbox-fault"] = fault
        url = self.upstream + scope["path"] + (f"?{query_string}" if query_string else "")
        if self.delay:
            await asyncio.sleep(self.delay)
        if self._client is None:  # one pooled client, made in the proxy's own loop
            self._client = httpx.AsyncClient(timeout=30, verify=self.verify)
        try:
            response = await self._client.request(
                scope["method"], url, content=body, headers=forward
            )
        except httpx.TransportError:
            await abort_connection(send)
            return
        drop = {"content-length", "transfer-encoding", "content-encoding", "connection"}
        out = [
            (k.encode("latin-1"), v.encode("latin-1"))
            for k, v in response.headers.items()
            if k.lower() not in drop
        ]
        out.append((b"content-length", str(len(response.content)).encode()))
        await send({"type": "http.response.start", "status": response.status_code, "headers": out})
        await send({"type": "http.response.body", "body": response.content})

    def start(self) -> RecordingProxy:
        from fapiao.sandboxkit import serve

        self._server = serve(self)
        return self

    @property
    def base_url(self) -> str:
        return str(self._server.base_url)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()


# -- sandboxes (one pair per session) ---------------------------------------------------------


@dataclass
class Vendor:
    sandbox: RunningSandbox
    proxy: RecordingProxy
    issue_op: str  # the vendor's issue method, as the proxy sees it

    @property
    def name(self) -> str:
        return self.sandbox.provider

    @property
    def seller_tax_id(self) -> str:
        return self.sandbox.seller_tax_ids[0]

    def seller(self) -> Party:
        return Party(
            name="上海示例科技有限公司",
            tax_id=self.seller_tax_id,
            address="上海市示例路8号",
            phone="021-55556666",
            bank="示例银行",
            account="6222000011112222",
        )

    def issues(self, order_id: str) -> int:
        """Issue requests for ``order_id`` that reached the wire (counted at the proxy)."""
        return self.proxy.count(self.issue_op, order_id)

    def accepted(self, order_id: str) -> int:
        """Issue requests for ``order_id`` that reached the sandbox's handler: not refused by
        an injected fault before it ran (a 5xx or a reset before commit)."""
        needle = order_id.encode()
        with self.proxy._lock:
            return sum(
                1
                for call in self.proxy.calls
                if self.issue_op in call.operation
                and needle in call.body
                and (call.fault is None or call.fault.startswith(("timeout", "reset-after")))
            )


ISSUE_OPS = {"nuonuo": "requestBillingNew", "baiwang": "baiwang.output.invoice.issue"}


@pytest.fixture(scope="session")
def vendors() -> Iterator[dict[str, Vendor]]:
    starters, broken = sandbox_starters()
    missing = {"nuonuo", "baiwang"} - set(starters)
    if missing:
        pytest.fail(f"provider sandboxes not installed: {sorted(missing)} (broken: {broken})")
    with contextlib.ExitStack() as stack:
        nuonuo = stack.enter_context(starters["nuonuo"](SandboxOptions(issue_delay_seconds=0.05)))
        # the Baiwang sandbox also hosts Nuonuo's demo seller: one subsidiary can move over
        baiwang = stack.enter_context(
            starters["baiwang"](SandboxOptions(seller_tax_ids=(nuonuo.seller_tax_ids[0],)))
        )
        found: dict[str, Vendor] = {}
        for sandbox in (nuonuo, baiwang):
            verify = sandbox.ca_file or True
            proxy = RecordingProxy(sandbox.base_url, verify).start()
            stack.callback(proxy.stop)
            found[sandbox.provider] = Vendor(sandbox, proxy, ISSUE_OPS[sandbox.provider])
        yield found


# -- ledgers ----------------------------------------------------------------------------------


def _postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", connect_timeout=2):
            return True
    except Exception:
        return False


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty ledger: an SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    if not _postgres_available():
        pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432")
    import psycopg

    schema = f"engine_{uuid.uuid4().hex[:12]}"
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


# -- an engine environment: config dir, secrets, profiles ------------------------------------

_SECRET_FIELDS = {"app_secret", "password", "user_salt", "password_digest", "client_secret"}


@dataclass
class EngineEnv:
    """A config directory wired to the session's sandboxes (through their proxies)."""

    dir: Path
    vendors: dict[str, Vendor]
    ledger_url: str
    key: str
    secret_values: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        store = SecretStore.open(self.dir / "secrets.enc", self.key)
        for name, vendor in self.vendors.items():
            for setting, value in vendor.sandbox.settings.items():
                if setting in _SECRET_FIELDS and value:
                    store.set(f"{name}.{setting}", str(value))
                    self.secret_values.append(str(value))

    def settings(self, vendor: str, **overrides: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for setting, value in self.vendors[vendor].sandbox.settings.items():
            if setting in _SECRET_FIELDS and value:
                out[setting] = f"secret:{vendor}.{setting}"
            elif value is not None:
                out[setting] = value
        out["base_url"] = self.vendors[vendor].proxy.base_url
        out.setdefault("timeout_seconds", 5.0)
        out.update(overrides)
        return out

    def profile(
        self, vendor: str, *, limits: Mapping[str, Any] | None = None, **settings: Any
    ) -> dict[str, Any]:
        profile: dict[str, Any] = {
            "provider": vendor,
            "settings": self.settings(vendor, **settings),
        }
        if limits:
            profile["limits"] = dict(limits)
        return profile

    def write_config(
        self,
        *,
        profiles: Mapping[str, Mapping[str, Any]] | None = None,
        routing: Mapping[str, str] | None = None,
        name: str = "fapiao.toml",
        **sections: Any,
    ) -> Path:
        if profiles is None:
            profiles = {"nn": self.profile("nuonuo"), "bw": self.profile("baiwang")}
        if routing is None:
            routing = {
                self.vendors["nuonuo"].seller_tax_id: "nn",
                self.vendors["baiwang"].seller_tax_id: "bw",
            }
        document: dict[str, Any] = {
            "ledger": {"url": self.ledger_url},
            "secrets": {"file": "secrets.enc"},
            "profiles": dict(profiles),
            "routing": dict(routing),
            **sections,
        }
        path = self.dir / name
        path.write_text(tomli_w.dumps(document), encoding="utf-8")
        return path

    def client(self, path: Path | None = None, **kwargs: Any) -> AsyncClient:
        return AsyncClient.from_config(path or self.write_config(), **kwargs)


@pytest.fixture
def engine_env(
    tmp_path: Path,
    vendors: dict[str, Vendor],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[EngineEnv]:
    key = generate_key()
    monkeypatch.setenv(KEY_ENV, key)
    for vendor in vendors.values():
        vendor.proxy.clear_faults()
    yield EngineEnv(tmp_path, vendors, f"sqlite:///{tmp_path / 'ledger.db'}", key)
    for vendor in vendors.values():
        vendor.proxy.clear_faults()


@pytest.fixture
def engine_env_any_ledger(
    tmp_path: Path,
    vendors: dict[str, Vendor],
    ledger_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[EngineEnv]:
    """Like ``engine_env`` but parametrized over SQLite and PostgreSQL ledgers."""
    key = generate_key()
    monkeypatch.setenv(KEY_ENV, key)
    for vendor in vendors.values():
        vendor.proxy.clear_faults()
    yield EngineEnv(tmp_path, vendors, ledger_url, key)
    for vendor in vendors.values():
        vendor.proxy.clear_faults()
