"""What every sandbox remembers (``SandboxMemory``): counters, the credit line, used invoices."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from fapiao.sandboxkit import SandboxMemory

D = Decimal


@dataclass
class Record:
    used: bool = False


def test_credit_is_consumed_within_the_line_and_given_back() -> None:
    memory = SandboxMemory[Record](province="31")
    assert memory.use_credit("S", D("600.00"), D("1000.00"))
    assert not memory.use_credit("S", D("400.01"), D("1000.00"))  # beyond: nothing taken
    assert memory.credit_used == {"S": D("600.00")}
    assert memory.use_credit("S", D("-100.00"), D("1000.00"))  # a red invoice gives back
    assert memory.use_credit("S", D("500.00"), D("1000.00"))
    assert memory.credit_used["S"] == D("1000.00")


def test_counters_and_a_used_invoice() -> None:
    memory = SandboxMemory[Record](province="31")
    memory.count("issued")
    memory.count("issued")
    assert memory.counters == {"issued": 2}
    memory.by_number["26310000000000000001"] = record = Record()
    memory.mark_used("26310000000000000001")
    assert record.used
    with pytest.raises(KeyError):
        memory.mark_used("26310000000000000002")
    assert memory.numbers.next("91310000MA1FL8XQ37").startswith(str(memory.clock.now().year)[2:])
