"""An independent client, written by others for the real platform, talks to the sandbox
unchanged: the PyPI package ``nuonuo-sdk`` (import ``nuonuo``), over HTTPS with the sandbox
CA (it refuses plain http), through its own token call, signing and business wrappers."""

from __future__ import annotations

import time
from collections.abc import Iterator

import nuonuo  # nuonuo-sdk==0.2.0, a tox test dependency: a missing client must fail, not skip
import pytest

from fapiao.sandboxkit import RunningServer, serve
from fapiao_provider_a.sandbox import (
    DEMO_APP_KEY,
    DEMO_APP_SECRET,
    DEMO_TAX_ID,
    SandboxConfig,
    create_app,
)


@pytest.fixture(scope="module")
def tls_sandbox() -> Iterator[RunningServer]:
    app = create_app(SandboxConfig(issue_delay_seconds=0.01, callbacks=False))
    with serve(app, tls=True) as server:
        yield server


@pytest.fixture
def client(tls_sandbox: RunningServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    # requests reads the CA bundle from the environment: the client code stays unchanged.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", tls_sandbox.ca_file or "")
    base = tls_sandbox.base_url.replace("127.0.0.1", "localhost")
    with nuonuo.Nuonuo(
        DEMO_APP_KEY,
        DEMO_APP_SECRET,
        tax_number=DEMO_TAX_ID,
        base_url=f"{base}/open/v1/services",
        token_url=f"{base}/accessToken",
    ) as c:
        yield c


def _order(order_no: str) -> dict[str, object]:
    return {
        "orderNo": order_no,
        "invoiceDate": "2026-11-26 10:00:00",
        "invoiceType": "1",
        "invoiceLine": "pc",
        "salerTaxNum": DEMO_TAX_ID,
        "buyerName": "王小明",
        "naturalPersonFlag": "1",
        "clerk": "张三",
        "pushMode": "-1",
        "invoiceDetail": [
            {
                "goodsName": "稻谷",
                "goodsCode": "1010101010000000000",
                "withTaxFlag": "1",
                "price": "109",
                "num": "1",
                "taxRate": "0.09",
                "taxIncludedAmount": "109.00",
                "invoiceLineProperty": "0",
            }
        ],
    }


def test_token_issue_and_query_through_the_independent_client(client: object) -> None:
    token = client.get_merchant_token()  # type: ignore[attr-defined]
    assert token["access_token"] and token["expires_in"] == 86_400
    order_no = f"SDK{int(time.time() * 1000)}"
    accepted = client.nst.issue(_order(order_no))  # type: ignore[attr-defined]
    assert accepted["code"] == "E0000", accepted
    serial = accepted["result"]["invoiceSerialNum"]
    again = client.nst.issue(_order(order_no))  # type: ignore[attr-defined]
    assert again["code"] == "E9106"  # the platform's duplicate-order code
    deadline = time.monotonic() + 5
    while True:
        answer = client.nst.query(order_nos=[order_no])  # type: ignore[attr-defined]
        assert answer["code"] == "E0000", answer
        item = answer["result"][0]
        if item["status"] == "2" or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert item["status"] == "2" and item["serialNo"] == serial
    assert len(item["allElectronicInvoiceNumber"]) == 20
    assert item["exTaxAmount"] == "100.00" and item["taxAmount"] == "9.00"
    # The ElectronInvoice namespace (the SDK's other query wrapper) answers the same.
    by_serial = client.invoice.query(serial_nos=[serial])  # type: ignore[attr-defined]
    assert by_serial["result"][0]["orderNo"] == order_no
    unknown = client.invoice.query(order_nos=["NO-SUCH-ORDER"])  # type: ignore[attr-defined]
    assert unknown["code"] == "E9500"


def test_server_side_validation_answers_platform_codes(client: object) -> None:
    client.get_merchant_token()  # type: ignore[attr-defined]
    bad_buyer = _order(f"SDKBAD{int(time.time() * 1000)}")
    bad_buyer.update(
        naturalPersonFlag="0", buyerName="错误税号公司", buyerTaxNum="91310000MA1FL8XQ38"
    )
    assert client.nst.issue(bad_buyer)["code"] == "E9102"  # type: ignore[attr-defined]
    zero = _order(f"SDKZERO{int(time.time() * 1000)}")
    zero["invoiceDetail"][0].update(taxIncludedAmount="0", price="0")  # type: ignore[index]
    assert client.nst.issue(zero)["code"] == "E9103"  # type: ignore[attr-defined]


def test_a_wrong_secret_is_refused_with_the_signature_code(
    tls_sandbox: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", tls_sandbox.ca_file or "")
    base = tls_sandbox.base_url.replace("127.0.0.1", "localhost")
    with nuonuo.Nuonuo(
        DEMO_APP_KEY,
        DEMO_APP_SECRET,
        tax_number=DEMO_TAX_ID,
        base_url=f"{base}/open/v1/services",
        token_url=f"{base}/accessToken",
    ) as good:
        token = good.get_merchant_token()["access_token"]
    with nuonuo.Nuonuo(
        DEMO_APP_KEY,
        "wrong-secret",
        access_token=token,
        tax_number=DEMO_TAX_ID,
        base_url=f"{base}/open/v1/services",
        token_url=f"{base}/accessToken",
    ) as bad:
        assert bad.nst.query(order_nos=["X"])["code"] == "070601"
    with (
        nuonuo.Nuonuo(
            DEMO_APP_KEY,
            "wrong-secret",
            tax_number=DEMO_TAX_ID,
            base_url=f"{base}/open/v1/services",
            token_url=f"{base}/accessToken",
        ) as bad,
        pytest.raises(nuonuo.AuthenticationError),
    ):
        bad.get_merchant_token()
