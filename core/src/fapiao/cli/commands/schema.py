"""``fapiao schema``: JSON Schema of the request models, for callers in other languages."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import BaseModel

from fapiao.models import Delivery, Invoice, RedReversalRequest

__all__ = ["REQUEST_MODELS", "schema_command"]

REQUEST_MODELS: dict[str, type[BaseModel]] = {
    "invoice": Invoice,
    "red_reversal": RedReversalRequest,
    "delivery": Delivery,
}


def schema_command(
    model: Annotated[
        str | None,
        typer.Argument(help=f"one of: {', '.join(REQUEST_MODELS)}; all when omitted"),
    ] = None,
) -> None:
    """Print the JSON Schema of the canonical request models (打印请求模型的 JSON Schema)."""
    from fapiao.cli.output import emit_json

    if model is None:
        emit_json(
            {name: m.model_json_schema(mode="validation") for name, m in REQUEST_MODELS.items()}
        )
        return
    if model not in REQUEST_MODELS:
        raise typer.BadParameter(
            f"未知模型 / unknown model {model!r}; choose one of {', '.join(REQUEST_MODELS)}"
        )
    emit_json(REQUEST_MODELS[model].model_json_schema(mode="validation"))
