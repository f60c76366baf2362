"""Signing and password digests, checked against the platform's published recipe."""

from __future__ import annotations

import hashlib

import pytest

from fapiao_provider_b.protocol import Method, dumps
from fapiao_provider_b.signing import (
    digest_password,
    public_params,
    sign,
    sign_matches,
    string_to_sign,
)

SECRET = "17cf4015-44db-4f70-ba5e-9fb970beb5ff"


def test_sign_matches_the_published_v6_recipe_written_out_by_hand() -> None:
    # The public recipe for a v6.0 call: secret, then key+value of the sorted public
    # parameters, then the compact JSON body, then the secret; MD5, upper-case hex.
    params = {
        "method": Method.QUERY,
        "version": "6.0",
        "appKey": "1003084",
        "format": "json",
        "timestamp": "1716285600000",
        "token": "abc123",
        "type": "sync",
    }
    body = '{"taxNo":"91110108MA01BW000C","data":{"serialNos":["A1"]}}'
    by_hand = (
        f"{SECRET}appKey1003084formatjsonmethod{Method.QUERY}timestamp1716285600000"
        f"tokenabc123typesyncversion6.0{body}{SECRET}"
    )
    expected = hashlib.md5(by_hand.encode()).hexdigest().upper()
    assert sign(params, body.encode(), SECRET) == expected
    assert expected.isupper() and len(expected) == 32


def test_v7_parameters_join_the_signature_in_sorted_order() -> None:
    params = public_params(Method.RED_ADD, app_key="k", token="t", request_id="r", timestamp_ms=1)
    assert params["version"] == "7.0"
    assert (params["signType"], params["encryptType"], params["encryptScope"]) == (
        "MD5",
        "NONE",
        "00",
    )
    text = string_to_sign(params, b"{}", "s").decode()
    assert text == (
        "sappKeykencryptScope00encryptTypeNONEformatjsonmethod"
        f"{Method.RED_ADD}requestIdrsignTypeMD5timestamp1tokenttypesyncversion7.0{{}}s"
    )


def test_sign_skips_empty_values_and_the_sign_itself() -> None:
    base = {"method": "m", "appKey": "k", "timestamp": "1"}
    with_noise = {**base, "token": "", "orgAuthCode": "  ", "sign": "WHATEVER"}
    assert sign(with_noise, b"{}", SECRET) == sign(base, b"{}", SECRET)


def test_body_bytes_are_signed_exactly() -> None:
    params = {"method": "m", "appKey": "k", "timestamp": "1"}
    compact = dumps({"a": 1, "b": "中文"})
    assert compact == '{"a":1,"b":"中文"}'.encode()
    spaced = b'{"a": 1, "b": "\\u4e2d\\u6587"}'
    assert sign(params, compact, SECRET) != sign(params, spaced, SECRET)


def test_sign_matches_accepts_lower_case_and_refuses_a_changed_byte() -> None:
    params = {"method": "m", "appKey": "k", "timestamp": "1"}
    body = b'{"amount":100.00}'
    good = {**params, "sign": sign(params, body, SECRET).lower()}
    assert sign_matches(good, body, SECRET)
    assert not sign_matches(good, b'{"amount":100.01}', SECRET)
    assert not sign_matches(good, body, SECRET + "x")
    assert not sign_matches(params, body, SECRET)  # no sign at all


@pytest.mark.parametrize(
    ("scheme", "expected"),
    [
        ("sha256", lambda raw: hashlib.sha256(raw).hexdigest()),
        ("md5_sha1", lambda raw: hashlib.sha1(hashlib.md5(raw).hexdigest().encode()).hexdigest()),
    ],
)
def test_password_digests(scheme: str, expected: object) -> None:
    raw = b"a123456" + b"94db610c5c3049df8da3e9ac91390015"
    digest = digest_password("a123456", "94db610c5c3049df8da3e9ac91390015", scheme)  # type: ignore[arg-type]
    assert digest == expected(raw)  # type: ignore[operator]
    assert digest != "a123456"


def test_password_digest_without_salt() -> None:
    assert digest_password("pw", None, "sha256") == hashlib.sha256(b"pw").hexdigest()


def test_public_params_carry_a_fresh_request_id_and_millisecond_timestamp() -> None:
    first = public_params(Method.QUERY, app_key="k", token="t")
    second = public_params(Method.QUERY, app_key="k", token="t")
    assert first["requestId"] != second["requestId"]
    assert len(first["timestamp"]) == 13 and first["timestamp"].isdigit()
    assert "signType" not in first  # v6.0 methods carry no v7 parameters
    assert public_params(Method.QUERY, app_key="k", token=None).get("token") is None
