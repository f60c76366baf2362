"""``POST /v1/red-reversals``: reverse all or part of an issued invoice through its
红字确认单, as far as this call may drive it (``confirm``, ``wait_seconds``). Behind the
API token."""

from __future__ import annotations

from fastapi import APIRouter

from fapiao.views import RedOutcomeOut, red_outcome_out

from ..bodies import RedReversalBody, json_body
from ..dependencies import GUARDED, Client
from ..openapi import NOT_FOUND

__all__ = ["router"]

router = APIRouter(tags=["red reversal"], dependencies=GUARDED)


@router.post(
    "/v1/red-reversals",
    summary="reverse all or part of an issued invoice (红冲 via 红字确认单)",
    response_model=RedOutcomeOut,
    openapi_extra=json_body("RedReversalIn"),
    responses=NOT_FOUND,
)
async def red_reverse(body: RedReversalBody, client: Client) -> RedOutcomeOut:
    outcome = await client.red_reverse(
        body.request(), confirm=body.confirm, wait_seconds=body.wait_seconds
    )
    return red_outcome_out(outcome)
