"""The durable ledger: every invoice request, its state, events, documents and red forms.

SQLite file by default, PostgreSQL by URL; migrations ship inside the package and run when a
ledger is opened. Writes are group-committed by one writer thread (``writer.py``) and
acknowledged only after their commit. The ledger owns the state machine too
(``fapiao.engine.ledger.states``: transitions, report ordering, the named sets of states).

    ledger = Ledger.open("sqlite:///fapiao.db")
    record, created = await ledger.reserve(key, provider_profile="p", provider="nuonuo",
                                           payload=invoice)
    await ledger.transition(key, InvoiceState.SUBMITTED, source="api")
"""

from fapiao.engine.ledger.records import (
    BatchRecord,
    DocumentRecord,
    EventSource,
    LedgerEvent,
    LedgerRecord,
    LedgerStats,
    RedConfirmationRecord,
    RequestKey,
    RequestKind,
)
from fapiao.engine.ledger.states import (
    HAS_INVOICE_STATES,
    RED_WORKFLOW_STATES,
    RESERVABLE_STATES,
    REVERSIBLE_STATES,
    SENT_UNSETTLED_STATES,
    UNSENT_STATES,
    UNSETTLED_STATES,
)
from fapiao.engine.ledger.store import DEFAULT_URL, Ledger
from fapiao.engine.ledger.writer import GroupCommitWriter, WriterStats

__all__ = [
    "DEFAULT_URL",
    "HAS_INVOICE_STATES",
    "RED_WORKFLOW_STATES",
    "RESERVABLE_STATES",
    "REVERSIBLE_STATES",
    "SENT_UNSETTLED_STATES",
    "UNSENT_STATES",
    "UNSETTLED_STATES",
    "BatchRecord",
    "DocumentRecord",
    "EventSource",
    "GroupCommitWriter",
    "Ledger",
    "LedgerEvent",
    "LedgerRecord",
    "LedgerStats",
    "RedConfirmationRecord",
    "RequestKey",
    "RequestKind",
    "WriterStats",
]
