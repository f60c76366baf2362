"""The gateway driven by its own OpenAPI document (schemathesis): a real ``fapiao serve``
subprocess on loopback, in front of both provider sandboxes, is sent requests generated from
the schema, with and without the bearer token. Every answer must be one the document lists
(status and content type) and none may be a 5xx (issue: hostile input and broken peers).

The budget is fixed (``max_examples`` per operation) so the suite's time stays bounded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from fapiao.contract import SandboxOptions
from fapiao.demo.environment import ProfileSpec, StartedSandboxes, start_sandboxes
from fapiao.demo.environment import write_installation as write
from fapiao.service.bodies import INVOICE_EXAMPLE

TOKEN = "schemathesis-token-1"


def _started(process: subprocess.Popen[str]) -> dict[str, Any]:
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("}"):
            break
    started: dict[str, Any] = json.loads("".join(lines))
    return started


@pytest.fixture(scope="module")
def example_sandboxes() -> Iterator[StartedSandboxes]:
    """Both sandboxes; Baiwang's also knows the seller of the document's example invoice."""
    seller = INVOICE_EXAMPLE["seller"]["tax_id"]
    options = {
        "nuonuo": SandboxOptions(issue_delay_seconds=0.05),
        "baiwang": SandboxOptions(seller_tax_ids=(seller,)),
    }
    with start_sandboxes(options) as started:
        yield started


@pytest.fixture(scope="module")
def served(
    example_sandboxes: StartedSandboxes, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    home = tmp_path_factory.mktemp("schemathesis")
    nuonuo, baiwang = example_sandboxes["nuonuo"], example_sandboxes["baiwang"]
    example_seller = INVOICE_EXAMPLE["seller"]["tax_id"]
    assert example_seller in baiwang.seller_tax_ids
    config, _secrets = write(
        home,
        [
            ProfileSpec("hz", nuonuo, [nuonuo.seller_tax_ids[0]], settings={"timeout_seconds": 5}),
            ProfileSpec(
                "bj",
                baiwang,
                sorted({baiwang.seller_tax_ids[0], example_seller}),
                settings={"timeout_seconds": 5},
            ),
        ],
        engine={"documents_dir": "documents"},
    )
    fapiao = str(Path(sys.executable).with_name("fapiao"))
    env = {**os.environ, "FAPIAO_API_TOKEN": TOKEN}
    process = subprocess.Popen(
        [fapiao, "serve", "--port", "0", "--json", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=home,  # the installation's relative paths (ledger, documents) are its own
    )
    try:
        url = str(_started(process)["url"])
        deadline = time.monotonic() + 20
        while True:  # listening and answering before the first generated request
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.05)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
        assert "Traceback" not in err, err[-3000:]


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance]
_BUDGET = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))


def _operations(served: str) -> list[Any]:
    """Every operation of the served document (schemathesis's own pytest integration does
    not load under this pytest, so its strategies are driven with hypothesis directly)."""
    schema = schemathesis.openapi.from_url(f"{served}/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("authorised", [True, False], ids=["token", "anonymous"])
def test_every_answer_is_documented_and_none_is_a_5xx(served: str, authorised: bool) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"} if authorised else {}
    operations = _operations(served)
    assert len(operations) >= 10, [o.label for o in operations]
    seen: dict[str, set[int]] = defaultdict(set)
    for operation in operations:

        @_BUDGET
        @given(case=operation.as_strategy())
        def exchange(case: Any) -> None:
            response = case.call_and_validate(
                base_url=served, headers=headers, checks=CHECKS, timeout=30
            )
            seen[case.operation.label].add(response.status_code)

        exchange()
    # the generator reached every operation, and the refusals it provoked were answered
    assert set(seen) == {o.label for o in operations}, seen
    statuses = set().union(*seen.values())
    assert statuses & ({200, 202} if authorised else {401}), seen
    assert 422 in statuses or not authorised, seen


def test_the_documented_example_issues_an_invoice(served: str) -> None:
    """The positive case: the request the document itself gives as its example (README's
    invoice) is valid, is routed, and is issued — once, however often it is sent."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    (issue,) = [o for o in _operations(served) if o.label == "POST /v1/invoices"]
    answers: list[tuple[int, Any]] = []
    for strategy in issue.get_strategies_from_examples():

        @_BUDGET
        @given(case=strategy)
        def exchange(case: Any) -> None:
            response = case.call_and_validate(
                base_url=served, headers=headers, checks=CHECKS, timeout=30
            )
            answers.append((response.status_code, response.json()))

        exchange()
    assert answers, "the document gives no example for POST /v1/invoices"
    issued = [body for status, body in answers if status == 200]
    # the example itself is issued (schemathesis also combines field-level examples, which
    # may be invalid: those are refused, and none is a server error — the checks say so)
    assert issued and all(b["order_id"] == INVOICE_EXAMPLE["order_id"] for b in issued), answers
    assert len({b["invoice_number"] for b in issued}) == 1, issued  # once, however often sent
    assert all(b["state"] == "issued" for b in issued), issued
