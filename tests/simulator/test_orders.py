"""Orders through the real razorpay SDK: entity shape, validation errors, auth, lookups."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest
import razorpay
from razorpay.errors import BadRequestError

from tests.simulator.support import KEY_ID, KEY_SECRET, Sim

ORDER_KEYS = {
    "id", "entity", "amount", "amount_paid", "amount_due", "currency", "receipt", "offer_id",
    "status", "attempts", "notes", "created_at",
}  # fmt: skip


def raw_error(sim: Sim, method: str, path: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    response = sim.http.request(method, path, auth=(KEY_ID, KEY_SECRET), **kwargs)
    return response.status_code, response.json()["error"]


def test_create_and_fetch_order(api: Sim) -> None:
    before = int(time.time())
    order = api.rzp.order.create(
        {"amount": 9999, "currency": "INR", "receipt": "rcpt#42", "notes": {"payment": "p-1"}}
    )
    assert set(order) == ORDER_KEYS
    assert re.fullmatch(r"order_[0-9A-Za-z]{14}", order["id"])
    assert order["entity"] == "order"
    assert (order["amount"], order["amount_paid"], order["amount_due"]) == (9999, 0, 9999)
    assert (order["currency"], order["receipt"], order["status"]) == ("INR", "rcpt#42", "created")
    assert (order["attempts"], order["offer_id"], order["notes"]) == (0, None, {"payment": "p-1"})
    assert before <= order["created_at"] <= int(time.time())
    assert api.rzp.order.fetch(order["id"]) == order
    assert api.rzp.order.payments(order["id"]) == {"entity": "collection", "count": 0, "items": []}


def test_empty_notes_are_an_empty_list_as_razorpay_serialises_them(api: Sim) -> None:
    assert api.order()["notes"] == []


def test_partial_payment_order_shows_its_settings(api: Sim) -> None:
    order = api.order(partial_payment=True, first_payment_min_amount=10_000)
    assert (order["partial_payment"], order["first_payment_min_amount"]) == (True, 10_000)


def test_orders_are_listed_by_receipt_newest_first(api: Sim) -> None:
    first = api.order(receipt="shared")
    second = api.order(receipt="shared")
    api.order(receipt="other")
    listed = api.rzp.order.all({"receipt": "shared"})
    assert listed["entity"] == "collection"
    assert {item["id"] for item in listed["items"]} == {first["id"], second["id"]}
    assert api.rzp.order.all({"count": 1})["count"] == 1


@pytest.mark.parametrize(
    ("body", "description", "field"),
    [
        ({"currency": "INR"}, "The amount field is required.", "amount"),
        ({"amount": 99, "currency": "INR"}, "The amount must be atleast INR 1.00", "amount"),
        ({"amount": 100.5, "currency": "INR"}, "The amount must be an integer.", "amount"),
        ({"amount": 100.0, "currency": "INR"}, "The amount must be an integer.", "amount"),
        ({"amount": "ten", "currency": "INR"}, "The amount must be an integer.", "amount"),
        ({"amount": 500}, "The currency field is required.", "currency"),
        ({"amount": 500, "currency": "XYZ"}, "Currency is not supported", "currency"),
        ({"amount": 50, "currency": "KWD"}, "The amount must be atleast KWD 1.000", "amount"),
        (
            {"amount": 500, "currency": "INR", "receipt": "r" * 41},
            "The receipt may not be greater than 40 characters.",
            "receipt",
        ),
        (
            {"amount": 500, "currency": "INR", "notes": {f"k{i}": "v" for i in range(16)}},
            "Number of fields in notes should be less than or equal to 15",
            "notes",
        ),
        (
            {"amount": 500, "currency": "INR", "notes": "text"},
            "Notes should be provided as a dictionary",
            "notes",
        ),
        (
            {"amount": 500, "currency": "INR", "amout": 5},
            "amout is/are not required and should not be sent",
            "amout",
        ),
        (
            {"amount": 500, "currency": "INR", "partial_payment": "maybe"},
            "The partial payment field must be true or false.",
            "partial_payment",
        ),
    ],
)
def test_invalid_orders_are_refused_like_razorpay(
    api: Sim, body: dict[str, Any], description: str, field: str
) -> None:
    with pytest.raises(BadRequestError) as raised:
        api.rzp.order.create(body)
    assert str(raised.value) == description
    status, error = raw_error(api, "POST", "/v1/orders", json=body)
    assert status == 400
    assert error == {
        "code": "BAD_REQUEST_ERROR",
        "description": description,
        "source": "business",
        "step": "payment_initiation",
        "reason": "input_validation_failed",
        "metadata": {},
        "field": field,
    }


def test_a_form_encoded_order_is_accepted_as_curl_sends_it(api: Sim) -> None:
    response = api.http.post(
        "/v1/orders",
        auth=(KEY_ID, KEY_SECRET),
        data={"amount": "100", "currency": "INR", "receipt": "form"},
    )
    assert response.status_code == 200
    assert response.json()["amount"] == 100


def test_unknown_and_malformed_ids(api: Sim) -> None:
    with pytest.raises(BadRequestError, match=r"^The id provided does not exist$"):
        api.rzp.order.fetch("order_AAAAAAAAAAAAAA")
    with pytest.raises(BadRequestError, match=r"^The id provided does not exist$"):
        api.rzp.payment.fetch("pay_AAAAAAAAAAAAAA")
    with pytest.raises(BadRequestError, match=r"^The id provided does not exist$"):
        api.rzp.refund.fetch("rfnd_AAAAAAAAAAAAAA")
    with pytest.raises(BadRequestError, match=r"^order_nope is not a valid id$"):
        api.rzp.order.payments("order_nope")
    status, error = raw_error(api, "GET", "/v1/payments/pay_AAAAAAAAAAAAAA")
    assert (status, error["description"], "field" in error) == (
        400,
        "The id provided does not exist",
        False,
    )


def test_unknown_url_is_a_400_as_on_razorpay(api: Sim) -> None:
    status, error = raw_error(api, "GET", "/v1/nothing-here")
    assert (status, error["code"]) == (400, "BAD_REQUEST_ERROR")
    assert error["description"] == "The requested URL was not found on the server."


@pytest.mark.parametrize(
    ("auth", "description"),
    [
        ((KEY_ID, "wrong-secret"), "Authentication failed"),
        (("rzp_test_someoneelse", KEY_SECRET), "Authentication failed"),
        (None, "Please provide your api key for authentication purposes."),
    ],
)
def test_authentication_failures(api: Sim, auth: tuple[str, str] | None, description: str) -> None:
    response = httpx.get(f"{api.url}/v1/orders", auth=auth)
    assert response.status_code == 401
    assert response.json() == {
        "error": {
            "code": "BAD_REQUEST_ERROR",
            "description": description,
            "source": "NA",
            "step": "NA",
            "reason": "NA",
            "metadata": {},
        }
    }


def test_sdk_with_a_wrong_secret_raises_bad_request(api: Sim) -> None:
    client = razorpay.Client(auth=(KEY_ID, "nope"), base_url=api.url)
    try:
        with pytest.raises(BadRequestError, match=r"^Authentication failed$"):
            client.order.create({"amount": 100, "currency": "INR"})
    finally:
        client.session.close()
    garbled = httpx.get(f"{api.url}/v1/orders", headers={"Authorization": "Basic %%%"})
    assert garbled.status_code == 401
