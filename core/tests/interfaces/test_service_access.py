"""Who may reach what: the bearer token as RFC 6750 spells it, and the operator's choice of
which surfaces besides the gateway it guards (``/metrics``, the API description)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from fapiao.errors import ConfigError
from fapiao.service import bind, create_app, is_loopback, serve_app

TOKEN = "t0k-access-secret"
ADMITTED = 422  # past the guard, the body "{oops" is refused: no client is needed for that


def _asgi(**options: Any) -> httpx.AsyncClient:
    app = create_app(object(), api_token=TOKEN, **options)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service")


@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {TOKEN}", f"bearer {TOKEN}", f"BEARER {TOKEN}", f"Bearer   {TOKEN} "],
)
async def test_the_bearer_scheme_is_case_insensitive(authorization: str) -> None:
    async with _asgi() as http:
        answer = await http.post(
            "/v1/invoices", content=b"{oops", headers={"Authorization": authorization}
        )
    assert answer.status_code == ADMITTED, answer.text
    assert answer.json()["error"]["issues"][0]["code"] == "MALFORMED_JSON"


@pytest.mark.parametrize(
    ("authorization", "challenge"),
    [
        (None, "Bearer"),
        (TOKEN, "Bearer"),  # the bare token, without its scheme
        ("Basic dDBrOnNlY3JldA==", "Bearer"),
        ("Bearer", "Bearer"),
        (f"Token {TOKEN}", "Bearer"),
        ("Bearer nope", 'Bearer error="invalid_token"'),
        (f"Bearer {TOKEN}x", 'Bearer error="invalid_token"'),
    ],
)
async def test_anything_but_the_bearer_token_is_a_bilingual_401(
    authorization: str | None, challenge: str
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    async with _asgi() as http:
        answer = await http.post("/v1/invoices", content=b"{oops", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == challenge
    error = answer.json()["error"]
    assert error["code"] == "UNAUTHORIZED"
    assert error["retryable"] is False
    assert "令牌" in error["message_zh"] and "token" in error["message_en"]
    assert {"raw_code", "raw_message", "field"} <= set(error)  # the canonical shape


@pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/redoc"])
async def test_the_api_description_is_public_by_default_and_guarded_on_request(path: str) -> None:
    async with _asgi() as http:
        assert (await http.get(path)).status_code == 200
    async with _asgi(public_docs=False) as http:
        refused = await http.get(path)
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "UNAUTHORIZED"
        admitted = await http.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
        assert admitted.status_code == 200


async def test_swagger_ui_loads_the_document_it_is_served_beside() -> None:
    async with _asgi() as http:
        page = (await http.get("/docs")).text
    assert "/openapi.json" in page and "swagger" in page.lower()


async def test_metrics_are_guarded_with_a_token_unless_made_public(gateway) -> None:
    async with (
        gateway(api_token=TOKEN) as (_inst, _client, http),
        httpx.AsyncClient(base_url=str(http.base_url)) as anonymous,
    ):
        refused = await anonymous.get("/metrics")
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"
        scraped = await http.get("/metrics")  # carries the token
        assert scraped.status_code == 200 and "fapiao_http_requests_total" in scraped.text
        assert (await anonymous.get("/healthz")).status_code == 200
    async with (
        gateway(api_token=TOKEN, public_metrics=True) as (_inst, _client, http),
        httpx.AsyncClient(base_url=str(http.base_url)) as anonymous,
    ):
        scraped = await anonymous.get("/metrics")
        assert scraped.status_code == 200 and "fapiao_http_requests_total" in scraped.text
        assert (await anonymous.get("/v1/status")).status_code == 401  # the gateway still is


def _security(spec: dict[str, Any], path: str, method: str = "get") -> Any:
    operation = spec["paths"][path][method]
    return operation.get("security"), "401" in operation["responses"]


def test_openapi_marks_exactly_the_operations_this_app_guards() -> None:
    guarded = create_app(object(), api_token=TOKEN).openapi()  # type: ignore[arg-type]
    assert _security(guarded, "/v1/invoices", "post") == ([{"bearer": []}], True)
    assert _security(guarded, "/metrics") == ([{"bearer": []}], True)
    assert _security(guarded, "/healthz") == (None, False)
    assert _security(guarded, "/callbacks/{profile}", "post")[0] is None
    schemes = guarded["components"]["securitySchemes"]
    assert set(schemes) == {"bearer"}
    assert (schemes["bearer"]["type"], schemes["bearer"]["scheme"]) == ("http", "bearer")

    public_metrics = create_app(object(), api_token=TOKEN, public_metrics=True).openapi()  # type: ignore[arg-type]
    assert _security(public_metrics, "/metrics") == (None, False)
    assert _security(public_metrics, "/v1/status") == ([{"bearer": []}], True)

    open_app = create_app(object()).openapi()  # type: ignore[arg-type]
    assert _security(open_app, "/v1/invoices", "post") == (None, False)
    assert "securitySchemes" not in open_app["components"]


async def test_an_embedded_open_gateway_is_not_served_off_loopback() -> None:
    exposed = bind("0.0.0.0", 0)
    with pytest.raises(ConfigError, match="FAPIAO_API_TOKEN") as refused:
        async with serve_app(create_app(object()), exposed):  # type: ignore[arg-type]
            pass
    assert refused.value.message_zh and "令牌" in refused.value.message_zh
    assert exposed.sock.fileno() == -1  # the socket is not left open
    guarded = create_app(object(), api_token=TOKEN)  # type: ignore[arg-type]
    async with serve_app(guarded, bind("0.0.0.0", 0)) as url:
        local = url.replace("0.0.0.0", "127.0.0.1")
        async with httpx.AsyncClient(base_url=local) as http:
            assert (await http.get("/openapi.json")).status_code == 200
            assert (await http.get("/v1/status")).status_code == 401
    open_on_loopback = create_app(object())  # type: ignore[arg-type]
    async with (
        serve_app(open_on_loopback, bind("127.0.0.1", 0)) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        assert (await http.get("/openapi.json")).status_code == 200


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("", False),
        ("10.1.2.3", False),
        ("fapiao.example.com", False),
    ],
)
def test_what_counts_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
