"""The engine's TOML configuration: ledger, secrets, provider profiles, routing, monitoring.

Why TOML and one file: the routing of every subsidiary (seller tax ID) to its provider
profile is business-critical and must be reviewable in one place; switching a subsidiary to
another vendor is one changed line under ``[routing]``. Secrets are never written in the
file, only referenced (``secret:NAME`` from the encrypted store, ``env:VAR``), and a clear
value for a secret field is refused with the file and key named. The reference is in
docs/config.md.

Two entry points share one checker so they can never disagree:
:func:`load_config` raises ``ConfigError`` on the first error (start-up), and
:func:`check_config` returns every problem at once (``fapiao config check``).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretBytes, SecretStr
from pydantic import ValidationError as PydanticValidationError

from fapiao.contract.settings import ProviderSettings
from fapiao.errors import ConfigError, FapiaoError, SecretError
from fapiao.masking import mask_tax_id
from fapiao.models import Environment

from .secrets import KEY_ENV, SecretStore

__all__ = [
    "CONFIG_ENV",
    "ConfigProblem",
    "EngineSection",
    "FapiaoConfig",
    "LedgerSection",
    "MonitoringSection",
    "ProfileConfig",
    "ProfileLimits",
    "ResolvedProfile",
    "SecretsSection",
    "check_config",
    "config_error_from",
    "config_path",
    "load_config",
    "open_secret_store",
    "parse_config",
    "resolve_profile",
]

CONFIG_ENV = "FAPIAO_CONFIG"
DEFAULT_FILE = "fapiao.toml"
SECRET_PREFIX = "secret:"
ENV_PREFIX = "env:"
_PROFILE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


# -- problems --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong (or suspicious, ``warning``) in a config file, located by dotted key."""

    file: str
    key: str
    message_zh: str
    message_en: str
    warning: bool = False
    line: int | None = None

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        key = f" [{self.key}]" if self.key else ""
        level = "warning" if self.warning else "error"
        return f"{where}{key} {level}: {self.message_zh} / {self.message_en}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "key": self.key,
            "line": self.line,
            "warning": self.warning,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
        }


def config_error_from(problems: Sequence[ConfigProblem]) -> ConfigError:
    """One ``ConfigError`` for a list of problems: the first error, file and key named, and
    how many more there are (``fapiao config check`` lists them all)."""
    errors = [p for p in problems if not p.warning]
    first = errors[0]
    more_en = f" (+{len(errors) - 1} more; run `fapiao config check`)" if len(errors) > 1 else ""
    more_zh = (
        f"（另有 {len(errors) - 1} 处，请运行 `fapiao config check`）" if len(errors) > 1 else ""
    )
    where = first.file + (f":{first.line}" if first.line else "")
    key = f" [{first.key}]" if first.key else ""
    err = ConfigError(
        f"{first.message_en}{more_en}",
        message_zh=f"{where}{key}：{first.message_zh}{more_zh}",
    )
    err.problems = tuple(problems)  # type: ignore[attr-defined]
    return err


# -- the model -------------------------------------------------------------------------------


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LedgerSection(_Section):
    url: str = Field(
        default="sqlite:///fapiao.db",
        description="SQLAlchemy URL; a relative SQLite path is relative to the config file",
    )


class SecretsSection(_Section):
    file: str = Field(default="secrets.enc", description="encrypted store, relative to config")
    key_env: str = Field(default=KEY_ENV, description="environment variable holding the key")
    key_file: str | None = Field(default=None, description="file holding the key (base64)")


class ProfileLimits(_Section):
    concurrency: int = Field(default=16, ge=1, le=10_000, description="requests in flight")
    rate_per_second: float | None = Field(
        default=None, gt=0, description="calls per second to this profile's provider"
    )
    resubmit_after_seconds: float | None = Field(
        default=None,
        ge=0,
        description="override the provider's declared order visibility delay",
    )


