"""The background worker running in the sidecar, its gauges, and the parked/replay CLI."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from shared.config import webhook_settings
from shared.ops import package_version
from subgraphs.payments.enums import PaymentStatus
from subgraphs.payments.webhooks import dispatch
from subgraphs.payments.webhooks.__main__ import main
from subgraphs.payments.webhooks.dispatch import Applied
from subgraphs.payments.webhooks.ingest import GroupCommit
from subgraphs.payments.webhooks.store import NewEvent
from tests.conftest import Infra
from tests.webhooks.conftest import Db, MakeSettings, Sidecar, running
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


async def _fails_at_commit(session: AsyncSession, payload: dict[str, Any], now: Any) -> Applied:
    """A handler whose writes pass but whose COMMIT is refused, as a deferred check (the ledger's
    balance per transaction) refuses it: a constraint trigger deferred to the commit."""
    for statement in (
        "CREATE TEMP TABLE refused_at_commit (x int) ON COMMIT DROP",
        "CREATE FUNCTION pg_temp.refuse() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$",
        "CREATE CONSTRAINT TRIGGER refuse AFTER INSERT ON refused_at_commit "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse()",
        "INSERT INTO refused_at_commit VALUES (1)",
    ):
        await session.execute(text(statement))
    return Applied("applied")


async def test_an_event_refused_at_commit_is_recorded_and_does_not_hold_up_the_others(
    manual: Sidecar, db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        dispatch,
        "HANDLERS",
        MappingProxyType({**dispatch.HANDLERS, "test.refused": _fails_at_commit}),
    )
    bad = delivery(event("test.refused"))
    others = [delivery(event("x.y")) for _ in range(3)]
    await manual.deliver(bad)
    for sent in others:
        await manual.deliver(sent)

    # One pass: each attempt at the refused event is recorded (it used to roll back with its
    # transaction, stay the most overdue and end every pass with an error) and, with no backoff
    # in these tests, it is retried at once up to its limit (3) and parked; the others applied.
    assert await manual.runtime.worker.run_once() == 3 + 3
    for sent in others:
        assert (await db.event(sent.event_id or "")).outcome == "ignored"  # type: ignore[union-attr]
    row = await db.event(bad.event_id or "")
    assert row is not None
    assert (row.attempts, row.outcome, row.applied_at) == (3, "error", None)
    assert row.parked_at is not None
    assert row.last_error is not None
    assert "refused at commit" not in row.last_error  # the type only: no driver text


async def test_events_being_applied_elsewhere_end_the_pass(
    manual: Sidecar, db: Db, committed_engine: AsyncEngine
) -> None:
    """Another replica holds the due events (row locks): the pass claims nothing and ends, it
    does not go round again at once."""
    sent = [delivery(event("x.y")) for _ in range(3)]
    for item in sent:
        await manual.deliver(item)
    async with committed_engine.connect() as other, other.begin():
        await other.execute(
            text("SELECT id FROM payments.webhook_events WHERE event_id = ANY(:ids) FOR UPDATE"),
            {"ids": [item.event_id for item in sent]},
        )
        assert await manual.runtime.worker.run_once() == 0
    assert await manual.runtime.worker.run_once() == 3


async def test_an_event_another_replica_just_backed_off_is_not_attempted_again(
    make_settings: MakeSettings, db: Db
) -> None:
    """Two replicas on one database: replica A takes its due events, and before A claims one,
    replica B attempts it, fails (its order is not known yet) and schedules the next attempt a
    minute later. A must not attempt it at once (that used to park it one attempt early):
    claiming one event honours `next_attempt_at` as the batch query does."""
    settings = make_settings(
        webhook_worker_enabled=False,
        webhook_backoff_base_seconds=60.0,
        webhook_backoff_max_seconds=60.0,
        webhook_unknown_order_max_attempts=2,
    )
    sent = delivery(event("payment.captured", payment=payment_entity(order_id=rzp_id("order"))))
    async with running(settings) as a, running(settings) as b:
        await a.deliver(sent)
        b_attempted: list[int] = []

        async def b_goes_first(max_seconds: float) -> None:
            # Called by A before each attempt, after A read its due events.
            if not b_attempted:
                b_attempted.append(await b.runtime.worker.run_once())

        a.runtime.worker.yield_to = b_goes_first
        a_attempted = await a.runtime.worker.run_once()

    row = await db.event(sent.event_id or "")
    assert row is not None
    assert b_attempted == [1]
    assert a_attempted == 0
    assert (row.attempts, row.outcome, row.parked_at) == (1, "unknown_order", None)
    assert row.next_attempt_at > row.received_at


async def test_stopping_fails_the_batch_being_written(
    make_settings: MakeSettings, committed_engine: AsyncEngine
) -> None:
    """A delivery whose batch is being written when the sidecar stops is answered (an error,
    so 503: Razorpay sends it again), never left waiting."""
    group = GroupCommit(make_settings(), on_stored=lambda stored: None)
    await group.start()
    new = _delivery()
    try:
        async with committed_engine.connect() as other, other.begin():
            await _hold_event_id(other, new.event_id)
            pending = asyncio.ensure_future(group.store(new))
            async with asyncio.timeout(30):
                while not group._writing:  # the batch is in the database's hands
                    await asyncio.sleep(0.01)
            await group.stop()
            async with asyncio.timeout(5):
                with pytest.raises(RuntimeError, match="stopping"):
                    await pending
    finally:
        await group.stop()


async def test_the_worker_yields_to_deliveries_being_stored(
    make_settings: MakeSettings, committed_engine: AsyncEngine
) -> None:
    """`GroupCommit.quiet`, which the worker awaits before each attempt: it returns once no
    delivery waits to be stored, and after its bound when one still does (a flood that never
    pauses cannot stall applying)."""
    group = GroupCommit(make_settings(), on_stored=lambda stored: None)
    await group.start()
    new = _delivery()
    try:
        async with asyncio.timeout(30):
            await group.quiet(30)  # nothing waits: at once
        async with committed_engine.connect() as other:
            transaction = await other.begin()
            await _hold_event_id(other, new.event_id)
            pending = asyncio.ensure_future(group.store(new))
            async with asyncio.timeout(30):
                while not group._writing:  # the batch is in the database's hands
                    await asyncio.sleep(0.01)
            waiting = asyncio.ensure_future(group.quiet(30))
            for _ in range(20):
                await asyncio.sleep(0)
            assert not waiting.done()  # a delivery waits to be stored: the worker waits too
            async with asyncio.timeout(30):
                await group.quiet(0.01)  # bounded: returns although the delivery still waits
            assert group._writing
            await transaction.rollback()  # the batch goes through, the delivery is answered
            async with asyncio.timeout(30):
                assert (await pending).verdict == "stored"
                await waiting
    finally:
        await group.stop()


def _delivery() -> NewEvent:
    now = datetime.now(UTC)
    return NewEvent(
        event_id=rzp_id("evt"), event_id_source="header", event_type="x.y", payload_json="{}",
        body_sha256="0" * 64, signed_with="current", received_at=now, next_attempt_at=now,
    )  # fmt: skip


async def _hold_event_id(other: AsyncConnection, event_id: str) -> None:
    """The same event id inserted in `other`'s open transaction and not committed: a batch
    storing it waits on the unique index until that transaction ends."""
    await other.execute(
        text(
            "INSERT INTO payments.webhook_events (id, event_id, event_id_source, "
            "event_type, payload, body_sha256, signature_valid, signed_with, received_at, "
            "next_attempt_at, attempts) VALUES (gen_random_uuid(), :e, 'header', 'x.y', "
            "'{}', :h, true, 'current', now(), now(), 0)"
        ),
        {"e": event_id, "h": "1" * 64},
    )
