"""Where a tool runs: a provider's own sandbox, started through its entry point, or a profile
of the engine's config (any environment, production included).

Both become one :class:`Target`, so ``compare`` and ``selftest`` never care which it is:
they build providers from it (with settings overridden where a check needs it, such as a
wrong secret or a closed port) and know the seller to invoice for and the secrets that must
never show.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from pydantic import SecretBytes, SecretStr

from fapiao.contract.capabilities import Capabilities
from fapiao.contract.provider import Provider
from fapiao.contract.sandbox import RunningSandbox, SandboxOptions
from fapiao.contract.settings import ProviderSettings
from fapiao.errors import ConfigError
from fapiao.models import Operation, Party
from fapiao.testing.harness import CallbackReceiver
from fapiao.testing.samples import DEFAULT_BUYER

__all__ = [
    "CLOSED_PORT_URL",
    "Target",
    "config_target",
    "parse_fault_options",
    "sandbox_names",
    "sandbox_target",
]

CLOSED_PORT_URL = "http://127.0.0.1:9"
"""The discard port on loopback: nothing listens, so any request to it fails before sending."""

Source = Literal["sandbox", "config"]


@dataclass
class Target:
    """One provider environment and what a tool needs to drive it."""

    profile: str
    provider_name: str
    plugin: Any
    settings: ProviderSettings
    seller: Party
    source: Source
    secrets: tuple[str, ...]
    buyer: Party = DEFAULT_BUYER
    sandbox: RunningSandbox | None = None
    callbacks: CallbackReceiver | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def capabilities(self) -> Capabilities:
        declared = getattr(self.plugin, "default_capabilities", None)
        if isinstance(declared, Capabilities):
            return declared
        raise ConfigError(
            f"provider {self.provider_name!r} declares no default_capabilities",
            message_zh=f"服务商插件 {self.provider_name} 未声明 default_capabilities",
        )

    @property
    def display_name(self) -> str:
        info = getattr(self.plugin, "info", None)
        return str(getattr(info, "display_name", None) or self.provider_name)

    @property
    def display_name_zh(self) -> str | None:
        info = getattr(self.plugin, "info", None)
        name = getattr(info, "display_name_zh", None)
        return str(name) if name else None

    @property
    def seller_tax_id(self) -> str:
        return self.seller.tax_id or ""

    def provider(self, **overrides: Any) -> Provider:
        """A fresh provider instance; ``overrides`` are settings fields (validated again)."""
        values = {name: getattr(self.settings, name) for name in type(self.settings).model_fields}
        values.update(overrides)
        settings = type(self.settings).model_validate(values)
        provider: Provider = self.plugin(settings)
        return provider

    def mark_used(self) -> Any:
        """How to make the buyer use an invoice in this environment, or ``None``."""
        if self.sandbox is None:
            return None
        return self.sandbox.mark_used or getattr(self.sandbox.admin, "mark_used", None)

    def secret_field(self) -> str | None:
        """The first secret settings field (a wrong value for it must fail authentication)."""
        for name, info in type(self.settings).model_fields.items():
            if _is_secret(info.annotation) and getattr(self.settings, name):
                return name
        return None


def _is_secret(annotation: Any) -> bool:
    if annotation in (SecretStr, SecretBytes):
        return True
    return any(_is_secret(arg) for arg in get_args(annotation))


def sandbox_names() -> list[str]:
    """Providers whose plugin advertises a sandbox starter."""
    from fapiao.plugins import sandbox_starters

    starters, _broken = sandbox_starters()
    return sorted(starters)


def parse_fault_options(values: Sequence[str]) -> dict[str, Any]:
    """``["error_5xx_rate=1", "latency_ms=20"]`` → ``{"error_5xx_rate": 1.0, ...}``,
    checked against the sandbox kit's ``FaultConfig`` so a typo is named."""
    from pydantic import ValidationError

    from fapiao.sandboxkit.faults import FaultConfig

    faults: dict[str, Any] = {}
    for raw in values:
        key, sep, value = raw.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise ConfigError(
                f"fault {raw!r} must be KEY=VALUE, e.g. error_5xx_rate=1",
                message_zh=f"故障开关 {raw!r} 须写成 键=值，例如 error_5xx_rate=1",
                field="--fault",
            )
        faults[key] = value.strip()
    try:
        return FaultConfig.model_validate(faults).model_dump(include=set(faults))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        known = ", ".join(FaultConfig.model_fields)
        raise ConfigError(
            f"fault {where}: {first['msg']} (known: {known})",
            message_zh=f"故障开关 {where} 无效：{first['msg']}（可用：{known}）",
            field="--fault",
        ) from None


@contextmanager
def sandbox_target(
    provider_name: str,
    options: SandboxOptions | None = None,
    *,
    receive_callbacks: bool = True,
) -> Iterator[Target]:
    """Start ``provider_name``'s sandbox (entry point ``fapiao.sandboxes``) and, when the
    plugin declares callbacks, a loopback receiver its callbacks are sent to."""
    from fapiao.plugins import discover, sandbox_starters

    starters, broken = sandbox_starters()
    if provider_name not in starters:
        failed = [b.error for b in broken if b.name == provider_name]
        known = ", ".join(sorted(starters)) or "none"
        reason = f": {failed[0]}" if failed else f"; sandboxes installed: {known}"
        raise ConfigError(
            f"no sandbox for provider {provider_name!r}{reason}",
            message_zh=f"服务商 {provider_name} 没有可用的沙箱{reason}",
            field="--sandbox",
        )
    plugin = discover().provider_class(provider_name)
    with ExitStack() as stack:
        running: RunningSandbox = stack.enter_context(starters[provider_name](options))
        values: dict[str, Any] = dict(running.settings)
        caps = getattr(plugin, "default_capabilities", None)
        receiver: CallbackReceiver | None = None
        if receive_callbacks and caps is not None and Operation.CALLBACK in caps.operations:
            receiver = CallbackReceiver().start()
            stack.callback(receiver.stop)
            values["callback_url"] = receiver.url
        settings = plugin.settings_model.model_validate(values)
        if not running.seller_tax_ids:
            raise ConfigError(
                f"the {provider_name} sandbox registered no seller",
                message_zh=f"{provider_name} 沙箱没有注册销方",
            )
        yield Target(
            profile=provider_name,
            provider_name=provider_name,
            plugin=plugin,
            settings=settings,
            seller=Party(name="沙箱示例销方", tax_id=running.seller_tax_ids[0]),
            source="sandbox",
            secrets=tuple(settings.secret_values()),
            sandbox=running,
            callbacks=receiver,
        )


@contextmanager
def config_target(
    config_file: str | os.PathLike[str] | None,
    profile: str,
    *,
    seller_tax_id: str | None = None,
    seller_name: str | None = None,
    callback_listen: str | None = None,
) -> Iterator[Target]:
    """A configured profile (secrets resolved as the engine does). The seller is the first
    one routed to the profile unless given; ``callback_listen`` (``HOST:PORT``) starts a
    receiver there for the callbacks the provider sends to the profile's ``callback_url``."""
    from fapiao.engine.config import load_config, resolve_profile
    from fapiao.engine.routing import Router

    config = load_config(config_file)
    resolved = resolve_profile(config, profile)
    sellers = Router(config).sellers(profile)
    tax_id = seller_tax_id or (sellers[0] if sellers else None)
    if not tax_id:
        raise ConfigError(
            f"no seller is routed to profile {profile!r}; give --seller TAX_ID",
            message_zh=f"没有销方路由到配置档 {profile}，请用 --seller 指定销方税号",
            field="--seller",
        )
    with ExitStack() as stack:
        receiver: CallbackReceiver | None = None
        notes: list[str] = []
        if callback_listen:
            from fapiao.sandboxkit import serve

            host, _, port = callback_listen.rpartition(":")
            receiver = CallbackReceiver()
            server = stack.enter_context(serve(receiver, host=host or "127.0.0.1", port=int(port)))
            notes.append(f"callbacks received at {server.base_url}")
        yield Target(
            profile=profile,
            provider_name=resolved.provider_name,
            plugin=resolved.plugin,
            settings=resolved.settings,
            seller=Party(name=seller_name or "销方", tax_id=tax_id),
            source="config",
            secrets=resolved.secret_values,
            callbacks=receiver,
            notes=notes,
        )
