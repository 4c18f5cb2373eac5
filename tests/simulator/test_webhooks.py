"""Webhooks as a receiver sees them: shapes, signatures, event ids, and Razorpay's habits."""

from __future__ import annotations

import time
from typing import Any

from tests.simulator.conftest import MakeSim
from tests.simulator.support import WEBHOOK_SECRET, Receiver, Sim

EVENT_KEYS = {"entity", "account_id", "event", "contains", "payload", "created_at"}
# The payment keys of Razorpay's documented payment.captured payloads.
PAYMENT_KEYS = {
    "acquirer_data", "amount", "amount_refunded", "amount_transferred", "bank", "base_amount",
    "captured", "card_id", "contact", "created_at", "currency", "description", "email", "entity",
    "error_code", "error_description", "error_reason", "error_source", "error_step", "fee", "id",
    "international", "invoice_id", "method", "notes", "order_id", "refund_status", "status", "tax",
    "vpa", "wallet",
}  # fmt: skip
ORDER_KEYS = {
    "id", "entity", "amount", "amount_paid", "amount_due", "currency", "receipt", "offer_id",
    "status", "attempts", "notes", "created_at",
}  # fmt: skip
REFUND_KEYS = {
    "id", "entity", "amount", "currency", "payment_id", "notes", "receipt", "acquirer_data",
    "created_at", "batch_id", "status", "speed_processed", "speed_requested",
}  # fmt: skip


def names(received: list[Any]) -> list[str]:
    return [item.event for item in received]


def test_success_sends_authorized_captured_paid_signed_with_unique_ids(
    sim: Sim, receiver: Receiver
) -> None:
    before = time.time()
    order = sim.order(amount=100)
    handler = sim.pay(order["id"], method="netbanking")
    received = receiver.wait_for(3)
    assert names(received) == ["payment.authorized", "payment.captured", "order.paid"]
    assert len({item.event_id for item in received}) == 3
    for item in received:
        assert item.signature_ok()
        assert not item.signature_ok("another-secret")
        assert item.headers["Content-Type"] == "application/json"
        body = item.body
        assert set(body) == EVENT_KEYS
        assert (body["entity"], body["account_id"]) == ("event", "acc_Simulator00001")
        assert before - 1 <= body["created_at"] <= time.time() + 1
        payment = body["payload"]["payment"]["entity"]
        assert set(payment) == PAYMENT_KEYS
        assert payment["id"] == handler["razorpay_payment_id"]
        assert payment["order_id"] == order["id"]
        assert payment["notes"] == []
    authorized, captured, order_paid = (item.body for item in received)
    assert authorized["contains"] == ["payment"]
    assert authorized["payload"]["payment"]["entity"]["status"] == "authorized"
    assert authorized["payload"]["payment"]["entity"]["fee"] is None
    assert captured["payload"]["payment"]["entity"]["status"] == "captured"
    assert order_paid["contains"] == ["payment", "order"]
    assert list(order_paid["payload"]) == ["payment", "order"]
    paid_order = order_paid["payload"]["order"]["entity"]
    assert set(paid_order) == ORDER_KEYS
    assert (paid_order["status"], paid_order["amount_paid"], paid_order["amount_due"]) == (
        "paid",
        100,
        0,
    )
    sim.settle()
    log = sim.deliveries()
    assert [(d["event"], d["attempt"], d["status_code"], d["outcome"]) for d in log] == [
        ("payment.authorized", 1, 200, "delivered"),
        ("payment.captured", 1, 200, "delivered"),
        ("order.paid", 1, 200, "delivered"),
    ]
    assert all(d["url"] == receiver.url for d in log)
    events = sim.http.get("/_sim/events", params={"event": "order.paid"}).json()
    assert events["count"] == 1
    assert events["items"][0]["body"] == order_paid


def test_method_specific_payment_fields(sim: Sim, receiver: Receiver) -> None:
    sim.pay(sim.order()["id"], vpa="success@razorpay")
    upi = receiver.wait_for(3)[1].body["payload"]["payment"]["entity"]
    assert set(upi) == PAYMENT_KEYS | {"upi"}
    assert upi["upi"]["vpa"] == "success@razorpay"
    assert upi["acquirer_data"]["rrn"]
    sim.pay(sim.order()["id"], card_number="4111111111111111")
    card = receiver.wait_for(6)[4].body["payload"]["payment"]["entity"]
    assert set(card) == PAYMENT_KEYS | {"card", "token_id"}
    assert card["card"]["last4"] == "1111"


def test_failure_sends_payment_failed_only(sim: Sim, receiver: Receiver) -> None:
    result = sim.pay(sim.order()["id"], vpa="failure@razorpay")
    sim.settle()
    received = receiver.snapshot()
    assert names(received) == ["payment.failed"]
    payment = received[0].body["payload"]["payment"]["entity"]
    assert payment["id"] == result["error"]["metadata"]["payment_id"]
    assert (payment["status"], payment["error_code"], payment["error_reason"]) == (
        "failed",
        "BAD_REQUEST_ERROR",
        "payment_failed",
    )
    assert payment["acquirer_data"] == {"rrn": None}


