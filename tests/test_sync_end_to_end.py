"""``fapiao sync`` end to end, every peer a real server on loopback:

* SAP simulator (OData) → provider_a sandbox (Nuonuo) → write-back to ZFAPIAO_INVOICE_SRV;
* Yonyou simulator (YonBIP open API) → provider_b sandbox (Baiwang) → write-back, then a red
  sales invoice raised in the ERP is reversed through the same path;
* the custom connector over the example shop database → provider_b sandbox → UPDATE orders.

Invoices are counted at the sandboxes: re-running, resetting the cursor, or losing a
write-back never produces a second invoice.
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomli_w
from pydantic import SecretStr

from fapiao.contract import SandboxOptions
from fapiao.engine.client import AsyncClient
from fapiao.engine.config import load_config
from fapiao.engine.erp_sync import SyncReport, build_connector, run_sync
from fapiao.plugins import discover
from fapiao.sandboxkit import serve
from fapiao_erp_sap.simulator import SapData, SapSimulator, create_app, example_settings
from fapiao_erp_yonyou.simulator import YonyouSimulator
from fapiao_erp_yonyou.simulator.data import PRODUCT_TAX_CODES, SELLER_ORGS
from fapiao_provider_a.sandbox import start_sandbox as start_nuonuo
from fapiao_provider_b.sandbox import start_sandbox as start_baiwang

ROOT = Path(__file__).resolve().parents[1]
SHOP = ROOT / "examples" / "shop"
SAP_SELLERS = ("91310115MA1K4LHX27", "91440300MA5F7GQK10")
YONYOU_SELLERS = tuple(org["tax_id"] for org in SELLER_ORGS.values())


@pytest.fixture(scope="module")
def sandboxes() -> Iterator[dict[str, Any]]:
    with contextlib.ExitStack() as stack:
        nuonuo = stack.enter_context(
            start_nuonuo(SandboxOptions(issue_delay_seconds=0.02, seller_tax_ids=SAP_SELLERS))
        )
        baiwang = stack.enter_context(start_baiwang(SandboxOptions(seller_tax_ids=YONYOU_SELLERS)))
        yield {"nuonuo": nuonuo, "baiwang": baiwang}


def _nuonuo_invoices(sandbox: Any) -> int:
    return len(sandbox.admin.state_ref.records)


def _baiwang_invoices(sandbox: Any) -> int:
    return len(sandbox.admin.state.invoices)


def _secret_refs(values: dict[str, Any], model: Any, prefix: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Settings for the config file: every secret moved to an environment variable."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        info = model.model_fields.get(key)
        secret = info is not None and "SecretStr" in str(info.annotation)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if secret:
            var = f"{prefix}_{key}".upper()
            monkeypatch.setenv(var, str(value))
            out[key] = f"env:{var}"
        elif isinstance(value, Path):
            out[key] = str(value)
        else:
            out[key] = value
    return out


@pytest.fixture
def world(sandboxes: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    registry = discover()
    sap = SapSimulator(data=SapData(seed=7, invoices=12), page_size=5)
    yonyou = YonyouSimulator()
    shutil.copy(SHOP / "shop_mapping.toml", tmp_path / "shop_mapping.toml")
    from importlib import util

    spec = util.spec_from_file_location("build_shop_db", SHOP / "build_shop_db.py")
    assert spec is not None and spec.loader is not None
    builder = util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    builder.build(tmp_path / "shop.db")

    with serve(create_app(sap)) as sap_server, serve(yonyou.app) as yy_server:
        nuonuo, baiwang = sandboxes["nuonuo"], sandboxes["baiwang"]
        nn_model = registry.provider_class("nuonuo").settings_model
        bw_model = registry.provider_class("baiwang").settings_model
        profiles: dict[str, Any] = {}
        routing: dict[str, str] = {}
        for i, tax_id in enumerate(SAP_SELLERS):
            settings = dict(nuonuo.settings, app_key=f"SDEXTRA{i:03d}", app_secret=f"SDEXTRASECRET{i:03d}", user_tax=tax_id)
            profiles[f"nn{i}"] = {"provider": "nuonuo", "settings": _secret_refs(settings, nn_model, f"NN{i}", monkeypatch)}
            routing[tax_id] = f"nn{i}"
        profiles["bw"] = {"provider": "baiwang", "settings": _secret_refs(dict(baiwang.settings), bw_model, "BW", monkeypatch)}
        for tax_id in YONYOU_SELLERS:
            routing[tax_id] = "bw"
        sap_settings = example_settings(sap_server.base_url, sap, page_size=4).model_dump()
        sap_model = registry.connector_class("sap").settings_model
        yy_model = registry.connector_class("yonyou").settings_model
        connectors = {
            "sap": _secret_refs(sap_settings, sap_model, "SAP", monkeypatch),
            "yonyou": _secret_refs(
                {
                    "base_url": yy_server.base_url,
                    "app_key": yonyou.config.app_key,
                    "app_secret": yonyou.config.app_secret,
                    "sellers": SELLER_ORGS,
                    "tax_codes": PRODUCT_TAX_CODES,
                    "page_size": 4,
                },
                yy_model,
                "YY",
                monkeypatch,
            ),
            "custom": {"mapping": "shop_mapping.toml", "page_size": 2},
        }
        config = {
            "ledger": {"url": f"sqlite:///{tmp_path / 'ledger.db'}"},
            "profiles": profiles,
            "routing": routing,
            "connectors": connectors,
        }
        path = tmp_path / "fapiao.toml"
        path.write_text(tomli_w.dumps(config), encoding="utf-8")
        yield {
            "config": path,
            "sap": sap,
            "yonyou": yonyou,
            "yonyou_url": yy_server.base_url,
            "shop_db": tmp_path / "shop.db",
            "nuonuo": nuonuo,
            "baiwang": baiwang,
        }


async def _sync(world: dict[str, Any], name: str, **kwargs: Any) -> SyncReport:
    config = load_config(world["config"])
    connector = build_connector(config, name)
    try:
        async with AsyncClient.from_config(config=config) as client:
            return await run_sync(client, connector, name=name, settle_seconds=10, poll_interval=0.05, **kwargs)
    finally:
        await connector.aclose()


def _by_outcome(report: SyncReport, outcome: str) -> list[str]:
    return [i.source_id for i in report.items if i.outcome == outcome]


async def test_sap_to_nuonuo_with_write_back(world: dict[str, Any]) -> None:
    before = _nuonuo_invoices(world["nuonuo"])
    first = await _sync(world, "sap")
    issued = _by_outcome(first, "issued")
    skipped = [i for i in first.items if i.outcome == "skipped"]
    assert len(issued) >= 5
    assert skipped, "the simulator's bad documents (USD, unmapped material, no tax ID) are skipped"
    for item in skipped:
        assert item.issues and all(item.source_id in issue["path"] for issue in item.issues)
    assert _nuonuo_invoices(world["nuonuo"]) - before == len(issued)
    results = world["sap"].data.table("InvoiceResultSet")
    written = {key[0]: row for key, row in results.items()}
    for doc in issued:
        assert len(written[doc]["InvoiceNumber"]) == 20
    again = await _sync(world, "sap")
    assert _by_outcome(again, "issued") == []
    assert _nuonuo_invoices(world["nuonuo"]) - before == len(issued)


async def test_yonyou_to_baiwang_exactly_once_and_red_reversal(world: dict[str, Any]) -> None:
    sim: YonyouSimulator = world["yonyou"]
    before = _baiwang_invoices(world["baiwang"])
    first = await _sync(world, "yonyou")
    issued = _by_outcome(first, "issued")
    assert len(issued) == 7
    assert sorted(i.source_id[-2:] for i in first.items if i.outcome == "skipped") == ["05", "06", "07"]
    reasons = {i.source_id[-2:]: {x["code"] for x in i.issues} for i in first.items if i.outcome == "skipped"}
    assert reasons == {"05": {"FOREIGN_CURRENCY"}, "06": {"UNKNOWN_PRODUCT"}, "07": {"MISSING_TAX_ID"}}
    assert _baiwang_invoices(world["baiwang"]) - before == 7
    docs = {d["code"]: d for d in sim.documents["saleinvoice"].values()}
    for code in issued:
        assert docs[code]["taxBillingStatus"] == 2 and len(docs[code]["einvoiceHm"]) == 20

    # nothing new: a re-run issues nothing
    assert _by_outcome(await _sync(world, "yonyou"), "issued") == []
    # a lost write-back (it never reached the ERP: the document is still pending there and the
    # gateway has no idempotency record of it), and the cursor reset too
    lost = docs[issued[0]]
    number = lost["einvoiceHm"]
    lost.update(taxBillingStatus=1, einvoiceHm="")
    sim.idempotency.clear()
    replay = await _sync(world, "yonyou", since="")
    assert _by_outcome(replay, "issued") == [issued[0]]
    assert lost["einvoiceHm"] == number  # the recorded invoice, written back again
    assert _baiwang_invoices(world["baiwang"]) - before == 7

    # the ERP raises a red invoice (退货) against an issued blue one → red reversal
    blue = docs[issued[1]]
    async with httpx.AsyncClient(base_url=world["yonyou_url"]) as admin:
        red = (await admin.post(f"/__sim__/vouchersaleinvoice/{blue['id']}/red")).json()
    third = await _sync(world, "yonyou")
    item = next(i for i in third.items if i.source_id == red["code"])
    assert item.kind == "red"
    assert item.outcome == "issued", item.error
    stored = sim.documents["saleinvoice"][int(red["id"])]
    assert stored["taxBillingStatus"] == 2
    assert stored["einvoiceHm"] and stored["einvoiceHm"] != blue["einvoiceHm"]


async def test_custom_shop_database_dry_run_then_sync(world: dict[str, Any]) -> None:
    before = _baiwang_invoices(world["baiwang"])
    dry = await _sync(world, "custom", dry_run=True)
    assert sorted(_by_outcome(dry, "would_issue")) == [
        "SO-20250303-0001",
        "SO-20250303-0002",
        "SO-20250303-0003",
        "SO-20250303-0007",
    ]
    skipped = {i.source_id: i for i in dry.items if i.outcome == "skipped"}
    assert set(skipped) == {"SO-20250303-0004", "SO-20250303-0005"}
    assert any("tax_code ← tax_code" in x["path"] for x in skipped["SO-20250303-0004"].issues)
    assert "SPECIAL_NEEDS_ENTITY_BUYER" in {x["code"] for x in skipped["SO-20250303-0005"].issues}
    assert _baiwang_invoices(world["baiwang"]) == before  # a dry run issues nothing
    assert dry.cursor_after is None  # …and stores no cursor

    report = await _sync(world, "custom")
    assert sorted(_by_outcome(report, "issued")) == sorted(_by_outcome(dry, "would_issue"))
    assert _baiwang_invoices(world["baiwang"]) - before == 4
    with sqlite3.connect(world["shop_db"]) as db:
        rows = dict(db.execute("SELECT id, invoice_number FROM orders WHERE invoice_status = 'issued'").fetchall())
    assert set(rows) == set(_by_outcome(report, "issued"))
    assert all(len(n) == 20 for n in rows.values())

    again = await _sync(world, "custom", since="")
    assert _by_outcome(again, "issued") == []
    assert _baiwang_invoices(world["baiwang"]) - before == 4


def test_cli_dry_run_reports_json_and_exits_1_for_skipped_documents(world: dict[str, Any]) -> None:
    import json

    from typer.testing import CliRunner

    from fapiao.cli.app import app

    result = CliRunner().invoke(
        app, ["sync", "--connector", "custom", "--config", str(world["config"]), "--dry-run", "--json"]
    )
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["dry_run"] is True
    assert report["counts"] == {"would_issue": 4, "skipped": 2}
    skipped = [i for i in report["items"] if i["outcome"] == "skipped"]
    assert all(i["source_id"] in i["issues"][0]["path"] for i in skipped)


def test_clear_text_connector_secret_is_refused_naming_the_key(world: dict[str, Any]) -> None:
    from fapiao.errors import ConfigError

    config = load_config(world["config"])
    settings = dict(config.connectors["yonyou"], app_secret="b569999441514b80a0c6ecb174173dfc")
    broken = config.model_copy(update={"connectors": {**config.connectors, "yonyou": settings}})
    with pytest.raises(ConfigError) as info:
        build_connector(broken, "yonyou")
    assert "connectors.yonyou.app_secret" in str(info.value)
    assert "b569999441514b80a0c6ecb174173dfc" not in str(info.value)
