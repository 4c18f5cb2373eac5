"""What the sidecar refuses (400, 413) and when it cannot store (503): never stored, never
applied, logged as security events with masked headers and without the body."""

from __future__ import annotations

import asyncio
import json
import logging
import time

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from subgraphs.payments.enums import PaymentStatus
from subgraphs.payments.webhooks.ingest import GroupCommit
from tests.webhooks.conftest import Db, MakeSettings, Records, Sidecar, running
from tests.webhooks.factories import (
    PREVIOUS_SECRET,
    SECRET,
    delivery,
    event,
    insert_payment,
    payment_entity,
    sign,
)


def security_events(log: Records) -> list[logging.LogRecord]:
    return [r for r in log.records if getattr(r, "security_event", None)]


async def test_invalid_signature_is_refused_and_nothing_is_stored(
    sidecar: Sidecar, committed: AsyncSession, db: Db, security_log: Records
) -> None:
    payment = await insert_payment(committed)
    body = event("payment.captured", payment=payment_entity(order_id=payment.razorpay_order_id))
    forged = delivery(body, secret="not-the-secret")

    response = await sidecar.deliver(forged)

    assert response.status_code == 400
    assert response.json() == {"error": "invalid signature"}
    assert await db.count_events(forged.event_id or "") == 0
    assert (await db.payment(payment.id)).status == PaymentStatus.PROCESSING
    [record] = security_events(security_log)
    assert record.security_event == "webhook_signature_invalid"  # type: ignore[attr-defined]
    assert record.reason == "mismatch"  # type: ignore[attr-defined]
    signature = forged.headers["x-razorpay-signature"]
    assert record.signature == f"{signature[:4]}…{signature[-4:]}"  # type: ignore[attr-defined]
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in security_log.records)
    assert signature not in logged
    assert payment.razorpay_order_id not in logged  # nothing of the body


async def test_signature_over_other_bytes_is_refused(sidecar: Sidecar, db: Db) -> None:
    body = event("payment.captured", payment=payment_entity(order_id=None))
    raw = json.dumps(body).encode()
    # Signed compact JSON, sent re-serialised: the signature covers the raw bytes.
    sent = delivery(body, raw=raw, signature=sign(SECRET, json.dumps(body, indent=1).encode()))

    response = await sidecar.deliver(sent)

    assert response.status_code == 400
    assert await db.count_events(sent.event_id or "") == 0


@pytest.mark.parametrize("signature", [None, "", "   "])
async def test_missing_signature_is_refused(
    signature: str | None, sidecar: Sidecar, db: Db, security_log: Records
) -> None:
    sent = delivery(
        event("payment.captured", payment=payment_entity(order_id=None)), signature=signature
    )

    response = await sidecar.deliver(sent)

    assert response.status_code == 400
    assert await db.count_events(sent.event_id or "") == 0
    assert [r.reason for r in security_events(security_log)] == ["missing"]  # type: ignore[attr-defined]


async def test_absurdly_long_signature_is_refused(sidecar: Sidecar) -> None:
    sent = delivery(
        event("payment.captured", payment=payment_entity(order_id=None)), signature="a" * 10_000
    )

    assert (await sidecar.deliver(sent)).status_code == 400


async def test_without_a_secret_every_delivery_is_refused(
    make_settings: MakeSettings, db: Db, security_log: Records
) -> None:
    settings = make_settings(razorpay_webhook_secret=None)
    async with running(settings) as sidecar:
        sent = delivery(event("payment.captured", payment=payment_entity(order_id=None)))
        response = await sidecar.deliver(sent)
        unsigned = await sidecar.deliver(
            delivery(
                event("payment.captured", payment=payment_entity(order_id=None)), signature=None
            )
        )
        ready = await sidecar.client.get("/readyz")

    assert response.status_code == 400
    assert unsigned.status_code == 400
    assert await db.count_events(sent.event_id or "") == 0
    assert ready.status_code == 503
    assert ready.json()["reason"] == "webhook secret not configured"
    reasons = [getattr(r, "reason", None) for r in security_events(security_log)]
    assert reasons.count("no_secret") == 2
    assert any(
        getattr(r, "security_event", None) == "webhook_secret_missing" for r in security_log.records
    )


async def test_an_empty_secret_counts_as_missing(make_settings: MakeSettings) -> None:
    settings = make_settings(razorpay_webhook_secret="")
    body = event("payment.captured", payment=payment_entity(order_id=None))
    async with running(settings) as sidecar:
        # An HMAC with the empty key would verify if the empty secret were used.
        response = await sidecar.deliver(delivery(body, secret=""))

    assert response.status_code == 400


