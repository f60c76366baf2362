"""The entity model the simulator serves, and its ``$metadata`` (EDMX, OData v2 + SAP annotations).

Names, types and lengths follow SAP's published metadata of API_BILLING_DOCUMENT_SRV and
API_BUSINESS_PARTNER (S/4HANA, content version 1); each entity type carries the subset of
properties an e-invoicing integration reads (see the README for the list and what was left out).
``ZFAPIAO_INVOICE_SRV`` is our own definition of the customer's write-back service.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from xml.sax.saxutils import quoteattr

__all__ = [
    "BILLING",
    "BUSINESS_PARTNER",
    "SERVICES",
    "WRITEBACK",
    "EntityType",
    "Nav",
    "Prop",
    "Service",
]


@dataclass(frozen=True)
class Prop:
    name: str
    type: str = "Edm.String"
    max_length: int | None = None
    precision: int | None = None
    scale: int | None = None
    nullable: bool = True
    label: str | None = None
    display: str | None = None  # sap:display-format: UpperCase, Date, NonNegative
    unit: str | None = None  # sap:unit: the property holding the currency or unit
    semantics: str | None = None  # sap:semantics: currency-code, unit-of-measure


@dataclass(frozen=True)
class Nav:
    name: str
    target: str  # entity type name
    many: bool
    on: tuple[str, ...]  # properties equal in source and target


@dataclass(frozen=True)
class EntityType:
    name: str
    set_name: str
    keys: tuple[str, ...]
    props: tuple[Prop, ...]
    navs: tuple[Nav, ...] = ()
    label: str = ""
    writable: bool = False

    def prop(self, name: str) -> Prop | None:
        return self._props.get(name)

    def nav(self, name: str) -> Nav | None:
        return self._navs.get(name)

    @cached_property
    def _props(self) -> dict[str, Prop]:
        return {p.name: p for p in self.props}

    @cached_property
    def _navs(self) -> dict[str, Nav]:
        return {n.name: n for n in self.navs}


@dataclass(frozen=True)
class Service:
    namespace: str
    types: tuple[EntityType, ...]
    _by_set: dict[str, EntityType] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_set.update({t.set_name: t for t in self.types})

    def entity_set(self, name: str) -> EntityType | None:
        return self._by_set.get(name)

    def entity_type(self, name: str) -> EntityType:
        return next(t for t in self.types if t.name == name)

    def edmx(self) -> str:
        return _edmx(self)


def S(
    name: str, length: int, label: str | None = None, *, key: bool = False, upper: bool = True
) -> Prop:
    return Prop(
        name,
        "Edm.String",
        max_length=length,
        nullable=not key,
        label=label,
        display="UpperCase" if upper else None,
    )


def D(
    name: str,
    precision: int,
    scale: int,
    label: str | None = None,
    unit: str | None = "TransactionCurrency",
) -> Prop:
    return Prop(name, "Edm.Decimal", precision=precision, scale=scale, label=label, unit=unit)


def DATE(name: str, label: str | None = None) -> Prop:
    return Prop(name, "Edm.DateTime", precision=0, label=label, display="Date")


def B(name: str, label: str | None = None) -> Prop:
    return Prop(name, "Edm.Boolean", label=label, display="UpperCase")


def TS(name: str, label: str | None = None, precision: int = 7) -> Prop:
    return Prop(name, "Edm.DateTimeOffset", precision=precision, label=label)


CURRENCY = Prop(
    "TransactionCurrency",
    max_length=5,
    label="Document Currency",
    display="UpperCase",
    semantics="currency-code",
)

BILLING = Service(
    "API_BILLING_DOCUMENT_SRV",
    (
        EntityType(
            "A_BillingDocumentType",
            "A_BillingDocument",
            ("BillingDocument",),
            (
                S("BillingDocument", 10, "Billing Document", key=True),
                S("SDDocumentCategory", 4, "SD Document Category", upper=False),
                S("BillingDocumentCategory", 1, "Billing Category"),
                S("BillingDocumentType", 4, "Billing Type"),
                DATE("CreationDate", "Created On"),
                Prop("CreationTime", "Edm.Time", precision=0, label="Time"),
                DATE("LastChangeDate", "Changed On"),
                TS("LastChangeDateTime", "Time Stamp"),
                S("LogicalSystem", 10, "Logical system"),
                S("SalesOrganization", 4, "Sales Organization"),
                S("DistributionChannel", 2, "Distribution Channel"),
                S("Division", 2, "Division"),
                DATE("BillingDocumentDate", "Billing Date"),
                B("BillingDocumentIsCancelled", "Canceled"),
                S("CancelledBillingDocument", 10, "Canceled Bill. Doc."),
                D("TotalNetAmount", 16, 3, "Net Value"),
                CURRENCY,
                D("TaxAmount", 14, 3, "Tax Amount"),
                D("TotalGrossAmount", 17, 3),
                S("IncotermsClassification", 3, "Incoterms"),
                S("PayerParty", 10, "Payer"),
                S("CustomerPaymentTerms", 4, "Terms of Payment"),
                S("CompanyCode", 4, "Company Code"),
                S("FiscalYear", 4, "Fiscal Year"),
                S("AccountingDocument", 10, "Document Number"),
                S("SoldToParty", 10, "Sold-to Party"),
                S("PurchaseOrderByCustomer", 35, "Customer Reference", upper=False),
                S("CustomerGroup", 2, "Customer Group"),
                S("Country", 3, "Dest. Country/Region"),
                S("Region", 3, "Region"),
                S("OverallBillingStatus", 1, "Status"),
                S("AccountingPostingStatus", 1, "Posting Status"),
                S("AccountingTransferStatus", 1, "Posting Status"),
                S("VATRegistration", 20, "VAT Registration No."),
            ),
            (
                Nav("to_Item", "A_BillingDocumentItemType", True, ("BillingDocument",)),
                Nav("to_Partner", "A_BillingDocumentPartnerType", True, ("BillingDocument",)),
                Nav(
                    "to_PricingElement",
                    "A_BillingDocumentPrcgElmntType",
                    True,
                    ("BillingDocument",),
                ),
            ),
            "Billing Document Header",
        ),
        EntityType(
            "A_BillingDocumentItemType",
            "A_BillingDocumentItem",
            ("BillingDocument", "BillingDocumentItem"),
            (
                S("BillingDocument", 10, "Billing Document", key=True),
                Prop(
                    "BillingDocumentItem",
                    max_length=6,
                    nullable=False,
                    label="Item",
                    display="NonNegative",
                ),
                S("SalesDocumentItemCategory", 4, "Sales Doc. Item Cat."),
                S("SalesDocumentItemType", 1, "Item Type"),
                S("ReturnItemProcessingType", 1, "Returns"),
                DATE("CreationDate", "Created On"),
                S("Division", 2, "Division"),
                S("Material", 40, "Material"),
                S("OriginallyRequestedMaterial", 40, "Material Entered"),
                S("InternationalArticleNumber", 18, "EAN/UPC"),
                S("Batch", 10, "Batch"),
                S("MaterialGroup", 9, "Material Group"),
                S("Plant", 4, "Plant"),
                S("StorageLocation", 4, "Storage Location"),
                S("BillingDocumentItemText", 40, "Item Description", upper=False),
                DATE("ServicesRenderedDate", "Serv. Rendered Date"),
                D("BillingQuantity", 13, 3, "Invoiced Quantity", unit="BillingQuantityUnit"),
                Prop(
                    "BillingQuantityUnit",
                    max_length=3,
                    label="Sales Unit",
                    semantics="unit-of-measure",
                ),
                D("BillingQuantityInBaseUnit", 13, 3, "Billing Qty in SKU", unit="BaseUnit"),
                Prop(
                    "BaseUnit",
                    max_length=3,
                    label="Base Unit of Measure",
                    semantics="unit-of-measure",
                ),
                D("NetAmount", 16, 3, "Net Value"),
                CURRENCY,
                D("GrossAmount", 16, 3, "Gross Value"),
                DATE("PricingDate", "Pricing Date"),
                D("TaxAmount", 14, 3, "Tax Amount"),
                S("ProfitCenter", 10, "Profit Center"),
                S("ReferenceSDDocument", 10, "Reference Document"),
                Prop(
                    "ReferenceSDDocumentItem",
                    max_length=6,
                    label="Reference Item",
                    display="NonNegative",
                ),
                S("ReferenceSDDocumentCategory", 4, "Ref. Doc. Category", upper=False),
                S("SalesDocument", 10, "Sales Document"),
                Prop(
                    "SalesDocumentItem",
                    max_length=6,
                    label="Sales Document Item",
                    display="NonNegative",
                ),
                S("SalesSDDocumentCategory", 4, "Sales Doc. Category", upper=False),
                S("SDDocumentReason", 3, "Order Reason"),
                S("ProductTaxClassification1", 1, "Tax Class. Material"),
                S("DepartureCountry", 3, "Departure Ctry/Reg."),
            ),
            (
                Nav("to_BillingDocument", "A_BillingDocumentType", False, ("BillingDocument",)),
                Nav(
                    "to_PricingElement",
                    "A_BillingDocumentItemPrcgElmntType",
                    True,
                    ("BillingDocument", "BillingDocumentItem"),
                ),
            ),
            "Billing Document Item",
        ),
        EntityType(
            "A_BillingDocumentPartnerType",
            "A_BillingDocumentPartner",
            ("BillingDocument", "PartnerFunction"),
            (
                S("BillingDocument", 10, "Billing Document", key=True),
                S("PartnerFunction", 2, "Partner Function", key=True),
                S("Customer", 10, "Customer"),
                S("Supplier", 10, "Supplier"),
                Prop("Personnel", max_length=8, label="Personnel Number", display="NonNegative"),
                Prop("ContactPerson", max_length=10, label="Contact Person", display="NonNegative"),
            ),
            (Nav("to_BillingDocument", "A_BillingDocumentType", False, ("BillingDocument",)),),
            "Header Partner",
        ),
        EntityType(
            "A_BillingDocumentItemPrcgElmntType",
            "A_BillingDocumentItemPrcgElmnt",
            (
                "BillingDocument",
                "BillingDocumentItem",
                "PricingProcedureStep",
                "PricingProcedureCounter",
            ),
            (
                S("BillingDocument", 10, "Billing Document", key=True),
                Prop(
                    "BillingDocumentItem",
                    max_length=6,
                    nullable=False,
                    label="Item",
                    display="NonNegative",
                ),
                Prop(
                    "PricingProcedureStep",
                    max_length=3,
                    nullable=False,
                    label="Step Number",
                    display="NonNegative",
                ),
                Prop(
                    "PricingProcedureCounter",
                    max_length=3,
                    nullable=False,
                    label="Counter",
                    display="NonNegative",
                ),
                S("ConditionType", 4, "Condition Type"),
                S("PricingDateTime", 14, "Valid From"),
                S("ConditionCalculationType", 3, "Calculation Type"),
                D("ConditionBaseValue", 24, 9, "Condition Basis", unit=None),
                D("ConditionRateValue", 24, 9, "Amount", unit=None),
                Prop(
                    "ConditionCurrency",
                    max_length=5,
                    label="Currency",
                    display="UpperCase",
                    semantics="currency-code",
                ),
                D("ConditionQuantity", 5, 0, "Pricing Unit", unit="ConditionQuantityUnit"),
                Prop(
                    "ConditionQuantityUnit",
                    max_length=3,
                    label="Condition Unit",
                    semantics="unit-of-measure",
                ),
                Prop("ConditionCategory", max_length=1, label="Condition Category"),
                B("ConditionIsForStatistics", "Statistical"),
                S("PricingScaleType", 1, "Scale Type"),
                S("ConditionOrigin", 1, "Condition Origin"),
                S("IsGroupCondition", 1, "Group Condition"),
                S("ConditionRecord", 10, "Condition Record No."),
                Prop(
                    "ConditionSequentialNumber",
                    max_length=3,
                    label="Sequent.No. of Cond.",
                    display="NonNegative",
                ),
                S("TaxCode", 2, "Tax Code"),
                D("CndnRoundingOffDiffAmount", 6, 3, "Cond.Rounding Diff."),
                D("ConditionAmount", 16, 3, "Value"),
                CURRENCY,
                S("ConditionControl", 1, "Condition Control"),
                S("ConditionInactiveReason", 1, "Inactive Condition"),
                S("ConditionClass", 1, "Condition Class"),
                B("ConditionIsManuallyChanged", "Changed Manually"),
            ),
            (
                Nav("to_BillingDocument", "A_BillingDocumentType", False, ("BillingDocument",)),
                Nav(
                    "to_BillingDocumentItem",
                    "A_BillingDocumentItemType",
                    False,
                    ("BillingDocument", "BillingDocumentItem"),
                ),
            ),
            "Item Pricing Element",
        ),
        EntityType(
            "A_BillingDocumentPrcgElmntType",
            "A_BillingDocumentPrcgElmnt",
            ("BillingDocument", "PricingProcedureStep", "PricingProcedureCounter"),
            (
                S("BillingDocument", 10, "Billing Document", key=True),
                Prop(
                    "PricingProcedureStep",
                    max_length=3,
                    nullable=False,
                    label="Step Number",
                    display="NonNegative",
                ),
                Prop(
                    "PricingProcedureCounter",
                    max_length=3,
                    nullable=False,
                    label="Counter",
                    display="NonNegative",
                ),
                S("ConditionType", 4, "Condition Type"),
                S("ConditionCalculationType", 3, "Calculation Type"),
                D("ConditionBaseValue", 24, 9, "Condition Basis", unit=None),
                D("ConditionRateValue", 24, 9, "Amount", unit=None),
                Prop(
                    "ConditionCurrency",
                    max_length=5,
                    label="Currency",
                    display="UpperCase",
                    semantics="currency-code",
                ),
                Prop("ConditionCategory", max_length=1, label="Condition Category"),
                B("ConditionIsForStatistics", "Statistical"),
                S("TaxCode", 2, "Tax Code"),
                D("ConditionAmount", 16, 3, "Value"),
                CURRENCY,
                S("ConditionInactiveReason", 1, "Inactive Condition"),
                S("ConditionClass", 1, "Condition Class"),
            ),
            (Nav("to_BillingDocument", "A_BillingDocumentType", False, ("BillingDocument",)),),
            "Header Pricing Element",
        ),
    ),
)

BUSINESS_PARTNER = Service(
    "API_BUSINESS_PARTNER",
    (
        EntityType(
            "A_BusinessPartnerType",
            "A_BusinessPartner",
            ("BusinessPartner",),
            (
                S("BusinessPartner", 10, "Business Partner", key=True),
                S("Customer", 10, "Customer"),
                S("Supplier", 10, "Supplier"),
                S("BusinessPartnerCategory", 1, "BP Category"),
                Prop("BusinessPartnerFullName", max_length=81, label="Full Name"),
                S("BusinessPartnerGrouping", 4, "Grouping"),
                Prop("BusinessPartnerName", max_length=81, label="Name"),
                S("CorrespondenceLanguage", 2, "Language"),
                DATE("CreationDate", "Created On"),
                Prop("FirstName", max_length=40, label="First Name"),
                Prop("LastName", max_length=40, label="Last Name"),
                S("IsNaturalPerson", 1, "Natural Person"),
                S("Language", 2, "Language Key"),
                DATE("LastChangeDate", "Changed On"),
                Prop("OrganizationBPName1", max_length=40, label="Name 1"),
                Prop("OrganizationBPName2", max_length=40, label="Name 2"),
                Prop("OrganizationBPName3", max_length=40, label="Name 3"),
                Prop("OrganizationBPName4", max_length=40, label="Name 4"),
                S("SearchTerm1", 20, "Search Term 1"),
                B("BusinessPartnerIsBlocked", "Central Block"),
            ),
            (
                Nav(
                    "to_BusinessPartnerAddress",
                    "A_BusinessPartnerAddressType",
                    True,
                    ("BusinessPartner",),
                ),
                Nav(
                    "to_BusinessPartnerBank",
                    "A_BusinessPartnerBankType",
                    True,
                    ("BusinessPartner",),
                ),
                Nav(
                    "to_BusinessPartnerTax",
                    "A_BusinessPartnerTaxNumberType",
                    True,
                    ("BusinessPartner",),
                ),
            ),
            "Business Partner",
        ),
        EntityType(
            "A_BusinessPartnerAddressType",
            "A_BusinessPartnerAddress",
            ("BusinessPartner", "AddressID"),
            (
                S("BusinessPartner", 10, "Business Partner", key=True),
                S("AddressID", 10, "Address Number", key=True),
                Prop("CityName", max_length=40, label="City"),
                S("Country", 3, "Country/Region Key"),
                Prop("District", max_length=40, label="District"),
                Prop("HouseNumber", max_length=10, label="House Number"),
                Prop("PostalCode", max_length=10, label="Postal Code"),
                S("Region", 3, "Region"),
                Prop("StreetName", max_length=60, label="Street"),
                S("Language", 2, "Language Key"),
            ),
            (
                Nav("to_PhoneNumber", "A_AddressPhoneNumberType", True, ("AddressID",)),
                Nav("to_EmailAddress", "A_AddressEmailAddressType", True, ("AddressID",)),
            ),
            "BP Address",
        ),
        EntityType(
            "A_AddressPhoneNumberType",
            "A_AddressPhoneNumber",
            ("AddressID", "Person", "OrdinalNumber"),
            (
                S("AddressID", 10, "Address Number", key=True),
                S("Person", 10, "Person Number", key=True),
                S("OrdinalNumber", 3, "Sequence Number", key=True),
                S("DestinationLocationCountry", 3, "Country/Region"),
                B("IsDefaultPhoneNumber", "Standard No."),
                Prop("PhoneNumber", max_length=30, label="Telephone"),
                Prop("PhoneNumberExtension", max_length=10, label="Extension"),
                Prop("InternationalPhoneNumber", max_length=30, label="Telephone number"),
                S("PhoneNumberType", 1, "Mobile phone"),
            ),
            (),
            "Address Phone Number",
        ),
        EntityType(
            "A_AddressEmailAddressType",
            "A_AddressEmailAddress",
            ("AddressID", "Person", "OrdinalNumber"),
            (
                S("AddressID", 10, "Address Number", key=True),
                S("Person", 10, "Person Number", key=True),
                S("OrdinalNumber", 3, "Sequence Number", key=True),
                B("IsDefaultEmailAddress", "Standard No."),
                Prop("EmailAddress", max_length=241, label="E-Mail Address"),
                S("SearchEmailAddress", 20, "E-Mail Address"),
            ),
            (),
            "Address Email Address",
        ),
        EntityType(
            "A_BusinessPartnerBankType",
            "A_BusinessPartnerBank",
            ("BusinessPartner", "BankIdentification"),
            (
                S("BusinessPartner", 10, "Business Partner", key=True),
                S("BankIdentification", 4, "Bank details ID", key=True),
                S("BankCountryKey", 3, "Bank Country/Region"),
                Prop("BankName", max_length=60, label="Name of Bank"),
                Prop("BankNumber", max_length=15, label="Bank Key"),
                S("SWIFTCode", 11, "SWIFT/BIC"),
                Prop("BankAccountHolderName", max_length=60, label="Account Holder"),
                Prop("BankAccount", max_length=18, label="Bank Account"),
                Prop("BankAccountReferenceText", max_length=20, label="Reference Details"),
                S("IBAN", 34, "IBAN"),
            ),
            (),
            "BP Bank Details",
        ),
        EntityType(
            "A_BusinessPartnerTaxNumberType",
            "A_BusinessPartnerTaxNumber",
            ("BusinessPartner", "BPTaxType"),
            (
                S("BusinessPartner", 10, "Business Partner", key=True),
                S("BPTaxType", 4, "Tax Number Category", key=True),
                S("BPTaxNumber", 20, "Tax Number"),
                Prop("BPTaxLongNumber", max_length=60, label="Tax Number"),
                S("AuthorizationGroup", 4, "Authorization Group"),
            ),
            (),
            "BP Tax Number",
        ),
    ),
)

WRITEBACK = Service(
    "ZFAPIAO_INVOICE_SRV",
    (
        EntityType(
            "InvoiceResult",
            "InvoiceResultSet",
            ("BillingDocument",),
            (
                S("BillingDocument", 10, "Billing Document", key=True),
                Prop("FapiaoOrderID", max_length=64, label="fapiao Order ID"),
                Prop("Status", max_length=20, label="e-Invoice Status"),
                Prop("InvoiceNumber", max_length=20, label="数电票号码"),
                TS("IssueDateTime", "Issued At", precision=0),
                Prop("PdfUrl", max_length=255, label="PDF URL"),
                Prop("OfdUrl", max_length=255, label="OFD URL"),
                Prop("XmlUrl", max_length=255, label="XML URL"),
                Prop("ErrorCode", max_length=30, label="Error Code"),
                Prop("ErrorMessage", max_length=220, label="Error Message"),
                TS("LastChangeDateTime", "Time Stamp"),
            ),
            (),
            "fapiao Invoice Result",
            writable=True,
        ),
    ),
)

SERVICES = {s.namespace: s for s in (BILLING, BUSINESS_PARTNER, WRITEBACK)}


def _attrs(**values: object) -> str:
    return "".join(
        f" {k.replace('__', ':').replace('_', '-') if '__' in k else k}={quoteattr(str(v))}"
        for k, v in values.items()
        if v is not None
    )


def _property(p: Prop) -> str:
    attrs = _attrs(
        Name=p.name,
        Type=p.type,
        Nullable=None if p.nullable else "false",
        MaxLength=p.max_length,
        Precision=p.precision,
        Scale=p.scale,
        sap__unit=p.unit,
        sap__label=p.label,
        sap__display_format=p.display,
        sap__semantics=p.semantics,
    )
    return f"<Property{attrs}/>"


def _association_name(source: EntityType, nav: Nav) -> str:
    return f"assoc_{source.name.removesuffix('Type')}_{nav.name}"


def _edmx(service: Service) -> str:
    ns = service.namespace
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<edmx:Edmx Version="1.0" xmlns:edmx="http://schemas.microsoft.com/ado/2007/06/edmx"'
        ' xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"'
        ' xmlns:sap="http://www.sap.com/Protocols/SAPData">',
        '<edmx:DataServices m:DataServiceVersion="2.0">',
        f'<Schema Namespace="{ns}" xml:lang="en" sap:schema-version="1"'
        ' xmlns="http://schemas.microsoft.com/ado/2008/09/edm">',
    ]
    associations: list[tuple[str, EntityType, Nav]] = []
    for etype in service.types:
        out.append(
            f'<EntityType Name="{etype.name}" sap:label={quoteattr(etype.label)} sap:content-version="1">'
        )
        out.append("<Key>" + "".join(f'<PropertyRef Name="{k}"/>' for k in etype.keys) + "</Key>")
        out.extend(_property(p) for p in etype.props)
        for nav in etype.navs:
            assoc = _association_name(etype, nav)
            associations.append((assoc, etype, nav))
            out.append(
                f'<NavigationProperty Name="{nav.name}" Relationship="{ns}.{assoc}"'
                f' FromRole="FromRole_{assoc}" ToRole="ToRole_{assoc}"/>'
            )
        out.append("</EntityType>")
    for assoc, etype, nav in associations:
        out.append(f'<Association Name="{assoc}" sap:content-version="1">')
        out.append(f'<End Type="{ns}.{etype.name}" Multiplicity="1" Role="FromRole_{assoc}"/>')
        many = "*" if nav.many else "0..1"
        out.append(f'<End Type="{ns}.{nav.target}" Multiplicity="{many}" Role="ToRole_{assoc}"/>')
        out.append("</Association>")
    out.append(
        f'<EntityContainer Name="{ns}_Entities" m:IsDefaultEntityContainer="true"'
        ' sap:supported-formats="atom json xlsx">'
    )
    for etype in service.types:
        flag = "true" if etype.writable else "false"
        out.append(
            f'<EntitySet Name="{etype.set_name}" EntityType="{ns}.{etype.name}"'
            f' sap:creatable="{flag}" sap:updatable="{flag}" sap:deletable="{flag}"'
            ' sap:content-version="1"/>'
        )
    for assoc, etype, nav in associations:
        target = service.entity_type(nav.target)
        out.append(
            f'<AssociationSet Name="{assoc}" Association="{ns}.{assoc}" sap:creatable="false"'
            ' sap:updatable="false" sap:deletable="false" sap:content-version="1">'
        )
        out.append(f'<End EntitySet="{etype.set_name}" Role="FromRole_{assoc}"/>')
        out.append(f'<End EntitySet="{target.set_name}" Role="ToRole_{assoc}"/>')
        out.append("</AssociationSet>")
    out.append("</EntityContainer>")
    out.append(
        '<atom:link rel="self" href="./$metadata" xmlns:atom="http://www.w3.org/2005/Atom"/>'
    )
    out.append("</Schema></edmx:DataServices></edmx:Edmx>")
    return "\n".join(out)
