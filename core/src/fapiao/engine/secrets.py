"""The encrypted secrets store: app secrets and tokens that config files only *reference*.

Why a file of its own: a config file is copied, diffed and committed; secrets must not be.
The config says ``app_secret = "secret:nuonuo_sh"`` and the value lives here, encrypted
with AES-256-GCM under a key that comes from the environment (``FAPIAO_SECRETS_KEY``) or
a key file readable only by the service account.

File format (JSON, versioned so a later format can be read and migrated)::

    {"format": "fapiao-secrets", "version": 1, "cipher": "AES-256-GCM",
     "check": {"nonce": b64, "ciphertext": b64},
     "entries": {"<name>": {"nonce": b64, "ciphertext": b64}, ...}}

Each entry is sealed separately with its name as associated data, so entries cannot be
swapped between names unnoticed, and ``names()`` needs no decryption. ``check`` seals a
known marker so a wrong key is detected on open, even for an empty store. Every write
goes to a temporary file in the same directory, is fsync'ed and then renamed over the old
file (and the directory fsync'ed), so a crash leaves either the old or the new store,
never a torn one. Values never appear in ``repr``, logs or errors.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fapiao.errors import SecretError

__all__ = [
    "KEY_ENV",
    "SECRET_NAME_PATTERN",
    "SecretStore",
    "generate_key",
    "load_key",
    "parse_key",
]

FORMAT = "fapiao-secrets"
VERSION = 1
CIPHER = "AES-256-GCM"
KEY_ENV = "FAPIAO_SECRETS_KEY"
SECRET_NAME_PATTERN = r"[A-Za-z0-9_.-]{1,128}"
_NAME_RE = re.compile(rf"^{SECRET_NAME_PATTERN}$")
_CHECK_MARKER = b"fapiao-secrets-key-check"


def generate_key() -> str:
    """A new random 256-bit key, URL-safe base64 (what ``FAPIAO_SECRETS_KEY`` holds)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")


def parse_key(text: str | bytes) -> bytes:
    """Decode a base64 key (URL-safe or standard, padding optional) into 32 raw bytes."""
    raw = text.decode("ascii", "replace") if isinstance(text, bytes) else text
    raw = raw.strip()
    padded = raw + "=" * (-len(raw) % 4)
    try:
        key = base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_"))
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise SecretError(
            "the secrets key must be 32 bytes in base64 (generate one with "
            "`fapiao secrets keygen`)",
            message_zh="密钥须为 base64 编码的 32 字节（可用 `fapiao secrets keygen` 生成）",
        )
    return key


