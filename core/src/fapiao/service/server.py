"""Run the service in the *current* event loop.

The app shares its :class:`~fapiao.engine.client.AsyncClient` (HTTP pools, semaphores)
with whoever else uses the client in this process — the demo issues a batch while the same
loop receives the provider's callbacks — so it cannot run on a server thread with a loop
of its own. The socket is bound first (port 0: the OS picks a free one), so the URL is
known before any request, e.g. to give it to a provider as the callback address.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from fapiao.transport.listen import bind_listening_socket

from .access import Access
from .exposure import refuse_open_gateway_off_loopback

__all__ = ["BoundSocket", "bind", "serve_app", "server_for"]


@dataclass
class BoundSocket:
    sock: socket.socket
    host: str
    port: int

    @property
    def base_url(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{shown}:{self.port}"


def bind(host: str = "127.0.0.1", port: int = 0) -> BoundSocket:
    """Bind a listening address now (so its URL can be handed out before serving)."""
    sock = bind_listening_socket(host, port)
    return BoundSocket(sock, host, sock.getsockname()[1])


def server_for(app: Any, bound: BoundSocket, *, log_level: str, access_log: bool) -> uvicorn.Server:
    """A uvicorn server for ``app`` on ``bound``; a fapiao gateway without an API token is
    refused (``ConfigError``) unless the address bound is loopback
    (``fapiao.service.exposure``)."""
    access = getattr(getattr(app, "state", None), "access", None)
    if isinstance(access, Access):
        refuse_open_gateway_off_loopback(str(bound.sock.getsockname()[0]), access.api_token)
    config = uvicorn.Config(
        app,
        host=bound.host,
        port=bound.port,
        log_level=log_level,
        log_config=None,  # keep the process's logging (and its scrubbing filter)
        access_log=access_log,
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    return uvicorn.Server(config)


@asynccontextmanager
async def serve_app(
    app: Any,
    bound: BoundSocket | None = None,
    *,
    log_level: str = "warning",
    access_log: bool = False,
    startup_timeout: float = 10.0,
) -> AsyncIterator[str]:
    """Serve ``app`` on ``bound`` (default: a free loopback port) while the block runs;
    yields the base URL."""
    bound = bound or bind()
    try:
        server = server_for(app, bound, log_level=log_level, access_log=access_log)
    except BaseException:
        bound.sock.close()
        raise
    # embedded: Ctrl-C belongs to the program around the server, not to uvicorn
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    task = asyncio.create_task(server.serve(sockets=[bound.sock]))
    try:
        deadline = asyncio.get_running_loop().time() + startup_timeout
        while not server.started:
            if task.done():
                task.result()  # raises the start-up failure
                raise RuntimeError("the service stopped during start-up")
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"the service on {bound.base_url} did not start")
            await asyncio.sleep(0.01)
        yield bound.base_url
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(task, timeout=10)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()
        finally:
            bound.sock.close()
