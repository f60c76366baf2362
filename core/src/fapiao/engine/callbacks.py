"""Provider callbacks: verified by the plugin, claimed once in the ledger, applied as reports.

Why a workflow of its own: a callback is the one input a remote party pushes to us unasked.
The plugin verifies it (signature, freshness) and normalises it; then the ledger claims the
delivery's id, so a replay is refused by every process and after every restart; then each
status it carries goes through the kernel's ``apply`` like any other report (checked against
what the ledger knows, idempotent, never backwards). A plugin that crashes on a malformed
body has refused it: the provider hears a refusal, nothing changes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fapiao.errors import CallbackRejected, FapiaoError
from fapiao.masking import mask_tax_id
from fapiao.models import CallbackResult, Operation

from .kernel import Kernel
from .ledger import RED_WORKFLOW_STATES, EventSource, RequestKey, RequestKind

__all__ = ["Callbacks"]

log = logging.getLogger("fapiao.engine")


class Callbacks:
    def __init__(self, kernel: Kernel) -> None:
        self.kernel = kernel

    async def apply(
        self,
        profile: str,
        headers: Mapping[str, str],
        body: bytes,
        query: Mapping[str, str] | None,
    ) -> CallbackResult:
        result = self._verify(profile, headers, body, query)
        if any(not (s.seller_tax_id and s.order_id) for s in result.statuses):
            raise CallbackRejected(  # 4xx: the provider must not retry it forever
                "a status without a seller tax ID or an order id",
                message_zh="回调中的状态缺少销方税号或订单号",
                provider=self.kernel.providers.provider_name(profile),
            )
        if result.replay_id is not None:
            first = await self.kernel.ledger.claim_callback(
                profile, result.replay_id, keep=result.replay_window_seconds
            )
            if not first:
                raise CallbackRejected(
                    f"callback {result.replay_id} was delivered before (replay)",
                    message_zh=f"回调 {result.replay_id} 已处理过（重放）",
                    provider=self.kernel.providers.provider_name(profile),
                )
        for status in result.statuses:
            key = RequestKey(status.seller_tax_id, status.order_id)
            record = await self.kernel.ledger.get(key)
            if record is None:
                log.warning(
                    "callback from profile %s for unknown order %s/%s ignored",
                    profile,
                    mask_tax_id(status.seller_tax_id),
                    status.order_id,
                )
                continue
            if record.provider_profile != profile:
                log.warning(
                    "callback from profile %s for order %s/%s of profile %s ignored",
                    profile,
                    mask_tax_id(status.seller_tax_id),
                    status.order_id,
                    record.provider_profile,
                )
                continue
            if record.kind is RequestKind.RED and status.state in RED_WORKFLOW_STATES:
                # a 红字确认单 report about a red request: it concerns the form, which the red
                # workflow (the caller polling it, or reconcile) follows; the red request's
                # own state only moves when the red invoice is issued
                log.debug(
                    "red form callback for order %s left to the red workflow", status.order_id
                )
                continue
            await self.kernel.apply(record, status, EventSource.CALLBACK)
        return result

    def _verify(
        self,
        profile: str,
        headers: Mapping[str, str],
        body: bytes,
        query: Mapping[str, str] | None,
    ) -> CallbackResult:
        name = self.kernel.providers.provider_name(profile)
        if not self.kernel.providers.capabilities(profile).supports(Operation.CALLBACK):
            raise CallbackRejected(  # a refusal the sender can see, not "unavailable"
                f"profile {profile} ({name}) takes no callbacks: it is followed by polling",
                message_zh=f"配置档 {profile}（{name}）不接收回调：其状态通过查询获取",
                provider=name,
            )
        provider = self.kernel.providers.get(profile)
        try:
            return provider.verify_callback(headers, body, query)
        except FapiaoError:
            raise
        except Exception as exc:  # the plugin could not read it: a refusal, not a crash
            detail = self.kernel.providers.scrub(f"{type(exc).__name__}: {exc}")[:200]
            log.warning("callback for profile %s refused: malformed (%s)", profile, detail)
            raise CallbackRejected(
                f"malformed callback: {detail}",
                message_zh=f"回调内容无法解析：{detail}",
                provider=name,
            ) from exc
