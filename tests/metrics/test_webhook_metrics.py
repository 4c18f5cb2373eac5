"""`bff_webhook_events_total{event_type,outcome}` of the sidecar: one count per delivery and one
per apply attempt; event types outside Razorpay's known list are `other`."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from subgraphs.payments.enums import PaymentStatus
from tests.metrics.scrape import Scrape, scrape
from tests.webhooks.conftest import Db, MakeSettings, running
from tests.webhooks.factories import delivery, event, insert_payment, payment_entity, rzp_id

EVENTS = "bff_webhook_events_total"
TRANSITIONS = "bff_payment_transitions_total"


def delta(before: Scrape, after: Scrape, event_type: str, outcome: str) -> float:
    labels = {"event_type": event_type, "outcome": outcome}
    return after.value(EVENTS, **labels) - before.value(EVENTS, **labels)


async def test_deliveries_and_applies_are_counted(
    make_settings: MakeSettings, committed_engine: AsyncEngine, db: Db
) -> None:
    async with async_sessionmaker(committed_engine, expire_on_commit=False)() as session:
        payment = await insert_payment(session, status=PaymentStatus.PROCESSING)
    captured = delivery(
        event(
            "payment.captured",
            payment=payment_entity(order_id=payment.razorpay_order_id, amount=payment.amount_minor),
        )
    )
    unknown_order = delivery(
        event("payment.captured", payment=payment_entity(order_id=rzp_id("order")))
    )
    random_type = f"made.up.{uuid.uuid4().hex}"
    other = delivery(event(random_type))
    # One attempt at the unknown order within the test: the next is a minute later.
    async with running(make_settings(webhook_backoff_base_seconds=60.0)) as sidecar:
        before = await scrape(sidecar.client)
        for sent in (captured, captured, unknown_order):
            assert (await sidecar.deliver(sent)).status_code == 200
        assert (await sidecar.deliver(other)).status_code == 200
        forged = delivery(event("payment.captured"), secret="not-the-secret")
        assert (await sidecar.deliver(forged)).status_code == 400
        # Answered once stored; the worker applies them.
        await db.done(captured.event_id)
        await db.done(other.event_id)
        await db.attempted(unknown_order.event_id)
        after = await scrape(sidecar.client)

    assert delta(before, after, "payment.captured", "stored") == 2
    assert delta(before, after, "payment.captured", "duplicate") == 1
    assert delta(before, after, "payment.captured", "applied") == 1
    assert delta(before, after, "payment.captured", "unknown_order") == 1
    assert delta(before, after, "other", "stored") == 1
    assert delta(before, after, "other", "ignored") == 1
    assert delta(before, after, "other", "invalid_signature") == 1
    moved = {"from_status": "PROCESSING", "to_status": "COMPLETED"}
    assert after.value(TRANSITIONS, **moved) == before.value(TRANSITIONS, **moved) + 1
    event_types = after.label_values(EVENTS)["event_type"]
    assert random_type not in event_types
    assert event_types <= {
        "payment.authorized",
        "payment.captured",
        "payment.failed",
        "order.paid",
        "refund.created",
        "refund.processed",
        "refund.failed",
        "other",
    }
