"""The connector against the simulator: incremental pulls, bad input, idempotent write-back."""

from __future__ import annotations

import importlib.metadata as md
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from fapiao.sandboxkit.server import RunningServer
from fapiao.sdk import (
    AuthFailed,
    ConfigError,
    Connector,
    InvalidInvoice,
    InvoiceState,
    RedReason,
    SourceDocument,
    WriteBack,
)
from fapiao_erp_sap import SapConnector, SapSettings
from fapiao_erp_sap.cursor import BillingCursor
from fapiao_erp_sap.simulator import SapSimulator, example_settings


async def pull(connector: SapConnector, cursor: str | None = None) -> list[SourceDocument]:
    return [doc async for doc in connector.pending(cursor)]


def test_entry_point_and_protocol(settings: SapSettings) -> None:
    (entry,) = [e for e in md.entry_points(group="fapiao.connectors") if e.name == "sap"]
    assert entry.load() is SapConnector
    assert isinstance(SapConnector(settings), Connector)


async def test_pending_is_oldest_first_and_resumes_after_its_cursor(
    settings: SapSettings, sim: SapSimulator
) -> None:
    async with SapConnector(settings) as connector:
        everything = await pull(connector)
        positions = [BillingCursor.parse(d.cursor) for d in everything]
        assert positions == sorted(positions) and len(set(positions)) == len(positions)
        # Already-issued documents (the history pair and the F2s they reverse) are not offered.
        ids = [d.id for d in everything]
        assert "90000001" not in ids and "90000002" not in ids
        assert {d.id for d in everything if d.kind == "red"} == {"90000003", "90000004"}
        # Three documents share one millisecond (a billing run) and straddle pages of 4.
        stamps = [d.changed_at for d in everything]
        assert max(stamps.count(s) for s in stamps) == 3
        group = [i for i, s in enumerate(stamps) if stamps.count(s) == 3]
        for split in sorted({0, *group, len(everything) - 2}):
            rest = await pull(connector, everything[split].cursor)
            assert [d.id for d in rest] == ids[split + 1 :]
        assert await pull(connector, everything[-1].cursor) == []


async def test_changed_and_new_documents_show_up_after_the_cursor(
    settings: SapSettings, sim: SapSimulator
) -> None:
    async with SapConnector(settings) as connector:
        last = (await pull(connector))[-1].cursor
        sim.data.touch("90000010")
        credit = sim.data.credit_memo("90000002", {"20": Decimal(10)})
        later = await pull(connector, last)
        assert [d.id for d in later] == ["90000010", credit]
        red = connector.map(later[1]).red
        assert red is not None and red.reason is RedReason.SALES_ALLOWANCE
        assert red.original_invoice_number == "25312000000000000102"
        assert [(line.original_line, str(line.amount)) for line in red.lines] == [(1, "355.00")]


async def test_since_date_cursor_and_bad_cursor(settings: SapSettings, sim: SapSimulator) -> None:
    async with SapConnector(settings) as connector:
        assert len(await pull(connector, "2025-03-04")) == 0
        assert len(await pull(connector, "2025-03-03")) == len(await pull(connector))
        with pytest.raises(Exception, match="cursor"):
            await pull(connector, "yesterday")


async def test_bad_documents_are_reported_and_the_rest_goes_on(settings: SapSettings) -> None:
    mapped, failed = [], {}
    async with SapConnector(settings) as connector:
        for document in await pull(connector):
            try:
                mapped.append(connector.map(document))
            except InvalidInvoice as exc:
                failed[document.id] = {i.code for i in exc.issues}
    assert failed == {
        "90000008": {"CURRENCY_NOT_SUPPORTED", "MISSING_TAX_ID"},  # USD, foreign buyer
        "90000012": {"UNKNOWN_MATERIAL"},
        "90000016": {"MISSING_TAX_ID"},  # 专票 for a buyer with no CN5 number
    }
    invoices = [m.invoice for m in mapped if m.invoice]
    reds = [m.red for m in mapped if m.red]
    assert len(invoices) == 21 and len(reds) == 2
    person = next(i for i in invoices if i.buyer.natural_person)
    assert person.kind.value == "normal" and person.buyer.tax_id is None
    assert {i.seller.tax_id for i in invoices} == {"91310115MA1K4LHX27", "91440300MA5F7GQK10"}


