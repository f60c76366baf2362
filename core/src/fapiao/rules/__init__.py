"""数电 domain rules as pure functions: tax IDs, the national tax code table, rates,
arithmetic, 大写金额, discount lines, red reversal, and parsing untrusted JSON.

No I/O beyond reading the packaged code table; providers, the engine and the CLI all call
these same functions, so an invoice is judged the same way everywhere.
"""

from fapiao.rules.amount_words import MAX_AMOUNT_IN_WORDS, amount_in_words
from fapiao.rules.arithmetic import (
    LINE_TAX_TOLERANCE,
    TOTAL_TAX_TOLERANCE,
    InvoiceTotals,
    LineTotals,
    compute_totals,
    line_tax,
    round_cent,
    split_gross,
)
from fapiao.rules.discount import check_discounts, line_nature
from fapiao.rules.parse import format_loc, issues_from_validation_error, load_json, parse_invoice
from fapiao.rules.rates import ALLOWED_RATES, SIMPLIFIED_RATES, check_line_rate, format_rate
from fapiao.rules.red import check_red_reversal, ensure_red_reversal, red_lines, reversible_lines
from fapiao.rules.tax_codes import TaxCodeEntry, TaxCodeTable, item_display_name, tax_code_table
from fapiao.rules.tax_id import (
    USCC_ALPHABET,
    check_tax_id,
    is_legacy_tax_id,
    is_valid_resident_id,
    is_valid_uscc,
    uscc_check_char,
)
from fapiao.rules.validate import check_invoice, ensure_valid, validate_invoice

__all__ = [
    "ALLOWED_RATES",
    "LINE_TAX_TOLERANCE",
    "MAX_AMOUNT_IN_WORDS",
    "SIMPLIFIED_RATES",
    "TOTAL_TAX_TOLERANCE",
    "USCC_ALPHABET",
    "InvoiceTotals",
    "LineTotals",
    "TaxCodeEntry",
    "TaxCodeTable",
    "amount_in_words",
    "check_discounts",
    "check_invoice",
    "check_line_rate",
    "check_red_reversal",
    "check_tax_id",
    "compute_totals",
    "ensure_red_reversal",
    "ensure_valid",
    "format_loc",
    "format_rate",
    "is_legacy_tax_id",
    "is_valid_resident_id",
    "is_valid_uscc",
    "issues_from_validation_error",
    "item_display_name",
    "line_nature",
    "line_tax",
    "load_json",
    "parse_invoice",
    "red_lines",
    "reversible_lines",
    "round_cent",
    "split_gross",
    "tax_code_table",
    "uscc_check_char",
    "validate_invoice",
]
