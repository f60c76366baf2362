"""A throw-away certificate authority and server certificate for sandboxes served over HTTPS.

Real provider endpoints are ``https``; a sandbox that only spoke plain HTTP would leave the
TLS code path of every plugin untested. The CA is self-signed and lives in a temporary
directory: a client trusts it by pointing ``verify`` at :attr:`TlsFiles.ca_file`, never by
switching verification off. EC P-256 keys keep generation in the low milliseconds, and one
set of files is shared by every sandbox of the process.
"""

from __future__ import annotations

import atexit
import datetime as dt
import ipaddress
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["DEFAULT_HOSTS", "TlsFiles", "generate_tls_files", "sandbox_tls_files"]

DEFAULT_HOSTS: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """PEM paths: the server presents ``cert_file``/``key_file``; clients trust ``ca_file``."""

    directory: Path
    ca_file: Path
    cert_file: Path
    key_file: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "fapiao sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _san(hosts: Sequence[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for host in hosts:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            entries.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(entries)


def generate_tls_files(
    directory: Path | None = None,
    *,
    hosts: Sequence[str] = DEFAULT_HOSTS,
    days: int = 30,
) -> TlsFiles:
    """Create a CA and a server certificate for ``hosts`` signed by it, as PEM files.

    Without ``directory`` a private temporary directory is created (mode 0700) and removed
    when the process exits.
    """
    if directory is None:
        directory = Path(tempfile.mkdtemp(prefix="fapiao-sandbox-tls-"))
        atexit.register(shutil.rmtree, directory, True)
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    not_before = now - dt.timedelta(minutes=5)
    not_after = now + dt.timedelta(days=days)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("fapiao sandbox CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )

    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(hosts[0] if hosts else "localhost"))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(_san(hosts), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )

    ca_file = directory / "ca.pem"
    cert_file = directory / "server.pem"
    key_file = directory / "server-key.pem"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    # The chain (leaf then CA) lets clients that only trust the CA build the path.
    cert_file.write_bytes(
        server_cert.public_bytes(serialization.Encoding.PEM)
        + ca_cert.public_bytes(serialization.Encoding.PEM)
    )
    key_bytes = server_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_bytes)
    return TlsFiles(directory=directory, ca_file=ca_file, cert_file=cert_file, key_file=key_file)


_shared: TlsFiles | None = None
_shared_lock = threading.Lock()


def sandbox_tls_files() -> TlsFiles:
    """The process-wide sandbox certificate set (created on first use)."""
    global _shared
    with _shared_lock:
        if _shared is None or not _shared.key_file.exists():
            _shared = generate_tls_files()
        return _shared
