"""The ASGI service: provider callbacks, the REST gateway, metrics and health.

Why one app around one :class:`~fapiao.engine.AsyncClient`: callbacks and gateway calls
must go through the same ledger and the same exactly-once path as the Python API, so a
callback racing a query, or a Java caller retrying an issue, can never move a record
backwards or send an order twice. The app must run in the event loop the client is used in
(``fapiao serve`` and the demo build both in one loop).

``create_app`` only assembles: the client, the access settings (``fapiao.service.access``)
and the service's counters go on ``app.state`` (routes reach them through
``fapiao.service.dependencies``), canonical errors become HTTP answers
(``fapiao.service.errors``), a body above the limit is refused before it is read
(``fapiao.service.body_limit``), every request is counted (``fapiao.service.metrics``), and
the routers of ``fapiao.service.routes`` are included:

- ``POST /callbacks/{profile}``: a provider's signed callback (``routes/callbacks.py``).
- ``/v1/...``: the gateway, bearer-token protected when a token is configured. Bodies are
  checked by the same rules as everywhere (``fapiao.rules.parse_invoice``): every problem
  comes back with its field path.
- ``/openapi.json``, ``/docs``, ``/redoc``: its description (``routes/docs.py``), public
  unless the operator protects them.
- ``GET /metrics``: the engine's prometheus registry plus the service's own counters (behind
  the token unless ``public_metrics``).
- ``GET /healthz``: 200 when the ledger answers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from fapiao import __version__
from fapiao.errors import FapiaoError

from .access import Access
from .bodies import parse_limiter
from .body_limit import DEFAULT_MAX_BODY_BYTES, BodyLimit
from .errors import (
    Refused,
    fapiao_error_handler,
    internal_error_handler,
    refused_handler,
    request_validation_handler,
)
from .metrics import ServiceMetrics, measure
from .openapi import openapi_schema
from .routes import ROUTERS

if TYPE_CHECKING:
    from fapiao.engine import AsyncClient

__all__ = ["create_app"]


def create_app(
    client: AsyncClient,
    *,
    api_token: str | None = None,
    public_docs: bool = True,
    public_metrics: bool = False,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> FastAPI:
    """The service app around ``client`` (which the caller opens and closes).

    With ``api_token`` every ``/v1`` route requires ``Authorization: Bearer <token>``, and
    so does ``/metrics`` unless ``public_metrics``; ``/openapi.json``, ``/docs`` and
    ``/redoc`` stay public unless ``public_docs`` is false. Callbacks are authenticated by
    the provider's signature instead, and ``/healthz`` stays open for the platform's probes
    (``fapiao.service.access``). Without a token everything is open: ``fapiao serve``
    allows that on loopback only. A request body above ``max_body_bytes`` is refused with
    a 413 before it is read (``fapiao.service.body_limit``).
    """
    app = FastAPI(
        title="fapiao gateway",
        version=__version__,
        summary="Issue, reverse, query and deliver 数电发票 through any provider.",
        description="REST gateway of the fapiao engine. Money is a JSON string (exact "
        "decimal); errors carry a stable `code`, Chinese and English messages and, for "
        "invalid invoices, every issue with its field path.",
        openapi_url=None,  # served by routes/docs.py, behind the docs guard
        docs_url=None,
        redoc_url=None,
    )
    app.state.client = client
    app.state.access = Access(api_token, public_docs=public_docs, public_metrics=public_metrics)
    app.state.metrics = ServiceMetrics()
    app.state.parse_limiter = parse_limiter()
    app.exception_handler(FapiaoError)(fapiao_error_handler)
    app.exception_handler(Refused)(refused_handler)
    app.exception_handler(RequestValidationError)(request_validation_handler)
    app.exception_handler(Exception)(internal_error_handler)  # never a bare text 500
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.middleware("http")(measure)  # added last, so outside: it counts the 413s too
    for router in ROUTERS:
        app.include_router(router)
    app.openapi = lambda: openapi_schema(app)  # type: ignore[method-assign]
    return app