def test_authorized_then_captured_later(sim: Sim, receiver: Receiver) -> None:
    handler = sim.pay(sim.order()["id"], outcome="authorized")
    sim.settle()
    assert names(receiver.snapshot()) == ["payment.authorized"]
    sim.http.post(f"/_sim/payments/{handler['razorpay_payment_id']}/capture-late")
    received = receiver.wait_for(3)
    assert names(received) == ["payment.authorized", "payment.captured", "order.paid"]


def test_capture_through_the_api_sends_captured_and_paid(sim: Sim, receiver: Receiver) -> None:
    handler = sim.pay(sim.order(amount=700)["id"], outcome="authorized")
    receiver.wait_for(1)
    sim.rzp.payment.capture(handler["razorpay_payment_id"], 700, {"currency": "INR"})
    received = receiver.wait_for(3)
    assert names(received)[1:] == ["payment.captured", "order.paid"]


def test_late_authorization_after_a_failure(sim: Sim, receiver: Receiver) -> None:
    failed = sim.pay(sim.order()["id"], outcome="failure")["error"]["metadata"]["payment_id"]
    receiver.wait_for(1)  # separate actions are separate batches, delivered in any order
    sim.http.post(f"/_sim/payments/{failed}/authorize-late")
    received = receiver.wait_for(4)
    assert names(received) == [
        "payment.failed",
        "payment.authorized",
        "payment.captured",
        "order.paid",
    ]
    assert {item.body["payload"]["payment"]["entity"]["id"] for item in received} == {failed}


def test_refund_events_carry_refund_and_payment(sim: Sim, receiver: Receiver) -> None:
    handler = sim.pay(sim.order()["id"])
    receiver.wait_for(3)
    refund = sim.rzp.payment.refund(
        handler["razorpay_payment_id"], {"amount": 20_000, "notes": {"why": "damaged"}}
    )
    received = receiver.wait_for(5)[3:]
    assert names(received) == ["refund.created", "refund.processed"]
    for item in received:
        assert item.body["contains"] == ["refund", "payment"]
        entity = item.body["payload"]["refund"]["entity"]
        assert set(entity) == REFUND_KEYS
        assert entity["id"] == refund["id"]
        assert entity["notes"] == {"why": "damaged"}
        payment = item.body["payload"]["payment"]["entity"]
        assert (payment["amount_refunded"], payment["refund_status"]) == (20_000, "partial")
    sim.http.post(f"/_sim/refunds/{refund['id']}/fail")
    failed = receiver.wait_for(6)[5].body
    assert failed["event"] == "refund.failed"
    assert failed["payload"]["refund"]["entity"]["status"] == "failed"
    assert failed["payload"]["payment"]["entity"]["amount_refunded"] == 0


def test_a_non_2xx_answer_is_retried_with_the_same_event_id_and_body(
    sim: Sim, receiver: Receiver
) -> None:
    receiver.fail_times = 2
    sim.pay(sim.order()["id"], outcome="failure")
    sim.settle()
    received = receiver.snapshot()
    assert [item.status for item in received] == [500, 500, 200]
    assert len({item.event_id for item in received}) == 1
    assert len({item.raw for item in received}) == 1
    assert len({item.headers["X-Razorpay-Signature"] for item in received}) == 1
    log = sim.deliveries(event_id=received[0].event_id)
    assert [(d["attempt"], d["status_code"], d["outcome"]) for d in log] == [
        (1, 500, "failed"),
        (2, 500, "failed"),
        (3, 200, "delivered"),
    ]
    assert log[1]["started_at"] - log[0]["started_at"] >= 0.04  # backoff base 0.05 s


def test_retries_stop_after_max_attempts(sim: Sim, receiver: Receiver) -> None:
    receiver.fail_times = 100
    sim.pay(sim.order()["id"], outcome="failure")
    sim.settle()
    assert [d["outcome"] for d in sim.deliveries()] == ["failed"] * 5


def test_a_slow_answer_counts_as_a_timeout_and_is_retried(
    make_sim: MakeSim, receiver: Receiver
) -> None:
    receiver.slow_first_s = 0.7
    sim = make_sim(webhook_urls=[receiver.url], webhook_timeout_s=0.3)
    sim.pay(sim.order()["id"], outcome="failure")
    sim.settle()
    log = sim.deliveries()
    assert (log[0]["attempt"], log[0]["error"], log[0]["outcome"]) == (1, "timeout", "failed")
    assert log[0]["elapsed_ms"] >= 300
    assert (log[-1]["status_code"], log[-1]["outcome"]) == (200, "delivered")
    received = receiver.wait_for(2)
    assert len({item.event_id for item in received}) == 1


def test_an_unreachable_url_is_retried_and_logged(make_sim: MakeSim) -> None:
    sim = make_sim(webhook_urls=["http://127.0.0.1:9/nowhere"], webhook_max_attempts=2)
    sim.pay(sim.order()["id"], outcome="failure")
    sim.settle()
    log = sim.deliveries()
    assert [d["attempt"] for d in log] == [1, 2]
    assert all(d["status_code"] is None and d["error"] for d in log)


