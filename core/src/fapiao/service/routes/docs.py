"""``/openapi.json``, ``/docs`` (Swagger UI) and ``/redoc``: the gateway's description for
integrators, public by default and behind the API token when the operator protects them
(``fapiao serve --protected-docs``).

Why not FastAPI's own documentation routes: FastAPI adds them without dependencies, so they
could not be guarded; these are the same pages, behind the docs guard."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.responses import HTMLResponse, JSONResponse

from ..dependencies import DOCS_GUARDED

__all__ = ["OPENAPI_PATH", "router"]

OPENAPI_PATH = "/openapi.json"

router = APIRouter(include_in_schema=False, dependencies=DOCS_GUARDED)


def _root(request: Request) -> str:
    root: str = request.scope.get("root_path", "")
    return root.rstrip("/")


@router.get(OPENAPI_PATH)
async def openapi_document(request: Request) -> JSONResponse:
    schema: dict[str, Any] = request.app.openapi()
    root = _root(request)
    if root and root not in {server.get("url") for server in schema.get("servers", [])}:
        schema = {**schema, "servers": [{"url": root}, *schema.get("servers", [])]}
    return JSONResponse(schema)


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=_root(request) + OPENAPI_PATH, title=f"{request.app.title} - Swagger UI"
    )


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(
        openapi_url=_root(request) + OPENAPI_PATH, title=f"{request.app.title} - ReDoc"
    )
