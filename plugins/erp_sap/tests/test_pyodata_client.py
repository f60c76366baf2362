"""SAP's own Python OData client (pyodata), unchanged, against the simulator."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pyodata  # SAP's OData client, a tox test dependency: missing must fail, not skip
import pytest
import requests

from fapiao.sandboxkit.server import RunningServer
from fapiao_erp_sap.simulator import SapSimulator

from .conftest import PASSWORD, USER

ROOT = "/sap/opu/odata/sap"


@pytest.fixture
def session() -> requests.Session:
    with requests.Session() as s:
        s.auth = (USER, PASSWORD)
        yield s


def test_pyodata_reads_metadata_filters_pages_and_expands(
    server: RunningServer, sim: SapSimulator, session: requests.Session
) -> None:
    service = pyodata.Client(f"{server.base_url}{ROOT}/API_BILLING_DOCUMENT_SRV", session)
    assert "A_BillingDocument" in {s.name for s in service.schema.entity_sets}

    documents = sim.data.documents()
    since: datetime = documents[5]["LastChangeDateTime"]
    expected = [d["BillingDocument"] for d in documents if d["LastChangeDateTime"] > since]

    request = service.entity_sets.A_BillingDocument.get_entities()
    first = (
        request.filter(request.LastChangeDateTime > since)
        .expand("to_Item,to_Partner")
        .order_by("LastChangeDateTime asc,BillingDocument asc")
        .count(inline=True)
        .execute()
    )
    assert first.total_count == len(expected)
    assert len(first) == sim.page_size and first.next_url
    seen = list(first)
    next_url = first.next_url
    while next_url:
        page = service.entity_sets.A_BillingDocument.get_entities().next_url(next_url).execute()
        seen.extend(page)
        next_url = page.next_url
    assert [d.BillingDocument for d in seen] == expected

    sample = seen[0]
    assert isinstance(sample.LastChangeDateTime, datetime) and sample.LastChangeDateTime > since
    assert Decimal(sample.TotalNetAmount) == sum(Decimal(i.NetAmount) for i in sample.to_Item)
    assert {p.PartnerFunction for p in sample.to_Partner} == {"AG", "RE", "RG", "WE"}

    count = service.entity_sets.A_BillingDocument.get_entities().count().execute()
    assert count == len(documents)

    one = service.entity_sets.A_BillingDocument.get_entity("90000003").execute()
    assert one.BillingDocumentType == "S1" and one.CancelledBillingDocument == "90000001"
    items = one.nav("to_Item").get_entities().execute()
    assert [i.ReferenceSDDocument for i in items] == ["90000001"]


def test_pyodata_reads_business_partner_tax_number(
    server: RunningServer, session: requests.Session
) -> None:
    service = pyodata.Client(f"{server.base_url}{ROOT}/API_BUSINESS_PARTNER", session)
    partner = (
        service.entity_sets.A_BusinessPartner.get_entity("1000010")
        .expand("to_BusinessPartnerTax,to_BusinessPartnerAddress/to_PhoneNumber")
        .execute()
    )
    assert partner.OrganizationBPName1 == "北京华启网络科技有限公司"
    assert [(t.BPTaxType, t.BPTaxNumber) for t in partner.to_BusinessPartnerTax] == [
        ("CN5", "91110108MA01B2C3D0")
    ]
    assert partner.to_BusinessPartnerAddress[0].to_PhoneNumber[0].PhoneNumber == "010-62881234"
    request = service.entity_sets.A_BusinessPartnerTaxNumber.get_entities()
    rows = request.filter(request.BPTaxType == "CN5").execute()
    assert len(rows) == 4


def test_pyodata_writes_back_with_csrf_token(
    server: RunningServer, sim: SapSimulator, session: requests.Session
) -> None:
    url = f"{server.base_url}{ROOT}/ZFAPIAO_INVOICE_SRV"
    # The CSRF dance as SAP documents it for pyodata: fetch on a HEAD, send on every write.
    token = session.head(url + "/", headers={"x-csrf-token": "fetch"}).headers["x-csrf-token"]
    session.headers.update({"x-csrf-token": token})
    service = pyodata.Client(url, session)
    results = service.entity_sets.InvoiceResultSet

    created = results.create_entity().set(BillingDocument="90000010", Status="issuing").execute()
    assert created.Status == "issuing"
    issued_at = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
    for _ in range(2):  # the same PUT twice: one row, same content
        results.update_entity(BillingDocument="90000010", method="PUT").set(
            FapiaoOrderID="90000010",
            Status="issued",
            InvoiceNumber="25312000000000000777",
            IssueDateTime=issued_at,
        ).execute()
    results.update_entity(BillingDocument="90000010", method="MERGE").set(
        PdfUrl="https://files.example.cn/25312000000000000777.pdf"
    ).execute()
    row = results.get_entity("90000010").execute()
    assert (row.Status, row.InvoiceNumber, row.IssueDateTime) == (
        "issued",
        "25312000000000000777",
        issued_at,
    )
    assert row.PdfUrl.endswith(".pdf")
    assert len([k for k in sim.data.table("InvoiceResultSet") if k == ("90000010",)]) == 1
    request = results.get_entities()
    assert [r.BillingDocument for r in request.filter(request.Status == "issued").execute()] == [
        "90000001",
        "90000002",
        "90000010",
    ]
