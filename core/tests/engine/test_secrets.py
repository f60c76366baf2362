"""The encrypted secrets store: round trip, rotation, wrong keys, tampering, atomic writes."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from fapiao.engine.secrets import KEY_ENV, SecretStore, generate_key, load_key, parse_key
from fapiao.errors import SecretError

VALUE = "s3cr3t-app-secret-VALUE-42"


@pytest.fixture
def key() -> str:
    return generate_key()


def test_round_trip_and_file_holds_no_clear_value(tmp_path: Path, key: str) -> None:
    path = tmp_path / "secrets.enc"
    store = SecretStore.open(path, key)
    store.set("nuonuo_secret", VALUE)
    store.set("baiwang.password", "pw-0987654321")
    reopened = SecretStore.open(path, key)
    assert reopened.names() == ["baiwang.password", "nuonuo_secret"]
    assert reopened.get("nuonuo_secret") == VALUE
    assert sorted(reopened.values()) == sorted([VALUE, "pw-0987654321"])
    raw = path.read_text()
    assert VALUE not in raw and "pw-0987654321" not in raw
    data = json.loads(raw)
    assert data["format"] == "fapiao-secrets" and data["version"] == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert VALUE not in repr(reopened)
    # no temporary file left behind by the atomic writes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secrets.enc", "secrets.enc.lock"]


def test_key_from_env_and_from_key_file(
    tmp_path: Path, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.enc"
    SecretStore.open(path, key).set("a", VALUE)
    monkeypatch.setenv(KEY_ENV, key)
    assert SecretStore.open(path).get("a") == VALUE
    monkeypatch.delenv(KEY_ENV)
    key_file = tmp_path / "key"
    key_file.write_text(key + "\n")
    assert SecretStore.open(path, key_file=key_file).get("a") == VALUE
    with pytest.raises(SecretError, match=KEY_ENV):
        load_key()


def test_wrong_key_is_refused_even_for_an_empty_store(tmp_path: Path, key: str) -> None:
    path = tmp_path / "s.enc"
    store = SecretStore.open(path, key)
    store.set("a", VALUE)
    store.delete("a")
    assert store.names() == []
    with pytest.raises(SecretError, match="wrong key") as caught:
        SecretStore.open(path, generate_key())
    assert caught.value.code == "SECRET_ERROR"
    assert "密钥不正确" in caught.value.message_zh


def test_rotate_reencrypts_atomically(tmp_path: Path, key: str) -> None:
    path = tmp_path / "s.enc"
    store = SecretStore.open(path, key)
    store.set("one", VALUE)
    store.set("two", "second-value")
    before = path.read_text()
    new_key = generate_key()
    store.rotate(new_key)
    assert path.read_text() != before
    assert store.get("one") == VALUE  # the open store keeps working under the new key
    with pytest.raises(SecretError, match="wrong key"):
        SecretStore.open(path, key)
    rotated = SecretStore.open(path, new_key)
    assert rotated.get("one") == VALUE and rotated.get("two") == "second-value"


def test_missing_secret_names_it_never_a_value(tmp_path: Path, key: str) -> None:
    store = SecretStore.open(tmp_path / "s.enc", key)
    store.set("present", VALUE)
    with pytest.raises(SecretError, match="'absent'") as caught:
        store.get("absent")
    assert VALUE not in str(caught.value)


def test_tampering_and_swapped_entries_are_detected(tmp_path: Path, key: str) -> None:
    path = tmp_path / "s.enc"
    store = SecretStore.open(path, key)
    store.set("a", "value-a-1234")
    store.set("b", "value-b-5678")
    data = json.loads(path.read_text())
    data["entries"]["a"], data["entries"]["b"] = data["entries"]["b"], data["entries"]["a"]
    path.write_text(json.dumps(data))
    swapped = SecretStore.open(path, key)  # the key itself is still right
    with pytest.raises(SecretError, match="damaged"):
        swapped.get("a")
    path.write_text("{not json")
    with pytest.raises(SecretError, match="damaged"):
        SecretStore.open(path, key)


def test_unsupported_version_and_bad_names(tmp_path: Path, key: str) -> None:
    path = tmp_path / "s.enc"
    store = SecretStore.open(path, key)
    store.set("a", VALUE)
    data = json.loads(path.read_text())
    data["version"] = 99
    path.write_text(json.dumps(data))
    with pytest.raises(SecretError, match="version 99"):
        SecretStore.open(path, key)
    with pytest.raises(SecretError, match="invalid secret name"):
        SecretStore.open(tmp_path / "t.enc", key).set("has space", VALUE)
    with pytest.raises(SecretError, match="32 bytes"):
        parse_key("too-short")


def test_two_writers_do_not_lose_each_others_entries(tmp_path: Path, key: str) -> None:
    path = tmp_path / "s.enc"
    first = SecretStore.open(path, key)
    second = SecretStore.open(path, key)  # opened before first writes
    first.set("from_first", "value-1111")
    second.set("from_second", "value-2222")
    assert SecretStore.open(path, key).names() == ["from_first", "from_second"]
