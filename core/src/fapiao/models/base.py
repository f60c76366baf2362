"""Shared pydantic configuration for canonical models."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, field_validator

__all__ = ["CanonicalModel", "ValueModel"]


class CanonicalModel(BaseModel):
    """Unknown fields are an error: a misspelt field must never be silently dropped. No text
    holds a NUL character: a PostgreSQL ledger cannot store one (the request failed after it
    was accepted) and no invoice field has a use for it. A model that only reports (an
    error's message quoting what a caller sent) shows it escaped instead of refusing."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        ser_json_bytes="base64",
        val_json_bytes="base64",
        use_enum_values=False,
    )

    nul_in_text: ClassVar[Literal["refuse", "escape"]] = "refuse"

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            if cls.nul_in_text == "escape":
                return value.replace("\x00", "\\u0000")
            raise ValueError(
                "不允许 NUL 字符（\\u0000）/ the NUL character (\\u0000) is not allowed"
            )
        return value


class ValueModel(CanonicalModel):
    """A value: immutable and hashable by content, so it can be shared without copying."""

    model_config = ConfigDict(frozen=True)
