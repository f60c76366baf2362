"""parse_invoice: untrusted JSON to an Invoice, or bilingual issues with field paths."""

from __future__ import annotations

import json

import pytest

from fapiao.errors import InvalidInvoice
from fapiao.models import Invoice
from fapiao.rules import parse_invoice

from .conftest import invoice_data, line


def issues_of(data, **kwargs):
    with pytest.raises(InvalidInvoice) as caught:
        parse_invoice(data, **kwargs)
    return [(i.code, i.path) for i in caught.value.issues], caught.value


def test_accepts_text_bytes_and_dicts() -> None:
    data = invoice_data()
    text = json.dumps(data, ensure_ascii=False)
    for source in (data, text, text.encode(), b"\xef\xbb\xbf" + text.encode()):
        assert isinstance(parse_invoice(source), Invoice)


def test_malformed_json_names_line_and_column() -> None:
    found, exc = issues_of('{"order_id": "x",\n  "kind": }', path_prefix="line 7")
    assert found == [("MALFORMED_JSON", "line 7")]
    assert "line 2" in exc.message_en and "第 2 行" in exc.message_zh


def test_not_utf8() -> None:
    found, _ = issues_of(b'{"order_id": "\xff"}')
    assert found == [("MALFORMED_JSON", "")]


def test_not_an_object() -> None:
    found, exc = issues_of("[1, 2]")
    assert found == [("INVALID_FIELD", "")]
    assert "list" in exc.message_en


def test_missing_unknown_float_type_and_enum() -> None:
    data = invoice_data(
        {"name": "纸", "tax_code": "1060102010000000000", "tax_rate": "0.13"},  # no amount
        line(amount=840.1),
        line(amount={"v": 1}),
        kind="vat",
        colour="blue",
    )
    found, _ = issues_of(data, path_prefix="line 3")
    assert set(found) == {
        ("MISSING_FIELD", "line 3: lines[0].amount"),
        ("FLOAT_NOT_ALLOWED", "line 3: lines[1].amount"),
        ("INVALID_FIELD", "line 3: lines[2].amount"),
        ("INVALID_FIELD", "line 3: kind"),
        ("UNKNOWN_FIELD", "line 3: colour"),
    }


def test_float_message_suggests_a_string() -> None:
    _, exc = issues_of(invoice_data(line(amount=840.1)))
    (only,) = exc.issues
    assert '"840.1"' in only.message_en and "浮点数" in only.message_zh


def test_enum_error_lists_the_choices() -> None:
    _, exc = issues_of(invoice_data(kind="vat"))
    (only,) = exc.issues
    assert "special" in (only.expected or "") and "可选" in only.message_zh


def test_empty_lines_is_reported_once() -> None:
    found, _ = issues_of(invoice_data(lines=[]))
    assert found == [("INVALID_FIELD", "lines")]
    found, _ = issues_of(invoice_data({"name": "x"}))
    assert ("INVALID_FIELD", "lines") not in found  # the item errors say it


def test_value_error_messages_keep_both_languages() -> None:
    _, exc = issues_of(invoice_data(line(amount="abc")))
    (only,) = exc.issues
    assert only.code == "INVALID_FIELD"
    assert "十进制" in only.message_zh and "decimal" in only.message_en