class ProfileConfig(_Section):
    provider: str = Field(min_length=1, description="provider plugin name (entry point)")
    environment: Environment = Environment.SANDBOX
    settings: dict[str, Any] = Field(default_factory=dict)
    limits: ProfileLimits = Field(default_factory=ProfileLimits)


class MonitoringSection(_Section):
    window_seconds: float = Field(default=300.0, gt=0, le=86_400)
    threshold: float = Field(default=0.999, gt=0, le=1)
    min_calls: int = Field(default=20, ge=1, description="no alert on fewer calls in the window")
    alert_cooldown_seconds: float = Field(default=300.0, ge=0)


class EngineSection(_Section):
    concurrency: int = Field(default=64, ge=1, le=100_000, description="global requests in flight")
    unavailable_retries: int = Field(
        default=3, ge=0, le=20, description="resends when nothing reached the provider"
    )
    retry_backoff_seconds: float = Field(default=0.2, ge=0, le=60)
    stale_validated_seconds: float = Field(
        default=60.0,
        ge=0,
        description="reconcile submits a never-sent (validated) record older than this",
    )
    documents_dir: str = Field(default="documents", description="relative to the config file")


class FapiaoConfig(_Section):
    ledger: LedgerSection = Field(default_factory=LedgerSection)
    secrets: SecretsSection = Field(default_factory=SecretsSection)
    profiles: dict[str, ProfileConfig] = Field(default_factory=dict)
    routing: dict[str, str] = Field(default_factory=dict, description="seller tax ID → profile")
    monitoring: MonitoringSection = Field(default_factory=MonitoringSection)
    engine: EngineSection = Field(default_factory=EngineSection)
    connectors: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="ERP connector name → its settings (secret:/env: references), for fapiao sync",
    )

    _path: Path | None = PrivateAttr(default=None)

    @property
    def path(self) -> Path | None:
        """The file this config was read from (None when built in code)."""
        return self._path

    @property
    def base_dir(self) -> Path:
        return self._path.parent if self._path is not None else Path.cwd()

    @property
    def file_label(self) -> str:
        return str(self._path) if self._path is not None else "<config>"

    def with_path(self, path: Path | None) -> FapiaoConfig:
        self._path = path
        return self

    def relative(self, value: str) -> Path:
        candidate = Path(value).expanduser()
        return candidate if candidate.is_absolute() else self.base_dir / candidate

    def ledger_url(self) -> str:
        """The ledger URL with a relative SQLite path anchored at the config file."""
        url = self.ledger.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/"):
            rest = url[len(prefix) :]
            if rest and rest != ":memory:" and not rest.startswith(":"):
                path, sep, query = rest.partition("?")
                return prefix + str(self.relative(path)) + sep + query
        return url

    def secrets_path(self) -> Path:
        return self.relative(self.secrets.file)

    def key_file_path(self) -> Path | None:
        return self.relative(self.secrets.key_file) if self.secrets.key_file else None

    def documents_dir(self) -> Path:
        return self.relative(self.engine.documents_dir)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, path: Path | None = None) -> FapiaoConfig:
        """Build (and fully structure-check) a config from an already-parsed mapping."""
        config, problems = _structure(dict(data), path)
        errors = [p for p in problems if not p.warning]
        if errors or config is None:
            raise config_error_from(problems)
        return config


# -- loading ---------------------------------------------------------------------------------


