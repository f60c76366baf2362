"""Config loading and `config check`: every problem named by file and key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from fapiao.engine.config import (
    ConfigProblem,
    check_config,
    load_config,
    resolve_profile,
)
from fapiao.engine.providers import ProviderPool
from fapiao.engine.routing import Router
from fapiao.engine.secrets import KEY_ENV, SecretStore, generate_key
from fapiao.errors import ConfigError
from fapiao.plugins import PluginRegistry

SECRET = "demo-app-secret-0123456789"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fapiao.toml"
    path.write_text(text, encoding="utf-8")
    return path


def good_config(seller: str, *, secret_ref: str = "secret:demo_secret") -> str:
    return f"""
[ledger]
url = "sqlite:///data/ledger.db"

[secrets]
file = "secrets.enc"

[profiles.demo_main]
provider = "demo"
environment = "sandbox"
settings = {{ app_key = "K123", app_secret = "{secret_ref}" }}
limits = {{ concurrency = 4, rate_per_second = 50 }}

[routing]
"{seller}" = "demo_main"
"""


@pytest.fixture
def secret_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    key = generate_key()
    monkeypatch.setenv(KEY_ENV, key)
    SecretStore.open(tmp_path / "secrets.enc", key).set("demo_secret", SECRET)
    return key


def errors(problems: list[ConfigProblem]) -> list[ConfigProblem]:
    return [p for p in problems if not p.warning]


def by_key(problems: list[ConfigProblem]) -> dict[str, ConfigProblem]:
    return {p.key: p for p in problems}


def test_good_config_loads_resolves_and_routes(
    tmp_path: Path, secret_key: str, demo_registry: PluginRegistry, tax_id: Callable[..., str]
) -> None:
    seller = tax_id(1)
    path = write(tmp_path, good_config(seller))
    assert check_config(path, registry=demo_registry) == []
    config = load_config(path)
    assert config.ledger_url() == f"sqlite:///{tmp_path / 'data' / 'ledger.db'}"
    assert config.monitoring.threshold == 0.999
    resolved = resolve_profile(config, "demo_main", registry=demo_registry)
    assert resolved.settings.app_secret.get_secret_value() == SECRET  # type: ignore[attr-defined]
    assert resolved.settings.rate_limit_per_second == 50
    assert SECRET in resolved.secret_values
    assert Router(config).profile_for(seller) == "demo_main"
    pool = ProviderPool.from_config(config, registry=demo_registry)
    assert pool.visibility_seconds("demo_main") == 5  # declared by the plugin
    assert SECRET not in pool.scrub(f"sign={SECRET} body")


def test_env_config_path(
    tmp_path: Path,
    secret_key: str,
    monkeypatch: pytest.MonkeyPatch,
    tax_id: Callable[..., str],
) -> None:
    path = write(tmp_path, good_config(tax_id(1)))
    monkeypatch.setenv("FAPIAO_CONFIG", str(path))
    assert load_config().path == path.resolve()


def test_bad_toml_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[ledger]\nurl = "sqlite:///x.db"\n[profiles.a\nprovider = "demo"\n')
    (problem,) = check_config(path)
    assert problem.file == str(path) and problem.line == 3
    assert "line 3" in problem.message_en and "第 3 行" in problem.message_zh
    with pytest.raises(ConfigError, match=r"fapiao\.toml:3"):
        load_config(path)


def test_missing_file(tmp_path: Path) -> None:
    (problem,) = check_config(tmp_path / "nope.toml")
    assert "not found" in problem.message_en


def test_unknown_keys_and_bad_values_are_located(
    tmp_path: Path, demo_registry: PluginRegistry, tax_id: Callable[..., str]
) -> None:
    seller = tax_id(2)
    path = write(
        tmp_path,
        f"""
colour = "blue"
[monitoring]
threshold = 1.5
[profiles.p]
provider = "demo"
limits = {{ concurency = 3 }}
[routing]
"{seller}" = "p"
""",
    )
    found = by_key(check_config(path, registry=demo_registry))
    assert found["colour"].message_en == "unknown key"
    assert found["profiles.p.limits.concurency"].message_en == "unknown key"
    assert "invalid value" in found["monitoring.threshold"].message_en
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(path) in str(caught.value)


def test_profile_problems_name_their_keys(
    tmp_path: Path,
    secret_key: str,
    demo_registry: PluginRegistry,
    monkeypatch: pytest.MonkeyPatch,
    tax_id: Callable[..., str],
) -> None:
    monkeypatch.delenv("DEMO_TOKEN", raising=False)
    path = write(
        tmp_path,
        f"""
