"""POST /webhooks/razorpay: signature first, then the envelope, then durable storage; answers
per the contract; stored events applied through the payments sync path."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.payments.enums import PaymentStatus
from tests.webhooks.conftest import Db, MakeSettings, Records, Sidecar, running
from tests.webhooks.factories import (
    PREVIOUS_SECRET,
    SECRET,
    body_sha256,
    delivery,
    event,
    insert_payment,
    order_entity,
    payment_entity,
    rzp_id,
)


async def test_captured_event_is_stored_and_applied(
    sidecar: Sidecar, committed: AsyncSession, db: Db
) -> None:
    payment = await insert_payment(committed, amount_minor=50_000)
    entity = payment_entity(order_id=payment.razorpay_order_id, amount=50_000)
    sent = delivery(event("payment.captured", payment=entity))

    response = await sidecar.deliver(sent)

    assert response.status_code == 200
    assert response.json() == {"status": "stored"}  # answered once stored; the worker applies
    stored = await db.done(sent.event_id)
    assert stored.event_type == "payment.captured"
    assert stored.payload["payload"]["payment"]["entity"]["id"] == entity["id"]
    assert stored.signature_valid is True
    assert stored.signed_with == "current"
    assert stored.event_id_source == "header"
    assert stored.attempts == 1
    assert stored.outcome == "applied"
    assert stored.applied_at is not None
    assert stored.parked_at is None
    assert stored.payment_id == payment.id
    after = await db.payment(payment.id)
    assert after.status == PaymentStatus.COMPLETED
    assert after.razorpay_payment_id == entity["id"]
    assert await db.transitions(payment.id) == [("PROCESSING", "COMPLETED")]
    assert "payments:payment:completed" in await db.outbox_types(payment.id)


async def test_duplicate_event_id_is_acknowledged_and_not_applied_again(
    sidecar: Sidecar, committed: AsyncSession, db: Db
) -> None:
    payment = await insert_payment(committed)
    sent = delivery(
        event("payment.captured", payment=payment_entity(order_id=payment.razorpay_order_id))
    )

    first = await sidecar.deliver(sent)
    await db.done(sent.event_id)
    second = await sidecar.deliver(sent)

    assert first.json() == {"status": "stored"}
    assert second.status_code == 200
    assert second.json() == {"status": "duplicate"}
    assert await db.count_events(sent.event_id or "") == 1
    done = await db.done(sent.event_id)
    assert (done.outcome, done.attempts) == ("applied", 1)
    assert await db.transitions(payment.id) == [("PROCESSING", "COMPLETED")]


async def test_twenty_concurrent_deliveries_make_one_row_and_one_transition(
    sidecar: Sidecar, committed: AsyncSession, db: Db
) -> None:
    payment = await insert_payment(committed)
    sent = delivery(
        event("payment.captured", payment=payment_entity(order_id=payment.razorpay_order_id))
    )

    responses = await asyncio.gather(*(sidecar.deliver(sent) for _ in range(20)))

    assert [r.status_code for r in responses] == [200] * 20
    statuses = sorted(r.json()["status"] for r in responses)
    assert statuses == ["duplicate"] * 19 + ["stored"]
    assert await db.count_events(sent.event_id or "") == 1
    assert (await db.done(sent.event_id)).outcome == "applied"
    assert await db.transitions(payment.id) == [("PROCESSING", "COMPLETED")]
    completed = [t for t in await db.outbox_types(payment.id) if t.endswith(":completed")]
    assert completed == ["payments:payment:completed"]


async def test_failed_after_captured_leaves_the_payment_completed(
    sidecar: Sidecar, committed: AsyncSession, db: Db
) -> None:
    payment = await insert_payment(committed)
    pay_id = rzp_id("pay")
    order_id = payment.razorpay_order_id
    captured = payment_entity(order_id=order_id, payment_id=pay_id, status="captured")
    failed = payment_entity(order_id=order_id, payment_id=pay_id, status="failed")

    # Delivered back to back: the worker applies the events of one payment in arrival order.
    first = await sidecar.deliver(delivery(event("payment.captured", payment=captured)))
    late = await sidecar.deliver(delivery(event("payment.failed", payment=failed)))

    assert first.json() == late.json() == {"status": "stored"}
    assert (await db.done(first.request.headers["x-razorpay-event-id"])).outcome == "applied"
    assert (await db.done(late.request.headers["x-razorpay-event-id"])).outcome == "unchanged"
    assert (await db.payment(payment.id)).status == PaymentStatus.COMPLETED
    assert await db.transitions(payment.id) == [("PROCESSING", "COMPLETED")]


async def test_captured_before_authorized(
    sidecar: Sidecar, committed: AsyncSession, db: Db
) -> None:
    payment = await insert_payment(committed)
    pay_id = rzp_id("pay")
    order_id = payment.razorpay_order_id
    captured = payment_entity(order_id=order_id, payment_id=pay_id, status="captured")
    authorized = payment_entity(order_id=order_id, payment_id=pay_id, status="authorized")

    first = await sidecar.deliver(delivery(event("payment.captured", payment=captured)))
    late = await sidecar.deliver(delivery(event("payment.authorized", payment=authorized)))

    assert (await db.done(first.request.headers["x-razorpay-event-id"])).outcome == "applied"
    assert (await db.done(late.request.headers["x-razorpay-event-id"])).outcome == "unchanged"
    assert (await db.payment(payment.id)).status == PaymentStatus.COMPLETED
    assert await db.transitions(payment.id) == [("PROCESSING", "COMPLETED")]


async def test_authorized_then_order_paid(
    sidecar: Sidecar, committed: AsyncSession, db: Db
) -> None:
    payment = await insert_payment(committed, amount_minor=100)
    pay_id = rzp_id("pay")
    order_id = payment.razorpay_order_id or ""
    authorized = payment_entity(
        order_id=order_id, payment_id=pay_id, status="authorized", amount=100
    )
    paid = event(
        "order.paid",
        payment=payment_entity(order_id=order_id, payment_id=pay_id, amount=100),
        order=order_entity(order_id=order_id, amount=100),
    )

    first = await sidecar.deliver(delivery(event("payment.authorized", payment=authorized)))
    second = await sidecar.deliver(delivery(paid))

    assert (await db.done(first.request.headers["x-razorpay-event-id"])).outcome == "applied"
    assert (await db.done(second.request.headers["x-razorpay-event-id"])).outcome == "applied"
    kinds = [t.kind for t in await db.transactions(payment.id)]
    assert kinds.count("AUTHORIZATION") == 1
    assert (await db.payment(payment.id)).status == PaymentStatus.COMPLETED


OPTIONAL = (
    "error_source",
    "acquirer_data",
    "base_amount",
    "fee",
    "tax",
    "amount_refunded",
    "notes",
)


@pytest.mark.parametrize(
    ("changes", "drop"),
    [
        pytest.param({"notes": []}, (), id="notes-list"),
        pytest.param({"notes": {}}, (), id="notes-dict"),
        pytest.param({"notes": {"paymentId": "x", "userId": "y"}}, (), id="notes-filled"),
        pytest.param({"notes": None}, (), id="notes-null"),
        pytest.param({"error_code": "", "error_description": ""}, (), id="empty-error-strings"),
        pytest.param({"provider": None, "reward": None, "upi": {"flow": "intent"}}, (), id="extra"),
        pytest.param({}, OPTIONAL, id="missing-optional"),
    ],
)
async def test_payload_quirks_are_accepted(
    changes: dict[str, object],
    drop: tuple[str, ...],
    sidecar: Sidecar,
    committed: AsyncSession,
    db: Db,
) -> None:
    payment = await insert_payment(committed)
    entity = payment_entity(order_id=payment.razorpay_order_id, **changes)
    for name in drop:
        entity.pop(name)
    body = event("payment.captured", payment=entity)
    body["x_unknown_top_level"] = {"added": True}

    sent = delivery(body)
    response = await sidecar.deliver(sent)

    assert response.json() == {"status": "stored"}
    assert (await db.done(sent.event_id)).outcome == "applied"
    assert (await db.payment(payment.id)).status == PaymentStatus.COMPLETED


async def test_unknown_event_type_is_stored_and_ignored(sidecar: Sidecar, db: Db) -> None:
    sent = delivery(event("subscription.charged", subscription={"id": rzp_id("sub")}))

    response = await sidecar.deliver(sent)

    assert response.status_code == 200
    assert response.json() == {"status": "stored"}
    stored = await db.done(sent.event_id)
    assert stored.outcome == "ignored"
    assert stored.applied_at is not None
    assert stored.last_error == "no handler for subscription.charged"


async def test_payment_without_order_is_ignored(sidecar: Sidecar, db: Db) -> None:
    sent = delivery(event("payment.captured", payment=payment_entity(order_id=None)))

    response = await sidecar.deliver(sent)

    assert response.json() == {"status": "stored"}
    done = await db.done(sent.event_id)
    assert (done.outcome, done.applied_at is not None) == ("ignored", True)


async def test_previous_secret_is_accepted_during_rotation(
    make_settings: MakeSettings, committed: AsyncSession, db: Db
) -> None:
    payment = await insert_payment(committed)
    body = event("payment.captured", payment=payment_entity(order_id=payment.razorpay_order_id))
    settings = make_settings(
        razorpay_webhook_secret="whsec-brand-new", razorpay_webhook_previous_secret=SECRET
    )
    async with running(settings) as sidecar:
        old = delivery(body)  # still signed with what is now the previous secret
        response = await sidecar.deliver(old)
        done = await db.done(old.event_id)
        metrics = (await sidecar.client.get("/metrics")).text

    assert response.json() == {"status": "stored"}
    assert (done.outcome, done.signed_with) == ("applied", "previous")
    assert 'webhook_signatures_valid_total{secret="previous"} 1.0' in metrics


async def test_new_secret_is_accepted_with_a_previous_one_configured(
    make_settings: MakeSettings, db: Db
) -> None:
    settings = make_settings(razorpay_webhook_previous_secret=PREVIOUS_SECRET)
    async with running(settings) as sidecar:
        sent = delivery(event("refund.speed_changed", refund={"id": rzp_id("rfnd")}))
        response = await sidecar.deliver(sent)
        done = await db.done(sent.event_id)

    assert response.json()["status"] == "stored"
    assert (done.signed_with, done.outcome) == ("current", "ignored")


async def test_missing_event_id_dedupes_on_the_body_hash(sidecar: Sidecar, db: Db) -> None:
    body = event("payment.captured", payment=payment_entity(order_id=None))
    sent = delivery(body, event_id=None)

    first = await sidecar.deliver(sent)
    again = await sidecar.deliver(sent)

    assert first.json()["status"] == "stored"
    assert again.json() == {"status": "duplicate"}
    stored = await db.done(f"sha256:{body_sha256(sent.raw)}")
    assert stored.event_id_source == "body_sha256"


async def test_event_id_reused_with_another_body_is_kept_separately(
    sidecar: Sidecar, committed: AsyncSession, db: Db, security_log: Records
) -> None:
    payment = await insert_payment(committed)
    event_id = rzp_id("evt")
    ignored = delivery(
        event("payment.captured", payment=payment_entity(order_id=None)), event_id=event_id
    )
    real = delivery(
        event("payment.captured", payment=payment_entity(order_id=payment.razorpay_order_id)),
        event_id=event_id,
    )
    assert (await sidecar.deliver(ignored)).json() == {"status": "stored"}
    assert (await db.done(event_id)).outcome == "ignored"
    response = await sidecar.deliver(real)

    assert response.json() == {"status": "stored"}
    rows = await db.events_like(event_id)
    assert len(rows) == 2
    [variant] = [r.event_id for r in rows if r.event_id != event_id]
    assert (await db.done(variant)).outcome == "applied"
    assert (await db.payment(payment.id)).status == PaymentStatus.COMPLETED
    assert any(
        getattr(r, "security_event", None) == "webhook_event_id_reused"
        for r in security_log.records
    )


async def test_nul_characters_do_not_stop_storage(sidecar: Sidecar, db: Db) -> None:
    body = event("payment.captured", payment=payment_entity(order_id=None, description="a\x00b"))
    sent = delivery(body)

    response = await sidecar.deliver(sent)

    assert response.json() == {"status": "stored"}
    stored = await db.done(sent.event_id)
    assert stored.outcome == "ignored"
    assert stored.payload["payload"]["payment"]["entity"]["description"] == "a\ufffdb"


async def test_a_burst_of_deliveries_stores_each_event_once(
    sidecar: Sidecar, committed: AsyncSession, db: Db
) -> None:
    """Deliveries arriving together are stored by one INSERT per batch (group commit): each
    event once, each delivery answered for itself, an id reused with another body kept apart."""
    payments = [await insert_payment(committed) for _ in range(10)]
    sent = [
        delivery(event("payment.captured", payment=payment_entity(order_id=p.razorpay_order_id)))
        for p in payments
    ]
    reused = delivery(
        event("subscription.charged", subscription={"id": rzp_id("sub")}),
        event_id=sent[0].event_id,
    )
    burst = [d for _ in range(5) for d in sent] + [reused]

    responses = await asyncio.gather(*(sidecar.deliver(d) for d in burst))

    assert [r.status_code for r in responses] == [200] * len(burst)
    statuses = [r.json()["status"] for r in responses]
    assert (statuses.count("stored"), statuses.count("duplicate")) == (11, 40)
    assert len(await db.events_like(sent[0].event_id or "")) == 2
    for payment, one in zip(payments[1:], sent[1:], strict=True):
        assert await db.count_events(one.event_id or "") == 1
        assert (await db.done(one.event_id)).outcome == "applied"
        assert await db.transitions(payment.id) == [("PROCESSING", "COMPLETED")]
    for row in await db.events_like(sent[0].event_id or ""):
        await db.done(row.event_id)
    assert await db.transitions(payments[0].id) == [("PROCESSING", "COMPLETED")]
