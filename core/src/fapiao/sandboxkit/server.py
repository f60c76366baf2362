"""Serve an ASGI app on loopback for tests, demos and benchmarks: a real server, real sockets.

Why a thread and a pre-bound socket: tests need the URL before the first request, on a port
nobody else holds, without a subprocess to manage. Binding port 0 ourselves lets the OS pick
a free port atomically (no "find a free port, then hope it is still free" race); uvicorn then
serves that socket from its own event loop in a daemon thread, so sync tests, async tests and
the sandbox never share a loop (a client blocking its loop cannot starve the server).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import uvicorn

from fapiao.contract.sandbox import RunningSandbox
from fapiao.sandboxkit.faults import FaultInjector
from fapiao.sandboxkit.tls import TlsFiles, sandbox_tls_files
from fapiao.transport.listen import bind_listening_socket

__all__ = ["RunningServer", "run_forever", "serve", "serve_sandbox", "server_argument_parser"]

ASGIApp = Callable[..., Any]


def _bind(host: str, port: int) -> socket.socket:
    return bind_listening_socket(host, port)


def _url(scheme: str, host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"


class RunningServer:
    """A uvicorn server running in a background thread; stop it with :meth:`stop` or by
    leaving its ``with`` / ``async with`` block."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str,
        port: int,
        tls: bool,
        log_level: str,
        graceful_shutdown_s: float,
        access_log: bool,
    ) -> None:
        self.app = app
        self.host = host
        self.tls_files: TlsFiles | None = sandbox_tls_files() if tls else None
        self._sock = _bind(host, port)
        self.port: int = self._sock.getsockname()[1]
        self.base_url = _url("https" if tls else "http", host, self.port)
        config = uvicorn.Config(
            app,
            host=host,
            port=self.port,
            log_level=log_level,
            log_config=None,  # never reconfigure the caller's logging (pytest's capture)
            access_log=access_log,
            lifespan="auto",
            timeout_graceful_shutdown=max(1, round(graceful_shutdown_s)),
            ssl_certfile=str(self.tls_files.cert_file) if self.tls_files else None,
            ssl_keyfile=str(self.tls_files.key_file) if self.tls_files else None,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"sandbox-{self.port}", daemon=True)
        self._error: BaseException | None = None
        self._stopped = False

    @property
    def ca_file(self) -> str | None:
        """PEM file of the CA that signed the server certificate (``None`` without TLS)."""
        return str(self.tls_files.ca_file) if self.tls_files else None

    @property
    def verify(self) -> bool | ssl.SSLContext:
        """What to pass as an httpx ``verify`` for this server: a context trusting the
        sandbox CA (for ``ProviderSettings.verify_tls`` pass :attr:`ca_file`)."""
        if self.ca_file is None:
            return True
        return ssl.create_default_context(cafile=self.ca_file)

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._sock])
        except BaseException as exc:  # SystemExit on a failed lifespan startup, too
            self._error = exc

    def start(self, timeout: float = 10.0) -> RunningServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                self._sock.close()
                raise RuntimeError(
                    f"sandbox server on port {self.port} failed to start: {self._error!r}"
                ) from self._error
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"sandbox server on port {self.port} did not start")
            time.sleep(0.005)
        # ``started`` is set once the listener exists; prove it accepts a connection.
        with socket.create_connection((self.host, self.port), timeout=timeout):
            pass
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting, let the app's lifespan shut down (callback senders drain), join."""
        if self._stopped:
            return
        self._stopped = True
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(timeout)
        self._sock.close()

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._stopped

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> RunningServer:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)

    def __repr__(self) -> str:
        return f"RunningServer({self.base_url!r}, running={self.running})"


def serve(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    tls: bool = False,
    log_level: str = "warning",
    access_log: bool = False,
    graceful_shutdown_s: float = 1.0,
    startup_timeout: float = 10.0,
) -> RunningServer:
    """Start ``app`` under uvicorn on ``host`` (port 0: a free one) and return once it accepts
    connections. Use the result as a context manager (``with`` or ``async with``) or call
    ``stop()``. ``tls=True`` serves HTTPS with the sandbox CA (see ``RunningServer.ca_file``).
    """
    return RunningServer(
        app,
        host=host,
        port=port,
        tls=tls,
        log_level=log_level,
        graceful_shutdown_s=graceful_shutdown_s,
        access_log=access_log,
    ).start(startup_timeout)


@contextmanager
def serve_sandbox(
    app: ASGIApp,
    faults: FaultInjector,
    *,
    provider: str,
    tls: bool,
    settings: Callable[[RunningServer], Mapping[str, Any]],
    seller_tax_ids: Iterable[str],
) -> Iterator[RunningSandbox]:
    """Serve a provider's sandbox for the ``with`` block as its ``fapiao.sandboxes`` starter
    yields it: URL and CA file, the profile ``settings`` that reach it (given the server),
    the sellers it knows, ``app`` to steer and ``faults`` to switch."""

    def set_faults(changes: Mapping[str, Any]) -> None:
        faults.configure(changes)

    with serve(app, tls=tls) as server:
        yield RunningSandbox(
            provider=provider,
            base_url=server.base_url,
            settings=settings(server),
            seller_tax_ids=tuple(seller_tax_ids),
            ca_file=server.ca_file,
            admin=app,
            set_faults=set_faults,
        )


def server_argument_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """The common ``--host/--port/--tls/--log-level`` options of every ``python -m
    <plugin>.sandbox`` command; plugins add their own options to it."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port (0: pick a free one)")
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with a sandbox CA")
    parser.add_argument("--log-level", default="info", help="uvicorn log level")
    return parser


def run_forever(
    app: ASGIApp,
    host: str = "127.0.0.1",
    port: int = 8000,
    tls: bool = False,
    *,
    log_level: str = "info",
) -> None:
    """Serve ``app`` in the foreground until Ctrl-C (for ``python -m <plugin>.sandbox``).

    Prints the base URL (and the CA file to trust when ``tls``) on stdout first.
    """
    tls_files = sandbox_tls_files() if tls else None
    sock = _bind(host, port)
    bound = sock.getsockname()[1]
    print(f"sandbox listening on {_url('https' if tls else 'http', host, bound)}", flush=True)
    if tls_files is not None:
        print(f"trust this CA (PEM): {tls_files.ca_file}", flush=True)
    config = uvicorn.Config(
        app,
        host=host,
        port=bound,
        log_level=log_level,
        ssl_certfile=str(tls_files.cert_file) if tls_files else None,
        ssl_keyfile=str(tls_files.key_file) if tls_files else None,
    )
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled: a normal stop here
        pass
    finally:
        sock.close()
    if not server.started:
        sys.exit(3)
