"""``fapiao serve``: the callback receiver and REST gateway, in the foreground.

Providers post their signed callbacks to ``/callbacks/<profile>`` (set each profile's
``callback_url`` to that address as the provider sees it); callers in other languages use
the gateway under ``/v1`` (OpenAPI at ``/docs``); prometheus scrapes ``/metrics``. The
gateway requires ``Authorization: Bearer $FAPIAO_API_TOKEN`` when that variable is set, and
so does ``/metrics`` unless ``--public-metrics``; ``--protected-docs`` guards the API
description too. Without a token the service listens on loopback only: on any other
``--host`` it refuses to start. ``--max-body-bytes`` bounds request bodies (413 above).
``--reconcile-every N`` also settles open records every N seconds (for lost callbacks).
Stop with Ctrl-C: requests in flight finish first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from typing import Annotated, Any

import typer

from fapiao.cli.options import ConfigOption, JsonOption, LogFileOption, LogLevelOption
from fapiao.cli.runtime import engine_client, run, setup_logging

__all__ = ["serve_command"]

log = logging.getLogger("fapiao.service")


def serve_command(
    host: Annotated[str, typer.Option("--host", help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="0: any free port")] = 8080,
    token_env: Annotated[
        str,
        typer.Option(
            "--token-env",
            help="environment variable holding the API token (required off loopback)",
        ),
    ] = "FAPIAO_API_TOKEN",
    public_metrics: Annotated[
        bool,
        typer.Option(
            "--public-metrics/--protected-metrics",
            help="serve /metrics without the token (for a scraper that cannot send one)",
        ),
    ] = False,
    public_docs: Annotated[
        bool,
        typer.Option(
            "--public-docs/--protected-docs",
            help="serve /openapi.json, /docs and /redoc without the token",
        ),
    ] = True,
    max_body_bytes: Annotated[
        int | None,
        typer.Option(
            "--max-body-bytes",
            min=1,
            help="largest request body accepted, in bytes (default: the largest invoice "
            "JSON the parser accepts)",
        ),
    ] = None,
    reconcile_every: Annotated[
        float, typer.Option("--reconcile-every", min=0, help="seconds between reconciles (0: off)")
    ] = 0.0,
    access_log: Annotated[bool, typer.Option("--access-log", help="log every request")] = False,
    config: ConfigOption = None,
    as_json: JsonOption = False,
    log_level: LogLevelOption = "info",
    log_file: LogFileOption = None,
) -> None:
    """Serve provider callbacks, the REST gateway and metrics (回调与网关服务)."""
    from fapiao.cli.output import console, emit_json, err_console, fail
    from fapiao.service import bind, create_app, refuse_open_gateway_off_loopback
    from fapiao.service.body_limit import DEFAULT_MAX_BODY_BYTES
    from fapiao.service.server import server_for

    setup_logging(log_level, log_file)
    token = os.environ.get(token_env) or None
    body_limit = max_body_bytes or DEFAULT_MAX_BODY_BYTES

    async def main() -> None:
        refuse_open_gateway_off_loopback(host, token, token_env=token_env)  # before anything
        async with engine_client(config) as client:
            application = create_app(
                client,
                api_token=token,
                public_docs=public_docs,
                public_metrics=public_metrics,
                max_body_bytes=body_limit,
            )
            try:
                bound = bind(host, port)
            except OSError as exc:
                fail(f"无法监听 / cannot listen on {host}:{port}: {exc.strerror}", as_json=as_json)
            url = bound.base_url
            callbacks = {name: f"{url}/callbacks/{name}" for name in client.providers.profiles}
            if as_json:
                emit_json(
                    {
                        "url": url,
                        "callbacks": callbacks,
                        "authenticated": bool(token),
                        "public_metrics": public_metrics or not token,
                        "public_docs": public_docs or not token,
                        "max_body_bytes": body_limit,
                    }
                )
            else:
                console.print(f"fapiao service on [bold]{url}[/] (docs: {url}/docs)")
                for name, address in callbacks.items():
                    console.print(
                        f"  callbacks for {name}: {address}", highlight=False, soft_wrap=True
                    )
                if token is None:
                    err_console.print(
                        f"[yellow]网关未设访问令牌，仅本机可访问 / gateway unauthenticated "
                        f"(loopback only): set {token_env} to require a token[/]"
                    )
            server = server_for(application, bound, log_level=log_level, access_log=access_log)
            _stop_on_signals(server)
            background = (
                asyncio.create_task(_reconcile_loop(client, reconcile_every))
                if reconcile_every > 0
                else None
            )
            try:
                await server.serve(sockets=[bound.sock])
            finally:
                if background is not None:
                    background.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await background

    run(main, as_json=as_json)


def _stop_on_signals(server: Any) -> None:
    """Ctrl-C or SIGTERM stop the server gracefully (requests in flight finish) and the
    command exits 0; a second one stops it at once."""
    loop = asyncio.get_running_loop()

    def stop() -> None:
        if server.should_exit:
            server.force_exit = True
        server.should_exit = True

    server.capture_signals = contextlib.nullcontext
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop)


async def _reconcile_loop(client: object, every: float) -> None:
    from fapiao.engine.client import AsyncClient
    from fapiao.errors import FapiaoError

    assert isinstance(client, AsyncClient)
    while True:
        await asyncio.sleep(every)
        try:
            report = await client.reconcile()
        except FapiaoError as exc:
            log.warning("periodic reconcile failed: %s", exc.code)
            continue
        if report.settled or report.resubmitted:
            log.info(
                "periodic reconcile: settled %s, resubmitted %d",
                dict(report.settled),
                len(report.resubmitted),
            )
