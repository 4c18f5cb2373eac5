"""Applying stored events off the request path: outcomes, retries with backoff, parking,
refunds, row locks, the worker woken on commit, and no event lost when the sidecar stops."""

from __future__ import annotations

import asyncio
import math
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from subgraphs.payments.enums import PaymentStatus
from subgraphs.payments.webhooks import store
from tests.webhooks.conftest import Db, MakeSettings, Records, Sidecar, running, wait_for
from tests.webhooks.factories import (
    delivery,
    event,
    insert_payment,
    payment_entity,
    refund_entity,
    rzp_id,
)

LATER = timedelta(seconds=30)
# Razorpay gives up on an answer after 5 s.
RAZORPAY_WAITS_SECONDS = 5.0


async def test_unknown_order_is_retried_then_parked_and_can_be_replayed(
    manual: Sidecar, committed: AsyncSession, db: Db, security_log: Records
) -> None:
    sidecar = manual
    order_id = rzp_id("order")
    sent = delivery(event("payment.captured", payment=payment_entity(order_id=order_id)))

    response = await sidecar.deliver(sent)
    first = await db.event(sent.event_id or "")
    await sidecar.runtime.worker.run_once()  # no backoff in these tests: retried at once
    parked = await db.event(sent.event_id or "")

    assert response.json() == {"status": "stored"}
    assert first is not None
    assert (first.attempts, first.applied_at, first.parked_at) == (0, None, None)
    assert parked is not None
    assert parked.attempts == 3  # webhook_unknown_order_max_attempts in these tests
    assert parked.outcome == "unknown_order"
    assert parked.parked_at is not None
    assert parked.applied_at is None
    assert any(r.getMessage() == "webhook event parked" for r in security_log.records)
    metrics = (await sidecar.client.get("/metrics")).text
    assert 'webhook_events_parked_total{outcome="unknown_order"}' in metrics

    # The runbook's replay: once the order exists, queue the parked event again.
    payment = await insert_payment(committed, order_id=order_id)
    async with sidecar.runtime.sessionmaker() as session, session.begin():
        assert await store.replay(
            session=session, event_id=sent.event_id or "", now=datetime.now(UTC)
        )
        assert not await store.replay(
            session=session, event_id="evt_unknown", now=datetime.now(UTC)
        )
    await sidecar.runtime.worker.run_once()

    replayed = await db.event(sent.event_id or "")
    assert replayed is not None
    assert (replayed.outcome, replayed.attempts, replayed.parked_at) == ("applied", 1, None)
    assert (await db.payment(payment.id)).status == PaymentStatus.COMPLETED


async def test_backoff_keeps_an_event_until_it_is_due(
    make_settings: MakeSettings, committed: AsyncSession, db: Db
) -> None:
    order_id = rzp_id("order")
    sent = delivery(event("payment.captured", payment=payment_entity(order_id=order_id)))
    settings = make_settings(webhook_backoff_base_seconds=10.0, webhook_worker_enabled=False)
    async with running(settings) as sidecar:
        await sidecar.deliver(sent)
        await sidecar.runtime.worker.run_once()  # unknown order: retried 10 s later
        stored = await db.event(sent.event_id or "")
        assert stored is not None
        assert stored.next_attempt_at - stored.received_at >= timedelta(seconds=9)
        payment = await insert_payment(committed, order_id=order_id)

        await sidecar.runtime.worker.run_once()  # not due yet
        waiting = await db.event(sent.event_id or "")
        await sidecar.runtime.worker.run_once(now=datetime.now(UTC) + LATER)
        done = await db.event(sent.event_id or "")

    assert waiting is not None
    assert (waiting.attempts, waiting.applied_at) == (1, None)
    assert done is not None
    assert (done.attempts, done.outcome) == (2, "applied")
    assert (await db.payment(payment.id)).status == PaymentStatus.COMPLETED


async def test_amount_mismatch_changes_nothing_and_is_parked(
    sidecar: Sidecar, committed: AsyncSession, db: Db, security_log: Records
) -> None:
    payment = await insert_payment(committed, amount_minor=50_000)
    sent = delivery(
        event(
            "payment.captured",
            payment=payment_entity(order_id=payment.razorpay_order_id, amount=100),
        )
    )

    response = await sidecar.deliver(sent)

    assert response.json() == {"status": "stored"}
    stored = await db.done(sent.event_id)
    assert stored.outcome == "mismatch"
    assert stored.parked_at is not None
    assert stored.payment_id == payment.id
    assert (await db.payment(payment.id)).status == PaymentStatus.PROCESSING
    assert await db.transitions(payment.id) == []
    assert any(
        getattr(r, "security_event", None) == "webhook_amount_mismatch"
        for r in security_log.records
    )