def config_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The config file to use: explicit, else ``$FAPIAO_CONFIG``, else ``./fapiao.toml``."""
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env).expanduser()
    return Path(DEFAULT_FILE)


_TOML_LINE = re.compile(r"\(at line (\d+), column (\d+)\)")


def parse_config(
    path: str | os.PathLike[str] | None = None,
) -> tuple[FapiaoConfig | None, list[ConfigProblem]]:
    """Read and structure-check the file: bad TOML (with its line), unknown keys, bad values,
    invalid seller tax IDs, routes to missing profiles, unused profiles (warning)."""
    file = config_path(path)
    label = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [
            ConfigProblem(
                label,
                "",
                f"配置文件不存在（可用 --config 或环境变量 {CONFIG_ENV} 指定）",
                f"config file not found (give --config or set {CONFIG_ENV})",
            )
        ]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [ConfigProblem(label, "", f"无法读取配置文件：{exc}", f"cannot read: {exc}")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        line = int(match.group(1)) if match else None
        reason = _TOML_LINE.sub("", str(exc)).strip()
        return None, [
            ConfigProblem(
                label,
                "",
                f"TOML 语法错误（第 {line} 行）：{reason}",
                f"TOML syntax error at line {line}: {reason}",
                line=line,
            )
        ]
    return _structure(data, file.resolve())


def _pydantic_problems(
    label: str, prefix: str, exc: PydanticValidationError
) -> list[ConfigProblem]:
    problems = []
    for err in exc.errors():
        key = ".".join(
            [prefix, *(str(p) for p in err["loc"])] if prefix else [str(p) for p in err["loc"]]
        )
        kind = err["type"]
        if kind == "extra_forbidden":
            zh, en = "未知的配置项", "unknown key"
        elif kind == "missing":
            zh, en = "缺少必填配置项", "missing required key"
        else:
            zh, en = f"取值无效：{err['msg']}", f"invalid value: {err['msg']}"
        problems.append(ConfigProblem(label, key, zh, en))
    return problems


def _structure(
    data: dict[str, Any], path: Path | None
) -> tuple[FapiaoConfig | None, list[ConfigProblem]]:
    label = str(path) if path is not None else "<config>"
    try:
        config = FapiaoConfig.model_validate(data).with_path(path)
    except PydanticValidationError as exc:
        return None, _pydantic_problems(label, "", exc)
    problems: list[ConfigProblem] = []
    for name in config.profiles:
        if not re.match(_PROFILE_NAME, name):
            problems.append(
                ConfigProblem(
                    label,
                    f"profiles.{name}",
                    "配置档名称只能包含字母、数字、'_'、'.'、'-'",
                    "a profile name may hold letters, digits, '_', '.', '-' only",
                )
            )
    problems.extend(_routing_problems(config, label))
    url = config.ledger.url
    if not re.match(r"^(sqlite|postgresql)(\+\w+)?://", url):
        problems.append(
            ConfigProblem(
                label,
                "ledger.url",
                "台账地址须为 sqlite:/// 或 postgresql:// 开头的 SQLAlchemy URL",
                "the ledger URL must be an SQLAlchemy sqlite:/// or postgresql:// URL",
            )
        )
    return config, problems


def _routing_problems(config: FapiaoConfig, label: str) -> list[ConfigProblem]:
    from fapiao.rules import check_tax_id

    problems: list[ConfigProblem] = []
    for tax_id, profile in config.routing.items():
        key = f'routing."{mask_tax_id(tax_id)}"'
        for issue in check_tax_id(tax_id, "routing", required=True):
            problems.append(
                ConfigProblem(
                    label,
                    key,
                    f"销方纳税人识别号：{issue.message_zh}",
                    f"seller tax ID: {issue.message_en}",
                    warning=issue.warning,
                )
            )
        if profile not in config.profiles:
            known = ", ".join(sorted(config.profiles)) or "none"
            problems.append(
                ConfigProblem(
                    label,
                    key,
                    f"路由指向不存在的配置档 {profile!r}（已定义：{known}）",
                    f"routes to profile {profile!r}, which is not defined (defined: {known})",
                )
            )
    used = set(config.routing.values())
    for name in config.profiles:
        if name not in used:
            problems.append(
                ConfigProblem(
                    label,
                    f"profiles.{name}",
                    "该配置档未被任何销方路由使用",
                    "no seller is routed to this profile",
                    warning=True,
                )
            )
    if not config.profiles:
        problems.append(
            ConfigProblem(label, "profiles", "未定义任何配置档", "no profile defined", warning=True)
        )
    return problems


def load_config(path: str | os.PathLike[str] | None = None) -> FapiaoConfig:
    """Read the config for start-up; ``ConfigError`` names the file and key of the first error.

    Provider names, settings and secrets are checked when the client resolves its profiles
    (:func:`resolve_profile`), also before any request is made."""
    config, problems = parse_config(path)
    if config is None or any(not p.warning for p in problems):
        raise config_error_from(problems)
    return config


# -- profiles: plugin settings with secret references ----------------------------------------


@dataclass(frozen=True)
class ResolvedProfile:
    """A profile made concrete: its plugin class and validated settings (secrets resolved)."""

    name: str
    config: ProfileConfig
    plugin: Any
    settings: ProviderSettings
    secret_values: tuple[str, ...] = field(repr=False, default=())

    @property
    def provider_name(self) -> str:
        return self.config.provider


def _is_secret_field(model: type[BaseModel], name: str) -> bool:
    info = model.model_fields.get(name)
    if info is None:
        return False

    def mentions(tp: Any) -> bool:
        if tp in (SecretStr, SecretBytes):
            return True
        return any(mentions(arg) for arg in get_args(tp))

    return mentions(info.annotation)


def open_secret_store(config: FapiaoConfig) -> SecretStore:
    """The config's secrets store (``SecretError`` if the key is missing or wrong)."""
    return SecretStore.open(
        config.secrets_path(), key_env=config.secrets.key_env, key_file=config.key_file_path()
    )


