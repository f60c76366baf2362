"""The simulator's data: an in-memory S/4HANA client with realistic billing documents.

Generated deterministically from a seed: F2 invoices from two company codes to Chinese customers
(several items, price/discount/tax pricing elements, AG/RE/RG/WE partners), plus the cases an
integration must survive — a USD invoice, an unmapped material, a buyer with no CN5 tax number,
a private-person buyer, a free-of-charge item, and (``history=True``) an already-invoiced F2
cancelled by an S1 and another credited in part by a G2. Methods such as :meth:`SapData.cancel`
and :meth:`SapData.credit_memo` play what an SAP user does later, for incremental-pull tests.
"""

from __future__ import annotations

import random
import threading
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = ["CUSTOMERS", "MATERIALS", "SELLERS", "Material", "SapData"]

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Material:
    number: str
    text: str
    unit: str
    price: Decimal
    tax_code: str  # SAP output tax code
    rate_percent: Decimal


MATERIALS: tuple[Material, ...] = (
    Material("TG11-LAPTOP", "Notebook 14 inch i7", "EA", Decimal("6200.00"), "J1", Decimal(13)),
    Material("TG12-PRINTER", "Receipt printer 80mm", "EA", Decimal("1380.00"), "J1", Decimal(13)),
    Material("TG13-CABLE", "USB-C cable 1m", "PC", Decimal("35.50"), "J1", Decimal(13)),
    Material("SRV-IMPL", "Implementation service", "H", Decimal("880.00"), "J3", Decimal(6)),
    Material("SRV-SUPPORT", "Annual support", "EA", Decimal("12000.00"), "J3", Decimal(6)),
    Material("FR-APPLE-5KG", "Fuji apples 5kg box", "BOX", Decimal("42.80"), "J2", Decimal(9)),
)
UNMAPPED_MATERIAL = Material(
    "TG99-PROTO", "Prototype board", "EA", Decimal("999.00"), "J1", Decimal(13)
)

SELLERS = {
    "1010": {
        "tax_id": "91310115MA1K4LHX27",
        "name": "上海辰星智能科技有限公司",
        "address": "上海市浦东新区张江路 88 号",
        "phone": "021-50801234",
        "bank": "招商银行上海张江支行",
        "account": "121909876510801",
    },
    "1710": {
        "tax_id": "91440300MA5F7GQK10",
        "name": "深圳辰星供应链管理有限公司",
        "address": "深圳市南山区科技园南路 12 号",
        "phone": "0755-86001234",
        "bank": "中国银行深圳科技园支行",
        "account": "765432109876",
    },
}


@dataclass(frozen=True)
class Customer:
    number: str
    name: str
    tax_id: str | None
    person: bool = False
    country: str = "CN"
    city: str = ""
    district: str = ""
    street: str = ""
    house: str = ""
    phone: str = ""
    email: str = ""
    bank: str = ""
    account: str = ""


CUSTOMERS: tuple[Customer, ...] = (
    Customer(
        "1000010",
        "北京华启网络科技有限公司",
        "91110108MA01B2C3D0",
        city="北京市",
        district="海淀区",
        street="中关村大街",
        house="27号",
        phone="010-62881234",
        email="ap@huaqi.example.cn",
        bank="中国工商银行北京中关村支行",
        account="0200004509200123456789",
    ),
    Customer(
        "1000011",
        "杭州云帆电子商务有限公司",
        "91330106MA2H3K4L6R",
        city="杭州市",
        district="西湖区",
        street="文三路",
        house="90号",
        phone="0571-88771234",
        email="finance@yunfan.example.cn",
        bank="中国建设银行杭州文三支行",
        account="33050161622700001234",
    ),
    Customer(
        "1000012",
        "成都锦江贸易有限公司",
        "91510100MA62Q8RX71",
        city="成都市",
        district="锦江区",
        street="春熙路",
        house="15号",
        phone="028-86651234",
        bank="中国农业银行成都春熙支行",
        account="22810101040012345",
    ),
    Customer(
        "1000013",
        "苏州工业园区精密制造有限公司",
        "91320506MA1X9T8B5E",
        city="苏州市",
        district="工业园区",
        street="星湖街",
        house="328号",
        phone="0512-62881234",
        email="invoice@precision.example.cn",
        bank="交通银行苏州园区支行",
        account="325605000018170123456",
    ),
    Customer(
        "1000014",
        "天津滨海物流有限公司",
        None,
        city="天津市",
        district="滨海新区",
        street="港城大道",
        house="6号",
        phone="022-25761234",
    ),
    Customer(
        "1000015",
        "张伟",
        None,
        person=True,
        city="上海市",
        district="徐汇区",
        street="漕溪北路",
        house="200弄3号",
        phone="13812345678",
        email="zhangwei@example.cn",
    ),
    Customer(
        "1000016",
        "Pacific Trading Ltd.",
        None,
        country="US",
        city="San Jose",
        street="N First St",
        house="2150",
    ),
)
_TAXED = CUSTOMERS[:4]


