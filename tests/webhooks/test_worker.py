"""The background worker running in the sidecar, its gauges, and the parked/replay CLI."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from shared.config import webhook_settings
from shared.ops import package_version
from subgraphs.payments.enums import PaymentStatus
from subgraphs.payments.webhooks.__main__ import main
from tests.conftest import Infra
from tests.webhooks.conftest import Db, MakeSettings, running
from tests.webhooks.factories import SECRET, delivery, event, insert_payment, payment_entity, rzp_id


async def test_worker_applies_an_event_whose_order_was_still_committing(
    make_settings: MakeSettings, committed: AsyncSession, db: Db
) -> None:
    order_id = rzp_id("order")
    sent = delivery(event("payment.captured", payment=payment_entity(order_id=order_id)))
    settings = make_settings(
        webhook_worker_enabled=True,
        webhook_worker_interval_seconds=0.05,
        webhook_backoff_base_seconds=0.05,
        webhook_backoff_max_seconds=0.1,
        webhook_unknown_order_max_attempts=1_000,
    )
    async with running(settings) as sidecar:
        response = await sidecar.deliver(sent)
        first = await db.attempted(sent.event_id)
        payment = await insert_payment(committed, order_id=order_id)
        row = await db.done(sent.event_id)
        await sidecar.runtime.worker.refresh_gauges()
        metrics = (await sidecar.client.get("/metrics")).text

    assert response.json() == {"status": "stored"}
    assert first.outcome == "unknown_order"
    assert row.outcome == "applied"
    assert row.attempts >= 2
    assert (await db.payment(payment.id)).status == PaymentStatus.COMPLETED
    assert await db.transitions(payment.id) == [("PROCESSING", "COMPLETED")]
    assert 'webhook_events_applied_total{outcome="applied",path="worker"} 1.0' in metrics
    assert "webhook_events_waiting " in metrics
    assert not sidecar.runtime.worker.running  # stopped with the app


async def test_metrics_health_and_readiness(make_settings: MakeSettings, db: Db) -> None:
    async with running(make_settings()) as sidecar:
        health = await sidecar.client.get("/healthz")
        ready = await sidecar.client.get("/readyz")
        first = delivery(event("x.y"))
        await sidecar.deliver(first)
        await sidecar.deliver(delivery(event("x.y"), secret="wrong"))
        sent = delivery(event("x.y"))
        await sidecar.deliver(sent)
        await sidecar.deliver(sent)
        await db.done(first.event_id)
        await db.done(sent.event_id)
        metrics = await sidecar.client.get("/metrics")

    assert health.json() == {"status": "ok", "service": "webhooks", "version": package_version()}
    assert ready.status_code == 200
    assert {k: ready.json()[k] for k in ("status", "service", "version")} == {
        "status": "ready",
        "service": "webhooks",
        "version": package_version(),
    }
    assert "x-request-id" in health.headers
    text = metrics.text
    assert "webhook_deliveries_received_total 4.0" in text
    assert 'webhook_events_stored_total{event_type="other"} 2.0' in text
    assert "webhook_events_duplicate_total 1.0" in text
    assert 'webhook_signatures_invalid_total{reason="mismatch"} 1.0' in text
    assert 'webhook_events_applied_total{outcome="ignored",path="worker"} 2.0' in text
    assert "webhook_response_seconds_bucket" in text


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, infra: Infra):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.setenv("DATABASE_URL", infra.database_url)
    monkeypatch.setenv("REDIS_URL", infra.redis_url)
    monkeypatch.setenv("RAZORPAY_WEBHOOK_SECRET", SECRET)
    webhook_settings.cache_clear()
    yield
    webhook_settings.cache_clear()


async def test_cli_lists_and_replays_parked_events(
    env: None,
    make_settings: MakeSettings,
    committed: AsyncSession,
    db: Db,
    capsys: pytest.CaptureFixture[str],
) -> None:
    order_id = rzp_id("order")
    sent = delivery(event("payment.captured", payment=payment_entity(order_id=order_id)))
    settings = make_settings(webhook_unknown_order_max_attempts=1, webhook_worker_enabled=False)
    async with running(settings) as sidecar:
        await sidecar.deliver(sent)
        await sidecar.runtime.worker.run_once()
    assert (await db.event(sent.event_id or "")).parked_at is not None  # type: ignore[union-attr]
    payment = await insert_payment(committed, order_id=order_id)

    listed = await asyncio.to_thread(main, ["parked", "--limit", "1000"])
    out = capsys.readouterr().out
    replayed = await asyncio.to_thread(main, ["replay", sent.event_id or ""])
    unknown = await asyncio.to_thread(main, ["replay", "evt_not_parked"])
    captured = capsys.readouterr()
    async with running(make_settings(webhook_worker_enabled=False)) as sidecar:
        await sidecar.runtime.worker.run_once()

    assert listed == 0
    assert f"{sent.event_id}\tpayment.captured\tunknown_order\t1\t" in out
    assert replayed == 0
    assert unknown == 1
    assert "queued 1 event(s)" in captured.out
    assert "not parked (or unknown): evt_not_parked" in captured.err
    assert (await db.event(sent.event_id or "")).outcome == "applied"  # type: ignore[union-attr]
    assert (await db.payment(payment.id)).status == PaymentStatus.COMPLETED