SecretSource = Callable[[], SecretStore]


def _resolve_profile(
    config: FapiaoConfig,
    name: str,
    registry: Any,
    secrets: SecretSource,
) -> tuple[ResolvedProfile | None, list[ConfigProblem]]:
    label = config.file_label
    profile = config.profiles[name]
    base = f"profiles.{name}"
    try:
        plugin = registry.provider_class(profile.provider)
    except ConfigError as exc:
        return None, [ConfigProblem(label, f"{base}.provider", exc.message_zh, exc.message_en)]
    model: type[ProviderSettings] = getattr(plugin, "settings_model", ProviderSettings)
    problems: list[ConfigProblem] = []
    values: dict[str, Any] = {}
    secret_values: list[str] = []
    for key, raw in profile.settings.items():
        where = f"{base}.settings.{key}"
        if key == "environment":
            problems.append(
                ConfigProblem(
                    label,
                    where,
                    "环境应写在配置档上（environment = ...），不要写在 settings 里",
                    "set environment on the profile itself, not inside settings",
                )
            )
            continue
        is_secret = _is_secret_field(model, key)
        if isinstance(raw, str) and raw.startswith(SECRET_PREFIX):
            secret_name = raw[len(SECRET_PREFIX) :]
            try:
                value: Any = secrets().get(secret_name)
            except SecretError as exc:
                problems.append(ConfigProblem(label, where, exc.message_zh, exc.message_en))
                continue
            secret_values.append(value)
        elif isinstance(raw, str) and raw.startswith(ENV_PREFIX):
            var = raw[len(ENV_PREFIX) :]
            value = os.environ.get(var)
            if not value:
                problems.append(
                    ConfigProblem(
                        label,
                        where,
                        f"环境变量 {var} 未设置",
                        f"environment variable {var} is not set",
                    )
                )
                continue
            if is_secret:
                secret_values.append(value)
        elif is_secret:
            problems.append(
                ConfigProblem(
                    label,
                    where,
                    "密钥不得明文写在配置中：请用 secret:名称（加密密钥文件）或 env:变量名",
                    "a secret must not be written in clear: use secret:NAME (encrypted "
                    "secrets file) or env:VAR",
                )
            )
            continue
        else:
            value = raw
        values[key] = value
    values["environment"] = profile.environment
    if profile.limits.rate_per_second is not None and "rate_limit_per_second" not in values:
        values["rate_limit_per_second"] = profile.limits.rate_per_second
    if problems:
        return None, problems
    try:
        settings = model.model_validate(values)
    except PydanticValidationError as exc:
        return None, _pydantic_problems(label, f"{base}.settings", exc)
    try:
        settings.resolved_base_url()
    except ValueError as exc:
        return None, [
            ConfigProblem(
                label,
                f"{base}.settings.base_url",
                f"该环境没有默认地址，请设置 base_url：{exc}",
                str(exc),
            )
        ]
    # SecretStr fields filled from env or plain values are secrets too: scrub all of them.
    secret_values.extend(settings.secret_values())
    unique = tuple(dict.fromkeys(v for v in secret_values if v))
    return ResolvedProfile(name, profile, plugin, settings, unique), []


