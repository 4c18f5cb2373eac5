"""The nightly verification: the gauge, the audit event when broken, one replica at a time, and
the loop stopping cleanly."""

from __future__ import annotations

import asyncio
import time

from prometheus_client import CollectorRegistry
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from subgraphs.payments.ledger.nightly import LOCK_KEY, LedgerMetrics, LedgerVerifier
from tests.ledger.test_chain import tamper, write


def verifier(engine: AsyncEngine, redis: Redis, interval: float = 0.0) -> LedgerVerifier:
    return LedgerVerifier(
        sessionmaker=async_sessionmaker(engine, expire_on_commit=False),
        redis=redis,
        interval_seconds=interval,
        batch_size=2,
        metrics=LedgerMetrics(),
    )


def gauge(v: LedgerVerifier) -> float | None:
    registry = CollectorRegistry()
    v.metrics.register(registry)
    return registry.get_sample_value("bff_ledger_broken")


async def broken_events(engine: AsyncEngine) -> list[dict[str, object]]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT data FROM payments.outbox_events WHERE type = 'payments:ledger:broken'")
        )
        return [r[0] for r in rows]


async def test_a_sound_ledger_sets_the_gauge_to_0(own_ledger: AsyncEngine, redis: Redis) -> None:
    maker = async_sessionmaker(own_ledger, expire_on_commit=False)
    await write(maker, 500)
    v = verifier(own_ledger, redis)
    result = await v.run_once()
    assert result is not None
    assert (result.ok, result.checked_entries) == (True, 2)
    assert gauge(v) == 0
    assert await broken_events(own_ledger) == []


async def test_a_broken_ledger_raises_the_gauge_and_is_audited(
    own_ledger: AsyncEngine, redis: Redis
) -> None:
    maker = async_sessionmaker(own_ledger, expire_on_commit=False)
    for amount in (100, 200, 300):
        await write(maker, amount)
    await tamper(own_ledger, "UPDATE payments.ledger_entries SET account = 'x' WHERE seq = 5")
    async with own_ledger.connect() as conn:
        target = (
            await conn.execute(text("SELECT id FROM payments.ledger_entries WHERE seq = 5"))
        ).scalar_one()
    v = verifier(own_ledger, redis, interval=0.05)
    v.start()
    try:
        deadline = time.monotonic() + 60
        while not await broken_events(own_ledger):
            assert time.monotonic() < deadline, "the loop never reported the broken chain"
            await asyncio.sleep(0.05)
    finally:
        await v.stop()
    assert gauge(v) == 1
    assert (await broken_events(own_ledger))[0] == {
        "firstBrokenEntryId": str(target),
        "checkedEntries": 5,
    }


async def test_one_replica_at_a_time(own_ledger: AsyncEngine, redis: Redis) -> None:
    await redis.set(LOCK_KEY, "another replica", px=60_000)
    try:
        assert await verifier(own_ledger, redis).run_once() is None
    finally:
        await redis.delete(LOCK_KEY)