async def test_previous_secret_alone_is_not_a_way_around_a_missing_current_one(
    make_settings: MakeSettings,
) -> None:
    settings = make_settings(razorpay_webhook_previous_secret=PREVIOUS_SECRET)
    body = event("payment.captured", payment=payment_entity(order_id=None))
    async with running(settings) as sidecar:
        response = await sidecar.deliver(delivery(body, secret="neither"))

    assert response.status_code == 400


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"not json", id="not-json"),
        pytest.param(b"\xff\xfe", id="not-utf8"),
        pytest.param(b"[1, 2]", id="array"),
        pytest.param(b'"event"', id="string"),
        pytest.param(b'{"entity": "event", "payload": {}}', id="no-event"),
        pytest.param(b'{"entity": "event", "event": "payment.captured"}', id="no-payload"),
        pytest.param(
            b'{"entity": "payment", "event": "payment.captured", "payload": {}}', id="not-event"
        ),
        pytest.param(
            b'{"entity": "event", "event": "payment.captured", "payload": []}', id="payload-list"
        ),
        pytest.param(
            b'{"entity": "event", "event": "Robert\'); DROP", "payload": {}}', id="event-name"
        ),
    ],
)
async def test_a_signed_body_that_is_not_an_event_is_refused(
    raw: bytes, sidecar: Sidecar, db: Db, security_log: Records
) -> None:
    sent = delivery(None, raw=raw)

    response = await sidecar.deliver(sent)

    assert response.status_code == 400
    assert response.json() == {"error": "not a Razorpay event"}
    assert await db.count_events(sent.event_id or "") == 0
    assert [r.security_event for r in security_events(security_log)] == [  # type: ignore[attr-defined]
        "webhook_not_an_event"
    ]


async def test_a_body_over_the_limit_is_refused(
    make_settings: MakeSettings, db: Db, security_log: Records
) -> None:
    body = event("payment.captured", payment=payment_entity(order_id=None, description="x" * 2000))
    sent = delivery(body)
    async with running(make_settings(webhook_max_body_bytes=1000)) as sidecar:
        response = await sidecar.deliver(sent)

        async def chunks():  # no content-length: the limit applies while reading
            yield sent.raw[:600]
            yield sent.raw[600:]

        streamed = await sidecar.client.post(
            "/webhooks/razorpay", content=chunks(), headers=sent.headers
        )

    assert response.status_code == 413
    assert streamed.status_code == 413
    assert await db.count_events(sent.event_id or "") == 0
    assert {r.security_event for r in security_events(security_log)} == {  # type: ignore[attr-defined]
        "webhook_body_too_large"
    }


async def test_database_down_answers_503(
    make_settings: MakeSettings, security_log: Records
) -> None:
    settings = make_settings(
        database_url="postgresql://postgres@127.0.0.1:1/postgres",
        webhook_worker_enabled=True,
        webhook_worker_interval_seconds=0.05,
    )
    async with running(settings) as sidecar:
        response = await sidecar.deliver(
            delivery(event("payment.captured", payment=payment_entity(order_id=None)))
        )
        ready = await sidecar.client.get("/readyz")
        health = await sidecar.client.get("/healthz")
        metrics = (await sidecar.client.get("/metrics")).text
        worker_alive = sidecar.runtime.worker.running

    assert response.status_code == 503
    assert response.json() == {"error": "temporarily unavailable"}
    assert ready.status_code == 503
    assert health.status_code == 200
    assert worker_alive
    assert "webhook_store_unavailable_total 1.0" in metrics
    assert any(
        r.getMessage().startswith("webhook event could not be stored") for r in security_log.records
    )


STUCK_SECONDS = 10.0


async def test_a_writer_held_up_past_the_deadline_still_answers_503_in_time(
    make_settings: MakeSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database that stops answering without refusing (packets dropped): cancelling the
    batch's query does not return until the driver gives up, holding the single writer. The
    delivery is still answered 503 at its own deadline, not when the writer is free again
    (Razorpay waits 5 s)."""

    async def stuck(self: GroupCommit, events: list[object]) -> list[object]:
        ends = time.monotonic() + STUCK_SECONDS
        while time.monotonic() < ends:  # a driver waiting for its cancel to be acknowledged
            try:
                await asyncio.sleep(ends - time.monotonic())
            except asyncio.CancelledError:
                continue
        raise ConnectionError("gave up")

    monkeypatch.setattr(GroupCommit, "_commit", stuck)
    sent = delivery(event("payment.captured", payment=payment_entity(order_id=None)))
    async with running(make_settings(webhook_store_timeout_seconds=0.5)) as sidecar:
        began = time.monotonic()
        refused = await sidecar.deliver(sent)
        took = time.monotonic() - began
    assert refused.status_code == 503
    assert took < STUCK_SECONDS  # the delivery's deadline, not the writer's


async def test_a_slow_store_answers_503_fast_and_stores_nothing(
    make_settings: MakeSettings, committed_engine: AsyncEngine, db: Db
) -> None:
    """The table is locked (a migration, a vacuum full...): the delivery is answered 503 within
    WEBHOOK_STORE_TIMEOUT_SECONDS, long before the lock would give way, and nothing is stored;
    Razorpay's retry, once the table is free again, is stored."""
    sent = delivery(event("payment.captured", payment=payment_entity(order_id=None)))
    settings = make_settings(webhook_store_timeout_seconds=0.5, webhook_lock_timeout_ms=60_000)
    async with running(settings) as sidecar:
        conn = await committed_engine.connect()
        transaction = await conn.begin()
        try:
            await conn.execute(text("LOCK TABLE payments.webhook_events IN EXCLUSIVE MODE"))
            began = time.monotonic()
            refused = await sidecar.deliver(sent)
            took = time.monotonic() - began
        finally:
            await transaction.rollback()
            await conn.close()
        retried = await sidecar.deliver(sent)
        await db.done(sent.event_id)
        metrics = (await sidecar.client.get("/metrics")).text

    assert refused.status_code == 503
    assert refused.json() == {"error": "temporarily unavailable"}
    assert took < settings.webhook_lock_timeout_ms / 1000  # the store timeout, not the lock's
    assert retried.json() == {"status": "stored"}
    assert await db.count_events(sent.event_id or "") == 1
    assert "webhook_store_unavailable_total 1.0" in metrics
