"""``fapiao config check`` and start-up failures: every problem named by file and key,
bilingual, no traceback; a broken config stops a command before anything is sent."""

from __future__ import annotations

import json
import re

import pytest

from fapiao.engine.secrets import SecretStore
from fapiao.errors import SecretError


def _rewrite(path, old: str, new: str) -> None:  # type: ignore[no-untyped-def]
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in the config"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_written_installation_checks_clean(install, cli) -> None:
    inst = install()
    text = inst.config.read_text(encoding="utf-8")
    for secret in inst.secrets:
        assert secret not in text  # only referenced
    assert "secret:hz.app_secret" in text
    result = cli("config", "check", "--config", inst.config)
    assert result.exit_code == 0, result.stderr
    assert "配置有效 / the config is valid" in result.stdout

    result = cli("config", "check", "--config", inst.config, "--json")
    body = json.loads(result.stdout)
    assert body["ok"] is True
    assert [p for p in body["problems"] if not p["warning"]] == []


def test_unknown_provider_is_named_with_file_and_key(install, cli) -> None:
    inst = install()
    _rewrite(inst.config, 'provider = "baiwang"', 'provider = "baiwnag"')
    result = cli("config", "check", "--config", inst.config, "--json")
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    (problem,) = [p for p in problems if not p["warning"]]
    assert problem["key"] == "profiles.bj.provider"
    assert problem["file"] == str(inst.config)
    assert "baiwnag" in problem["message_en"] and "nuonuo" in problem["message_en"]
    assert problem["message_zh"]

    # the same config stops a real command at start-up, before any request
    invoice = inst.write_invoice(inst.invoice("baiwang", "CFG-UNKNOWN-1"))
    result = cli("issue", invoice, "--config", inst.config)
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert str(inst.config) in result.stderr
    assert "profiles.bj.provider" in result.stderr
    assert "错误 / error" in result.stderr


def test_clear_text_secret_and_missing_secret_are_refused(install, cli) -> None:
    inst = install()
    _rewrite(inst.config, '"secret:bj.app_secret"', '"in-clear-value-1234"')
    _rewrite(inst.config, '"secret:hz.app_secret"', '"secret:hz.no_such_secret"')
    result = cli("config", "check", "--config", inst.config, "--json")
    assert result.exit_code == 1
    problems = {p["key"]: p for p in json.loads(result.stdout)["problems"] if not p["warning"]}
    assert (
        "must not be written in clear" in problems["profiles.bj.settings.app_secret"]["message_en"]
    )
    missing = problems["profiles.hz.settings.app_secret"]
    assert "hz.no_such_secret" in missing["message_en"]
    assert "in-clear-value-1234" not in result.stdout  # a clear secret is never echoed back

    # a command stops at start-up on the same problems, naming file and key
    result = cli("status", "--config", inst.config)
    assert result.exit_code == 1
    assert "profiles.hz.settings.app_secret" in result.stderr
    assert str(inst.config) in result.stderr
    assert "in-clear-value-1234" not in result.stderr


def test_bad_toml_names_the_line(install, cli) -> None:
    inst = install()
    text = inst.config.read_text(encoding="utf-8").splitlines()
    text.insert(4, "this is = = not toml")
    inst.config.write_text("\n".join(text), encoding="utf-8")
    result = cli("config", "check", "--config", inst.config)
    assert result.exit_code == 1
    assert re.search(r"fapiao\.toml:5 .*TOML", result.stderr)


def test_missing_key_stops_start_up_naming_the_secrets_section(install, cli) -> None:
    inst = install()
    (inst.dir / "secrets.key").unlink()
    result = cli("status", "--config", inst.config, "--json")
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "CONFIG_ERROR"
    keys = {p["key"] for p in error["problems"]}
    assert "secrets.key_file" in keys


def test_missing_config_file(tmp_path, cli) -> None:
    result = cli("config", "check", "--config", tmp_path / "nope.toml")
    assert result.exit_code == 1
    assert "config file not found" in result.stderr
    assert "FAPIAO_CONFIG" in result.stderr


def test_secrets_set_list_rotate(install, cli) -> None:
    inst = install()
    result = cli(
        "secrets", "set", "extra.token", "--stdin", "--config", inst.config, input="s3cr3t-VALUE\n"
    )
    assert result.exit_code == 0, result.stderr
    assert "s3cr3t-VALUE" not in result.stdout + result.stderr

    result = cli("secrets", "list", "--config", inst.config, "--json")
    assert result.exit_code == 0
    listing = json.loads(result.stdout)
    names = {s["name"]: s["referenced_by"] for s in listing["secrets"]}
    assert names["hz.app_secret"] == ["profiles.hz.settings.app_secret"]
    assert names["extra.token"] == []
    assert all(secret not in result.stdout for secret in inst.secrets)

    old_key = (inst.dir / "secrets.key").read_text().strip()
    result = cli("secrets", "rotate", "--config", inst.config, "--json")
    assert result.exit_code == 0, result.stderr
    rotated = json.loads(result.stdout)
    assert rotated["rotated"] == len(names)
    new_key = (inst.dir / "secrets.key").read_text().strip()
    assert new_key != old_key
    assert "new_key" not in rotated  # not printed unless asked

    # the new key opens the store with every value intact; the old one no longer does
    store = SecretStore.open(inst.dir / "secrets.enc", new_key)
    assert store.get("extra.token") == "s3cr3t-VALUE"
    assert sorted(store.values()) == sorted([*inst.secrets, "s3cr3t-VALUE"])
    with pytest.raises(SecretError, match="wrong key"):
        SecretStore.open(inst.dir / "secrets.enc", old_key)
    assert cli("config", "check", "--config", inst.config).exit_code == 0


def test_secrets_list_flags_a_referenced_secret_that_is_missing(install, cli) -> None:
    inst = install()
    result = cli("secrets", "delete", "bj.password", "--config", inst.config)
    assert result.exit_code == 0
    result = cli("secrets", "list", "--config", inst.config, "--json")
    assert result.exit_code == 1
    missing = json.loads(result.stdout)["missing"]
    assert missing == [{"name": "bj.password", "referenced_by": ["profiles.bj.settings.password"]}]


def test_keygen_prints_a_usable_key(tmp_path, cli) -> None:
    result = cli("secrets", "keygen")
    key = result.stdout.strip()
    store = SecretStore.open(tmp_path / "s.enc", key)
    store.set("a", "b")
    assert SecretStore.open(tmp_path / "s.enc", key).get("a") == "b"