class _LazyStore:
    """Open the secrets store once, only if some setting references it."""

    def __init__(self, config: FapiaoConfig, store: SecretStore | None) -> None:
        self.config = config
        self.store = store
        self.error: FapiaoError | None = None

    def __call__(self) -> SecretStore:
        if self.store is None:
            if self.error is not None:
                raise self.error
            try:
                self.store = open_secret_store(self.config)
            except SecretError as exc:
                self.error = exc
                raise
        return self.store


def resolve_profile(
    config: FapiaoConfig,
    name: str,
    *,
    registry: Any = None,
    secrets: SecretStore | None = None,
) -> ResolvedProfile:
    """Resolve one profile or raise ``ConfigError`` naming the file and key."""
    if name not in config.profiles:
        raise ConfigError(
            f"{config.file_label}: no profile {name!r}",
            message_zh=f"{config.file_label}：未定义配置档 {name!r}",
            field=f"profiles.{name}",
        )
    if registry is None:
        from fapiao.plugins import discover

        registry = discover()
    resolved, problems = _resolve_profile(config, name, registry, _LazyStore(config, secrets))
    if resolved is None:
        raise config_error_from(problems)
    return resolved


def resolve_profiles(
    config: FapiaoConfig, *, registry: Any = None, secrets: SecretStore | None = None
) -> tuple[dict[str, ResolvedProfile], list[ConfigProblem]]:
    """Every profile resolved, with every problem found (one secrets store opened once)."""
    if registry is None:
        from fapiao.plugins import discover

        registry = discover()
    source = _LazyStore(config, secrets)
    resolved: dict[str, ResolvedProfile] = {}
    problems: list[ConfigProblem] = []
    for name in config.profiles:
        profile, found = _resolve_profile(config, name, registry, source)
        problems.extend(found)
        if profile is not None:
            resolved[name] = profile
    if source.error is not None:
        # name the secrets section too, where the key or file is configured
        key = "secrets.key_file" if config.secrets.key_file else "secrets.key_env"
        problems.insert(
            0,
            ConfigProblem(config.file_label, key, source.error.message_zh, source.error.message_en),
        )
    return resolved, problems


def check_config(
    path: str | os.PathLike[str] | None = None,
    *,
    registry: Any = None,
    secrets: SecretStore | None = None,
) -> list[ConfigProblem]:
    """Every problem in the config (errors and warnings), each with its file and key.

    Checks the structure, the routing and, per profile, the provider plugin, its settings
    model, secret references and clear-text secrets. An empty list means all is well."""
    config, problems = parse_config(path)
    if config is None:
        return problems
    _, profile_problems = resolve_profiles(config, registry=registry, secrets=secrets)
    # de-duplicate repeated secrets-store failures (one per referencing setting)
    seen: set[tuple[str, str, str]] = set()
    for problem in profile_problems:
        marker = (problem.key, problem.message_en, problem.file)
        if marker not in seen:
            seen.add(marker)
            problems.append(problem)
    return problems
