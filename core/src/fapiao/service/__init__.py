"""The fapiao service: provider callbacks, the REST gateway, metrics (``fapiao serve``).

Build the app around an open client with ``create_app(client, api_token=...)`` and serve it
in the client's event loop with ``async with serve_app(app, bind(host, port)) as url``.
Without a token the gateway is served on loopback only (``refuse_open_gateway_off_loopback``).
"""

from fapiao.service.app import create_app
from fapiao.service.exposure import is_loopback, refuse_open_gateway_off_loopback
from fapiao.service.server import BoundSocket, bind, serve_app

__all__ = [
    "BoundSocket",
    "bind",
    "create_app",
    "is_loopback",
    "refuse_open_gateway_off_loopback",
    "serve_app",
]