async def test_event_without_its_entity_is_parked_at_once(sidecar: Sidecar, db: Db) -> None:
    missing = delivery(event("payment.captured"))
    broken = delivery(event("refund.processed", refund={"id": rzp_id("rfnd"), "amount": 1.5}))

    assert (await sidecar.deliver(missing)).json() == {"status": "stored"}
    assert (await sidecar.deliver(broken)).json() == {"status": "stored"}

    first = await db.done(missing.event_id)
    second = await db.done(broken.event_id)
    assert (first.outcome, second.outcome) == ("error", "error")
    assert first.parked_at is not None
    assert first.attempts == 1
    assert first.last_error == "PayloadError: payload.payment.entity is missing"
    assert second.last_error == (
        "PayloadError: payload.refund.entity is invalid: amount, currency, payment_id, status"
    )


async def test_refunds_apply_once_each(sidecar: Sidecar, committed: AsyncSession, db: Db) -> None:
    pay_id = rzp_id("pay")
    payment = await insert_payment(
        committed, status=PaymentStatus.COMPLETED, amount_minor=50_000, provider_payment_id=pay_id
    )
    captured = payment_entity(order_id=payment.razorpay_order_id, payment_id=pay_id, amount=50_000)
    rfnd = rzp_id("rfnd")

    def refund_event(name: str, refund_id: str, amount: int, status: str) -> dict[str, object]:
        return event(
            name,
            refund=refund_entity(
                payment_id=pay_id, amount=amount, status=status, refund_id=refund_id
            ),
            payment=captured,
        )

    processed = refund_event("refund.processed", rfnd, 20_000, "processed")
    created = delivery(refund_event("refund.created", rfnd, 20_000, "pending"))
    first = delivery(processed)
    replayed = delivery(processed)  # the same body under a new event id
    # Another event about the same refund (Razorpay's later `created_at`): stored, not re-applied.
    again = delivery({**processed, "created_at": processed["created_at"] + 1})  # type: ignore[operator]
    rest = delivery(refund_event("refund.processed", rzp_id("rfnd"), 30_000, "processed"))
    # Delivered back to back: the worker applies the events of one payment in arrival order.
    answers = [await sidecar.deliver(sent) for sent in (created, first, replayed, again, rest)]

    assert [a.json()["status"] for a in answers] == [
        "stored", "stored", "duplicate", "stored", "stored"
    ]  # fmt: skip
    assert (await db.done(created.event_id)).outcome == "applied"
    assert (await db.done(first.event_id)).outcome == "applied"
    assert await db.event(replayed.event_id or "") is None
    assert (await db.done(again.event_id)).outcome == "unchanged"
    assert (await db.done(rest.event_id)).outcome == "applied"
    after = await db.payment(payment.id)
    assert after.status == PaymentStatus.REFUNDED
    assert after.amount_refunded_minor == 50_000
    assert await db.transitions(payment.id) == [
        ("COMPLETED", "PARTIALLY_REFUNDED"),
        ("PARTIALLY_REFUNDED", "REFUNDED"),
    ]


async def test_refund_of_an_unknown_payment_waits_like_an_unknown_order(
    make_settings: MakeSettings, db: Db
) -> None:
    sent = delivery(
        event(
            "refund.failed",
            refund=refund_entity(payment_id=rzp_id("pay"), amount=100, status="failed"),
        )
    )
    async with running(make_settings(webhook_backoff_base_seconds=60.0)) as sidecar:
        assert (await sidecar.deliver(sent)).json() == {"status": "stored"}
        stored = await db.attempted(sent.event_id)

    assert (stored.outcome, stored.attempts) == ("unknown_order", 1)
    assert stored.applied_at is None
    assert stored.parked_at is None


async def _lock_payment(engine: AsyncEngine, payment_id: object) -> tuple[object, object]:
    conn = await engine.connect()
    transaction = await conn.begin()
    await conn.execute(
        text("SELECT 1 FROM payments.payments WHERE id = :id FOR UPDATE"), {"id": payment_id}
    )
    return conn, transaction


