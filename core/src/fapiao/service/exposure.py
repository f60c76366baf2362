"""Where the gateway may be served without an API token: on loopback only.

Why: without a token the gateway issues real invoices for anyone who can reach it. On a
loopback address (127.0.0.0/8, ``::1``, ``localhost``) that is only this machine — the
developer's default, which ``fapiao serve`` allows with a warning. Any other address
(``0.0.0.0``, ``::``, a LAN address, a host name) is reachable by others, so serving the
gateway there without a token is refused instead of trusting a firewall the service cannot
see. One check for every front door: ``fapiao serve`` calls it before it opens anything,
and :func:`fapiao.service.server.server_for` calls it again on the address actually bound,
so an embedding program cannot expose an open gateway by accident either.
"""

from __future__ import annotations

import ipaddress
import socket

from fapiao.errors import ConfigError

__all__ = ["DEFAULT_TOKEN_ENV", "is_loopback", "refuse_open_gateway_off_loopback"]

DEFAULT_TOKEN_ENV = "FAPIAO_API_TOKEN"


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or ``localhost``) reaches this machine only.

    ``localhost`` is resolved and every address it names must be loopback; any other name
    counts as exposed, since what it resolves to is not this service's to know."""
    name = host.strip().removeprefix("[").removesuffix("]")
    try:
        return _loopback_address(name)
    except ValueError:
        pass
    if name.rstrip(".").lower() != "localhost":
        return False
    try:
        found = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return False
    addresses = {str(info[4][0]) for info in found}
    try:
        return bool(addresses) and all(_loopback_address(a) for a in addresses)
    except ValueError:
        return False


def _loopback_address(text: str) -> bool:
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def refuse_open_gateway_off_loopback(
    host: str, api_token: str | None, *, token_env: str = DEFAULT_TOKEN_ENV
) -> None:
    """Raise :class:`~fapiao.errors.ConfigError` when the gateway would listen on ``host``,
    which is not loopback, without an API token (``token_env`` names where the token is
    read from, for the message)."""
    if api_token is not None or is_loopback(host):
        return
    shown = host or "(all interfaces)"
    raise ConfigError(
        f"refusing to serve the gateway on {shown} without an API token: anyone who can "
        f"reach that address could issue invoices. Set the token in ${token_env} (the "
        "variable `fapiao serve --token-env` names), or listen on loopback only "
        "(--host 127.0.0.1)",
        message_zh=f"拒绝在 {shown} 上无访问令牌地提供网关：任何能访问该地址的人都可开具发票。"
        f"请在环境变量 ${token_env}（即 `fapiao serve --token-env` 指定的变量）中设置令牌，"
        "或只监听本机回环地址（--host 127.0.0.1）",
        field="--token-env",
    )
