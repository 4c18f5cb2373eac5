"""Edge cases of input parsing, error mapping and delivery bookkeeping."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from subgraphs.payments.simulator import create_app
from subgraphs.payments.simulator.checkout import PayRequest, resolve
from tests.simulator.conftest import sim_settings
from tests.simulator.support import KEY_ID, KEY_SECRET, Receiver, Sim, wait_until

AUTH = (KEY_ID, KEY_SECRET)


@pytest.mark.parametrize(
    ("content", "description"),
    [
        (b"{not json", "The request body is not valid JSON."),
        (b'"text"', "The request body should be a JSON object."),
        (b"[]", "The amount field is required."),
        (b"", "The amount field is required."),
    ],
)
def test_unusable_bodies(api: Sim, content: bytes, description: str) -> None:
    response = api.http.post(
        "/v1/orders", content=content, auth=AUTH, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["description"] == description


@pytest.mark.parametrize(
    ("body", "description"),
    [
        ({"receipt": 12}, "The receipt must be a string."),
        ({"notes": {"a": ["x"]}}, "Notes values themselves should not be an array"),
        ({"notes": {"a": "x" * 513}}, "Notes value cannot be greater 512 characters"),
        ({"first_payment_min_amount": 100}, "first_payment_min_amount is/are not required"),
        (
            {"partial_payment": True, "first_payment_min_amount": 60_000},
            "The first payment min amount must be between",
        ),
    ],
)
def test_more_order_rules(api: Sim, body: dict[str, Any], description: str) -> None:
    response = api.http.post(
        "/v1/orders", json={"amount": 50_000, "currency": "INR", **body}, auth=AUTH
    )
    assert response.status_code == 400
    assert response.json()["error"]["description"].startswith(description)


def test_note_values_are_kept_as_strings(api: Sim) -> None:
    order = api.order(notes={"flag": True, "count": 3, "empty": None})
    assert order["notes"] == {"flag": "true", "count": "3", "empty": ""}


def test_paging_rules(api: Sim) -> None:
    response = api.http.get("/v1/orders", params={"skip": -1}, auth=AUTH)
    assert response.json()["error"]["field"] == "skip"


def test_a_second_authorized_payment_cannot_be_captured_once_the_order_is_paid(api: Sim) -> None:
    order = api.order()
    first = api.pay(order["id"], outcome="authorized")["razorpay_payment_id"]
    second = api.pay(order["id"], outcome="authorized")["razorpay_payment_id"]
    api.rzp.payment.capture(first, 50_000, {"currency": "INR"})
    response = api.http.post(
        f"/v1/payments/{second}/capture", json={"amount": 50_000, "currency": "INR"}, auth=AUTH
    )
    assert response.status_code == 400
    assert "already paid" in response.json()["error"]["description"]


@pytest.mark.parametrize(
    ("number", "network"),
    [("378282246310005", "American Express"), ("2221000000000009", "MasterCard"),
     ("3530111333300000", "Unknown")],
)  # fmt: skip
def test_card_networks(number: str, network: str) -> None:
    attempt = resolve(PayRequest(card_number=number))
    assert attempt.instrument["card"]["network"] == network
    assert attempt.outcome == "success"


async def test_an_unexpected_error_is_razorpays_server_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = create_app(sim_settings())

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(app.state.simulator.store, "create_order", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
        response = await client.post(
            "/v1/orders", json={"amount": 100, "currency": "INR"}, auth=AUTH
        )
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "SERVER_ERROR"


def test_reset_stops_retries_and_wait_reports_what_is_pending(sim: Sim, receiver: Receiver) -> None:
    receiver.fail_times = 100
    sim.http.put("/_sim/webhook-config", json={"urls": [receiver.url]})
    sim.pay(sim.order()["id"], outcome="failure")
    receiver.wait_for(1)
    assert sim.http.post("/_sim/deliveries/wait", json={"timeout_s": 0.01}).json()["pending"] >= 1
    assert sim.http.get("/_sim/deliveries").json()["pending"] >= 1
    sim.http.post("/_sim/reset")
    seen = len(receiver.snapshot())
    assert sim.http.post("/_sim/deliveries/wait", json={"timeout_s": 1}).json() == {"pending": 0}
    assert len(receiver.snapshot()) == seen
    assert sim.http.get("/_sim/events").json()["count"] == 0


def test_a_retried_event_is_also_duplicated(sim: Sim, receiver: Receiver) -> None:
    receiver.fail_times = 1
    sim.pay(sim.order()["id"], outcome="failure", webhook={"duplicate": True})
    wait_until(lambda: len(receiver.snapshot()) == 3)
    sim.settle()
    assert [item.status for item in receiver.snapshot()] == [500, 200, 200]
    assert [d["duplicate"] for d in sim.deliveries()] == [False, False, True]