async def _worker_holds(engine: AsyncEngine, event_id: str) -> bool:
    """Whether a transaction holds the event's row (the worker is applying it)."""
    async with engine.connect() as conn:
        free = await conn.scalar(
            text(
                "SELECT id FROM payments.webhook_events WHERE event_id = :id FOR UPDATE SKIP LOCKED"
            ),
            {"id": event_id},
        )
        await conn.rollback()
    return free is None


async def test_an_event_is_not_lost_when_the_sidecar_stops_mid_apply(
    make_settings: MakeSettings, committed: AsyncSession, committed_engine: AsyncEngine, db: Db
) -> None:
    """Answered 200 once stored; the sidecar stops while its worker is applying the event (held
    up by a lock on the payment): the attempt rolls back, the event stays waiting, and the next
    sidecar applies it, once."""
    payment = await insert_payment(committed)
    sent = delivery(
        event("payment.captured", payment=payment_entity(order_id=payment.razorpay_order_id))
    )
    settings = make_settings(webhook_lock_timeout_ms=30_000, webhook_statement_timeout_ms=60_000)
    conn, transaction = await _lock_payment(committed_engine, payment.id)
    try:
        async with running(settings) as sidecar:
            response = await sidecar.deliver(sent)
            await wait_for(lambda: _worker_holds(committed_engine, sent.event_id or ""))
        # Stopped mid-apply (the worker was waiting for the payment's lock).
        waiting = await db.event(sent.event_id or "")
    finally:
        await transaction.rollback()  # type: ignore[attr-defined]
        await conn.close()  # type: ignore[attr-defined]
    async with running(make_settings()) as sidecar:
        done = await db.done(sent.event_id)

    assert response.json() == {"status": "stored"}
    assert waiting is not None
    assert (waiting.attempts, waiting.outcome, waiting.applied_at) == (0, None, None)
    assert (done.outcome, done.attempts) == ("applied", 1)
    assert (await db.payment(payment.id)).status == PaymentStatus.COMPLETED
    assert await db.transitions(payment.id) == [("PROCESSING", "COMPLETED")]


async def test_events_answered_just_before_a_stop_are_applied_once_after_it(
    make_settings: MakeSettings, committed: AsyncSession, db: Db
) -> None:
    """Stopped right after answering (whatever the worker had reached): nothing is lost, nothing
    applies twice."""
    payments = [await insert_payment(committed) for _ in range(10)]
    deliveries = [
        delivery(event("payment.captured", payment=payment_entity(order_id=p.razorpay_order_id)))
        for p in payments
    ]
    async with running(make_settings()) as sidecar:
        answers = await asyncio.gather(*(sidecar.deliver(d) for d in deliveries))
    async with running(make_settings()) as sidecar:
        done = [await db.done(d.event_id) for d in deliveries]

    assert [a.json() for a in answers] == [{"status": "stored"}] * 10
    assert [(row.outcome, row.attempts) for row in done] == [("applied", 1)] * 10
    for payment in payments:
        assert await db.transitions(payment.id) == [("PROCESSING", "COMPLETED")]


async def test_a_failed_apply_is_retried_by_the_worker_then_parked_at_the_limit(
    make_settings: MakeSettings, committed: AsyncSession, committed_engine: AsyncEngine, db: Db
) -> None:
    locked = await insert_payment(committed)
    later = await insert_payment(committed)
    stuck = delivery(
        event("payment.captured", payment=payment_entity(order_id=locked.razorpay_order_id))
    )
    recovers = delivery(
        event("payment.captured", payment=payment_entity(order_id=later.razorpay_order_id))
    )
    settings = make_settings(
        webhook_lock_timeout_ms=100,
        webhook_backoff_base_seconds=10.0,
        webhook_worker_enabled=False,
    )
    async with running(settings) as sidecar:
        conn, transaction = await _lock_payment(committed_engine, locked.id)
        conn2, transaction2 = await _lock_payment(committed_engine, later.id)
        try:
            first = await sidecar.deliver(stuck)
            second = await sidecar.deliver(recovers)
            assert await sidecar.runtime.worker.run_once() == 2  # both time out on the lock
            failed = await db.event(stuck.event_id or "")
            await transaction2.rollback()  # type: ignore[attr-defined]
            now = datetime.now(UTC)
            await sidecar.runtime.worker.run_once(now=now + LATER)
            await sidecar.runtime.worker.run_once(now=now + 3 * LATER)
        finally:
            await transaction.rollback()  # type: ignore[attr-defined]
            await conn.close()  # type: ignore[attr-defined]
            await conn2.close()  # type: ignore[attr-defined]

    assert first.json() == second.json() == {"status": "stored"}
    assert failed is not None
    assert (failed.outcome, failed.attempts, failed.parked_at) == ("error", 1, None)
    parked = await db.event(stuck.event_id or "")
    assert parked is not None
    assert (parked.outcome, parked.attempts) == ("error", 3)
    assert parked.parked_at is not None
    assert parked.last_error is not None
    assert "SELECT" not in parked.last_error  # the error's type, never its SQL or values
    assert (await db.payment(locked.id)).status == PaymentStatus.PROCESSING
    applied = await db.event(recovers.event_id or "")
    assert applied is not None
    assert (applied.outcome, applied.attempts) == ("applied", 2)
    assert (await db.payment(later.id)).status == PaymentStatus.COMPLETED