def test_duplicates_reach_the_receiver_twice_with_one_event_id(
    sim: Sim, receiver: Receiver
) -> None:
    sim.pay(sim.order()["id"], webhook={"duplicate": True})
    sim.settle()
    received = receiver.snapshot()
    assert len(received) == 6
    by_id: dict[str, list[bytes]] = {}
    for item in received:
        by_id.setdefault(item.event_id, []).append(item.raw)
    assert len(by_id) == 3
    assert all(len(raws) == 2 and raws[0] == raws[1] for raws in by_id.values())
    assert sum(d["duplicate"] for d in sim.deliveries()) == 3


def test_reorder_sends_the_last_event_first(sim: Sim, receiver: Receiver) -> None:
    sim.pay(sim.order()["id"], webhook={"reorder": True})
    assert names(receiver.wait_for(3)) == ["order.paid", "payment.captured", "payment.authorized"]


def test_fail_first_makes_the_receiver_see_an_accepted_event_again(
    sim: Sim, receiver: Receiver
) -> None:
    sim.pay(sim.order()["id"], outcome="failure", webhook={"fail_first": 2})
    sim.settle()
    received = receiver.snapshot()
    assert [item.status for item in received] == [200, 200, 200]
    assert len({item.event_id for item in received}) == 1
    assert [d["outcome"] for d in sim.deliveries()] == [
        "simulated_failure",
        "simulated_failure",
        "delivered",
    ]


def test_delay_holds_the_first_delivery(sim: Sim, receiver: Receiver) -> None:
    order_id = sim.order()["id"]
    started = time.monotonic()
    sim.pay(order_id, outcome="failure", webhook={"delay_ms": 300})
    assert receiver.snapshot() == []  # the pay endpoint does not wait for delivery
    received = receiver.wait_for(1)
    assert received[0].at - started >= 0.3


def test_drop_delivers_nothing_but_records_the_event(sim: Sim, receiver: Receiver) -> None:
    sim.pay(sim.order()["id"], webhook={"drop": True})
    sim.settle()
    assert receiver.snapshot() == []
    assert sim.http.get("/_sim/events").json()["count"] == 3


def test_per_request_urls_and_several_receivers(sim: Sim, receiver: Receiver) -> None:
    other = Receiver()
    try:
        sim.pay(sim.order()["id"], outcome="failure", webhook={"urls": [receiver.url, other.url]})
        sim.settle()
        assert len(receiver.snapshot()) == 1
        assert len(other.snapshot()) == 1
        assert receiver.snapshot()[0].raw == other.snapshot()[0].raw
    finally:
        other.close()


def test_quirks(sim: Sim, receiver: Receiver) -> None:
    sim.pay(
        sim.order()["id"],
        webhook={"quirks": ["notes_dict", "empty_error_strings", "extra_fields", "drop_optional"]},
    )
    body = receiver.wait_for(3)[2].body
    assert body["x_sim_unknown"] == {"added_by": "simulator"}
    payment = body["payload"]["payment"]["entity"]
    assert payment["notes"] == {}
    assert body["payload"]["order"]["entity"]["notes"] == {}
    assert (payment["error_code"], payment["error_description"]) == ("", "")
    assert payment["provider"] is None
    assert "reward" in payment
    assert not {"error_source", "acquirer_data", "base_amount"} & set(payment)
    assert '"notes":{}' in receiver.snapshot()[0].raw.decode()


def test_filled_notes_are_an_object_and_empty_notes_a_list_in_the_raw_body(
    sim: Sim, receiver: Receiver
) -> None:
    sim.pay(sim.order(notes={"purpose": "test"})["id"], notes={"cart": "c-9"})
    raw = receiver.wait_for(3)[2].raw.decode()
    assert '"notes":{"cart":"c-9"}' in raw
    assert '"notes":{"purpose":"test"}' in raw
    sim.pay(sim.order()["id"], outcome="failure")
    assert '"notes":[]' in receiver.wait_for(4)[3].raw.decode()


def test_webhook_config_changes_defaults_until_reset(sim: Sim, receiver: Receiver) -> None:
    config = sim.http.put("/_sim/webhook-config", json={"duplicate": True}).json()
    assert config["duplicate"] is True
    assert config["urls"] == [receiver.url]
    assert sim.http.get("/_sim/webhook-config").json() == config
    sim.pay(sim.order()["id"], outcome="failure")
    sim.settle()
    assert len(receiver.snapshot()) == 2
    assert sim.http.delete("/_sim/deliveries").json() == {"count": 0}
    assert sim.deliveries() == []
    sim.http.post("/_sim/reset")
    assert sim.http.get("/_sim/webhook-config").json()["duplicate"] is False


def test_defaults_from_settings(make_sim: MakeSim, receiver: Receiver) -> None:
    sim = make_sim(webhook_urls=[receiver.url], webhook_reorder=True, webhook_quirks=["notes_dict"])
    sim.pay(sim.order()["id"])
    received = receiver.wait_for(3)
    assert names(received)[0] == "order.paid"
    assert received[0].body["payload"]["order"]["entity"]["notes"] == {}
    assert received[0].signature_ok(WEBHOOK_SECRET)
