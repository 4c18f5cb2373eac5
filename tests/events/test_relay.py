"""The generic outbox relay (`shared.outbox`) on every service's table: the envelope, each row
exactly once across relays, nothing lost across a Redis restart, NOTIFY wake-up per schema."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime

import orjson
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from devtools.embedded import EmbeddedRedis
from shared.db import asyncpg_dsn
from shared.outbox import OutboxRelay, RelayConfig, relay_redis, stream_for
from tests.events.conftest import wait_for
from tests.events.support import stream_ids, unpublished, write_events


async def test_the_envelope_and_one_publication_per_row(
    engine: AsyncEngine, rd: Redis, make_relay: Callable[..., OutboxRelay]
) -> None:
    actor = uuid.uuid4()
    ids = await write_events(engine, "admin", 3, actor_id=actor, type="admin:user:updated")
    relay = make_relay("admin", batch_size=2)
    assert await relay.drain() == 3
    assert await relay.drain() == 0
    entries = await rd.xrange("events:admin")
    assert [f["id"] for _, f in entries] == [str(i) for i in ids]
    first = entries[0][1]
    assert set(first) == {"id", "type", "occurredAt", "actorId", "data"}
    assert (first["type"], first["actorId"]) == ("admin:user:updated", str(actor))
    assert orjson.loads(first["data"])["n"] == 0
    assert datetime.fromisoformat(first["occurredAt"]).tzinfo is not None
    assert await unpublished(engine, "admin", ids) == 0


@pytest.mark.parametrize("schema", ["auth", "admin", "profile", "payments"])
async def test_two_relays_publish_every_row_exactly_once(
    engine: AsyncEngine, rd: Redis, make_relay: Callable[..., OutboxRelay], schema: str
) -> None:
    ids: list[uuid.UUID] = []
    for _ in range(6):
        ids += await write_events(engine, schema, 25)
    relays = [make_relay(schema, batch_size=7) for _ in range(2)]
    counts = await asyncio.gather(*(r.drain() for r in relays), *(r.drain() for r in relays))
    assert sum(counts) == 150
    published = await stream_ids(rd, stream_for(schema))
    assert len(published) == len(set(published)) == 150
    assert set(published) == {str(i) for i in ids}
    assert sum(r.published for r in relays) == 150


async def test_the_relay_survives_a_redis_restart_without_losing_an_event(
    engine: AsyncEngine,
    own_redis: EmbeddedRedis,
    redis_url: str,
    make_relay: Callable[..., OutboxRelay],
    caplog: pytest.LogCaptureFixture,
) -> None:
    redis = relay_redis(redis_url)
    relay = make_relay(
        "auth", redis=redis, poll_interval=0.05, backoff_initial=0.02, backoff_max=0.1
    )
    await relay.start()
    try:
        before = await write_events(engine, "auth", 3)

        async def published_before() -> bool:
            return await unpublished(engine, "auth", before) == 0

        await wait_for(published_before)
        with caplog.at_level(logging.INFO, logger="bff.auth.relay"):
            own_redis.stop()
            during = await write_events(engine, "auth", 4)

            async def failing() -> bool:
                return any(r.levelno == logging.WARNING for r in caplog.records)

            await wait_for(failing)  # the relay saw the outage: passes fail while Redis is down
            assert await unpublished(engine, "auth", during) == 4
            later = await write_events(engine, "auth", 2)
            own_redis.start()

            async def all_published() -> bool:
                return await unpublished(engine, "auth", [*during, *later]) == 0

            await wait_for(all_published)

            async def announced() -> bool:
                # Logged just after the commit the test saw: wait for it, don't race it.
                return any("publishing again" in r.getMessage() for r in caplog.records)

            await wait_for(announced)
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1  # one per outage
    finally:
        await relay.stop()
        await redis.aclose()
    client = relay_redis(redis_url)
    try:  # the stream survived (AOF) and holds each event once, in order
        assert await stream_ids(client, "events:auth") == [
            str(i) for i in [*before, *during, *later]
        ]
    finally:
        await client.aclose()


@pytest.mark.parametrize("schema", ["auth", "admin", "profile"])
async def test_the_migrations_notify_so_a_listening_relay_publishes_at_once(
    events_db: str, engine: AsyncEngine, rd: Redis, schema: str
) -> None:
    relay = OutboxRelay(
        schema=schema,
        sessionmaker=async_sessionmaker(engine),
        redis=rd,
        listen_dsn=asyncpg_dsn(events_db),
        config=RelayConfig(poll_interval=30),  # only NOTIFY can explain a fast publish
    )
    await relay.start()
    try:
        await asyncio.wait_for(relay.listening.wait(), 30)
        # The catch-up pass after LISTEN is done once a first event is out: only NOTIFY (or a
        # poll, 30 s away) publishes the next one.
        [probe] = await write_events(engine, schema, 1)

        async def probe_published() -> bool:
            return str(probe) in await stream_ids(rd, stream_for(schema))

        await wait_for(probe_published, timeout=15)
        [event_id] = await write_events(engine, schema, 1)
        committed = time.perf_counter()

        async def published() -> bool:
            return str(event_id) in await stream_ids(rd, stream_for(schema))

        await wait_for(published, timeout=15)
        assert time.perf_counter() - committed < relay.config.poll_interval / 2  # not a poll
    finally:
        await relay.stop()