async def test_write_back_is_idempotent_and_takes_documents_out_of_pending(
    settings: SapSettings, sim: SapSimulator
) -> None:
    outcome = WriteBack(
        source_id="90000005",
        order_id="90000005",
        state=InvoiceState.ISSUED,
        invoice_number="25312000000000000505",
        issued_at=datetime(2025, 3, 4, 9, 30, tzinfo=UTC),
        document_urls={"pdf": "https://files.example.cn/25312000000000000505.pdf"},
    )
    async with SapConnector(settings) as connector:
        await connector.write_back(outcome)
        first = dict(sim.data.table("InvoiceResultSet")[("90000005",)])
        await connector.write_back(outcome)
        second = dict(sim.data.table("InvoiceResultSet")[("90000005",)])
        first.pop("LastChangeDateTime"), second.pop("LastChangeDateTime")
        assert first == second
        assert (second["Status"], second["InvoiceNumber"]) == ("issued", "25312000000000000505")
        assert second["PdfUrl"].endswith(".pdf") and second["OfdUrl"] is None
        assert len(sim.data.table("InvoiceResultSet")) == 3
        assert sim.count("GET", "ZFAPIAO_INVOICE_SRV/") == 1  # one CSRF fetch for both writes
        read = await connector.read_back("90000005")
        assert read is not None and read["IssueDateTime"].startswith("/Date(1741080600000")
        assert "90000005" not in [d.id for d in await pull(connector)]

        # A failure written back keeps the document pending; a later success replaces it.
        failed = WriteBack(
            source_id="90000006",
            order_id="90000006",
            state=InvoiceState.FAILED,
            error_code="QUOTA_EXCEEDED",
            error_message="授信额度不足 / quota exceeded",
        )
        await connector.write_back(failed)
        assert "90000006" in [d.id for d in await pull(connector)]


async def test_csrf_token_is_fetched_again_after_the_session_expires(
    settings: SapSettings, sim: SapSimulator
) -> None:
    outcome = WriteBack(source_id="90000007", order_id="90000007", state=InvoiceState.ISSUING)
    async with SapConnector(settings) as connector:
        await connector.write_back(outcome)
        sim.expire_sessions()
        await connector.write_back(
            outcome.model_copy(
                update={"state": InvoiceState.ISSUED, "invoice_number": "25312000000000000707"}
            )
        )
    assert sim.count("GET", "ZFAPIAO_INVOICE_SRV/") == 2
    assert sim.count("PUT", "InvoiceResultSet") == 3  # one refused with x-csrf-token: Required
    assert sim.data.table("InvoiceResultSet")[("90000007",)]["Status"] == "issued"


async def test_cancellation_after_issue_becomes_a_red_request(
    settings: SapSettings, sim: SapSimulator
) -> None:
    async with SapConnector(settings) as connector:
        cursor = (await pull(connector))[-1].cursor
        await connector.write_back(
            WriteBack(
                source_id="90000009",
                order_id="90000009",
                state=InvoiceState.ISSUED,
                invoice_number="25312000000000000909",
                issued_at=datetime(2025, 3, 4, tzinfo=UTC),
            )
        )
        s1 = sim.data.cancel("90000009")
        later = await pull(connector, cursor)
        # The cancelled F2 changed too, but it is issued already: only the S1 is pending.
        assert [d.id for d in later] == [s1]
        red = connector.map(later[0]).red
        assert red is not None and red.is_full and red.reason is RedReason.INVOICING_ERROR
        assert red.original_invoice_number == "25312000000000000909"
        # Cancelling an invoice that was never issued leaves nothing to do.
        sim.data.cancel("90000010")
        assert [d.id for d in await pull(connector, later[0].cursor)] == []


async def test_oauth_client_credentials(server: RunningServer, sim: SapSimulator, mapping) -> None:
    settings = example_settings(
        server.base_url,
        sim,
        material_mapping=mapping,
        auth="oauth",
        username=None,
        password=None,
        token_url=f"{server.base_url}/oauth/token",
        client_id="sb-fapiao-client",
        client_secret="sim-client-secret",
    )
    async with SapConnector(settings) as connector:
        assert len(await pull(connector)) == 26
        sim.expire_sessions()  # the bearer token is revoked: one new token, then on
        assert len(await pull(connector)) == 26
    assert sim.count("GET", "A_BillingDocument") > 0


async def test_wrong_credentials_raise_auth_failed_and_secrets_stay_out(
    server: RunningServer, sim: SapSimulator, mapping
) -> None:
    settings = example_settings(
        server.base_url, sim, material_mapping=mapping, password="Wrong-Secret-42"
    )
    async with SapConnector(settings) as connector:
        with pytest.raises(AuthFailed) as excinfo:
            await pull(connector)
        assert "Wrong-Secret-42" not in str(excinfo.value)
        assert connector.scrub("basic FAPIAO_COMM:Wrong-Secret-42") == "basic FAPIAO_COMM:***"
    assert "Wrong-Secret-42" not in repr(settings)


@pytest.mark.parametrize(
    ("auth", "cleared", "named"),
    [
        ("basic", {"password": None}, "connectors.sap.password"),
        ("oauth", {"client_id": None}, "connectors.sap.token_url, connectors.sap.client_id"),
    ],
)
def test_incomplete_log_on_is_a_bilingual_config_error_even_unvalidated(
    settings: SapSettings, auth: str, cleared: dict[str, None], named: str
) -> None:
    # The validator refuses these settings; model_construct skips it, as a careless caller
    # might, and the connector still refuses with a ConfigError naming the setting (an assert
    # would vanish under python -O and fail later with a TypeError).
    values = {**dict(settings), "auth": auth, **cleared}
    with pytest.raises(ValueError, match=f"auth '{auth}' needs"):
        SapSettings.model_validate(values)
    with pytest.raises(ConfigError) as excinfo:
        SapConnector(SapSettings.model_construct(**values))
    error = excinfo.value
    assert named in error.message_en and named in error.message_zh
    assert "认证方式" in error.message_zh
    assert error.field == named.split(", ")[0]