def load_key(*, env: str = KEY_ENV, key_file: str | os.PathLike[str] | None = None) -> bytes:
    """The store key: from the environment variable if set, else from the key file.

    The environment wins so a deployment can override a key file baked into an image."""
    value = os.environ.get(env)
    if value:
        return parse_key(value)
    if key_file is not None:
        path = Path(key_file)
        try:
            return parse_key(path.read_text(encoding="ascii"))
        except OSError as exc:
            raise SecretError(
                f"cannot read the secrets key file {path}: {exc.strerror}",
                message_zh=f"无法读取密钥文件 {path}：{exc.strerror}",
            ) from None
    raise SecretError(
        f"no secrets key: set the environment variable {env} or configure secrets.key_file",
        message_zh=f"缺少密钥：请设置环境变量 {env} 或配置 secrets.key_file",
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise _corrupt(what)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise _corrupt(what) from None


def _corrupt(what: str) -> SecretError:
    return SecretError(
        f"the secrets file is damaged ({what})",
        message_zh=f"密钥文件已损坏（{what}）",
    )


def _aad(name: str) -> bytes:
    return f"{FORMAT}/v{VERSION}/{name}".encode()


def _check_name(name: str) -> None:
    if not _NAME_RE.match(name):
        raise SecretError(
            f"invalid secret name {name!r}: use letters, digits, '_', '.', '-' (max 128)",
            message_zh=f"密钥名称无效 {name!r}：只能使用字母、数字、'_'、'.'、'-'（最多 128 个）",
            field="name",
        )


class SecretStore:
    """An AES-GCM encrypted name → value map in one file.

    Construct with :meth:`open`. Reads decrypt on demand; writes re-read the file under an
    advisory lock first, so two processes setting different names don't lose each other's.
    """

    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self._aead = AESGCM(key)
        self._entries: dict[str, dict[str, str]] = {}
        self._load()

    def __repr__(self) -> str:
        return f"SecretStore({str(self.path)!r}, {len(self._entries)} secrets)"

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        key: bytes | str | None = None,
        *,
        key_env: str = KEY_ENV,
        key_file: str | os.PathLike[str] | None = None,
    ) -> SecretStore:
        """Open (or prepare to create) the store at ``path``.

        ``key`` may be raw 32 bytes or its base64 text; without it the key comes from
        ``key_env`` or ``key_file`` (:func:`load_key`). A wrong key raises ``SecretError``.
        """
        if key is None:
            raw = load_key(env=key_env, key_file=key_file)
        elif isinstance(key, bytes) and len(key) == 32:
            raw = key
        else:
            raw = parse_key(key)
        return cls(Path(path), raw)

    # -- reading ---------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self._entries = {}
            return
        except OSError as exc:
            raise SecretError(
                f"cannot read the secrets file {self.path}: {exc.strerror}",
                message_zh=f"无法读取密钥文件 {self.path}：{exc.strerror}",
            ) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise _corrupt("not JSON") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise _corrupt("not a fapiao secrets file")
        version = data.get("version")
        if version != VERSION:
            raise SecretError(
                f"secrets file format version {version!r} is not supported (this fapiao "
                f"reads version {VERSION})",
                message_zh=f"不支持的密钥文件版本 {version!r}（本版本读取 {VERSION}）",
            )
        check = data.get("check")
        entries = data.get("entries")
        if not isinstance(check, dict) or not isinstance(entries, dict):
            raise _corrupt("missing sections")
        self._open_sealed(check, "#check", wrong_key=True)
        for name, sealed in entries.items():
            if not isinstance(name, str) or not isinstance(sealed, dict):
                raise _corrupt("bad entry")
        self._entries = {name: dict(sealed) for name, sealed in entries.items()}

    def _open_sealed(self, sealed: dict[str, Any], name: str, *, wrong_key: bool) -> bytes:
        nonce = _unb64(sealed.get("nonce"), "nonce")
        ciphertext = _unb64(sealed.get("ciphertext"), "ciphertext")
        try:
            return self._aead.decrypt(nonce, ciphertext, _aad(name))
        except InvalidTag:
            if wrong_key:
                raise SecretError(
                    f"wrong key for the secrets file {self.path}",
                    message_zh=f"密钥文件 {self.path} 的密钥不正确",
                ) from None
            raise _corrupt(f"entry {name!r} does not authenticate") from None

    def _seal(self, name: str, value: bytes, aead: AESGCM | None = None) -> dict[str, str]:
        nonce = os.urandom(12)
        sealed = (aead or self._aead).encrypt(nonce, value, _aad(name))
        return {"nonce": _b64(nonce), "ciphertext": _b64(sealed)}

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, name: str) -> str:
        """The clear value of ``name``; ``SecretError`` naming it (never a value) if absent."""
        sealed = self._entries.get(name)
        if sealed is None:
            raise SecretError(
                f"secret {name!r} is not in the secrets file {self.path}",
                message_zh=f"密钥文件 {self.path} 中没有名为 {name!r} 的密钥",
                field=name,
            )
        return self._open_sealed(sealed, name, wrong_key=False).decode("utf-8")

    def values(self) -> list[str]:
        """Every clear value, for scrubbers only (so no log line can carry one)."""
        return [self.get(name) for name in self.names()]

    # -- writing ---------------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                import fcntl
            except ImportError:  # pragma: no cover - non-POSIX: no cross-process lock
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _write(self, entries: dict[str, dict[str, str]], aead: AESGCM | None = None) -> None:
        document = {
            "format": FORMAT,
            "version": VERSION,
            "cipher": CIPHER,
            "check": self._seal("#check", _CHECK_MARKER, aead),
            "entries": dict(sorted(entries.items())),
        }
        payload = json.dumps(document, indent=1).encode("utf-8") + b"\n"
        directory = self.path.parent
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(directory)
        self._entries = entries

    def set(self, name: str, value: str) -> None:
        """Add or replace ``name`` (atomic rewrite of the file)."""
        _check_name(name)
        if not isinstance(value, str) or not value:
            raise SecretError(
                f"secret {name!r} needs a non-empty value",
                message_zh=f"密钥 {name!r} 的值不能为空",
                field=name,
            )
        with self._locked():
            self._load()
            entries = dict(self._entries)
            entries[name] = self._seal(name, value.encode("utf-8"))
            self._write(entries)

    def delete(self, name: str) -> None:
        with self._locked():
            self._load()
            if name not in self._entries:
                raise SecretError(
                    f"secret {name!r} is not in the secrets file {self.path}",
                    message_zh=f"密钥文件 {self.path} 中没有名为 {name!r} 的密钥",
                    field=name,
                )
            entries = {k: v for k, v in self._entries.items() if k != name}
            self._write(entries)

    def rotate(self, new_key: bytes | str) -> None:
        """Re-encrypt every entry under ``new_key`` in one atomic rewrite.

        Until the rename the old file (and key) stay valid; after it only the new key
        opens the store. The caller then stores the new key where ``load_key`` finds it.
        """
        raw = new_key if isinstance(new_key, bytes) and len(new_key) == 32 else parse_key(new_key)
        with self._locked():
            self._load()
            clear = {name: self.get(name).encode("utf-8") for name in self.names()}
            aead = AESGCM(raw)
            try:
                entries = {name: self._seal(name, value, aead) for name, value in clear.items()}
                self._write(entries, aead)
            finally:
                clear.clear()
            self._aead = aead


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)
