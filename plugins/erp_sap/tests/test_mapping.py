"""Billing document JSON → canonical requests, and every bad-input case, without a server."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fapiao.sdk import ConfigError, InvalidInvoice, InvoiceKind, RedReason, SourceDocument
from fapiao_erp_sap.mapping import ENRICHMENT_KEY, BillingDocumentMapper
from fapiao_erp_sap.materials import MappingTable
from fapiao_erp_sap.settings import SapSettings
from fapiao_erp_sap.simulator import SELLERS

from .conftest import APPLES, COMPUTER


def bp(
    number: str = "1000010", *, tax_id: str | None = "91110108MA01B2C3D0", person: bool = False
) -> dict[str, Any]:
    return {
        "BusinessPartner": number,
        "BusinessPartnerCategory": "1" if person else "2",
        "BusinessPartnerFullName": "张伟" if person else "北京华启网络科技有限公司",
        "OrganizationBPName1": "" if person else "北京华启网络科技有限公司",
        "OrganizationBPName2": "",
        "to_BusinessPartnerTax": {
            "results": [{"BPTaxType": "CN5", "BPTaxNumber": tax_id, "BPTaxLongNumber": ""}]
            if tax_id
            else []
        },
        "to_BusinessPartnerAddress": {
            "results": [
                {
                    "CityName": "北京市",
                    "District": "海淀区",
                    "StreetName": "中关村大街",
                    "HouseNumber": "27号",
                    "to_PhoneNumber": {
                        "results": [{"PhoneNumber": "010-62881234", "IsDefaultPhoneNumber": True}]
                    },
                    "to_EmailAddress": {
                        "results": [
                            {"EmailAddress": "ap@huaqi.example.cn", "IsDefaultEmailAddress": True}
                        ]
                    },
                }
            ]
        },
        "to_BusinessPartnerBank": {
            "results": [
                {
                    "BankName": "中国工商银行北京中关村支行",
                    "BankAccount": "020000450920012345",
                    "BankAccountReferenceText": "6789",
                }
            ]
        },
    }


def item(
    number: str,
    material: str,
    quantity: str,
    net: str,
    tax: str,
    *,
    rate: str = "13.000000000",
    tax_code: str = "J1",
    ref: str | None = None,
    ref_item: str | None = None,
    reason: str = "",
) -> dict[str, Any]:
    return {
        "BillingDocumentItem": number,
        "Material": material,
        "BillingDocumentItemText": f"{material} text",
        "BillingQuantity": quantity,
        "BillingQuantityUnit": "EA",
        "NetAmount": net,
        "TaxAmount": tax,
        "TransactionCurrency": "CNY",
        "ReferenceSDDocument": ref or "80000123",
        "ReferenceSDDocumentItem": ref_item or number,
        "ReferenceSDDocumentCategory": "M" if ref else "J",
        "SDDocumentReason": reason,
        "to_PricingElement": {
            "results": [
                {
                    "ConditionType": "PPR0",
                    "ConditionCategory": "",
                    "ConditionRateValue": "1.000000000",
                    "ConditionAmount": net,
                },
                {
                    "ConditionType": "MWST",
                    "ConditionCategory": "D",
                    "ConditionRateValue": rate,
                    "TaxCode": tax_code,
                    "ConditionAmount": tax,
                    "ConditionInactiveReason": "",
                },
            ]
        },
    }


def document(
    items: list[dict[str, Any]],
    *,
    doc: str = "90000123",
    billing_type: str = "F2",
    currency: str = "CNY",
    company: str = "1010",
    partner: dict[str, Any] | None = None,
    cancelled: str = "",
    original: dict[str, Any] | None = None,
) -> SourceDocument:
    partner = partner if partner is not None else bp()
    payload = {
        "BillingDocument": doc,
        "BillingDocumentType": billing_type,
        "SalesOrganization": company,
        "CompanyCode": company,
        "TransactionCurrency": currency,
        "CancelledBillingDocument": cancelled,
        "PayerParty": partner["BusinessPartner"],
        "SoldToParty": partner["BusinessPartner"],
        "PurchaseOrderByCustomer": "PO-7788",
        "to_Item": {"results": items},
        "to_Partner": {
            "results": [
                {"PartnerFunction": f, "Customer": partner["BusinessPartner"]}
                for f in ("AG", "RE", "RG")
            ]
        },
        ENRICHMENT_KEY: {
            "business_partners": {partner["BusinessPartner"]: partner},
            **({"original": original} if original else {}),
        },
    }
    return SourceDocument(
        id=doc, kind="invoice" if billing_type == "F2" else "red", payload=payload
    )


@pytest.fixture
def table(mapping: Path) -> MappingTable:
    return MappingTable.load(mapping)


@pytest.fixture
def mapper(table: MappingTable, mapping: Path) -> BillingDocumentMapper:
    settings = SapSettings(
        username="u",
        password="p",
        sellers=SELLERS,
        material_mapping=mapping,
        reason_by_order_reason={"R01": RedReason.SALES_RETURN},
    )
    return BillingDocumentMapper(settings, table)


def issues_of(excinfo: pytest.ExceptionInfo[InvalidInvoice]) -> dict[str, str]:
    return {i.code: i.path for i in excinfo.value.issues}


def test_f2_maps_to_a_special_invoice(mapper: BillingDocumentMapper) -> None:
    source = document(
        [
            item("10", "TG11-LAPTOP", "2.000", "12400.00", "1612.00"),
            item("20", "TG13-CABLE", "1.000", "0.00", "0.00"),  # free of charge: no line
            item(
                "30", "FR-APPLE-5KG", "3.000", "128.40", "11.56", rate="9.000000000", tax_code="J2"
            ),
        ]
    )
    invoice = mapper.map(source).invoice
    assert invoice is not None
    assert invoice.order_id == "90000123" and invoice.kind is InvoiceKind.SPECIAL
    assert invoice.seller.tax_id == SELLERS["1010"]["tax_id"]
    buyer = invoice.buyer
    assert (buyer.name, buyer.tax_id) == ("北京华启网络科技有限公司", "91110108MA01B2C3D0")
    assert buyer.address == "北京市海淀区中关村大街27号" and buyer.phone == "010-62881234"
    assert buyer.account == "0200004509200123456789" and buyer.email == "ap@huaqi.example.cn"
    first, second = invoice.lines
    assert (first.tax_code, first.name, first.unit) == (COMPUTER, "笔记本电脑", "台")
    assert (first.quantity, first.unit_price, first.amount) == (
        Decimal(2),
        Decimal(6200),
        Decimal("12400.00"),
    )
    assert (first.tax_rate, first.tax) == (Decimal("0.13"), Decimal("1612.00"))
    assert (second.tax_code, second.tax_rate, second.unit) == (APPLES, Decimal("0.09"), "个")
    assert second.unit_price == Decimal("42.8")
    assert invoice.remarks == "客户订单号 PO-7788"


def test_private_person_gets_a_normal_invoice_and_kind_overrides(
    mapper: BillingDocumentMapper, mapping: Path, table: MappingTable
) -> None:
    person = bp("1000015", tax_id=None, person=True)
    invoice = mapper.map(
        document([item("10", "TG11-LAPTOP", "1.000", "6200.00", "806.00")], partner=person)
    ).invoice
    assert (
        invoice is not None and invoice.kind is InvoiceKind.NORMAL and invoice.buyer.natural_person
    )
    settings = SapSettings(
        username="u",
        password="p",
        sellers=SELLERS,
        material_mapping=mapping,
        kind_by_billing_type={"F2": InvoiceKind.NORMAL},
    )
    plain = BillingDocumentMapper(settings, table).invoice(
        document([item("10", "TG11-LAPTOP", "1.000", "6200.00", "806.00")]).payload
    )
    assert plain.kind is InvoiceKind.NORMAL


def test_unknown_material_is_reported_with_document_and_item_path(
    mapper: BillingDocumentMapper,
) -> None:
    source = document(
        [
            item("10", "TG11-LAPTOP", "1.000", "6200.00", "806.00"),
            item("20", "TG99-PROTO", "2.000", "1998.00", "259.74"),
        ]
    )
    with pytest.raises(InvalidInvoice) as excinfo:
        mapper.map(source)
    (problem,) = excinfo.value.issues
    assert problem.code == "UNKNOWN_MATERIAL"
    assert problem.path == "BillingDocument 90000123 / to_Item[1].Material"
    assert "TG99-PROTO" in problem.message_zh and "TG99-PROTO" in problem.message_en
    assert "物料映射表" in problem.message_zh and "mapping table" in problem.message_en


def test_special_invoice_buyer_without_tax_id(mapper: BillingDocumentMapper) -> None:
    source = document(
        [item("10", "TG11-LAPTOP", "1.000", "6200.00", "806.00")],
        partner=bp("1000014", tax_id=None),
    )
    with pytest.raises(InvalidInvoice) as excinfo:
        mapper.map(source)
    assert issues_of(excinfo) == {
        "MISSING_TAX_ID": "BillingDocument 90000123 / to_Partner(RE).Customer 1000014 / A_BusinessPartnerTaxNumber(CN5/CN0/CN1)"
    }
    assert "专票" in excinfo.value.issues[0].message_zh


def test_foreign_currency_is_refused_with_every_other_problem(
    mapper: BillingDocumentMapper,
) -> None:
    source = document(
        [item("10", "TG99-PROTO", "1.000", "999.00", "129.87")], currency="USD", company="9999"
    )
    with pytest.raises(InvalidInvoice) as excinfo:
        mapper.map(source)
    found = issues_of(excinfo)
    assert found["CURRENCY_NOT_SUPPORTED"] == "BillingDocument 90000123 / TransactionCurrency"
    assert found["UNKNOWN_SELLER"] == "BillingDocument 90000123 / CompanyCode"
    assert found["UNKNOWN_MATERIAL"] == "BillingDocument 90000123 / to_Item[0].Material"
    currency = next(i for i in excinfo.value.issues if i.code == "CURRENCY_NOT_SUPPORTED")
    assert (
        "人民币" in currency.message_zh
        and "CNY" in currency.message_en
        and "USD" in currency.message_en
    )


def test_rate_disagreeing_with_mapping_and_rules_issues_get_sap_paths(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(
        f'[materials.X1]\ntax_code = "{COMPUTER}"\ntax_rate = "0.09"\n[materials.X2]\ntax_code = "{APPLES}"\n',
        encoding="utf-8",
    )
    settings = SapSettings(username="u", password="p", sellers=SELLERS, material_mapping=path)
    mapper = BillingDocumentMapper(settings, MappingTable.load(path))
    with pytest.raises(InvalidInvoice) as excinfo:
        mapper.map(document([item("10", "X1", "1.000", "100.00", "13.00")]))
    assert issues_of(excinfo) == {
        "RATE_MISMATCH": "BillingDocument 90000123 / to_Item[0].to_PricingElement(ConditionCategory=D).ConditionRateValue"
    }
    # A tax amount SAP rounded wrongly by a yuan is caught by fapiao.rules, reported on the item.
    with pytest.raises(InvalidInvoice) as excinfo:
        mapper.map(document([item("10", "X2", "1.000", "100.00", "10.00", rate="9.000000000")]))
    paths = issues_of(excinfo)
    assert paths["TAX_OUT_OF_TOLERANCE"].startswith(
        "BillingDocument 90000123 / to_Item[0].TaxAmount"
    )


def _original(doc: str, invoice_number: str | None) -> dict[str, Any]:
    return {
        "document": {
            "BillingDocument": doc,
            "to_Item": {
                "results": [
                    {"BillingDocumentItem": "10", "NetAmount": "0.00"},  # free item: not a line
                    {"BillingDocumentItem": "20", "NetAmount": "12400.00"},
                    {"BillingDocumentItem": "30", "NetAmount": "128.40"},
                ]
            },
        },
        "result": {
            "BillingDocument": doc,
            "Status": "issued",
            "InvoiceNumber": invoice_number,
            "IssueDateTime": "/Date(1741080600000+0000)/",
        },
    }


def test_s1_cancellation_is_a_full_red_reversal(mapper: BillingDocumentMapper) -> None:
    source = document(
        [item("10", "TG11-LAPTOP", "2.000", "12400.00", "1612.00", ref="90000100")],
        doc="90000200",
        billing_type="S1",
        cancelled="90000100",
        original=_original("90000100", "25312000000000000101"),
    )
    red = mapper.map(source).red
    assert red is not None and red.is_full and red.reason is RedReason.INVOICING_ERROR
    assert (red.order_id, red.original_order_id) == ("90000200", "90000100")
    assert red.original_invoice_number == "25312000000000000101"
    assert str(red.original_issue_date) == "2025-03-04"
    assert (
        red.seller_tax_id == SELLERS["1010"]["tax_id"] and red.buyer_tax_id == "91110108MA01B2C3D0"
    )


def test_g2_credit_memo_reverses_referenced_lines(mapper: BillingDocumentMapper) -> None:
    source = document(
        [
            item(
                "10",
                "FR-APPLE-5KG",
                "1.000",
                "42.80",
                "3.85",
                rate="9.000000000",
                ref="90000100",
                ref_item="30",
                reason="R01",
            ),
            item("20", "TG11-LAPTOP", "1.000", "6200.00", "806.00", ref="90000100", ref_item="20"),
        ],
        doc="90000201",
        billing_type="G2",
        original=_original("90000100", "25312000000000000101"),
    )
    red = mapper.map(source).red
    assert red is not None and not red.is_full and red.reason is RedReason.SALES_RETURN
    assert [(line.original_line, line.amount, line.tax, line.quantity) for line in red.lines] == [
        (1, Decimal("42.80"), Decimal("3.85"), Decimal(1)),
        (0, Decimal("6200.00"), Decimal("806.00"), Decimal(1)),
    ]


def test_red_documents_whose_original_is_unknown_or_unissued(mapper: BillingDocumentMapper) -> None:
    unissued = document(
        [item("10", "TG11-LAPTOP", "1.000", "6200.00", "806.00", ref="90000100")],
        doc="90000200",
        billing_type="S1",
        cancelled="90000100",
        original=_original("90000100", None),
    )
    with pytest.raises(InvalidInvoice) as excinfo:
        mapper.map(unissued)
    assert issues_of(excinfo) == {
        "ORIGINAL_NOT_ISSUED": "BillingDocument 90000200 / CancelledBillingDocument"
    }
    wrong_item = document(
        [item("10", "TG11-LAPTOP", "1.000", "6200.00", "806.00", ref="90000100", ref_item="90")],
        doc="90000201",
        billing_type="G2",
        original=_original("90000100", "25312000000000000101"),
    )
    with pytest.raises(InvalidInvoice) as excinfo:
        mapper.map(wrong_item)
    assert issues_of(excinfo) == {
        "RED_LINE_OUT_OF_RANGE": "BillingDocument 90000201 / to_Item[0].ReferenceSDDocumentItem"
    }


def test_mapping_table_formats_and_errors(tmp_path: Path) -> None:
    csv_file = tmp_path / "m.csv"
    csv_file.write_text(
        f"material,tax_code,name,unit,tax_rate\n000000000000012345,{APPLES},苹果,箱,0.09\n",
        encoding="utf-8",
    )
    table = MappingTable.load(csv_file)
    entry = table.material("12345")  # SAP may show the material with or without leading zeros
    assert entry is not None and entry.name == "苹果" and entry.tax_rate == Decimal("0.09")

    def refused(text: str, suffix: str = ".toml") -> ConfigError:
        path = tmp_path / f"bad{suffix}"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError) as excinfo:
            MappingTable.load(path)
        assert str(path) in str(excinfo.value)
        return excinfo.value

    short = refused('[materials.A]\ntax_code = "12345"\n')
    assert "19" in short.message_en and "19 位" in short.message_zh and "A" in short.message_en
    assert (
        "string" in refused(f'[materials.A]\ntax_code = "{APPLES}"\ntax_rate = 0.13\n').message_en
    )
    assert (
        "unknown" in refused(f'[materials.A]\ntax_code = "{APPLES}"\ncolour = "red"\n').message_en
    )
    assert "TOML" in refused("[materials\n").message_en
    assert "treatment" in refused('[tax_codes]\nJ0 = { treatment = "free" }\n').message_en
    assert (
        "listed twice" in refused(f"material,tax_code\nA,{APPLES}\nA,{APPLES}\n", ".csv").message_en
    )
    with pytest.raises(ConfigError):
        MappingTable.load(tmp_path / "missing.toml")
