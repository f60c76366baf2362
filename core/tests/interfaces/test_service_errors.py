"""How the gateway answers with canonical errors: the status and ``Retry-After`` follow the
error's class and category (not a list of codes), and what a remote caller reads never
shows the server's file layout."""

from __future__ import annotations

import uuid

from fapiao.checks.declarations import CLOSED_PORT_URL
from fapiao.demo.environment import ProfileSpec
from fapiao.errors import RateLimited
from fapiao.service.errors import error_response

DOWN_SELLER = "91110000802100433B"


def _order(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12].upper()}"


async def test_an_unreachable_provider_is_a_503_with_retry_after(gateway, sandboxes) -> None:
    down = ProfileSpec("down", sandboxes["baiwang"], [DOWN_SELLER], {"base_url": CLOSED_PORT_URL})
    async with gateway(engine={"unavailable_retries": 0}, extra=[down]) as (inst, _client, http):
        invoice = inst.invoice("baiwang", _order("SVC-DOWN"))
        invoice = invoice.model_copy(
            update={"seller": invoice.seller.model_copy(update={"tax_id": DOWN_SELLER})}
        )
        answer = await http.post("/v1/invoices", content=invoice.model_dump_json())
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "PROVIDER_UNAVAILABLE"
    assert answer.headers["retry-after"] == "1"


class Throttled(RateLimited):
    """A plugin's own kind of rate limiting, under a code the gateway has never heard of."""

    code = "TEST_THROTTLED"


def test_status_and_retry_after_follow_the_class_not_the_code() -> None:
    answer = error_response(Throttled("slow down", message_zh="请稍后"))
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "1"
    assert b'"TEST_THROTTLED"' in answer.body
