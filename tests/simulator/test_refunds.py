"""Refunds through the real SDK: full, partial, over-refund, X-Refund-Idempotency."""

from __future__ import annotations

from typing import Any

import pytest
from razorpay.errors import BadRequestError

from tests.simulator.support import KEY_ID, KEY_SECRET, Sim

REFUND_KEYS = {
    "id", "entity", "amount", "currency", "payment_id", "notes", "receipt", "acquirer_data",
    "created_at", "batch_id", "status", "speed_processed", "speed_requested",
}  # fmt: skip


def paid(api: Sim, amount: int = 50_000) -> str:
    return str(api.pay(api.order(amount=amount)["id"])["razorpay_payment_id"])


def test_full_refund_when_no_amount_is_given(api: Sim) -> None:
    payment_id = paid(api)
    refund = api.rzp.payment.refund(payment_id, {"notes": {"reason": "customer asked"}})
    assert set(refund) == REFUND_KEYS
    assert refund["id"].startswith("rfnd_")
    assert refund["entity"] == "refund"
    assert (refund["amount"], refund["payment_id"], refund["status"]) == (
        50_000,
        payment_id,
        "processed",
    )
    assert (refund["speed_requested"], refund["speed_processed"]) == ("normal", "normal")
    assert refund["notes"] == {"reason": "customer asked"}
    payment = api.rzp.payment.fetch(payment_id)
    assert (payment["status"], payment["amount_refunded"], payment["refund_status"]) == (
        "refunded",
        50_000,
        "full",
    )
    assert api.rzp.refund.fetch(refund["id"]) == refund
    assert api.rzp.payment.fetch_refund_id(payment_id, refund["id"]) == refund
    with pytest.raises(BadRequestError, match=r"^The payment has been fully refunded already$"):
        api.rzp.payment.refund(payment_id, {})


def test_partial_refunds_then_the_rest(api: Sim) -> None:
    payment_id = paid(api)
    first = api.rzp.payment.refund(payment_id, {"amount": 10_000, "speed": "optimum"})
    assert first["speed_requested"] == "optimum"
    payment = api.rzp.payment.fetch(payment_id)
    assert (payment["status"], payment["amount_refunded"], payment["refund_status"]) == (
        "captured",
        10_000,
        "partial",
    )
    with pytest.raises(
        BadRequestError,
        match=r"^The total refund amount is greater than the refund payment amount$",
    ):
        api.rzp.payment.refund(payment_id, {"amount": 40_001})
    rest = api.rzp.payment.refund(payment_id, {})
    assert rest["amount"] == 40_000
    listed = api.rzp.payment.fetch_multiple_refund(payment_id)
    assert listed["entity"] == "collection"
    assert listed["count"] == 2
    assert [item["id"] for item in listed["items"]] == [rest["id"], first["id"]]
    assert api.rzp.payment.fetch_multiple_refund(payment_id, {"count": 1})["count"] == 1
    assert api.rzp.payment.fetch(payment_id)["refund_status"] == "full"


@pytest.mark.parametrize(
    ("body", "description"),
    [
        ({"amount": 50_001}, "The refund amount provided is greater than amount captured"),
        ({"amount": 99}, "The amount must be atleast INR 1.00"),
        ({"amount": 10.5}, "The amount must be an integer."),
        ({"speed": "instant"}, "The selected speed is invalid."),
        (
            {"amount": 100, "reverse_all": 1},
            "reverse_all is/are not required and should not be sent",
        ),
    ],
)
def test_refund_validation(api: Sim, body: dict[str, Any], description: str) -> None:
    payment_id = paid(api)
    with pytest.raises(BadRequestError) as raised:
        api.rzp.payment.refund(payment_id, body)
    assert str(raised.value) == description
    assert api.rzp.payment.fetch(payment_id)["amount_refunded"] == 0


def test_an_uncaptured_payment_cannot_be_refunded(api: Sim) -> None:
    handler = api.pay(api.order()["id"], outcome="authorized")
    with pytest.raises(BadRequestError, match="should be captured"):
        api.rzp.payment.refund(handler["razorpay_payment_id"], {})


def test_idempotency_header_returns_the_same_refund(api: Sim) -> None:
    payment_id = paid(api)
    headers = {"X-Refund-Idempotency": "refund-0001-abcdef"}
    first = api.rzp.payment.refund(payment_id, {"amount": 5_000}, headers=dict(headers))
    again = api.rzp.payment.refund(payment_id, {"amount": 5_000}, headers=dict(headers))
    assert again == first
    assert api.rzp.payment.fetch(payment_id)["amount_refunded"] == 5_000
    with pytest.raises(BadRequestError, match="Different request with the same idempotency key"):
        api.rzp.payment.refund(payment_id, {"amount": 6_000}, headers=dict(headers))
    other = api.rzp.payment.refund(
        payment_id, {"amount": 5_000}, headers={"X-Refund-Idempotency": "refund-0002-abcdef"}
    )
    assert other["id"] != first["id"]
    assert api.rzp.payment.fetch(payment_id)["amount_refunded"] == 10_000


def test_an_invalid_idempotency_key_is_refused(api: Sim) -> None:
    payment_id = paid(api)
    with pytest.raises(BadRequestError, match="idempotency key"):
        api.rzp.payment.refund(payment_id, {}, headers={"X-Refund-Idempotency": "short"})


def test_a_failed_refund_gives_the_amount_back(api: Sim) -> None:
    payment_id = paid(api)
    refund = api.rzp.payment.refund(payment_id, {})
    failed = api.http.post(f"/_sim/refunds/{refund['id']}/fail")
    assert failed.json()["status"] == "failed"
    payment = api.rzp.payment.fetch(payment_id)
    assert (payment["status"], payment["amount_refunded"]) == ("captured", 0)
    assert api.http.post(f"/_sim/refunds/{refund['id']}/fail").status_code == 400
    assert api.rzp.payment.refund(payment_id, {})["amount"] == 50_000


def test_refund_lookups_for_the_wrong_payment(api: Sim) -> None:
    first, second = paid(api), paid(api)
    refund = api.rzp.payment.refund(first, {})
    with pytest.raises(BadRequestError, match=r"^The id provided does not exist$"):
        api.rzp.payment.fetch_refund_id(second, refund["id"])
    status = api.http.get(
        f"/v1/payments/{first}/refunds", params={"count": 500}, auth=(KEY_ID, KEY_SECRET)
    ).status_code
    assert status == 400
