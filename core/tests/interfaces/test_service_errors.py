"""How the gateway answers with canonical errors: the status and ``Retry-After`` follow the
error's class and category (not a list of codes), and what a remote caller reads never
shows the server's file layout (the CLI, run by a local person, still does)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from fapiao.checks.declarations import CLOSED_PORT_URL
from fapiao.demo.environment import ProfileSpec
from fapiao.errors import RateLimited
from fapiao.service import create_app
from fapiao.service.disclosure import without_server_paths
from fapiao.service.errors import error_response
from fapiao.service.schemas import ErrorBody

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


def _unrouted(inst: Any) -> Any:
    invoice = inst.invoice("baiwang", _order("SVC-UNROUTED"))
    return invoice.model_copy(
        update={"seller": invoice.seller.model_copy(update={"tax_id": "91110000802100433B"})}
    )


async def test_a_config_error_tells_a_remote_caller_no_server_path(gateway) -> None:
    async with gateway() as (inst, _client, http):
        answer = await http.post("/v1/invoices", content=_unrouted(inst).model_dump_json())
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "CONFIG_ERROR"
    config_dir = str(inst.config.parent.resolve())
    assert config_dir not in answer.text and "fapiao.toml" not in answer.text
    assert "[routing]" in error["message_en"] and "[routing]" in error["message_zh"]
    assert "the server's configuration" in error["message_en"]
    assert "服务端配置文件" in error["message_zh"]


def test_the_person_running_the_engine_is_still_told_which_file(install, cli) -> None:
    inst = install()
    local = cli("issue", inst.write_invoice(_unrouted(inst)), "--config", inst.config, "--json")
    assert local.exit_code == 1
    error = json.loads(local.stdout)["error"]
    assert error["code"] == "CONFIG_ERROR"
    assert str(inst.config.resolve()) in error["message_en"]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("in /srv/fapiao/fapiao.toml.", "in the server's configuration."),
        ("/srv/fapiao/fapiao.toml:12 [routing]", "the server's configuration [routing]"),
        ("No such file: '/var/lib/fapiao/secrets.enc'", "No such file: 'a file on the server'"),
        ("cannot reach https://api.example.com/v1/issue", None),
        ("zh / en", None),
        ("relative/path.toml", None),
    ],
)
def test_what_counts_as_a_server_path(text: str, shown: str | None) -> None:
    assert without_server_paths(text, "en") == (text if shown is None else shown)


async def test_an_unexpected_failure_is_still_a_canonical_answer() -> None:
    app = create_app(object())  # type: ignore[arg-type]  # a client without a ledger
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as http:
        answer = await http.get("/v1/status")
    assert answer.status_code == 500
    error = ErrorBody.model_validate(answer.json()).error
    assert error.code == "INTERNAL_ERROR"
    assert error.message_zh and error.message_en
    assert "AttributeError" not in answer.text and "ledger" not in answer.text
