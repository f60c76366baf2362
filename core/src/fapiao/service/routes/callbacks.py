"""``POST /callbacks/{profile}``: a provider's signed status callback.

The body is verified by the profile's plugin (signature, freshness, replay) and every status
it carries applied idempotently; the provider gets the answer its protocol expects
(``CallbackResult.response_*``), 401 if forged or stale (so it retries or alerts), 503 if the
ledger could not record it (so it sends it again). Not behind the API token: the provider's
signature authenticates it.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from fapiao.errors import CallbackRejected, FapiaoError, NotFound

from ..dependencies import Client, Metrics
from ..errors import error_response
from ..openapi import NOT_FOUND, documented_error

__all__ = ["router"]

log = logging.getLogger("fapiao.service")

router = APIRouter(tags=["callbacks"])


@router.post(
    "/callbacks/{profile}",
    summary="provider callback (回调)",
    responses={
        **NOT_FOUND,
        401: documented_error("CALLBACK_REJECTED: signature, freshness or content (回调验签失败)"),
        503: documented_error("not recorded (the ledger failed): the provider must send it again"),
    },
)
async def callback(
    profile: Annotated[str, Path(max_length=64)],
    request: Request,
    client: Client,
    metrics: Metrics,
) -> Response:
    if profile not in client.providers.profiles:
        metrics.callbacks.labels("unknown", "rejected").inc()
        return error_response(
            NotFound(
                f"no provider profile {profile!r} receives callbacks here",
                message_zh=f"此处没有接收回调的配置档 {profile!r}",
                field="profile",
            )
        )
    body = await request.body()
    try:
        result = await client.apply_callback(
            profile, dict(request.headers), body, dict(request.query_params)
        )
    except CallbackRejected as exc:
        metrics.callbacks.labels(profile, "rejected").inc()
        log.warning("callback for profile %s rejected: %s", profile, exc.message_en)
        return error_response(exc)
    except FapiaoError as exc:
        metrics.callbacks.labels(profile, "error").inc()
        log.warning("callback for profile %s not recorded: %s", profile, exc.code)
        failed = error_response(exc)
        failed.status_code = 503  # not recorded: the provider must send it again
        return failed
    metrics.callbacks.labels(profile, "applied").inc()
    log.debug("callback for profile %s: %d statuses received", profile, len(result.statuses))
    return Response(
        result.response_body,
        status_code=result.response_status,
        media_type=result.response_media_type,
    )
