"""The gateway's OpenAPI document: FastAPI's, plus what FastAPI cannot know.

- the schemas of the bodies the endpoints parse themselves (``fapiao.service.bodies``), so
  generated clients still know them;
- the bearer scheme and the 401, on exactly the operations this app guards (they depend on
  the app's access settings: no token, no scheme; a public ``/metrics``, no 401 there);
- the errors every operation can answer, all in the one canonical shape (``ErrorBody``):
  413 for a body too large, 422 for an invalid body or parameter (instead of FastAPI's own
  validation format, which the gateway never sends), the 404 a route declares with
  :data:`NOT_FOUND`, and ``default`` for the rest (409, 429, 5xx), so that a generated client
  parses every refusal the same way.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

from .access import Access
from .bodies import BODY_MODELS
from .dependencies import TOKEN_GUARDS
from .schemas import ErrorBody

__all__ = ["BEARER_SCHEME", "NOT_FOUND", "documented_error", "openapi_schema"]

BEARER_SCHEME = "bearer"
_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}


def documented_error(description: str) -> dict[str, Any]:
    """An error answer for ``responses=``: ``description`` and the canonical body."""
    return {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}


NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: documented_error("NOT_FOUND: no such request, order or profile (未找到)")
}
"""``responses=`` of a route that answers 404 when what it names does not exist."""

_UNAUTHORIZED = documented_error(
    "UNAUTHORIZED: missing or wrong `Authorization: Bearer <token>` (缺少或错误的访问令牌)"
)
_TOO_LARGE = documented_error(
    "REQUEST_TOO_LARGE: the body is larger than the service accepts (请求体过大)"
)
_INVALID = documented_error(
    "INVALID_INVOICE / INVALID_REQUEST / …: the body or a parameter is invalid; `issues` "
    "names every problem with its field (请求内容有误)"
)
_OTHER = documented_error(
    "any other refusal or failure, by its stable `code`: 409 conflicts (DUPLICATE_ORDER, "
    "QUOTA_EXCEEDED, …), 429 RATE_LIMITED and 503 PROVIDER_UNAVAILABLE (with Retry-After), "
    "502 provider errors, 504 OUTCOME_UNKNOWN (recorded: sending it again is safe), "
    "500 INTERNAL_ERROR"
)
_BODY_METHODS = {"post", "put", "patch"}


def openapi_schema(app: FastAPI) -> dict[str, Any]:
    """``app``'s OpenAPI document, built once and kept on the app."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, model in BODY_MODELS.items():
            _add_model(components, name, model, mode="validation")
        _add_model(components, "ErrorBody", ErrorBody, mode="serialization")
        access: Access = app.state.access
        schema["components"].pop("securitySchemes", None)  # one per guard: replaced below
        guarded = False
        for item in schema.get("paths", {}).values():
            for method, operation in item.items():
                needs_token = _needs_token(operation, access)
                guarded = guarded or needs_token
                _describe_errors(operation, method, needs_token)
        if guarded:
            schema["components"]["securitySchemes"] = {
                BEARER_SCHEME: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "the gateway's API token (fapiao serve: $FAPIAO_API_TOKEN)",
                }
            }
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        app.openapi_schema = schema
    return app.openapi_schema


def _add_model(
    components: dict[str, Any], name: str, model: type[BaseModel], *, mode: JsonSchemaMode
) -> None:
    body = model.model_json_schema(ref_template="#/components/schemas/{model}", mode=mode)
    for sub_name, sub in body.pop("$defs", {}).items():
        components.setdefault(sub_name, sub)
    components[name] = body


def _needs_token(operation: dict[str, Any], access: Access) -> bool:
    """Whether this app guards ``operation`` (FastAPI marked it with each guard's scheme;
    the mark is removed here, and :func:`_describe_errors` puts the one bearer scheme back
    where a token is really required)."""
    surfaces = {guard.scheme_name: guard.surface for guard in TOKEN_GUARDS}
    marked = [surfaces[name] for need in operation.pop("security", []) for name in need]
    return any(access.requires_token(surface) for surface in marked)


def _describe_errors(operation: dict[str, Any], method: str, guarded: bool) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if guarded:
        operation["security"] = [{BEARER_SCHEME: []}]
        responses["401"] = _UNAUTHORIZED
    if method in _BODY_METHODS:
        responses["413"] = _TOO_LARGE
    if operation.get("parameters") or operation.get("requestBody") or "422" in responses:
        responses["422"] = _INVALID
    responses["default"] = _OTHER
