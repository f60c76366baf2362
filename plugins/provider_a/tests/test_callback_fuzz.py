"""Signed callbacks with generated content: the plugin verifies and either normalises them or
answers the protocol's refusal (``CallbackRejected``), never another exception (issue:
hostile input and broken peers — signed but malformed bodies gave unhandled 500s)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fapiao.errors import CallbackRejected
from fapiao_provider_a import NuonuoProvider
from fapiao_provider_a.protocol import CALLBACK_PATH
from fapiao_provider_a.signing import signed_query

from .conftest import DEMO_APP_KEY, DEMO_APP_SECRET, make_settings

_KEYS = [
    "c_status",
    "c_orderno",
    "c_fphm",
    "c_bhsje",
    "c_hjse",
    "c_kprq",
    "c_fpqqlsh",
    "c_saletaxnum",
    "c_invoice_type",
    "c_yfphm",
    "c_url",
    "c_resultmsg",
    "c_ofd_url",
]
_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.text(max_size=24)
    | st.sampled_from(["abc", "NaN", "1e999999999", "-5.00", "1", "2", "99", "2026-13-45"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_contents = st.one_of(
    st.dictionaries(st.sampled_from(_KEYS), _values, max_size=len(_KEYS)),
    _values,
    st.text(max_size=40),
)


@pytest.fixture(scope="module")
def offline() -> Iterator[NuonuoProvider]:
    """A provider that never needs the network: verifying a callback is local."""
    provider = NuonuoProvider(make_settings("http://127.0.0.1:9"))
    yield provider
    asyncio.run(provider.aclose())


def _signed(content: Any, operater: str) -> tuple[dict[str, str], bytes, dict[str, str]]:
    raw = content if isinstance(content, str) else json.dumps(content, default=str)
    body = urlencode({"operater": operater, "content": raw})
    query, signature = signed_query(DEMO_APP_SECRET, DEMO_APP_KEY, body, path=CALLBACK_PATH)
    return {"X-Nuonuo-Sign": signature}, body.encode(), query


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=_contents, operater=st.sampled_from(["callback", "redConfirmCallback", "other"]))
def test_generated_signed_callbacks_are_read_or_refused(
    offline: NuonuoProvider, content: Any, operater: str
) -> None:
    headers, body, query = _signed(content, operater)
    refusal: CallbackRejected | None = None
    try:
        result = offline.verify_callback(headers, body, query)
    except CallbackRejected as exc:
        refusal = exc
    if refusal is not None:
        assert refusal.code == "CALLBACK_REJECTED" and refusal.message_zh
        return
    assert result.replay_id == query["senid"]
    for status in result.statuses:
        assert status.seller_tax_id is not None


@pytest.mark.parametrize(
    "content",
    [
        ["a", "list"],
        '"a string"',
        "[" * 100_000 + "]" * 100_000,
        {"c_status": "1", "c_bhsje": "abc"},
    ],
    ids=["list", "string", "deep", "abc"],
)
def test_the_issue_cases_are_refused_by_the_plugin_itself(
    offline: NuonuoProvider, content: Any
) -> None:
    with pytest.raises(CallbackRejected):
        offline.verify_callback(*_signed(content, "callback"))
