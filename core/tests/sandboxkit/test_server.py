"""The loopback server runner: real sockets, random ports, TLS with the sandbox CA,
lifespan start/stop, clean shutdown."""

from __future__ import annotations

import contextlib
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from fapiao.sandboxkit import FaultInjector, serve, serve_sandbox, server_argument_parser
from fapiao.sandboxkit.tls import generate_tls_files


async def hello(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"hello {request.url.scheme}")


def make_app(events: list[str] | None = None) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if events is not None:
            events.append("startup")
        yield
        if events is not None:
            events.append("shutdown")

    return Starlette(routes=[Route("/", hello)], lifespan=lifespan)


def refused(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return False
    except OSError:
        return True


def test_serve_picks_a_free_port_and_stops_cleanly() -> None:
    events: list[str] = []
    with serve(make_app(events)) as one, serve(make_app()) as two:
        assert one.port != two.port and one.port > 0
        assert one.base_url == f"http://127.0.0.1:{one.port}"
        assert httpx.get(one.base_url).text == "hello http"
        assert httpx.get(two.base_url).text == "hello http"
        assert events == ["startup"]
        assert one.running
    assert events == ["startup", "shutdown"]
    assert not one.running
    assert refused("127.0.0.1", one.port)
    one.stop()  # idempotent


async def test_async_with_serves_an_async_client() -> None:
    async with (
        serve(make_app()) as server,
        httpx.AsyncClient(base_url=server.base_url) as client,
    ):
        assert (await client.get("/")).text == "hello http"
    assert refused("127.0.0.1", server.port)


def test_tls_server_is_trusted_through_its_ca_only() -> None:
    with serve(make_app(), tls=True) as server:
        assert server.base_url.startswith("https://127.0.0.1:")
        assert server.ca_file is not None
        assert httpx.get(server.base_url, verify=server.verify).text == "hello https"
        context = ssl.create_default_context(cafile=server.ca_file)
        assert httpx.get(server.base_url.replace("127.0.0.1", "localhost"), verify=context).text
        with pytest.raises(httpx.ConnectError):
            httpx.get(server.base_url)  # system trust store does not know the sandbox CA


def test_generated_certificate_names_all_loopback_hosts(tmp_path) -> None:
    from cryptography import x509

    files = generate_tls_files(tmp_path)
    cert = x509.load_pem_x509_certificate(files.cert_file.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(san.get_values_for_type(x509.DNSName)) == {"localhost"}
    assert {str(ip) for ip in san.get_values_for_type(x509.IPAddress)} == {"127.0.0.1", "::1"}
    assert oct(files.key_file.stat().st_mode & 0o777) == "0o600"


def test_ipv6_loopback_when_available() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        probe = socket.socket(socket.AF_INET6)
        probe.bind(("::1", 0))
        probe.close()
    except OSError:
        pytest.skip("no ::1 on this machine")
    with serve(make_app(), host="::1") as server:
        assert server.base_url == f"http://[::1]:{server.port}"
        assert httpx.get(server.base_url).text == "hello http"


def test_failing_lifespan_is_reported_not_hung() -> None:
    @contextlib.asynccontextmanager
    async def broken(app: Starlette) -> AsyncIterator[None]:
        raise RuntimeError("database unreachable")
        yield  # pragma: no cover

    with pytest.raises(RuntimeError, match="failed to start"):
        serve(Starlette(lifespan=broken), startup_timeout=5)


def test_cli_parser_has_the_common_options() -> None:
    args = server_argument_parser("x", "y").parse_args(["--port", "0", "--tls"])
    assert args.port == 0 and args.tls and args.host == "127.0.0.1"


def test_run_forever_serves_in_the_foreground_until_interrupted() -> None:
    """What ``python -m <plugin>.sandbox --port N`` runs: prints its URL, serves, exits on
    SIGINT."""
    code = (
        "from starlette.applications import Starlette\n"
        "from starlette.responses import PlainTextResponse\n"
        "from starlette.routing import Route\n"
        "from fapiao.sandboxkit import run_forever\n"
        "async def hi(request): return PlainTextResponse('hi')\n"
        "run_forever(Starlette(routes=[Route('/', hi)]), port=0, tls=True, log_level='warning')\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        second = proc.stdout.readline()
        assert first.startswith("sandbox listening on https://127.0.0.1:"), first
        url = first.split()[-1]
        ca_file = second.split()[-1]
        context = ssl.create_default_context(cafile=ca_file)
        for _ in range(100):  # the URL is printed just before uvicorn starts serving
            try:
                assert httpx.get(url, verify=context).text == "hi"
                break
            except httpx.ConnectError:
                time.sleep(0.02)
        else:
            pytest.fail("run_forever never answered")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
    assert proc.returncode == 0


def test_accepted_connections_have_tcp_nodelay() -> None:
    """Without TCP_NODELAY every keep-alive answer waits ~40 ms (Nagle + delayed ACK): a
    benchmark against a sandbox would measure that, not the plugin."""

    async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        sock = send.__self__.transport.get_extra_info("socket")
        flag = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        body = str(flag).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    with serve(app) as server:
        assert httpx.get(server.base_url).text != "0"


def test_serve_sandbox_yields_what_a_sandbox_starter_promises() -> None:
    app, faults = make_app(), FaultInjector()
    with serve_sandbox(
        app,
        faults,
        provider="acme",
        tls=False,
        seller_tax_ids=iter(["91310000MA1FL8XQ37"]),
        settings=lambda server: {"base_url": server.base_url, "app_key": "K"},
    ) as running:
        assert httpx.get(running.base_url).text == "hello http"
        assert running.settings == {"base_url": running.base_url, "app_key": "K"}
        assert (running.provider, running.seller_tax_ids) == ("acme", ("91310000MA1FL8XQ37",))
        assert running.admin is app and running.ca_file is None
        assert running.set_faults is not None
        running.set_faults({"error_5xx_rate": 1})
        assert faults.config.error_5xx_rate == 1
    assert refused("127.0.0.1", int(running.base_url.rsplit(":", 1)[1]))