def _money(value: Decimal) -> str:
    return f"{value.quantize(CENT, ROUND_HALF_UP):.2f}"


def _qty(value: Decimal) -> str:
    return f"{value:.3f}"


def _rate9(value: Decimal) -> str:
    return f"{value:.9f}"


class SapData:
    """All entity sets of the three services, keyed per set by the key tuple."""

    def __init__(
        self,
        *,
        seed: int = 7,
        invoices: int = 24,
        start: datetime | None = None,
        history: bool = True,
        catalogue: tuple[Material, ...] = MATERIALS,
    ) -> None:
        self.lock = threading.RLock()
        self.sets: dict[str, dict[tuple[str, ...], dict[str, Any]]] = {}
        self._indexes: dict[
            str, dict[tuple[str, ...], dict[tuple[Any, ...], list[dict[str, Any]]]]
        ] = {}
        self.random = random.Random(seed)
        self.catalogue = catalogue
        self.clock = start or datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
        self._next_doc = 90000001
        self._next_accounting = 4900000001
        for customer in CUSTOMERS:
            self._add_partner(customer)
        if history:
            self._history()
        self._generate(invoices)

    # -- store -------------------------------------------------------------------------------

    def table(self, set_name: str) -> dict[tuple[str, ...], dict[str, Any]]:
        return self.sets.setdefault(set_name, {})

    def put(self, set_name: str, key: tuple[str, ...], row: dict[str, Any]) -> None:
        with self.lock:
            self.table(set_name)[key] = row
            self._indexes.pop(set_name, None)

    def delete(self, set_name: str, key: tuple[str, ...]) -> bool:
        with self.lock:
            self._indexes.pop(set_name, None)
            return self.table(set_name).pop(key, None) is not None

    def where(self, set_name: str, **match: Any) -> list[dict[str, Any]]:
        """Rows whose fields equal ``match`` (indexed: navigation is a lookup, not a scan).

        Indexed fields are key fields, which change only through put/delete."""
        with self.lock:
            fields = tuple(sorted(match))
            by_fields = self._indexes.setdefault(set_name, {})
            index = by_fields.get(fields)
            if index is None:
                index = {}
                for row in self.table(set_name).values():
                    index.setdefault(tuple(row.get(f) for f in fields), []).append(row)
                by_fields[fields] = index
            return list(index.get(tuple(match[f] for f in fields), []))

    def _tick(self, ms: int | None = None) -> datetime:
        self.clock += timedelta(
            milliseconds=ms if ms is not None else self.random.randint(900, 90000)
        )
        return self.clock

    # -- business partners -------------------------------------------------------------------

    def _add_partner(self, c: Customer) -> None:
        bp = c.number
        names = [c.name[i : i + 40] for i in range(0, len(c.name), 40)] + ["", "", "", ""]
        self.put(
            "A_BusinessPartner",
            (bp,),
            {
                "BusinessPartner": bp,
                "Customer": bp,
                "Supplier": "",
                "BusinessPartnerCategory": "1" if c.person else "2",
                "BusinessPartnerFullName": c.name,
                "BusinessPartnerGrouping": "BP02",
                "BusinessPartnerName": c.name,
                "CorrespondenceLanguage": "ZH",
                "CreationDate": datetime(2023, 6, 1, tzinfo=UTC),
                "FirstName": c.name[1:] if c.person else "",
                "LastName": c.name[:1] if c.person else "",
                "IsNaturalPerson": "X" if c.person else "",
                "Language": "ZH",
                "LastChangeDate": datetime(2024, 11, 20, tzinfo=UTC),
                "OrganizationBPName1": "" if c.person else names[0],
                "OrganizationBPName2": "" if c.person else names[1],
                "OrganizationBPName3": "",
                "OrganizationBPName4": "",
                "SearchTerm1": c.name[:20].upper(),
                "BusinessPartnerIsBlocked": False,
            },
        )
        address_id = f"{int(bp) + 22000:010d}"
        self.put(
            "A_BusinessPartnerAddress",
            (bp, address_id),
            {
                "BusinessPartner": bp,
                "AddressID": address_id,
                "CityName": c.city,
                "Country": c.country,
                "District": c.district,
                "HouseNumber": c.house,
                "PostalCode": "",
                "Region": "",
                "StreetName": c.street,
                "Language": "ZH",
            },
        )
        if c.phone:
            self.put(
                "A_AddressPhoneNumber",
                (address_id, "", "001"),
                {
                    "AddressID": address_id,
                    "Person": "",
                    "OrdinalNumber": "001",
                    "DestinationLocationCountry": c.country,
                    "IsDefaultPhoneNumber": True,
                    "PhoneNumber": c.phone,
                    "PhoneNumberExtension": "",
                    "InternationalPhoneNumber": "+86 " + c.phone.lstrip("0"),
                    "PhoneNumberType": "3" if c.phone.startswith("1") else "1",
                },
            )
        if c.email:
            self.put(
                "A_AddressEmailAddress",
                (address_id, "", "001"),
                {
                    "AddressID": address_id,
                    "Person": "",
                    "OrdinalNumber": "001",
                    "IsDefaultEmailAddress": True,
                    "EmailAddress": c.email,
                    "SearchEmailAddress": c.email[:20].upper(),
                },
            )
        if c.bank:
            self.put(
                "A_BusinessPartnerBank",
                (bp, "0001"),
                {
                    "BusinessPartner": bp,
                    "BankIdentification": "0001",
                    "BankCountryKey": "CN",
                    "BankName": c.bank,
                    "BankNumber": "",
                    "SWIFTCode": "",
                    "BankAccountHolderName": c.name,
                    # SAP keeps 18 characters in BankAccount; China's longer numbers go on in
                    # BankAccountReferenceText (SAP note 1829045 style).
                    "BankAccount": c.account[:18],
                    "BankAccountReferenceText": c.account[18:],
                    "IBAN": "",
                },
            )
        if c.tax_id:
            self.put(
                "A_BusinessPartnerTaxNumber",
                (bp, "CN5"),
                {
                    "BusinessPartner": bp,
                    "BPTaxType": "CN5",
                    "BPTaxNumber": c.tax_id,
                    "BPTaxLongNumber": "",
                    "AuthorizationGroup": "",
                },
            )

    # -- billing documents -------------------------------------------------------------------

    def _number(self) -> str:
        number = str(self._next_doc)
        self._next_doc += 1
        return number

    def add_invoice(
        self,
        customer: Customer,
        lines: Iterable[tuple[Material, Decimal, Decimal]],
        *,
        company: str = "1010",
        currency: str = "CNY",
        billing_type: str = "F2",
        changed: datetime | None = None,
        reference: str | None = None,
        reference_items: Iterable[str] | None = None,
        order_reason: str = "",
        po: str | None = None,
    ) -> str:
        """Add one billing document; ``lines`` are (material, quantity, discount percent)."""
        with self.lock:
            doc = self._number()
            when = changed or self._tick()
            refs = list(reference_items or [])
            total_net = Decimal(0)
            total_tax = Decimal(0)
            header_tax: dict[str, tuple[Decimal, Decimal, Decimal]] = {}
            for position, (material, quantity, discount) in enumerate(lines, start=1):
                item = f"{position * 10:06d}".lstrip("0")
                gross_value = (material.price * quantity).quantize(CENT, ROUND_HALF_UP)
                reduction = (gross_value * discount / 100).quantize(CENT, ROUND_HALF_UP)
                net = gross_value - reduction
                tax = (net * material.rate_percent / 100).quantize(CENT, ROUND_HALF_UP)
                if discount == Decimal(100):  # free of charge (TANN): no value, no tax
                    net, tax, gross_value, reduction = (
                        Decimal(0),
                        Decimal(0),
                        Decimal(0),
                        Decimal(0),
                    )
                total_net += net
                total_tax += tax
                base, amount, rate = header_tax.get(
                    material.tax_code, (Decimal(0), Decimal(0), material.rate_percent)
                )
                header_tax[material.tax_code] = (base + net, amount + tax, rate)
                self.put(
                    "A_BillingDocumentItem",
                    (doc, item),
                    {
                        "BillingDocument": doc,
                        "BillingDocumentItem": item,
                        "SalesDocumentItemCategory": "TANN"
                        if net == 0
                        else ("G2N" if billing_type == "G2" else "TAN"),
                        "SalesDocumentItemType": "",
                        "ReturnItemProcessingType": "",
                        "CreationDate": when.replace(hour=0, minute=0, second=0, microsecond=0),
                        "Division": "00",
                        "Material": material.number,
                        "OriginallyRequestedMaterial": "",
                        "InternationalArticleNumber": "",
                        "Batch": "",
                        "MaterialGroup": "L001" if material.number.startswith("TG") else "P001",
                        "Plant": company,
                        "StorageLocation": "101A",
                        "BillingDocumentItemText": material.text,
                        "ServicesRenderedDate": when.replace(
                            hour=0, minute=0, second=0, microsecond=0
                        ),
                        "BillingQuantity": _qty(quantity),
                        "BillingQuantityUnit": material.unit,
                        "BillingQuantityInBaseUnit": _qty(quantity),
                        "BaseUnit": material.unit,
                        "NetAmount": _money(net),
                        "TransactionCurrency": currency,
                        "GrossAmount": _money(net + tax),
                        "PricingDate": when.replace(hour=0, minute=0, second=0, microsecond=0),
                        "TaxAmount": _money(tax),
                        "ProfitCenter": "YB101",
                        "ReferenceSDDocument": reference or f"80{doc[2:]}",
                        "ReferenceSDDocumentItem": refs[position - 1]
                        if position <= len(refs)
                        else item,
                        "ReferenceSDDocumentCategory": "M" if reference else "J",
                        "SalesDocument": f"10{doc[2:]}",
                        "SalesDocumentItem": item,
                        "SalesSDDocumentCategory": "K" if billing_type == "G2" else "C",
                        "SDDocumentReason": order_reason,
                        "ProductTaxClassification1": "1",
                        "DepartureCountry": "CN",
                    },
                )
                self._item_pricing(
                    doc, item, material, quantity, gross_value, reduction, net, tax, currency, when
                )
            for counter, (tax_code, (base, amount, rate)) in enumerate(
                sorted(header_tax.items()), start=1
            ):
                self.put(
                    "A_BillingDocumentPrcgElmnt",
                    (doc, "900", f"{counter:03d}"),
                    {
                        "BillingDocument": doc,
                        "PricingProcedureStep": "900",
                        "PricingProcedureCounter": f"{counter:03d}",
                        "ConditionType": "MWST",
                        "ConditionCalculationType": "A",
                        "ConditionBaseValue": _rate9(base),
                        "ConditionRateValue": _rate9(rate),
                        "ConditionCurrency": "",
                        "ConditionCategory": "D",
                        "ConditionIsForStatistics": False,
                        "TaxCode": tax_code,
                        "ConditionAmount": _money(amount),
                        "TransactionCurrency": currency,
                        "ConditionInactiveReason": "",
                        "ConditionClass": "D",
                    },
                )
            for function in ("AG", "RE", "RG", "WE"):
                self.put(
                    "A_BillingDocumentPartner",
                    (doc, function),
                    {
                        "BillingDocument": doc,
                        "PartnerFunction": function,
                        "Customer": customer.number,
                        "Supplier": "",
                        "Personnel": "",
                        "ContactPerson": "",
                    },
                )
            category = {"F2": "M", "S1": "N", "G2": "O"}.get(billing_type, "M")
            day = when.replace(hour=0, minute=0, second=0, microsecond=0)
            self.put(
                "A_BillingDocument",
                (doc,),
                {
                    "BillingDocument": doc,
                    "SDDocumentCategory": category,
                    "BillingDocumentCategory": "A",
                    "BillingDocumentType": billing_type,
                    "CreationDate": day,
                    "CreationTime": when.strftime("PT%HH%MM%SS"),
                    "LastChangeDate": day,
                    "LastChangeDateTime": when,
                    "LogicalSystem": "S4HCLNT100",
                    "SalesOrganization": company,
                    "DistributionChannel": "10",
                    "Division": "00",
                    "BillingDocumentDate": day,
                    "BillingDocumentIsCancelled": False,
                    "CancelledBillingDocument": reference if billing_type == "S1" else "",
                    "TotalNetAmount": _money(total_net),
                    "TransactionCurrency": currency,
                    "TaxAmount": _money(total_tax),
                    "TotalGrossAmount": _money(total_net + total_tax),
                    "IncotermsClassification": "EXW",
                    "PayerParty": customer.number,
                    "CustomerPaymentTerms": "0004",
                    "CompanyCode": company,
                    "FiscalYear": str(when.year),
                    "AccountingDocument": self._accounting(),
                    "SoldToParty": customer.number,
                    "PurchaseOrderByCustomer": po
                    if po is not None
                    else f"PO-{when:%Y%m}-{doc[-4:]}",
                    "CustomerGroup": "01",
                    "Country": customer.country,
                    "Region": "",
                    "OverallBillingStatus": "C",
                    "AccountingPostingStatus": "C",
                    "AccountingTransferStatus": "C",
                    "VATRegistration": customer.tax_id or "",
                },
            )
            return doc

    def _accounting(self) -> str:
        number = str(self._next_accounting)
        self._next_accounting += 1
        return number

    def _item_pricing(
        self,
        doc: str,
        item: str,
        material: Material,
        quantity: Decimal,
        gross_value: Decimal,
        reduction: Decimal,
        net: Decimal,
        tax: Decimal,
        currency: str,
        when: datetime,
    ) -> None:
        stamp = when.strftime("%Y%m%d%H%M%S")
        elements = [
            ("010", "PPR0", "C", material.price, gross_value, "B", "", "", quantity),
        ]
        if reduction:
            percent = (reduction / gross_value * 100) if gross_value else Decimal(0)
            elements.append(("020", "K007", "A", -percent, -reduction, "A", "", "", gross_value))
        elements.append(
            ("900", "MWST", "A", material.rate_percent, tax, "D", "D", material.tax_code, net)
        )
        for step, ctype, calc, rate, amount, klass, category, tax_code, base in elements:
            self.put(
                "A_BillingDocumentItemPrcgElmnt",
                (doc, item, step, "001"),
                {
                    "BillingDocument": doc,
                    "BillingDocumentItem": item,
                    "PricingProcedureStep": step,
                    "PricingProcedureCounter": "001",
                    "ConditionType": ctype,
                    "PricingDateTime": stamp,
                    "ConditionCalculationType": calc,
                    "ConditionBaseValue": _rate9(base),
                    "ConditionRateValue": _rate9(rate),
                    "ConditionCurrency": currency if calc == "C" else "",
                    "ConditionQuantity": "1" if calc == "C" else "0",
                    "ConditionQuantityUnit": material.unit if calc == "C" else "",
                    "ConditionCategory": category,
                    "ConditionIsForStatistics": False,
                    "PricingScaleType": "",
                    "ConditionOrigin": "A",
                    "IsGroupCondition": "",
                    "ConditionRecord": f"{zlib.crc32(f'{ctype}{material.number}'.encode()):010d}",
                    "ConditionSequentialNumber": "01",
                    "TaxCode": tax_code,
                    "CndnRoundingOffDiffAmount": "0.000",
                    "ConditionAmount": _money(amount),
                    "TransactionCurrency": currency,
                    "ConditionControl": "A",
                    "ConditionInactiveReason": "",
                    "ConditionClass": klass,
                    "ConditionIsManuallyChanged": False,
                },
            )

    def _lines(self, count: int) -> list[tuple[Material, Decimal, Decimal]]:
        chosen = self.random.sample(self.catalogue, min(count, len(self.catalogue)))
        out = []
        for material in chosen:
            quantity = Decimal(self.random.choice([1, 1, 2, 3, 5, 10, 12]))
            if material.number.startswith("SRV-IMPL"):
                quantity = Decimal(self.random.choice([8, 16, 24, 40]))
            discount = Decimal(self.random.choice([0, 0, 0, 5, 10]))
            out.append((material, quantity, discount))
        return out

    def _generate(self, invoices: int) -> None:
        special = {3: "usd", 7: "unmapped", 11: "no_tax_id", 15: "person", 19: "free_item"}
        for index in range(invoices):
            case = special.get(index)
            company = "1710" if index % 5 == 4 else "1010"
            same_run = index in (8, 9, 10)  # a billing run: three documents in the same millisecond
            changed = self.clock if same_run and index > 8 else None
            if case == "usd":
                self.add_invoice(CUSTOMERS[6], self._lines(2), currency="USD", changed=changed)
            elif case == "unmapped":
                lines = [*self._lines(1), (UNMAPPED_MATERIAL, Decimal(2), Decimal(0))]
                self.add_invoice(_TAXED[index % 4], lines, company=company, changed=changed)
            elif case == "no_tax_id":
                self.add_invoice(CUSTOMERS[4], self._lines(2), company=company, changed=changed)
            elif case == "person":
                self.add_invoice(
                    CUSTOMERS[5], [(MATERIALS[0], Decimal(1), Decimal(0))], changed=changed
                )
            elif case == "free_item":
                lines = [*self._lines(2), (MATERIALS[2], Decimal(1), Decimal(100))]
                self.add_invoice(_TAXED[index % 4], lines, company=company, changed=changed)
            else:
                count = self.random.randint(1, 4)
                self.add_invoice(
                    _TAXED[index % 4], self._lines(count), company=company, changed=changed
                )

    def _history(self) -> None:
        """Two invoices fapiao issued before (results recorded), one cancelled, one credited."""
        first = self.add_invoice(_TAXED[0], [(MATERIALS[1], Decimal(2), Decimal(0))])
        second = self.add_invoice(
            _TAXED[1],
            [(MATERIALS[0], Decimal(3), Decimal(0)), (MATERIALS[2], Decimal(10), Decimal(0))],
        )
        for number, doc in (("25312000000000000101", first), ("25312000000000000102", second)):
            self.record_result(doc, "issued", number, self.clock)
        self.cancel(first)
        self.credit_memo(second, {"10": Decimal(1)})

    # -- what SAP users do later -------------------------------------------------------------

    def _document(self, doc: str) -> dict[str, Any]:
        row = self.table("A_BillingDocument").get((doc,))
        if row is None:
            raise KeyError(f"no billing document {doc}")
        return row

    def _customer(self, doc: str) -> Customer:
        number = self._document(doc)["PayerParty"]
        return next(c for c in CUSTOMERS if c.number == number)

    def _material(self, number: str) -> Material:
        return next(m for m in (*MATERIALS, UNMAPPED_MATERIAL) if m.number == number)

    def cancel(self, doc: str) -> str:
        """VF11: an S1 reversing every item; the original is flagged cancelled and changed."""
        with self.lock:
            original = self._document(doc)
            items = sorted(
                self.where("A_BillingDocumentItem", BillingDocument=doc),
                key=lambda r: int(r["BillingDocumentItem"]),
            )
            lines = [
                (
                    self._material(i["Material"]),
                    Decimal(i["BillingQuantity"]),
                    Decimal(0) if Decimal(i["NetAmount"]) else Decimal(100),
                )
                for i in items
            ]
            s1 = self.add_invoice(
                self._customer(doc),
                lines,
                company=original["CompanyCode"],
                currency=original["TransactionCurrency"],
                billing_type="S1",
                reference=doc,
                reference_items=[i["BillingDocumentItem"] for i in items],
                po=original["PurchaseOrderByCustomer"],
            )
            original["BillingDocumentIsCancelled"] = True
            original["LastChangeDateTime"] = self.clock
            return s1

    def credit_memo(self, doc: str, quantities: dict[str, Decimal], *, reason: str = "") -> str:
        """A G2 crediting ``quantities`` (item number → quantity) of invoice ``doc``."""
        with self.lock:
            original = self._document(doc)
            lines = []
            refs = []
            for item_number, quantity in quantities.items():
                item = self.table("A_BillingDocumentItem")[(doc, item_number)]
                lines.append((self._material(item["Material"]), quantity, Decimal(0)))
                refs.append(item_number)
            return self.add_invoice(
                self._customer(doc),
                lines,
                company=original["CompanyCode"],
                currency=original["TransactionCurrency"],
                billing_type="G2",
                reference=doc,
                reference_items=refs,
                order_reason=reason,
            )

    def touch(self, doc: str) -> datetime:
        """Change a document (a user edits it): it moves to the end of the change order."""
        with self.lock:
            row = self._document(doc)
            row["LastChangeDateTime"] = self._tick()
            row["LastChangeDate"] = self.clock.replace(hour=0, minute=0, second=0, microsecond=0)
            return self.clock

    def record_result(
        self, doc: str, status: str, invoice_number: str | None, issued: datetime | None
    ) -> None:
        """Write a ZFAPIAO result row as if fapiao had written it back."""
        self.put(
            "InvoiceResultSet",
            (doc,),
            {
                "BillingDocument": doc,
                "FapiaoOrderID": doc,
                "Status": status,
                "InvoiceNumber": invoice_number,
                "IssueDateTime": issued,
                "PdfUrl": None,
                "OfdUrl": None,
                "XmlUrl": None,
                "ErrorCode": None,
                "ErrorMessage": None,
                "LastChangeDateTime": issued or self.clock,
            },
        )

    def documents(self) -> list[dict[str, Any]]:
        with self.lock:
            return sorted(
                self.table("A_BillingDocument").values(),
                key=lambda r: (r["LastChangeDateTime"], r["BillingDocument"]),
            )
