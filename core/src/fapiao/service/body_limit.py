"""Refusing a request body larger than the service accepts, before it is read.

Why ASGI middleware and not a check where a route reads its body: by then a hostile
upload has been buffered whole (a route's ``await request.body()`` reads to the end), and
the parser would refuse it only after holding it in memory. Here a declared
``Content-Length`` above the limit is answered 413 before a byte of the body is read, and
a body without one (chunked) is counted while it streams in and refused as soon as it
passes the limit. The default is the parser's own bound on one invoice
(``fapiao.models.limits.MAX_JSON_BYTES``): nothing larger could be accepted anyway.

The answer is the canonical error shape (``REQUEST_TOO_LARGE``, bilingual). What the client
still sends after it is read and dropped by the server (uvicorn), so the connection stays
usable and the client reads the 413 instead of a reset.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fapiao.models.limits import MAX_JSON_BYTES

from .errors import Refused, too_large_response

__all__ = ["DEFAULT_MAX_BODY_BYTES", "BodyLimit"]

DEFAULT_MAX_BODY_BYTES = MAX_JSON_BYTES


class BodyLimit:
    """ASGI middleware: at most ``max_bytes`` of request body per HTTP request."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await too_large_response(self.max_bytes)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # raised inside the route that reads the body: its 413 is then counted
                    # under the route by the metrics middleware
                    raise Refused(too_large_response(self.max_bytes))
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the HTTP server refuses a malformed one before we see it
    return None
