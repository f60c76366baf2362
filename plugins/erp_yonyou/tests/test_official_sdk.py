"""The official Yonyou Python SDK (yonyouopenapisdk1 0.0.2), unchanged, against the simulator.

Install it with ``pip install --no-deps yonyouopenapisdk1==0.0.2 requests pycryptodomex`` (its
metadata lists stdlib modules as PyPI requirements, so a plain install fails).
"""

from __future__ import annotations

import json
import time

import pytest

# Yonyou's official SDK (yonyouopenapisdk1, installed by tox): missing must fail, not skip
from yonbip_open_api_sdk import request_opt, sign_opt, token_opt
from yonbip_open_event_sdk import event_opt

from fapiao_erp_yonyou.signing import decrypt_event, encrypt_event, event_signature, token_signature


def test_our_token_signature_is_the_sdks(simulator) -> None:
    key, secret = simulator.config.app_key, simulator.config.app_secret
    data = sign_opt.opt_sort_data({"appKey": key, "timestamp": "1700000000000"})
    assert sign_opt.opt_sha256(secret, data).decode() == token_signature(
        key, secret, "1700000000000"
    )


def test_sdk_gets_a_token_and_lists_sales_invoices(simulator, server) -> None:
    key, secret = simulator.config.app_key, simulator.config.app_secret
    token = token_opt.opt_self_token(key, secret, server.base_url)
    assert token["expire"] == 7200
    assert token["access_token"] in simulator.tokens
    response = request_opt.opt_self_app_request_with_access_token(
        "post",
        server.base_url + "/iuap-api-gateway/yonbip/sd/vouchersaleinvoice/list",
        {},
        json.dumps(
            {
                "pageIndex": 1,
                "pageSize": 5,
                "isSum": True,
                "simpleVOs": [{"field": "status", "op": "eq", "value1": "1"}],
            }
        ),
        {},
        token["access_token"],
    )
    body = response.json()
    assert body["code"] == "200"
    assert body["data"]["recordCount"] == 11
    assert len(body["data"]["recordList"]) == 5
    assert body["data"]["pageCount"] == 3


def test_sdk_detail_with_cached_token(simulator, server) -> None:
    doc_id = next(iter(simulator.documents["saleinvoice"]))
    info = {
        "app_key": simulator.config.app_key,
        "app_secret": simulator.config.app_secret,
        "token_url": server.base_url,
    }
    response = request_opt.opt_self_app_request_with_cache(
        "get",
        server.base_url + "/iuap-api-gateway/yonbip/sd/vouchersaleinvoice/detail",
        {},
        None,
        {"id": str(doc_id)},
        info,
    )
    assert response.json()["data"]["id"] == doc_id


def test_simulator_refuses_a_forged_token_request(simulator, server) -> None:
    with pytest.raises(Exception, match="310003"):
        token_opt.opt_self_token(simulator.config.app_key, "f" * 32, server.base_url)


def test_sdk_decrypts_the_simulators_event_push(simulator) -> None:
    event = {"eventType": "SD_SALEINVOICE_AUDIT", "content": {"id": "1", "code": "TI1"}}
    envelope = simulator.envelope(event)
    decrypted = event_opt.decrypt_event_encrypt(simulator.config.app_secret, envelope)
    assert json.loads(decrypted["event_info"]) == event
    assert decrypted["suit_key"] == simulator.config.app_key


def test_event_signature_matches_the_sdks_algorithm() -> None:
    secret = "b569999441514b80a0c6ecb174173dfc"
    encrypted = encrypt_event("appkey1", secret, '{"eventType":"X"}')
    stamp = str(int(time.time() * 1000))
    ours = event_signature(secret, "nonce123", encrypted, stamp)
    theirs = sign_opt.opt_sha256(
        secret, sign_opt.opt_sort_array_data(["nonce123", encrypted, stamp])
    ).decode()
    assert ours == theirs
    assert decrypt_event(secret, encrypted, expected_app_key="appkey1") == '{"eventType":"X"}'
