"""``fapiao.sdk.ConnectorBase``: what an ERP connector gets from the kit, against a real server
on loopback (settings, scrubber fed with their secrets, the shared HTTP client, closing)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any, ClassVar

import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fapiao.sandboxkit import serve
from fapiao.sandboxkit.server import RunningServer
from fapiao.sdk import (
    Connector,
    ConnectorBase,
    ConnectorSettings,
    HttpClientFactory,
    InvoiceState,
    MappedDocument,
    SourceDocument,
    WriteBack,
)

SECRET = "erp-Secret-0815"


class EchoSettings(ConnectorSettings):
    api_key: SecretStr


class EchoConnector(ConnectorBase[EchoSettings]):
    """A complete connector of a few lines: the ERP answers ``GET /documents``."""

    name: ClassVar[str] = "echo"
    settings_model: ClassVar[type[ConnectorSettings]] = EchoSettings

    async def pending(self, cursor: str | None) -> AsyncIterator[SourceDocument]:
        key = self.settings.api_key.get_secret_value()
        answer = await self.http.get(f"/documents?api_key={key}", operation="pending")
        for row in answer.json():
            yield SourceDocument(id=row["id"], payload=row)

    def map(self, document: SourceDocument) -> MappedDocument:
        return MappedDocument(source_id=document.id)

    async def write_back(self, outcome: WriteBack) -> None:
        await self.http.post(
            "/results", idempotent=True, operation="write_back", json={"id": outcome.source_id}
        )


@pytest.fixture
def erp() -> Iterator[RunningServer]:
    written: list[Any] = []

    async def documents(_request: Request) -> JSONResponse:
        return JSONResponse([{"id": "D1"}, {"id": "D2"}])

    async def results(request: Request) -> JSONResponse:
        written.append(await request.json())
        return JSONResponse({"ok": True, "written": written})

    app = Starlette(
        routes=[Route("/documents", documents), Route("/results", results, methods=["POST"])]
    )
    with serve(app) as running:
        yield running


def settings_for(server: RunningServer, **overrides: Any) -> EchoSettings:
    values: dict[str, Any] = {"base_url": server.base_url + "/", "api_key": SECRET}
    values.update(overrides)
    return EchoSettings.model_validate(values)


async def test_a_subclass_is_a_connector_talking_through_the_shared_client(
    erp: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="fapiao.transport")
    async with EchoConnector(settings_for(erp)) as connector:
        assert isinstance(connector, Connector)
        assert [d.id async for d in connector.pending(None)] == ["D1", "D2"]
        await connector.write_back(
            WriteBack(source_id="D1", order_id="D1", state=InvoiceState.ISSUED)
        )
        client = connector.http.client
        assert str(client.base_url).rstrip("/") == erp.base_url  # the setting, trailing "/" dropped
        assert connector.http.provider == "echo"
        assert connector.http.limiter is None
    assert client.is_closed  # leaving the block closed the shared client
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "echo pending GET" in logged and "echo write_back POST /results" in logged
    assert SECRET not in logged  # the setting's secret is scrubbed from the transport log


async def test_profile_limits_reach_the_shared_client(erp: RunningServer) -> None:
    settings = settings_for(erp, timeout_seconds=3.5, rate_limit_per_second=7.0)
    connector = EchoConnector(settings, http=HttpClientFactory(transport="httpx"))
    try:
        assert connector.http.client.timeout.read == 3.5
        assert connector.http.limiter is not None
    finally:
        await connector.aclose()


async def test_scrub_removes_the_settings_secrets(erp: RunningServer) -> None:
    async with EchoConnector(settings_for(erp)) as connector:
        scrubbed = connector.scrub(f"GET /documents?key={SECRET} 200")
    assert SECRET not in scrubbed and scrubbed.startswith("GET /documents?key=")


def test_a_connector_missing_an_operation_fails_when_built(erp: RunningServer) -> None:
    class Incomplete(ConnectorBase[EchoSettings]):  # no write_back
        name: ClassVar[str] = "incomplete"

        async def pending(self, cursor: str | None) -> AsyncIterator[SourceDocument]:
            yield SourceDocument(id="x")

        def map(self, document: SourceDocument) -> MappedDocument:
            return MappedDocument(source_id=document.id)

    with pytest.raises(TypeError, match="write_back"):
        Incomplete(settings_for(erp))  # type: ignore[abstract]
