"""Secrets never leave in clear; tax IDs and phones are masked in anything logged."""

from __future__ import annotations

from fapiao.masking import Scrubber, mask_phone, mask_tax_id, mask_text


def test_mask_tax_id_and_phone() -> None:
    assert mask_tax_id("91310115MA1K4F2N2X") == "9131**********2N2X"
    assert mask_phone("13812345678") == "138****5678"


def test_mask_text_finds_ids_and_phones_but_not_invoice_numbers() -> None:
    text = "seller 91310115MA1K4F2N2X buyer tel 13812345678 office 021-61234567 inv 25312000000012345678"
    masked = mask_text(text)
    assert "91310115MA1K4F2N2X" not in masked
    assert "13812345678" not in masked
    assert "021-61234567" not in masked
    assert "25312000000012345678" in masked  # a 20-digit invoice number stays readable


def test_scrubber_removes_known_secrets_and_secret_keys() -> None:
    scrubber = Scrubber(["S3cr3t-app-secret", "tok-abcdef123456"])
    transcript = (
        '{"appSecret": "S3cr3t-app-secret", "access_token": "whatever", "note": "x"}\n'
        "accessToken: tok-abcdef123456\n"
        "GET /x?sign=abc%2B&appkey=K1 Authorization: Bearer eyJhbGciOi.payload.sig"
    )
    out = scrubber.scrub(transcript)
    assert "S3cr3t-app-secret" not in out
    assert "tok-abcdef123456" not in out
    assert '"access_token": "***"' in out
    assert "sign=***" in out
    assert "eyJhbGciOi" not in out
    assert '"note": "x"' in out
