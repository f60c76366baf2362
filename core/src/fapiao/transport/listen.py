"""Listening sockets for fapiao's own servers (the callback/gateway service and sandboxes).

One definition because the detail matters for latency: the socket is created with
``IPPROTO_TCP`` explicitly, since asyncio enables TCP_NODELAY only on sockets whose protocol
is TCP and accepted connections inherit ``proto`` from the listening socket; a plain
``socket()`` (proto 0) leaves Nagle on, and every keep-alive response then waits ~40 ms for
the client's delayed ACK.
"""

from __future__ import annotations

import socket

__all__ = ["bind_listening_socket"]


def bind_listening_socket(host: str, port: int = 0) -> socket.socket:
    """A bound (not yet listening) TCP socket on ``host:port`` (0 = a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock
