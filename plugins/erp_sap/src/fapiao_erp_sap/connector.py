"""The ``sap`` connector: pull billing documents from S/4HANA, map them, write results back.

One page of work is: the billing documents changed after the cursor (keyset-paged, oldest
first, with items, pricing elements and partners expanded), the write-back records of those
documents and of the invoices they reverse, and the buyers' business partners (tax number,
address, bank). Everything mapping needs travels in the payload, so ``map`` stays pure.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any, ClassVar

from fapiao.sdk import (
    ConnectorBase,
    ConnectorSettings,
    HttpClientFactory,
    InvoiceState,
    MappedDocument,
    SourceDocument,
    WriteBack,
)
from fapiao_erp_sap.cursor import BillingCursor
from fapiao_erp_sap.mapping import ENRICHMENT_KEY, BillingDocumentMapper, results
from fapiao_erp_sap.materials import MappingTable
from fapiao_erp_sap.odata import ODataClient, parse_datetime, string_literal
from fapiao_erp_sap.settings import SapSettings
from fapiao_erp_sap.writeback import ENTITY_SET, entity_path, result_entity

__all__ = ["SapConnector"]

DOCUMENT_EXPAND = "to_Item,to_Item/to_PricingElement,to_Partner"
PARTNER_EXPAND = (
    "to_BusinessPartnerTax,to_BusinessPartnerBank,"
    "to_BusinessPartnerAddress/to_PhoneNumber,to_BusinessPartnerAddress/to_EmailAddress"
)
_DONE = {
    InvoiceState.SUBMITTED.value,
    InvoiceState.ISSUING.value,
    InvoiceState.ISSUED.value,
    InvoiceState.RED_REQUESTED.value,
    InvoiceState.RED_CONFIRMED.value,
    InvoiceState.PARTIALLY_REVERSED.value,
    InvoiceState.REVERSED.value,
    InvoiceState.CANCELLED.value,
}
"""Write-back states meaning fapiao already took the document in hand (``failed`` is not:
a document changed in SAP after a failure is offered again)."""
_RESULT_CHUNK = 40


class SapConnector(ConnectorBase[SapSettings]):
    name: ClassVar[str] = "sap"
    settings_model: ClassVar[type[ConnectorSettings]] = SapSettings

    def __init__(self, settings: SapSettings, *, http: HttpClientFactory | None = None) -> None:
        super().__init__(settings, http=http)
        self.table = MappingTable.load(settings.material_mapping)
        self.mapper = BillingDocumentMapper(settings, self.table)
        oauth = None
        basic = None
        if settings.auth == "oauth":
            token_url, client_id, client_secret = settings.oauth_credentials()
            oauth = ODataClient.oauth_source(
                self.http, token_url, client_id, client_secret, settings.scope
            )
        else:
            basic = settings.basic_credentials()
        self.odata = ODataClient(
            self.http,
            basic=basic,
            oauth=oauth,
            sap_client=settings.sap_client,
            language=settings.language,
        )
        self._partners: dict[str, dict[str, Any] | None] = {}

    @property
    def _billing(self) -> str:
        return self.settings.billing_service_path.rstrip("/")

    @property
    def _writeback(self) -> str:
        return self.settings.writeback_service_path.rstrip("/")

    # -- pull --------------------------------------------------------------------------------

    def _type_filter(self) -> str:
        types = (
            *self.settings.invoice_billing_types,
            *self.settings.cancellation_billing_types,
            *self.settings.credit_memo_billing_types,
        )
        return "(" + " or ".join(f"BillingDocumentType eq {string_literal(t)}" for t in types) + ")"

    async def pending(self, cursor: str | None) -> AsyncIterator[SourceDocument]:
        """Documents changed after ``cursor`` that still need fapiao, oldest first."""
        after = BillingCursor.parse(cursor)
        size = self.settings.page_size
        while True:
            conditions = [self._type_filter()]
            if after is not None:
                conditions.append(after.filter())
            params = {
                "$filter": " and ".join(conditions),
                "$orderby": "LastChangeDateTime asc,BillingDocument asc",
                "$top": str(size),
                "$expand": DOCUMENT_EXPAND,
            }
            body = await self.odata.get(f"{self._billing}/A_BillingDocument", params)
            page = results(body)
            # A server that pages below $top says so with __next; the keyset filter of the next
            # round continues from the last row either way.
            more = len(page) >= size or bool(isinstance(body, dict) and body.get("__next"))
            if not page:
                return
            recorded = await self._results(self._ids_to_look_up(page))
            for row in page:
                position = BillingCursor(
                    parse_datetime(row["LastChangeDateTime"]), str(row["BillingDocument"])
                )
                if after is not None and position <= after:
                    continue  # already seen (precision of the filter literal)
                after = position
                document = await self._pending_document(row, position, recorded)
                if document is not None:
                    yield document
            if not more:
                return

    def _reference(self, row: dict[str, Any]) -> str | None:
        billing_type = row.get("BillingDocumentType")
        if billing_type in self.settings.cancellation_billing_types:
            return str(row.get("CancelledBillingDocument") or "") or None
        if billing_type in self.settings.credit_memo_billing_types:
            for item in results(row.get("to_Item")):
                if item.get("ReferenceSDDocumentCategory") == "M" and item.get(
                    "ReferenceSDDocument"
                ):
                    return str(item["ReferenceSDDocument"])
        return None

    def _ids_to_look_up(self, page: Iterable[dict[str, Any]]) -> list[str]:
        ids: list[str] = []
        for row in page:
            ids.append(str(row["BillingDocument"]))
            reference = self._reference(row)
            if reference:
                ids.append(reference)
        return sorted(set(ids))

    async def _results(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Write-back records of ``ids`` (one query per chunk, not one per document)."""
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), _RESULT_CHUNK):
            chunk = ids[start : start + _RESULT_CHUNK]
            expression = " or ".join(f"BillingDocument eq {string_literal(i)}" for i in chunk)
            body = await self.odata.get(f"{self._writeback}/{ENTITY_SET}", {"$filter": expression})
            for entity in results(body):
                found[str(entity["BillingDocument"])] = entity
        return found

    async def _pending_document(
        self,
        row: dict[str, Any],
        position: BillingCursor,
        recorded: dict[str, dict[str, Any]],
    ) -> SourceDocument | None:
        doc_id = str(row["BillingDocument"])
        own = recorded.get(doc_id)
        if own is not None and own.get("Status") in _DONE:
            return None
        reference = self._reference(row)
        is_red = row.get("BillingDocumentType") not in self.settings.invoice_billing_types
        enrichment: dict[str, Any] = {}
        if is_red:
            original_result = recorded.get(reference or "")
            if reference and (original_result is None or original_result.get("Status") == "failed"):
                return None  # the referenced invoice was never issued: nothing to reverse
            enrichment["original"] = {
                "document": await self.odata.get_optional(
                    f"{self._billing}/A_BillingDocument({string_literal(reference)})",
                    {"$expand": "to_Item"},
                )
                if reference
                else None,
                "result": original_result,
            }
        elif row.get("BillingDocumentIsCancelled") is True and own is None:
            return None  # cancelled before it was ever invoiced
        customer, _ = self.mapper.buyer_number(row)
        if customer:
            enrichment["business_partners"] = {customer: await self._partner(customer)}
        payload = {**row, ENRICHMENT_KEY: enrichment}
        return SourceDocument(
            id=doc_id,
            kind="red" if is_red else "invoice",
            changed_at=position.changed,
            cursor=str(position),
            payload=payload,
        )

    async def _partner(self, customer: str) -> dict[str, Any] | None:
        if customer not in self._partners:
            root = self.settings.business_partner_service_path.rstrip("/")
            self._partners[customer] = await self.odata.get_optional(
                f"{root}/A_BusinessPartner({string_literal(customer)})",
                {"$expand": PARTNER_EXPAND},
            )
        return self._partners[customer]

    # -- map ---------------------------------------------------------------------------------

    def map(self, document: SourceDocument) -> MappedDocument:
        return self.mapper.map(document)

    # -- write back --------------------------------------------------------------------------

    async def write_back(self, outcome: WriteBack) -> None:
        await self.odata.put(
            self._writeback, entity_path(outcome.source_id), result_entity(outcome)
        )

    async def read_back(self, billing_document: str) -> dict[str, Any] | None:
        """The write-back record of one document, as SAP holds it (None if there is none)."""
        body = await self.odata.get_optional(f"{self._writeback}/{entity_path(billing_document)}")
        return dict(body) if body else None