[profiles.clear]
provider = "demo"
settings = {{ app_key = "K", app_secret = "{SECRET}" }}
[profiles.missing_secret]
provider = "demo"
settings = {{ app_key = "K", app_secret = "secret:nope", token = "env:DEMO_TOKEN" }}
[profiles.unknown]
provider = "nosuchvendor"
[profiles.bad_setting]
provider = "demo"
settings = {{ app_key = "K", app_secret = "secret:demo_secret", colour = 1, timeout_seconds = -1 }}
[profiles.spare]
provider = "demo"
settings = {{ app_key = "K", app_secret = "secret:demo_secret" }}
[routing]
"{tax_id(3)}" = "clear"
"{tax_id(4)}" = "missing_secret"
"{tax_id(5)}" = "unknown"
"{tax_id(6)}" = "bad_setting"
"{tax_id(7)}" = "ghost"
"91310000MA1FL8XQ3A" = "clear"
""",
    )
    problems = check_config(path, registry=demo_registry)
    found = by_key(errors(problems))
    clear = found["profiles.clear.settings.app_secret"]
    assert clear.file == str(path) and "in clear" in clear.message_en
    assert SECRET not in str(clear)
    assert "'nope'" in found["profiles.missing_secret.settings.app_secret"].message_en
    assert "DEMO_TOKEN" in found["profiles.missing_secret.settings.token"].message_en
    assert "nosuchvendor" in found["profiles.unknown.provider"].message_en
    assert found["profiles.bad_setting.settings.colour"].message_en == "unknown key"
    assert "profiles.bad_setting.settings.timeout_seconds" in found
    ghost = [p for p in problems if "ghost" in p.message_en]
    assert len(ghost) == 1 and ghost[0].key.startswith('routing."9131')
    bad_id = [p for p in errors(problems) if "check character" in p.message_en]
    assert bad_id and bad_id[0].key == 'routing."9131**********XQ3A"'
    warnings = [p for p in problems if p.warning]
    assert [p.key for p in warnings] == ["profiles.spare"]
    assert all(SECRET not in str(p) for p in problems)
    with pytest.raises(ConfigError, match="ghost"):
        load_config(path)


def test_clear_secret_stops_start_up(
    tmp_path: Path, demo_registry: PluginRegistry, tax_id: Callable[..., str]
) -> None:
    path = write(tmp_path, good_config(tax_id(1), secret_ref=SECRET))
    config = load_config(path)  # structure is fine; the profile fails when resolved
    with pytest.raises(ConfigError, match=r"profiles\.demo_main\.settings\.app_secret") as caught:
        ProviderPool.from_config(config, registry=demo_registry)
    assert str(path) in str(caught.value) and SECRET not in str(caught.value)


def test_missing_secrets_key_is_reported(
    tmp_path: Path,
    demo_registry: PluginRegistry,
    monkeypatch: pytest.MonkeyPatch,
    tax_id: Callable[..., str],
) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    path = write(tmp_path, good_config(tax_id(8)))
    found = by_key(check_config(path, registry=demo_registry))
    assert KEY_ENV in found["secrets.key_env"].message_en
    assert "profiles.demo_main.settings.app_secret" in found


def test_env_secret_reference(
    tmp_path: Path,
    demo_registry: PluginRegistry,
    monkeypatch: pytest.MonkeyPatch,
    tax_id: Callable[..., str],
) -> None:
    monkeypatch.setenv("DEMO_SECRET", "from-env-secret-value")
    path = write(tmp_path, good_config(tax_id(9), secret_ref="env:DEMO_SECRET"))
    assert check_config(path, registry=demo_registry) == []
    resolved = resolve_profile(load_config(path), "demo_main", registry=demo_registry)
    assert "from-env-secret-value" in resolved.secret_values


def test_unrouted_seller_error_is_masked(
    tmp_path: Path, secret_key: str, tax_id: Callable[..., str]
) -> None:
    config = load_config(write(tmp_path, good_config(tax_id(1))))
    stranger = tax_id(99)
    with pytest.raises(ConfigError) as caught:
        Router(config).profile_for(stranger)
    assert stranger not in str(caught.value)
    assert stranger[:4] in str(caught.value) and "[routing]" in str(caught.value)
