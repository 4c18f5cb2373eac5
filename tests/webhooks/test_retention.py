"""Deduplication on Razorpay's own identity of an event (not only the unsigned event id header),
and the pruning of stored events past `WEBHOOK_EVENT_RETENTION_DAYS`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.payments.enums import PaymentStatus
from subgraphs.payments.webhooks.models import WebhookEvent
from tests.webhooks.conftest import Db, Records, Sidecar
from tests.webhooks.factories import (
    SECRET,
    delivery,
    event,
    insert_payment,
    payment_entity,
    rzp_id,
    sign,
)


def resent(raw: bytes) -> tuple[bytes, dict[str, str]]:
    """A captured body re-sent under a new event id (the header is not signed)."""
    return raw, {
        "content-type": "application/json",
        "x-razorpay-signature": sign(SECRET, raw),
        "x-razorpay-event-id": rzp_id("evt"),
    }


async def rows_of(session: AsyncSession, entity_id: str) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(WebhookEvent)
        .where(
            WebhookEvent.payload["payload"]["payment"]["entity"]["id"].astext == entity_id,
        )
    )
    return int(count or 0)


async def test_a_body_resent_under_new_event_ids_is_stored_once(
    sidecar: Sidecar, committed: AsyncSession, db: Db, security_log: Records
) -> None:
    payment = await insert_payment(committed)
    entity = payment_entity(order_id=payment.razorpay_order_id)
    sent = delivery(event("payment.captured", payment=entity))
    assert (await sidecar.deliver(sent)).json() == {"status": "stored"}
    assert (await db.done(sent.event_id)).outcome == "applied"

    for _ in range(3):
        raw, headers = resent(sent.raw)
        response = await sidecar.client.post("/webhooks/razorpay", content=raw, headers=headers)
        assert response.status_code == 200
        assert response.json() == {"status": "duplicate"}

    async with db.session() as session:
        assert await rows_of(session, entity["id"]) == 1
    assert await db.transitions(payment.id) == [("PROCESSING", "COMPLETED")]
    assert any(
        getattr(r, "security_event", None) == "webhook_event_replayed" for r in security_log.records
    )


async def test_other_states_and_events_of_one_entity_are_kept(
    sidecar: Sidecar, committed: AsyncSession, db: Db
) -> None:
    payment = await insert_payment(committed)
    pay_id = rzp_id("pay")
    authorized = payment_entity(
        order_id=payment.razorpay_order_id, payment_id=pay_id, status="authorized"
    )
    captured = payment_entity(order_id=payment.razorpay_order_id, payment_id=pay_id)
    for body in (
        event("payment.authorized", payment=authorized),
        event("payment.captured", payment=captured),
    ):
        sent = delivery(body)
        assert (await sidecar.deliver(sent)).json()["status"] == "stored"
        assert (await db.done(sent.event_id)).outcome == "applied"
    async with db.session() as session:
        assert await rows_of(session, pay_id) == 2
    assert (await db.payment(payment.id)).status == PaymentStatus.COMPLETED


def stored_row(
    *, applied_days_ago: float | None, received_days_ago: float, parked: bool = False
) -> WebhookEvent:
    now = datetime.now(UTC)
    received = now - timedelta(days=received_days_ago)
    return WebhookEvent(
        id=uuid.uuid4(),
        event_id=rzp_id("evt"),
        event_id_source="header",
        event_type="payment.captured",
        payload={"entity": "event", "event": "payment.captured", "payload": {}},
        body_sha256="0" * 64,
        signature_valid=True,
        signed_with="current",
        received_at=received,
        attempts=1,
        applied_at=None if applied_days_ago is None else now - timedelta(days=applied_days_ago),
        outcome="applied" if applied_days_ago is not None else "error",
        next_attempt_at=received,
        parked_at=received if parked else None,
    )


async def test_applied_events_past_the_retention_are_pruned_never_pending_ones(
    manual: Sidecar, committed: AsyncSession, db: Db
) -> None:
    sidecar = manual
    old_applied = stored_row(applied_days_ago=31, received_days_ago=31)
    recent_applied = stored_row(applied_days_ago=29, received_days_ago=40)
    old_pending = stored_row(applied_days_ago=None, received_days_ago=60)
    old_parked = stored_row(applied_days_ago=None, received_days_ago=60, parked=True)
    rows = [old_applied, recent_applied, old_pending, old_parked]
    committed.add_all(rows)
    await committed.commit()
    try:
        assert sidecar.runtime.settings.webhook_event_retention_days == 30
        await sidecar.runtime.worker.prune()

        assert await db.event(old_applied.event_id) is None
        for kept in (recent_applied, old_pending, old_parked):
            assert await db.event(kept.event_id) is not None
    finally:
        async with db.session() as session, session.begin():
            for row in rows:
                found = await session.get(WebhookEvent, row.id)
                if found is not None:
                    await session.delete(found)