async def test_answers_stay_fast(sidecar: Sidecar, committed: AsyncSession, db: Db) -> None:
    payments = [await insert_payment(committed) for _ in range(50)]
    deliveries = [
        delivery(event("payment.captured", payment=payment_entity(order_id=p.razorpay_order_id)))
        for p in payments
    ]
    gate = asyncio.Semaphore(10)
    timings: list[float] = []

    async def send(sent: object) -> int:
        async with gate:
            began = time.perf_counter()
            response = await sidecar.deliver(sent)  # type: ignore[arg-type]
            timings.append(time.perf_counter() - began)
            return response.status_code

    statuses = await asyncio.gather(*(send(d) for d in deliveries))

    assert statuses == [200] * 50
    timings.sort()
    p99 = timings[math.ceil(0.99 * len(timings)) - 1]
    assert p99 < RAZORPAY_WAITS_SECONDS - 1, timings
    # Stored before the answer, so nothing is lost: the worker applies every one.
    for sent in deliveries:
        assert (await db.done(sent.event_id)).outcome == "applied"
    for payment in payments:
        assert (await db.payment(payment.id)).status == PaymentStatus.COMPLETED


async def test_the_worker_is_woken_when_an_event_is_stored(
    make_settings: MakeSettings, committed: AsyncSession, db: Db
) -> None:
    """Answered as soon as the event is committed, and applied at once by the worker, which
    that commit woke: its own polling interval here is far longer than the wait."""
    payment = await insert_payment(committed)
    sent = delivery(
        event("payment.captured", payment=payment_entity(order_id=payment.razorpay_order_id))
    )
    async with running(make_settings(webhook_worker_interval_seconds=3_600)) as sidecar:
        await wait_for(lambda: _worker_idle(sidecar))  # its first pass at start-up is over
        response = await sidecar.deliver(sent)
        done = await db.done(sent.event_id)

    assert response.status_code == 200
    assert response.json() == {"status": "stored"}
    assert done.next_attempt_at <= done.received_at  # due at once
    assert (done.outcome, done.attempts) == ("applied", 1)
    assert (await db.payment(payment.id)).status == PaymentStatus.COMPLETED


async def _worker_idle(sidecar: Sidecar) -> bool:
    return sidecar.runtime.worker.backlog is not None  # counted at the end of its first pass


async def test_events_of_one_payment_apply_in_arrival_order_others_alongside(
    manual: Sidecar, committed: AsyncSession, db: Db
) -> None:
    """One pass of the worker (concurrency 4): a failed attempt, then the capture of a second
    attempt, of one order apply in that order (FAILED, then COMPLETED: the other order would
    have left the failure unrecorded); other payments' events apply alongside."""
    payment = await insert_payment(committed)
    others = [await insert_payment(committed) for _ in range(6)]
    order_id = payment.razorpay_order_id
    failed = payment_entity(order_id=order_id, payment_id=rzp_id("pay"), status="failed")
    captured = payment_entity(order_id=order_id, payment_id=rzp_id("pay"))
    sent = [
        delivery(event("payment.failed", payment=failed)),
        *(
            delivery(
                event("payment.captured", payment=payment_entity(order_id=o.razorpay_order_id))
            )
            for o in others
        ),
        delivery(event("payment.captured", payment=captured)),
    ]
    for one in sent:
        assert (await manual.deliver(one)).json() == {"status": "stored"}

    assert await manual.runtime.worker.run_once() == len(sent)

    assert await db.transitions(payment.id) == [
        ("PROCESSING", "FAILED"),
        ("FAILED", "COMPLETED"),
    ]
    for other in others:
        assert await db.transitions(other.id) == [("PROCESSING", "COMPLETED")]
