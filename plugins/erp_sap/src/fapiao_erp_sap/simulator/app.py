"""The simulator's HTTP face: SAP Gateway's OData v2 protocol on Starlette.

Served under ``/sap/opu/odata/sap/<SERVICE>/`` like an S/4HANA system: service document,
``$metadata``, entity sets and entities by key, navigation (``…('9')/to_Item``), ``$count``,
``$filter``/``$orderby``/``$select``/``$expand``/``$top``/``$skip``/``$inlinecount``,
server-driven paging with ``__next`` links carrying ``$skiptoken``, basic authentication or an
OAuth 2.0 client-credentials bearer token (``POST /oauth/token``), and the CSRF protocol
(``x-csrf-token: Fetch`` on a read hands out a token; a write without a valid one gets
``403`` with ``x-csrf-token: Required``). Writes are allowed on ``ZFAPIAO_INVOICE_SRV`` only,
as on a real system where the standard billing API is read-only.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from fapiao_erp_sap.odata import (
    format_datetime,
    format_datetimeoffset,
    parse_datetime,
    string_literal,
)
from fapiao_erp_sap.simulator.data import SapData
from fapiao_erp_sap.simulator.query import (
    QueryError,
    Row,
    Tree,
    parse_filter,
    parse_key,
    parse_orderby,
    parse_tree,
    sort_rows,
)
from fapiao_erp_sap.simulator.schema import SERVICES, EntityType, Prop, Service

__all__ = ["SapSimulator", "create_app"]

ROOT = "/sap/opu/odata/sap"
_WRITE_METHODS = {"POST", "PUT", "PATCH", "MERGE", "DELETE"}
_SEGMENT_RE = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:\((?P<key>.*)\))?$")


@dataclass
class SapSimulator:
    """Configuration and state of one simulated S/4HANA system (client 100)."""

    data: SapData = field(default_factory=SapData)
    users: dict[str, str] = field(default_factory=lambda: {"FAPIAO_COMM": "Sim-Passw0rd!"})
    oauth_clients: dict[str, str] = field(
        default_factory=lambda: {"sb-fapiao-client": "sim-client-secret"}
    )
    token_ttl_seconds: int = 3600
    page_size: int = 100
    client: str = "100"
    system_id: str = "FPS"
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # bearer -> (client, expiry)
    csrf: dict[str, str] = field(default_factory=dict)  # token -> user
    requests: list[tuple[str, str]] = field(default_factory=list)

    def expire_sessions(self) -> None:
        """Forget every CSRF token and bearer token (a session timeout on the server)."""
        self.csrf.clear()
        self.tokens.clear()

    def count(self, method: str, path_part: str = "") -> int:
        return sum(1 for m, p in self.requests if m == method and path_part in p)


def _error(status: int, code: str, message: str, service: str = "") -> JSONResponse:
    body = {
        "error": {
            "code": code,
            "message": {"lang": "en", "value": message},
            "innererror": {
                "application": {
                    "component_id": "SD-BIL-IV" if "BILLING" in service else "",
                    "service_namespace": "/SAP/",
                    "service_id": service,
                    "service_version": "0001",
                },
                "transactionid": uuid.uuid4().hex.upper(),
                "timestamp": datetime.now(UTC).strftime("%Y%m%d%H%M%S.%f")[:21],
                "errordetails": [],
            },
        }
    }
    return JSONResponse(body, status_code=status)


def _encode(prop: Prop, value: Any) -> Any:
    if value is None:
        return None
    if prop.type == "Edm.DateTimeOffset" and isinstance(value, datetime):
        return format_datetimeoffset(value)
    if prop.type == "Edm.DateTime" and isinstance(value, datetime):
        return format_datetime(value)
    return value


def _key_predicate(etype: EntityType, row: Row) -> str:
    if len(etype.keys) == 1:
        return string_literal(str(row[etype.keys[0]]))
    return ",".join(f"{k}={string_literal(str(row[k]))}" for k in etype.keys)


class _Handler:
    def __init__(self, sim: SapSimulator, request: Request, service: Service) -> None:
        self.sim = sim
        self.request = request
        self.service = service
        self.root_url = f"{request.url.scheme}://{request.url.netloc}{ROOT}/{service.namespace}"
        self.params = dict(parse_qsl(request.url.query, keep_blank_values=True))

    # -- serialisation -----------------------------------------------------------------------

    def related(self, etype: EntityType, row: Row, nav_name: str) -> list[Row] | Row | None:
        nav = etype.nav(nav_name)
        assert nav is not None
        target = self.service.entity_type(nav.target)
        match = {name: row.get(name) for name in nav.on}
        rows = self.sim.data.where(target.set_name, **match)
        rows = sort_rows(target, rows, [(k, False) for k in target.keys])
        if nav.many:
            return rows
        return rows[0] if rows else None

    def entity(
        self, etype: EntityType, row: Row, expand: Tree, select: Tree | None
    ) -> dict[str, Any]:
        uri = f"{self.root_url}/{etype.set_name}({_key_predicate(etype, row)})"
        out: dict[str, Any] = {
            "__metadata": {"id": uri, "uri": uri, "type": f"{self.service.namespace}.{etype.name}"}
        }
        everything = not select or "*" in select
        for prop in etype.props:
            if everything or prop.name in (select or {}):
                out[prop.name] = _encode(prop, row.get(prop.name))
        for nav in etype.navs:
            if nav.name in expand:
                target = self.service.entity_type(nav.target)
                child_select = (select or {}).get(nav.name) or None
                related = self.related(etype, row, nav.name)
                if nav.many:
                    assert isinstance(related, list)
                    out[nav.name] = {
                        "results": [
                            self.entity(target, r, expand[nav.name], child_select) for r in related
                        ]
                    }
                else:
                    assert not isinstance(related, list)
                    out[nav.name] = (
                        self.entity(target, related, expand[nav.name], child_select)
                        if related
                        else None
                    )
            elif everything or nav.name in (select or {}):
                out[nav.name] = {"__deferred": {"uri": f"{uri}/{nav.name}"}}
        return out

    def check_tree(self, etype: EntityType, tree: Tree, option: str, props_allowed: bool) -> None:
        for name, sub in tree.items():
            if name == "*" and props_allowed:
                continue
            nav = etype.nav(name)
            if nav is None:
                if props_allowed and not sub and etype.prop(name) is not None:
                    continue
                raise QueryError(f"Property '{name}' in {option} not found in type '{etype.name}'")
            self.check_tree(self.service.entity_type(nav.target), sub, option, props_allowed)

    # -- reads -------------------------------------------------------------------------------

    def collection(self, etype: EntityType, rows: list[Row], path: str) -> Response:
        expand = parse_tree(self.params.get("$expand"))
        select = parse_tree(self.params.get("$select")) or None
        self.check_tree(etype, expand, "$expand", props_allowed=False)
        if select:
            self.check_tree(etype, select, "$select", props_allowed=True)
        if "$filter" in self.params:
            predicate = parse_filter(etype, self.params["$filter"])
            rows = [r for r in rows if predicate(r)]
        if "$orderby" in self.params:
            rows = sort_rows(etype, rows, parse_orderby(etype, self.params["$orderby"]))
        else:
            rows = sort_rows(etype, rows, [(k, False) for k in etype.keys])
        total = len(rows)
        skip = self._int("$skip", 0)
        top = self._int("$top", None)
        delivered = self._int("$skiptoken", 0)
        start = skip + delivered
        wanted = total - start if top is None else max(0, min(top - delivered, total - start))
        size = min(wanted, self.sim.page_size)
        page = rows[start : start + size]
        body: dict[str, Any] = {"results": [self.entity(etype, r, expand, select) for r in page]}
        if self.params.get("$inlinecount") == "allpages":
            body["__count"] = str(total)
        elif "$inlinecount" in self.params and self.params["$inlinecount"] != "none":
            raise QueryError("$inlinecount must be 'allpages' or 'none'")
        if size < wanted:
            following = {k: v for k, v in self.params.items() if k != "$skiptoken"}
            following["$skiptoken"] = str(delivered + size)
            query = urlencode(following, quote_via=quote, safe="$',()")
            body["__next"] = f"{self.root_url}/{path}?{query}"
        return JSONResponse({"d": body})

    def _int(self, name: str, default: int | None) -> Any:
        if name not in self.params:
            return default
        try:
            value = int(self.params[name])
        except ValueError:
            raise QueryError(
                f"System query option '{name}' must be a non-negative integer"
            ) from None
        if value < 0:
            raise QueryError(f"System query option '{name}' must be a non-negative integer")
        return value

    def count(self, etype: EntityType, rows: list[Row]) -> Response:
        if "$filter" in self.params:
            predicate = parse_filter(etype, self.params["$filter"])
            rows = [r for r in rows if predicate(r)]
        return PlainTextResponse(str(len(rows)))

    def single(self, etype: EntityType, row: Row) -> Response:
        expand = parse_tree(self.params.get("$expand"))
        select = parse_tree(self.params.get("$select")) or None
        self.check_tree(etype, expand, "$expand", props_allowed=False)
        if select:
            self.check_tree(etype, select, "$select", props_allowed=True)
        return JSONResponse({"d": self.entity(etype, row, expand, select)})

    # -- writes (ZFAPIAO_INVOICE_SRV) ----------------------------------------------------------

    async def body(self, etype: EntityType) -> dict[str, Any]:
        try:
            data = json.loads(await self.request.body() or b"{}")
        except ValueError:
            raise QueryError("The request body is not valid JSON") from None
        if isinstance(data, dict) and isinstance(data.get("d"), dict):
            data = data["d"]
        if not isinstance(data, dict):
            raise QueryError("The request body must be a JSON object")
        values: dict[str, Any] = {}
        for name, value in data.items():
            if name == "__metadata":
                continue
            prop = etype.prop(name)
            if prop is None:
                raise QueryError(f"Property '{name}' is invalid for type '{etype.name}'")
            values[name] = self._decode(prop, value)
        return values

    def _decode(self, prop: Prop, value: Any) -> Any:
        if value is None:
            if not prop.nullable:
                raise QueryError(f"Property '{prop.name}' must not be null")
            return None
        if prop.type in ("Edm.DateTimeOffset", "Edm.DateTime"):
            if isinstance(value, str) and value.startswith("/Date("):
                try:
                    return parse_datetime(value).astimezone(UTC)
                except ValueError:
                    pass
            raise QueryError(f"Invalid value '{value}' for property '{prop.name}' ({prop.type})")
        if prop.type == "Edm.String":
            if not isinstance(value, str):
                raise QueryError(f"Property '{prop.name}' must be a string")
            if prop.max_length is not None and len(value) > prop.max_length:
                raise QueryError(
                    f"Value of '{prop.name}' is longer than {prop.max_length} characters"
                )
        return value

    def write(
        self, etype: EntityType, key: tuple[str, ...] | None, values: dict[str, Any], method: str
    ) -> Response:
        table = self.sim.data.table(etype.set_name)
        now = datetime.now(UTC)
        with self.sim.data.lock:
            if method == "POST":
                key = tuple(str(values.get(k, "")) for k in etype.keys)
                if not all(key):
                    raise QueryError(f"Key property {'/'.join(etype.keys)} is missing")
                if key in table:
                    return _error(
                        409, "ZFAPIAO/001", f"Entity {key} already exists", self.service.namespace
                    )
                row = {p.name: None for p in etype.props} | values | {"LastChangeDateTime": now}
                self.sim.data.put(etype.set_name, key, row)
                response = JSONResponse({"d": self.entity(etype, row, {}, None)}, status_code=201)
                response.headers["location"] = (
                    f"{self.root_url}/{etype.set_name}({_key_predicate(etype, row)})"
                )
                return response
            assert key is not None
            for name, part in zip(etype.keys, key, strict=True):
                if name in values and str(values[name]) != part:
                    raise QueryError(f"Key property '{name}' in the body differs from the URL")
            if method == "DELETE":
                if not self.sim.data.delete(etype.set_name, key):
                    return _error(
                        404, "/IWBEP/CM_MGW_RT/020", "Resource not found", self.service.namespace
                    )
                return Response(status_code=204)
            existing = table.get(key)
            if method in ("PATCH", "MERGE"):
                if existing is None:
                    return _error(
                        404, "/IWBEP/CM_MGW_RT/020", "Resource not found", self.service.namespace
                    )
                row = existing | values
            else:  # PUT: the Z service's UPDATE_ENTITY is a MODIFY (upsert) of the whole row
                row = {p.name: None for p in etype.props} | values
            row.update(dict(zip(etype.keys, key, strict=True)))
            row["LastChangeDateTime"] = now
            self.sim.data.put(etype.set_name, key, row)
        return Response(status_code=204)


def _auth_user(sim: SapSimulator, request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(credentials).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        if user in sim.users and secrets.compare_digest(sim.users[user], password):
            return user
    if scheme.lower() == "bearer":
        found = sim.tokens.get(credentials.strip())
        if found is not None and found[1] > time.monotonic():
            return f"oauth:{found[0]}"
    return None


def _unauthorized(sim: SapSimulator) -> Response:
    return PlainTextResponse(
        "Logon failed",
        status_code=401,
        headers={
            "www-authenticate": f'Basic realm="SAP NetWeaver Application Server [{sim.system_id}/{sim.client}]"'
        },
    )


def create_app(sim: SapSimulator | None = None) -> Starlette:
    sim = sim or SapSimulator()

    async def token(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        client_id = str(form.get("client_id") or "")
        secret = str(form.get("client_secret") or "")
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                client_id = ""
        if form.get("grant_type") != "client_credentials":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        if client_id not in sim.oauth_clients or not secrets.compare_digest(
            sim.oauth_clients[client_id], secret
        ):
            return JSONResponse(
                {"error": "unauthorized", "error_description": "Bad credentials"}, status_code=401
            )
        access = secrets.token_urlsafe(32)
        sim.tokens[access] = (client_id, time.monotonic() + sim.token_ttl_seconds)
        return JSONResponse(
            {
                "access_token": access,
                "token_type": "bearer",
                "expires_in": sim.token_ttl_seconds,
                "scope": "API_BILLING_DOCUMENT_0001 API_BUSINESS_PARTNER_0001 ZFAPIAO_0001",
                "jti": uuid.uuid4().hex,
            }
        )

    async def odata(request: Request) -> Response:
        method = request.method.upper()
        if method == "POST" and request.headers.get("x-http-method"):
            method = request.headers["x-http-method"].upper()
        service_name = request.path_params["service"]
        path = request.path_params.get("path", "").strip("/")
        sim.requests.append((method, f"{service_name}/{path}"))
        user = _auth_user(sim, request)
        if user is None:
            return _unauthorized(sim)
        client = request.query_params.get("sap-client")
        if client is not None and client != sim.client:
            return _unauthorized(sim)
        service = SERVICES.get(service_name)
        if service is None:
            return _error(
                404,
                "/IWFND/MED/170",
                f"No service found for namespace '', name '{service_name}', version '0001'",
            )
        extra_headers: dict[str, str] = {}
        if method in ("GET", "HEAD") and request.headers.get("x-csrf-token", "").lower() == "fetch":
            csrf = base64.b64encode(secrets.token_bytes(18)).decode()
            sim.csrf[csrf] = user
            extra_headers["x-csrf-token"] = csrf
        if method in _WRITE_METHODS:
            sent = request.headers.get("x-csrf-token", "")
            if sim.csrf.get(sent) != user:
                return PlainTextResponse(
                    "CSRF token validation failed",
                    status_code=403,
                    headers={"x-csrf-token": "Required"},
                )
        try:
            response = await _dispatch(sim, request, service, path, method)
        except QueryError as exc:
            response = _error(400, "/IWBEP/CM_MGW_RT/022", str(exc), service.namespace)
        response.headers.update(extra_headers)
        if extra_headers:
            response.set_cookie(
                f"SAP_SESSIONID_{sim.system_id}_{sim.client}",
                secrets.token_urlsafe(16),
                httponly=True,
            )
        response.headers["dataserviceversion"] = "2.0"
        if method == "HEAD":
            return Response(status_code=response.status_code, headers=dict(response.headers))
        return response

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "MERGE", "DELETE"]
    return Starlette(
        routes=[
            Route("/oauth/token", token, methods=["POST"]),
            Route(ROOT + "/{service}", odata, methods=methods),
            Route(ROOT + "/{service}/{path:path}", odata, methods=methods),
        ]
    )


async def _dispatch(
    sim: SapSimulator, request: Request, service: Service, path: str, method: str
) -> Response:
    handler = _Handler(sim, request, service)
    if path == "":
        if method not in ("GET", "HEAD"):
            return _error(405, "/IWBEP/CM_MGW_RT/004", "Method not allowed", service.namespace)
        return JSONResponse({"d": {"EntitySets": [t.set_name for t in service.types]}})
    if path == "$metadata":
        return Response(service.edmx(), media_type="application/xml")
    segments = path.split("/")
    match = _SEGMENT_RE.match(segments[0])
    etype = service.entity_set(match.group("name")) if match else None
    if match is None or etype is None:
        return _error(
            404,
            "/IWBEP/CM_MGW_RT/021",
            f"Resource not found for segment '{segments[0]}'",
            service.namespace,
        )
    key_text = match.group("key")
    if method in _WRITE_METHODS:
        if not etype.writable:
            operation = {"POST": "CREATE_ENTITY", "DELETE": "DELETE_ENTITY"}.get(
                method, "UPDATE_ENTITY"
            )
            return _error(
                501,
                "/IWBEP/CM_MGW_RT/021",
                f"Method '{etype.set_name.upper()}_{operation}' not implemented in data provider class",
                service.namespace,
            )
        if len(segments) != 1 or (method == "POST") != (key_text is None):
            return _error(
                405,
                "/IWBEP/CM_MGW_RT/004",
                "Method not allowed for this resource",
                service.namespace,
            )
        key = parse_key(etype, key_text) if key_text is not None else None
        values = await handler.body(etype) if method != "DELETE" else {}
        return handler.write(etype, key, values, method)
    rows = list(sim.data.table(etype.set_name).values())
    if key_text is None:
        if segments[1:] == ["$count"]:
            return handler.count(etype, rows)
        if len(segments) > 1:
            return _error(
                404,
                "/IWBEP/CM_MGW_RT/021",
                f"Resource not found for segment '{segments[1]}'",
                service.namespace,
            )
        return handler.collection(etype, rows, etype.set_name)
    key = parse_key(etype, key_text)
    row = sim.data.table(etype.set_name).get(key)
    if row is None:
        return _error(404, "/IWBEP/CM_MGW_RT/020", "Resource not found", service.namespace)
    if len(segments) == 1:
        return handler.single(etype, row)
    nav = etype.nav(segments[1])
    if nav is None:
        return _error(
            404,
            "/IWBEP/CM_MGW_RT/021",
            f"Resource not found for segment '{segments[1]}'",
            service.namespace,
        )
    target = service.entity_type(nav.target)
    related = handler.related(etype, row, nav.name)
    if nav.many:
        assert isinstance(related, list)
        if segments[2:] == ["$count"]:
            return handler.count(target, related)
        return handler.collection(target, related, "/".join(segments[:2]))
    if related is None or isinstance(related, list):
        return JSONResponse({"d": None})
    return handler.single(target, related)
