"""The gateway's OpenAPI document: FastAPI's, plus the schemas of the bodies the endpoints
parse themselves (``fapiao.service.bodies``), so generated clients still know them."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from .bodies import BODY_MODELS

__all__ = ["openapi_schema"]


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
            body = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for sub_name, sub in body.pop("$defs", {}).items():
                components.setdefault(sub_name, sub)
            components[name] = body
        app.openapi_schema = schema
    return app.openapi_schema
