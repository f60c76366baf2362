"""Shared pydantic configuration for canonical models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["CanonicalModel", "ValueModel"]


class CanonicalModel(BaseModel):
    """Unknown fields are an error: a misspelt field must never be silently dropped."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        ser_json_bytes="base64",
        val_json_bytes="base64",
        use_enum_values=False,
    )


class ValueModel(CanonicalModel):
    """A value: immutable and hashable by content, so it can be shared without copying."""

    model_config = ConfigDict(frozen=True)
