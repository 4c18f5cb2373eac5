"""Checkout attempts (/_sim pay) and the payments API through the real SDK."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest
from razorpay.errors import BadRequestError, SignatureVerificationError

from tests.simulator.conftest import MakeSim
from tests.simulator.support import KEY_SECRET, Sim


def test_success_is_authorized_then_captured_and_the_order_paid(api: Sim) -> None:
    order = api.order(amount=12_345)
    handler = api.pay(order["id"], method="card", card_number="4111 1111 1111 1111")
    assert set(handler) == {"razorpay_payment_id", "razorpay_order_id", "razorpay_signature"}
    assert handler["razorpay_order_id"] == order["id"]
    assert re.fullmatch(r"pay_[0-9A-Za-z]{14}", handler["razorpay_payment_id"])
    expected = hmac.new(
        KEY_SECRET.encode(),
        f"{order['id']}|{handler['razorpay_payment_id']}".encode(),
        hashlib.sha256,
    ).hexdigest()
    assert handler["razorpay_signature"] == expected
    assert api.rzp.utility.verify_payment_signature(handler) is True

    payment = api.rzp.payment.fetch(handler["razorpay_payment_id"])
    assert (payment["status"], payment["captured"], payment["amount"]) == ("captured", True, 12_345)
    assert (payment["method"], payment["order_id"], payment["currency"]) == (
        "card",
        order["id"],
        "INR",
    )
    assert payment["card"]["last4"] == "1111"
    assert payment["card"]["network"] == "Visa"
    assert payment["card_id"] == payment["card"]["id"]
    assert (payment["fee"], payment["tax"]) == (290, 44)  # 2% (246) + 18% GST on it
    assert payment["error_code"] is None
    assert payment["refund_status"] is None

    paid = api.rzp.order.fetch(order["id"])
    assert (paid["status"], paid["amount_paid"], paid["amount_due"], paid["attempts"]) == (
        "paid",
        12_345,
        0,
        1,
    )
    listed = api.rzp.order.payments(order["id"])
    assert listed["count"] == 1
    assert listed["items"][0] == payment


def test_a_tampered_signature_fails_sdk_verification(api: Sim) -> None:
    handler = api.pay(api.order()["id"])
    with pytest.raises(SignatureVerificationError):
        api.rzp.utility.verify_payment_signature({**handler, "razorpay_signature": "0" * 64})


@pytest.mark.parametrize(
    ("body", "method", "source"),
    [
        ({"card_number": "4000000000000002"}, "card", "bank"),
        ({"vpa": "failure@razorpay"}, "upi", "issuer"),
        ({"method": "netbanking", "outcome": "failure"}, "netbanking", "bank"),
        ({"method": "wallet", "outcome": "failure"}, "wallet", "issuer"),
    ],
)
def test_failures_return_checkouts_error_object(
    api: Sim, body: dict[str, str], method: str, source: str
) -> None:
    order = api.order()
    result = api.pay(order["id"], **body)
    error = result["error"]
    payment_id = error["metadata"]["payment_id"]
    assert error == {
        "code": "BAD_REQUEST_ERROR",
        "description": "Payment failed",
        "source": source,
        "step": "payment_authorization",
        "reason": "payment_failed",
        "metadata": {"order_id": order["id"], "payment_id": payment_id},
    }
    payment = api.rzp.payment.fetch(payment_id)
    assert (payment["status"], payment["captured"], payment["method"]) == ("failed", False, method)
    assert (payment["error_code"], payment["error_reason"], payment["error_source"]) == (
        "BAD_REQUEST_ERROR",
        "payment_failed",
        source,
    )
    assert payment["fee"] is None
    assert payment["tax"] is None
    again = api.rzp.order.fetch(order["id"])
    assert (again["status"], again["attempts"], again["amount_paid"]) == ("attempted", 1, 0)


def test_a_failed_order_can_be_paid_by_a_new_attempt(api: Sim) -> None:
    order = api.order()
    api.pay(order["id"], vpa="failure@razorpay")
    handler = api.pay(order["id"], vpa="success@razorpay")
    payment = api.rzp.payment.fetch(handler["razorpay_payment_id"])
    assert (payment["method"], payment["vpa"], payment["upi"]["vpa"]) == (
        "upi",
        "success@razorpay",
        "success@razorpay",
    )
    assert api.rzp.order.fetch(order["id"])["attempts"] == 2
    assert api.rzp.order.payments(order["id"])["count"] == 2


def test_failure_details_can_be_chosen(api: Sim) -> None:
    result = api.pay(
        api.order()["id"],
        outcome="failure",
        failure={"description": "Payment processing failed because of incorrect OTP",
                 "source": "customer", "step": "payment_authentication", "reason": "incorrect_otp"},
    )  # fmt: skip
    assert result["error"]["reason"] == "incorrect_otp"
    payment = api.rzp.payment.fetch(result["error"]["metadata"]["payment_id"])
    assert (payment["error_source"], payment["error_step"]) == (
        "customer",
        "payment_authentication",
    )


def test_an_explicit_outcome_wins_over_the_test_card(api: Sim) -> None:
    handler = api.pay(api.order()["id"], card_number="4000000000000002", outcome="success")
    assert api.rzp.payment.fetch(handler["razorpay_payment_id"])["status"] == "captured"


def test_authorized_stays_uncaptured_until_captured_through_the_sdk(api: Sim) -> None:
    order = api.order(amount=20_000)
    handler = api.pay(order["id"], outcome="authorized", method="netbanking", bank="SBIN")
    payment_id = handler["razorpay_payment_id"]
    assert api.rzp.utility.verify_payment_signature(handler) is True
    payment = api.rzp.payment.fetch(payment_id)
    assert (payment["status"], payment["captured"], payment["bank"]) == (
        "authorized",
        False,
        "SBIN",
    )
    assert payment["fee"] is None
    assert api.rzp.order.fetch(order["id"])["status"] == "attempted"

    with pytest.raises(
        BadRequestError, match=r"^Capture amount must be equal to the amount authorized$"
    ):
        api.rzp.payment.capture(payment_id, 19_999, {"currency": "INR"})
    with pytest.raises(BadRequestError, match=r"^The currency field is required.$"):
        api.rzp.payment.capture(payment_id, 20_000)
    with pytest.raises(BadRequestError, match="currency"):
        api.rzp.payment.capture(payment_id, 20_000, {"currency": "USD"})

    captured = api.rzp.payment.capture(payment_id, 20_000, {"currency": "INR"})
    assert (captured["status"], captured["captured"], captured["fee"]) == ("captured", True, 472)
    assert api.rzp.order.fetch(order["id"])["status"] == "paid"
    with pytest.raises(BadRequestError, match=r"^This payment has already been captured$"):
        api.rzp.payment.capture(payment_id, 20_000, {"currency": "INR"})


def test_only_authorized_payments_can_be_captured(api: Sim) -> None:
    result = api.pay(api.order()["id"], outcome="failure")
    with pytest.raises(BadRequestError, match=r"^Only payments which have been authorized"):
        api.rzp.payment.capture(
            result["error"]["metadata"]["payment_id"], 50_000, {"currency": "INR"}
        )


def test_a_paid_order_refuses_another_payment(api: Sim) -> None:
    order = api.order()
    api.pay(order["id"])
    response = api.http.post(f"/_sim/orders/{order['id']}/pay", json={})
    assert response.status_code == 400
    assert response.json()["error"]["description"].startswith(
        "Your payment has been declined as the order is already paid."
    )


def test_an_order_with_manual_capture_leaves_success_authorized(api: Sim) -> None:
    order = api.order(payment_capture=0)
    handler = api.pay(order["id"], outcome="success")
    assert api.rzp.payment.fetch(handler["razorpay_payment_id"])["status"] == "authorized"


def test_account_without_auto_capture(make_sim: MakeSim) -> None:
    sim = make_sim(auto_capture=False)
    handler = sim.pay(sim.order()["id"])
    assert sim.rzp.payment.fetch(handler["razorpay_payment_id"])["status"] == "authorized"


def test_capture_late_and_authorize_late(api: Sim) -> None:
    handler = api.pay(api.order()["id"], outcome="authorized")
    late = api.http.post(f"/_sim/payments/{handler['razorpay_payment_id']}/capture-late")
    assert late.status_code == 200
    assert late.json()["status"] == "captured"

    order = api.order()
    failed = api.pay(order["id"], outcome="failure")["error"]["metadata"]["payment_id"]
    revived = api.http.post(f"/_sim/payments/{failed}/authorize-late", json={"capture": False})
    assert revived.json()["status"] == "authorized"
    assert revived.json()["error_code"] is None
    again = api.http.post(f"/_sim/payments/{failed}/authorize-late")
    assert again.status_code == 400

    other = api.pay(api.order()["id"], outcome="failure")["error"]["metadata"]["payment_id"]
    captured = api.http.post(f"/_sim/payments/{other}/authorize-late").json()
    assert (captured["status"], captured["captured"]) == ("captured", True)


def test_partial_payments(api: Sim) -> None:
    order = api.order(amount=30_000, partial_payment=True, first_payment_min_amount=10_000)
    too_small = api.http.post(f"/_sim/orders/{order['id']}/pay", json={"amount": 5_000})
    assert too_small.status_code == 400
    api.pay(order["id"], amount=10_000)
    halfway = api.rzp.order.fetch(order["id"])
    assert (halfway["status"], halfway["amount_paid"], halfway["amount_due"]) == (
        "attempted",
        10_000,
        20_000,
    )
    too_much = api.http.post(f"/_sim/orders/{order['id']}/pay", json={"amount": 25_000})
    assert too_much.json()["error"]["description"] == (
        "Payment amount is greater than the amount due for order."
    )
    api.pay(order["id"])
    assert api.rzp.order.fetch(order["id"])["status"] == "paid"


def test_an_amount_is_refused_when_partial_payments_are_off(api: Sim) -> None:
    order = api.order()
    response = api.http.post(f"/_sim/orders/{order['id']}/pay", json={"amount": 100})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "amount"


@pytest.mark.parametrize(
    "body",
    [
        {"card_number": "4111111111111112"},
        {"vpa": "not-a-vpa"},
        {"outcome": "maybe"},
        {"unknown": True},
    ],
)
def test_bad_checkout_input_is_a_400_with_razorpays_shape(
    api: Sim, body: dict[str, object]
) -> None:
    response = api.http.post(f"/_sim/orders/{api.order()['id']}/pay", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "BAD_REQUEST_ERROR"
    assert error["field"]


def test_paying_an_unknown_order(api: Sim) -> None:
    response = api.http.post("/_sim/orders/order_AAAAAAAAAAAAAA/pay", json={})
    assert response.status_code == 400
    assert response.json()["error"]["description"] == "The id provided does not exist"


def test_card_networks_and_wallets(api: Sim) -> None:
    master = api.pay(api.order()["id"], card_number="5267318187975449", name="Asha Rao")
    card = api.rzp.payment.fetch(master["razorpay_payment_id"])["card"]
    assert (card["network"], card["name"], card["iin"]) == ("MasterCard", "Asha Rao", "526731")
    rupay = api.pay(api.order()["id"], card_number="6522123412341238")
    assert api.rzp.payment.fetch(rupay["razorpay_payment_id"])["card"]["network"] == "RuPay"
    wallet = api.pay(api.order()["id"], method="wallet")
    fetched = api.rzp.payment.fetch(wallet["razorpay_payment_id"])
    assert (fetched["wallet"], fetched["acquirer_data"]) == ("payzapp", {"transaction_id": None})
