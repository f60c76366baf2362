"""The simulator speaks SAP Gateway's OData v2 as a plain HTTP client sees it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import httpx
import pytest

from fapiao.sandboxkit.server import RunningServer
from fapiao_erp_sap.odata import format_datetimeoffset_literal, parse_datetime
from fapiao_erp_sap.simulator import SapSimulator

from .conftest import PASSWORD, USER

BILLING = "/sap/opu/odata/sap/API_BILLING_DOCUMENT_SRV"
WRITEBACK = "/sap/opu/odata/sap/ZFAPIAO_INVOICE_SRV"
EDM = "{http://schemas.microsoft.com/ado/2008/09/edm}"


@pytest.fixture
def client(server: RunningServer) -> httpx.Client:
    with httpx.Client(base_url=server.base_url, auth=(USER, PASSWORD)) as c:
        yield c


def test_metadata_is_edmx_with_sap_names_and_types(client: httpx.Client) -> None:
    response = client.get(f"{BILLING}/$metadata")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    schema = root.find(".//" + EDM + "Schema")
    assert schema is not None and schema.get("Namespace") == "API_BILLING_DOCUMENT_SRV"
    types = {t.get("Name"): t for t in schema.iter(EDM + "EntityType")}
    assert set(types) >= {
        "A_BillingDocumentType",
        "A_BillingDocumentItemType",
        "A_BillingDocumentPartnerType",
        "A_BillingDocumentItemPrcgElmntType",
        "A_BillingDocumentPrcgElmntType",
    }
    header = {p.get("Name"): p for p in types["A_BillingDocumentType"].iter(EDM + "Property")}
    assert header["LastChangeDateTime"].get("Type") == "Edm.DateTimeOffset"
    assert header["TotalNetAmount"].get("Type") == "Edm.Decimal"
    assert header["BillingDocument"].get("MaxLength") == "10"
    navs = {n.get("Name") for n in types["A_BillingDocumentType"].iter(EDM + "NavigationProperty")}
    assert navs == {"to_Item", "to_Partner", "to_PricingElement"}
    sets = {s.get("Name"): s for s in schema.iter(EDM + "EntitySet")}
    assert (
        sets["A_BillingDocument"].get("{http://www.sap.com/Protocols/SAPData}updatable") == "false"
    )


def test_basic_auth_is_required(server: RunningServer) -> None:
    anonymous = httpx.get(f"{server.base_url}{BILLING}/A_BillingDocument")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Basic realm=")
    wrong = httpx.get(f"{server.base_url}{BILLING}/A_BillingDocument", auth=(USER, "nope"))
    assert wrong.status_code == 401


def test_oauth_client_credentials_token_and_expiry(
    server: RunningServer, sim: SapSimulator
) -> None:
    refused = httpx.post(
        f"{server.base_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("sb-fapiao-client", "wrong"),
    )
    assert refused.status_code == 401
    granted = httpx.post(
        f"{server.base_url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("sb-fapiao-client", "sim-client-secret"),
    )
    assert granted.status_code == 200
    body = granted.json()
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    url = f"{server.base_url}{BILLING}/A_BillingDocument?$top=1"
    assert httpx.get(url, headers=headers).status_code == 200
    sim.expire_sessions()
    assert httpx.get(url, headers=headers).status_code == 401


def test_json_format_dates_decimals_metadata_and_deferred(client: httpx.Client) -> None:
    body = client.get(f"{BILLING}/A_BillingDocument('90000001')").json()["d"]
    assert body["__metadata"]["type"] == "API_BILLING_DOCUMENT_SRV.A_BillingDocumentType"
    assert body["__metadata"]["uri"].endswith("A_BillingDocument('90000001')")
    assert body["LastChangeDateTime"].startswith("/Date(") and body["LastChangeDateTime"].endswith(
        "+0000)/"
    )
    assert (
        body["BillingDocumentDate"].startswith("/Date(") and "+" not in body["BillingDocumentDate"]
    )
    assert isinstance(body["TotalNetAmount"], str) and body["TotalNetAmount"].count(".") == 1
    assert body["to_Item"]["__deferred"]["uri"].endswith("A_BillingDocument('90000001')/to_Item")


def test_filter_on_change_time_with_datetimeoffset_literal(
    client: httpx.Client, sim: SapSimulator
) -> None:
    documents = sim.data.documents()
    pivot = documents[10]["LastChangeDateTime"]
    literal = format_datetimeoffset_literal(pivot)
    for op, expected in (
        ("gt", [d for d in documents if d["LastChangeDateTime"] > pivot]),
        ("ge", [d for d in documents if d["LastChangeDateTime"] >= pivot]),
    ):
        response = client.get(
            f"{BILLING}/A_BillingDocument",
            params={
                "$filter": f"LastChangeDateTime {op} {literal}",
                "$select": "BillingDocument",
                "$top": "1000",
            },
        )
        got = {r["BillingDocument"] for r in _all_pages(client, response)}
        assert got == {d["BillingDocument"] for d in expected}
    # The unencoded '+' of an offset arrives as a space; the Gateway still reads it.
    iso = pivot.isoformat()
    response = client.get(
        f"{BILLING}/A_BillingDocument?$filter=LastChangeDateTime ge datetimeoffset'{iso}'&$top=1000"
    )
    assert response.status_code == 200


def test_filter_grammar_and_typed_comparison(client: httpx.Client) -> None:
    expression = (
        "(BillingDocumentType eq 'S1' or BillingDocumentType eq 'G2') and TotalNetAmount gt 100"
        " and not (SalesOrganization eq '1710')"
    )
    rows = client.get(f"{BILLING}/A_BillingDocument", params={"$filter": expression}).json()["d"][
        "results"
    ]
    assert sorted(r["BillingDocumentType"] for r in rows) == ["G2", "S1"]
    rows = client.get(
        f"{BILLING}/A_BillingDocument",
        params={
            "$filter": "substringof('PO-', PurchaseOrderByCustomer) and TransactionCurrency ne 'CNY'"
        },
    ).json()["d"]["results"]
    assert [r["TransactionCurrency"] for r in rows] == ["USD"]


def test_bad_query_options_answer_400_with_gateway_error(client: httpx.Client) -> None:
    for params in (
        {"$filter": "NoSuchField eq 'x'"},
        {"$filter": "BillingDocument eq"},
        {"$orderby": "BillingDocument sideways"},
        {"$expand": "to_Nothing"},
        {"$top": "-1"},
    ):
        response = client.get(f"{BILLING}/A_BillingDocument", params=params)
        assert response.status_code == 400, params
        error = response.json()["error"]
        assert error["code"].startswith("/IWBEP/") and error["message"]["value"]


def _all_pages(client: httpx.Client, response: httpx.Response) -> list[dict]:
    rows: list[dict] = []
    while True:
        assert response.status_code == 200, response.text
        body = response.json()["d"]
        rows.extend(body["results"])
        if not body.get("__next"):
            return rows
        response = client.get(body["__next"])


def test_server_driven_paging_with_next_links_and_inlinecount(
    client: httpx.Client, sim: SapSimulator
) -> None:
    first = client.get(
        f"{BILLING}/A_BillingDocument",
        params={
            "$inlinecount": "allpages",
            "$orderby": "LastChangeDateTime desc,BillingDocument desc",
        },
    )
    body = first.json()["d"]
    total = len(sim.data.documents())
    assert body["__count"] == str(total)
    assert len(body["results"]) == sim.page_size and "$skiptoken=5" in body["__next"]
    rows = _all_pages(client, first)
    stamps = [(parse_datetime(r["LastChangeDateTime"]), r["BillingDocument"]) for r in rows]
    assert len(rows) == total and stamps == sorted(stamps, reverse=True)
    # $top caps the server pages too; $skip offsets them.
    capped = _all_pages(
        client, client.get(f"{BILLING}/A_BillingDocument", params={"$top": "7", "$skip": "3"})
    )
    everything = [r["BillingDocument"] for r in rows[::-1]]
    assert [r["BillingDocument"] for r in capped] == sorted(everything)[3:10]
    assert client.get(f"{BILLING}/A_BillingDocument/$count").text == str(total)
    count = client.get(
        f"{BILLING}/A_BillingDocument/$count", params={"$filter": "BillingDocumentType eq 'S1'"}
    )
    assert count.text == "1"


def test_expand_nested_and_select(client: httpx.Client) -> None:
    body = client.get(
        f"{BILLING}/A_BillingDocument('90000002')",
        params={
            "$expand": "to_Item/to_PricingElement,to_Partner",
            "$select": "BillingDocument,TotalNetAmount,to_Item/Material,to_Item/NetAmount,to_Item/to_PricingElement,to_Partner",
        },
    ).json()["d"]
    assert set(body) == {"__metadata", "BillingDocument", "TotalNetAmount", "to_Item", "to_Partner"}
    items = body["to_Item"]["results"]
    assert {k for k in items[0] if not k.startswith("__")} == {
        "Material",
        "NetAmount",
        "to_PricingElement",
    }
    conditions = {e["ConditionType"]: e for e in items[0]["to_PricingElement"]["results"]}
    assert conditions["MWST"]["ConditionCategory"] == "D"
    assert {p["PartnerFunction"] for p in body["to_Partner"]["results"]} == {"AG", "RE", "RG", "WE"}


def test_composite_keys_and_navigation(client: httpx.Client) -> None:
    item = client.get(
        f"{BILLING}/A_BillingDocumentItem(BillingDocument='90000002',BillingDocumentItem='10')"
    )
    assert item.status_code == 200 and item.json()["d"]["BillingDocumentItem"] == "10"
    parent = client.get(
        f"{BILLING}/A_BillingDocumentItem(BillingDocument='90000002',BillingDocumentItem='10')/to_BillingDocument"
    )
    assert parent.json()["d"]["BillingDocument"] == "90000002"
    items = client.get(f"{BILLING}/A_BillingDocument('90000002')/to_Item").json()["d"]["results"]
    assert [i["BillingDocumentItem"] for i in items] == ["10", "20"]
    assert client.get(f"{BILLING}/A_BillingDocument('99999999')").status_code == 404


def test_csrf_protocol_on_writes(client: httpx.Client, sim: SapSimulator) -> None:
    entity = {
        "BillingDocument": "90000005",
        "Status": "issued",
        "InvoiceNumber": "25312000000000000555",
    }
    url = f"{WRITEBACK}/InvoiceResultSet('90000005')"
    refused = client.put(url, json=entity)
    assert refused.status_code == 403 and refused.headers["x-csrf-token"] == "Required"
    fetched = client.get(f"{WRITEBACK}/", headers={"x-csrf-token": "Fetch"})
    token = fetched.headers["x-csrf-token"]
    assert token and any(c.startswith("SAP_SESSIONID_") for c in fetched.cookies)
    assert client.put(url, json=entity, headers={"x-csrf-token": token}).status_code == 204
    stored = client.get(url).json()["d"]
    assert stored["Status"] == "issued" and stored["InvoiceNumber"] == "25312000000000000555"
    assert parse_datetime(stored["LastChangeDateTime"]) <= datetime.now(UTC)
    # The standard billing API is read-only, as on a real system.
    readonly = client.request(
        "MERGE",
        f"{BILLING}/A_BillingDocument('90000005')",
        json={"PurchaseOrderByCustomer": "x"},
        headers={"x-csrf-token": token},
    )
    assert readonly.status_code == 501
    too_long = client.put(
        url, json={**entity, "InvoiceNumber": "9" * 21}, headers={"x-csrf-token": token}
    )
    assert too_long.status_code == 400
    sim.expire_sessions()
    assert client.put(url, json=entity, headers={"x-csrf-token": token}).status_code == 403
