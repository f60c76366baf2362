"""Taxpayer IDs: GB 32100 check characters on published codes, legacy IDs, resident IDs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fapiao.rules import (
    USCC_ALPHABET,
    check_tax_id,
    is_valid_resident_id,
    is_valid_uscc,
    uscc_check_char,
)

# Published unified social credit codes of well-known companies (business licence / annual
# reports): each must validate, which checks the weights, the alphabet and the formula.
PUBLISHED = [
    "914403001922038216",  # 华为技术有限公司
    "91440300708461136T",  # 深圳市腾讯计算机系统有限公司
    "91330100799655058B",  # 阿里巴巴（中国）有限公司
]


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_codes_validate(code: str) -> None:
    assert is_valid_uscc(code)
    assert uscc_check_char(code[:17]) == code[17]


def test_weights_follow_the_standard() -> None:
    from fapiao.rules.tax_id import USCC_WEIGHTS

    assert USCC_WEIGHTS[:6] == (1, 3, 9, 27, 19, 26)
    assert USCC_WEIGHTS[-1] == 28


@pytest.mark.parametrize("bad", ["91440300708461136I", "9144030070846113OT", "91440300708461136"])
def test_bad_alphabet_or_length_is_invalid(bad: str) -> None:
    assert not is_valid_uscc(bad)


first17 = st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17)


@given(first17)
def test_appended_check_char_always_validates(body: str) -> None:
    assert is_valid_uscc(body + uscc_check_char(body))


@given(first17, st.integers(0, 17), st.integers(1, 30))
def test_any_single_substitution_is_detected(body: str, pos: int, shift: int) -> None:
    code = body + uscc_check_char(body)
    changed = USCC_ALPHABET[(USCC_ALPHABET.index(code[pos]) + shift) % 31]
    assert not is_valid_uscc(code[:pos] + changed + code[pos + 1 :])


@given(first17, st.integers(0, 16))
def test_adjacent_transpositions_are_detected(body: str, pos: int) -> None:
    code = body + uscc_check_char(body)
    if code[pos] == code[pos + 1]:
        return
    swapped = code[:pos] + code[pos + 1] + code[pos] + code[pos + 2 :]
    assert not is_valid_uscc(swapped)


def test_resident_id_examples_from_gb11643() -> None:
    assert is_valid_resident_id("11010519491231002X")
    assert is_valid_resident_id("440524188001010014")
    assert not is_valid_resident_id("110105194912310021")


def test_check_tax_id_reports_specific_problems() -> None:
    assert check_tax_id(None, "buyer.tax_id", required=False) == []
    (missing,) = check_tax_id("", "seller.tax_id", required=True)
    assert (missing.code, missing.path) == ("MISSING_TAX_ID", "seller.tax_id")

    (short,) = check_tax_id("9111010812345", "buyer.tax_id", required=True)
    assert short.code == "INVALID_TAX_ID" and "13" in short.message_en and "13" in short.message_zh

    wrong = PUBLISHED[0][:17] + "7"
    (checked,) = check_tax_id(wrong, "seller.tax_id", required=True)
    assert checked.code == "INVALID_TAX_ID"
    assert "'6'" in checked.message_en and "“6”" in checked.message_zh

    (lower,) = check_tax_id(PUBLISHED[1].lower(), "x", required=True)
    assert lower.code == "INVALID_TAX_ID" and "upper case" in lower.message_en

    for legacy in ("440104190283746", "44010419028374612", "44010419900101123401"):
        (warn,) = check_tax_id(legacy, "buyer.tax_id", required=True)
        assert warn.code == "LEGACY_TAX_ID" and warn.warning

    (bad_legacy,) = check_tax_id("44010419028374-", "buyer.tax_id", required=True)
    assert bad_legacy.code == "INVALID_TAX_ID" and not bad_legacy.warning


def test_natural_person_may_use_resident_id() -> None:
    assert (
        check_tax_id("11010519491231002X", "buyer.tax_id", required=False, natural_person=True)
        == []
    )
    (issue,) = check_tax_id("11010519491231002X", "buyer.tax_id", required=True)
    assert issue.code == "INVALID_TAX_ID"
