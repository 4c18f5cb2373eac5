"""Checkout in the browser, simulated: checkout.js, the modal's routes, and CORS for the MFE."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from subgraphs.payments.simulator import SimulatorSettings
from subgraphs.payments.simulator.settings import DEFAULT_CORS_ORIGINS
from tests.simulator.conftest import MakeSim
from tests.simulator.support import KEY_ID, KEY_SECRET, Receiver, Sim

MFE_ORIGIN = "http://127.0.0.1:4020"


def test_checkout_js_has_razorpays_browser_api(api: Sim) -> None:
    response = api.http.get("/v1/checkout.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    script = response.text
    for part in (
        "window.Razorpay = Razorpay",
        "Razorpay.prototype.open",
        "Razorpay.prototype.close",
        "Razorpay.prototype.on",
        "'payment.failed'",
        "ondismiss",
        "'Pay now'",
        "'Fail payment'",
    ):
        assert part in script, part


def test_order_summary_needs_the_right_key(api: Sim) -> None:
    order = api.order(amount=9_999)
    ok = api.http.get(f"/_sim/checkout/orders/{order['id']}", params={"key_id": KEY_ID})
    assert ok.status_code == 200
    assert ok.json() == {
        "id": order["id"],
        "amount": 9_999,
        "amount_due": 9_999,
        "currency": "INR",
        "status": "created",
    }
    wrong = api.http.get(f"/_sim/checkout/orders/{order['id']}", params={"key_id": "rzp_test_x"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["description"] == "The api key provided is invalid"
    unknown = api.http.get("/_sim/checkout/orders/order_AAAAAAAAAAAAAA", params={"key_id": KEY_ID})
    assert unknown.status_code == 400
    assert unknown.json()["error"]["description"] == "The id provided does not exist"


def test_pay_now_answers_the_signed_triple_and_razorpays_webhooks_follow(
    sim: Sim, receiver: Receiver
) -> None:
    order = sim.order(amount=25_000)
    response = sim.http.post(
        f"/_sim/checkout/orders/{order['id']}/pay", json={"key_id": KEY_ID, "outcome": "success"}
    )
    assert response.status_code == 200
    triple = response.json()
    assert set(triple) == {"razorpay_payment_id", "razorpay_order_id", "razorpay_signature"}
    assert triple["razorpay_order_id"] == order["id"]
    expected = hmac.new(
        KEY_SECRET.encode(),
        f"{order['id']}|{triple['razorpay_payment_id']}".encode(),
        hashlib.sha256,
    ).hexdigest()
    assert triple["razorpay_signature"] == expected
    assert sim.rzp.utility.verify_payment_signature(triple) is True
    assert sim.rzp.order.fetch(order["id"])["status"] == "paid"

    sim.settle()
    events = {item.event for item in receiver.accepted()}
    assert events == {"payment.authorized", "payment.captured", "order.paid"}
    assert all(item.signature_ok() for item in receiver.accepted())


def test_fail_payment_answers_checkouts_error_and_a_retry_can_succeed(
    sim: Sim, receiver: Receiver
) -> None:
    order = sim.order()
    failed = sim.http.post(
        f"/_sim/checkout/orders/{order['id']}/pay", json={"key_id": KEY_ID, "outcome": "failure"}
    )
    assert failed.status_code == 200
    error = failed.json()["error"]
    assert error["metadata"]["order_id"] == order["id"]
    assert sim.rzp.payment.fetch(error["metadata"]["payment_id"])["status"] == "failed"
    sim.settle()
    assert [item.event for item in receiver.accepted()] == ["payment.failed"]

    retried = sim.http.post(
        f"/_sim/checkout/orders/{order['id']}/pay", json={"key_id": KEY_ID, "outcome": "success"}
    )
    assert retried.status_code == 200
    assert sim.rzp.utility.verify_payment_signature(retried.json()) is True


def test_pay_with_a_wrong_key_changes_nothing(api: Sim) -> None:
    order = api.order()
    response = api.http.post(
        f"/_sim/checkout/orders/{order['id']}/pay",
        json={"key_id": "rzp_test_other", "outcome": "success"},
    )
    assert response.status_code == 401
    assert api.rzp.order.fetch(order["id"])["status"] == "created"
    assert api.rzp.order.payments(order["id"])["count"] == 0


def test_a_paid_order_refuses_another_attempt(api: Sim) -> None:
    order = api.order()
    body = {"key_id": KEY_ID, "outcome": "success"}
    assert api.http.post(f"/_sim/checkout/orders/{order['id']}/pay", json=body).status_code == 200
    again = api.http.post(f"/_sim/checkout/orders/{order['id']}/pay", json=body)
    assert again.status_code == 400
    assert "already paid" in again.json()["error"]["description"]


def test_cors_preflight_is_answered_for_the_mfe_origin_only(api: Sim) -> None:
    path = "/_sim/checkout/orders/order_AAAAAAAAAAAAAA/pay"
    preflight = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
    }
    allowed = api.http.options(path, headers={"origin": MFE_ORIGIN, **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == MFE_ORIGIN
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "content-type" in allowed.headers["access-control-allow-headers"].lower()

    refused = api.http.options(path, headers={"origin": "http://evil.example", **preflight})
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers

    simple = api.http.get(
        "/_sim/checkout/orders/order_AAAAAAAAAAAAAA",
        params={"key_id": KEY_ID},
        headers={"origin": MFE_ORIGIN},
    )
    assert simple.headers["access-control-allow-origin"] == MFE_ORIGIN


def test_cors_origins_come_from_the_environment(
    make_sim: MakeSim, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert SimulatorSettings(key_secret="k", webhook_secret="w").cors_origins == list(
        DEFAULT_CORS_ORIGINS
    )
    monkeypatch.setenv("RAZORPAY_SIM_CORS_ORIGINS", "http://localhost:4999, http://a.test")
    settings = SimulatorSettings(key_secret="k", webhook_secret="w")
    assert settings.cors_origins == ["http://localhost:4999", "http://a.test"]

    sim = make_sim(cors_origins=["http://localhost:4999"])
    answer = sim.http.options(
        "/_sim/checkout/orders/order_AAAAAAAAAAAAAA/pay",
        headers={"origin": "http://localhost:4999", "access-control-request-method": "POST"},
    )
    assert answer.headers["access-control-allow-origin"] == "http://localhost:4999"
    default_origin = sim.http.options(
        "/_sim/checkout/orders/order_AAAAAAAAAAAAAA/pay",
        headers={"origin": MFE_ORIGIN, "access-control-request-method": "POST"},
    )
    assert "access-control-allow-origin" not in default_origin.headers
