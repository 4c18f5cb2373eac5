"""The outbox relay against real PostgreSQL and Redis: what it publishes, exactly once per pass,
never twice across relays, nothing lost while Redis is down, woken by NOTIFY."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence

import orjson
import pytest
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from devtools.embedded import EmbeddedRedis
from shared.config import PaymentsSettings
from shared.db import asyncpg_dsn, create_engine, create_sessionmaker
from shared.lifetime import Resources
from subgraphs.payments.live.pubsub import payment_channel
from subgraphs.payments.live.relay import (
    OutboxEvent,
    OutboxRelay,
    RelayConfig,
    relay_redis,
    relay_task,
)
from subgraphs.payments.models import OutboxEvent as OutboxRow
from tests.conftest import Infra
from tests.live.support import stream_ids, unpublished, write_events

pytestmark = pytest.mark.usefixtures("clean_outbox")


def make_relay(
    engine: AsyncEngine, redis: Redis, stream: str, *, dsn: str | None = None, **config: float
) -> OutboxRelay:
    return OutboxRelay(
        sessionmaker=async_sessionmaker(engine, expire_on_commit=False),
        redis=redis,
        listen_dsn=dsn,
        config=RelayConfig(stream=stream, **config),  # type: ignore[arg-type]
    )


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> float:
    started = time.perf_counter()
    while not await predicate():
        if time.perf_counter() - started > timeout:
            raise AssertionError("timed out")
        await asyncio.sleep(0.005)
    return time.perf_counter() - started


async def read_messages(pubsub: PubSub, count: int) -> list[dict[str, str]]:
    received: list[dict[str, str]] = []
    async with asyncio.timeout(5):
        while len(received) < count:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
            if message is not None:
                received.append(orjson.loads(message["data"]))
    return received


async def test_a_pass_publishes_committed_rows_once_with_the_envelope(
    relay_engine: AsyncEngine, redis: Redis, stream: str
) -> None:
    payment_id = uuid.uuid4()
    pubsub = redis.pubsub()
    await pubsub.subscribe(payment_channel(payment_id))
    status_events = await write_events(relay_engine, 2, payment_id=payment_id)
    [other] = await write_events(relay_engine, 1, type="payments:refund:noted")
    relay = make_relay(relay_engine, redis, stream)
    try:
        assert await relay.drain() == 3
        assert await relay.drain() == 0  # nothing twice

        entries = await redis.xrange(stream)
        assert [fields["id"] for _, fields in entries] == [str(i) for i in [*status_events, other]]
        first = entries[0][1]
        assert set(first) == {"id", "type", "occurredAt", "actorId", "data"}
        assert first["type"] == "payments:payment:updated"
        assert first["actorId"] == str(payment_id)
        assert orjson.loads(first["data"]) == {
            "paymentId": str(payment_id),
            "status": "PROCESSING",
            "n": 0,
        }
        assert first["occurredAt"].endswith("+00:00")
        assert await unpublished(relay_engine, [*status_events, other]) == 0

        assert await read_messages(pubsub, 2) == [
            {"eventId": str(e), "paymentId": str(payment_id), "type": "payments:payment:updated"}
            for e in status_events
        ]
        assert await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2) is None
    finally:
        await pubsub.aclose()


async def test_uncommitted_rows_wait_for_their_commit(
    relay_engine: AsyncEngine, redis: Redis, stream: str
) -> None:
    relay = make_relay(relay_engine, redis, stream)
    async with AsyncSession(relay_engine) as session:
        event_id = uuid.uuid4()
        row = OutboxRow(id=event_id, type="payments:payment:created", actor_id=None, data={"x": 1})
        session.add(row)
        await session.flush()
        assert await relay.drain() == 0
        await session.commit()
    assert await relay.drain() == 1
    entry = (await redis.xrange(stream))[0][1]
    assert (entry["id"], entry["actorId"]) == (str(event_id), "")


async def test_rows_are_published_in_commit_order_across_batches(
    relay_engine: AsyncEngine, redis: Redis, stream: str
) -> None:
    ids: list[uuid.UUID] = []
    for _ in range(5):
        ids += await write_events(relay_engine, 3)
    relay = make_relay(relay_engine, redis, stream, batch_size=4)
    assert await relay.drain() == 15
    assert await stream_ids(redis, stream) == [str(i) for i in ids]
    assert relay.published == 15


class PausedRelay(OutboxRelay):
    """Holds its first claimed batch until released (to overlap two relays for certain)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.claimed = asyncio.Event()
        self.release = asyncio.Event()
        self.claims: list[list[uuid.UUID]] = []

    async def _publish(self, events: Sequence[OutboxEvent]) -> None:
        self.claims.append([e.id for e in events])
        self.claimed.set()
        await self.release.wait()
        await super()._publish(events)


async def test_two_relays_never_publish_a_row_twice(
    relay_engine: AsyncEngine, redis: Redis, stream: str
) -> None:
    ids = await write_events(relay_engine, 200)
    config = RelayConfig(stream=stream, batch_size=20)
    first = PausedRelay(
        sessionmaker=async_sessionmaker(relay_engine), redis=redis, listen_dsn=None, config=config
    )
    second = make_relay(relay_engine, redis, stream, batch_size=20)

    holding = asyncio.create_task(first.drain())
    await first.claimed.wait()  # `first` holds 20 locked rows, mid-publish
    assert await second.drain() == 180  # skips them, publishes the rest
    first.release.set()
    assert await holding == 20
    published = await stream_ids(redis, stream)
    assert sorted(published) == sorted(str(i) for i in ids)  # each exactly once
    assert first.claims == [ids[:20]]

    # Free-running relays racing on the same rows: still each row once.
    more = await write_events(relay_engine, 300)
    relays = [make_relay(relay_engine, redis, stream, batch_size=7) for _ in range(4)]
    counts = await asyncio.gather(*(r.drain() for r in relays))
    assert sum(counts) == 300
    published = await stream_ids(redis, stream)
    assert len(published) == len(set(published)) == 500
    assert set(published) == {str(i) for i in [*ids, *more]}


async def test_redis_down_then_up_loses_nothing(
    relay_engine: AsyncEngine,
    own_redis: EmbeddedRedis,
    own_redis_client: Redis,
    stream: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    redis = relay_redis(f"unix://{own_redis.socket}")
    relay = make_relay(
        relay_engine, redis, stream, poll_interval=0.05, backoff_initial=0.02, backoff_max=0.1
    )
    try:
        before = await write_events(relay_engine, 3)
        assert await relay.drain() == 3
        own_redis.stop()

        during = await write_events(relay_engine, 4)
        with pytest.raises(Exception, match=r"(?i)connect|closed|no such file|refused"):
            await relay.drain()
        assert await unpublished(relay_engine, during) == 4  # the failed pass changed nothing

        with caplog.at_level(logging.INFO, logger="bff.payments.relay"):
            await relay.start()

            async def failing() -> bool:
                return any(r.levelno == logging.WARNING for r in caplog.records)

            await wait_for(failing, timeout=30)  # its passes fail while Redis is down
            assert await unpublished(relay_engine, during) == 4
            later = await write_events(relay_engine, 2)
            own_redis.start()

            async def all_published() -> bool:
                return await unpublished(relay_engine, [*during, *later]) == 0

            await wait_for(all_published, timeout=10)

            async def announced() -> bool:
                # Logged after the pass whose commit the test saw (and after its pending count):
                # wait for it, don't race it.
                return any("publishing again" in r.getMessage() for r in caplog.records)

            await wait_for(announced, timeout=10)
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1  # once per outage, not per row or retry
        published = await stream_ids(own_redis_client, stream)  # the AOF kept the first three
        assert published == [str(i) for i in [*before, *during, *later]]
    finally:
        await relay.stop()
        await redis.aclose()


async def _listen_backend_pids(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
            )
        )
        return [int(r[0]) for r in rows]


async def test_notify_wakes_the_relay_fast_and_listen_reconnects(
    relay_db: str, relay_engine: AsyncEngine, redis: Redis, stream: str
) -> None:
    # A 30 s poll: only NOTIFY can explain a publish within milliseconds.
    relay = make_relay(
        relay_engine,
        redis,
        stream,
        dsn=asyncpg_dsn(relay_db),
        poll_interval=30,
        backoff_initial=0.05,
    )
    await relay.start()
    try:
        await asyncio.wait_for(relay.listening.wait(), 30)
        # The catch-up pass after LISTEN is over once a first event is out; from then on only
        # NOTIFY, or a poll 30 s away, can publish. "Fast" is "long before any poll".
        [probe] = await write_events(relay_engine, 1)

        async def probe_published() -> bool:
            return str(probe) in await stream_ids(redis, stream)

        await wait_for(probe_published, timeout=15)
        before_a_poll = relay.config.poll_interval / 2

        latencies = []
        for _ in range(5):
            [event_id] = await write_events(relay_engine, 1)
            committed = time.perf_counter()

            async def published(event_id: uuid.UUID = event_id) -> bool:
                return str(event_id) in await stream_ids(redis, stream)

            await wait_for(published, timeout=before_a_poll)
            latencies.append(time.perf_counter() - committed)
        assert max(latencies) < before_a_poll, latencies

        # The LISTEN connection is killed: the relay reconnects and NOTIFY works again.
        [pid] = await _listen_backend_pids(relay_engine)
        async with relay_engine.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

        async def relistening() -> bool:
            pids = await _listen_backend_pids(relay_engine)
            return bool(pids) and pids != [pid] and relay.listening.is_set()

        await wait_for(relistening, timeout=30)
        [event_id] = await write_events(relay_engine, 1)
        committed = time.perf_counter()

        async def republished() -> bool:
            return str(event_id) in await stream_ids(redis, stream)

        await wait_for(republished, timeout=before_a_poll)
        assert time.perf_counter() - committed < before_a_poll
    finally:
        await relay.stop()


def test_asyncpg_dsn_accepts_the_settings_url_forms() -> None:
    assert asyncpg_dsn("postgresql+asyncpg://u:p@h/db") == "postgresql://u:p@h/db"
    assert asyncpg_dsn("postgres://u:p@h/db") == "postgresql://u:p@h/db"
    assert asyncpg_dsn("postgresql://u@/db?host=/s") == "postgresql://u@/db?host=/s"


async def test_relay_task_runs_one_relay_per_app(
    relay_db: str, relay_engine: AsyncEngine, infra: Infra, redis: Redis
) -> None:
    settings = PaymentsSettings(
        app_env="test", database_url=relay_db, redis_url=infra.redis_url, log_json=False
    )
    engine = create_engine(relay_db, pool_size=1)
    resources = Resources(
        settings=settings, engine=engine, sessionmaker=create_sessionmaker(engine), redis=redis
    )
    task = relay_task()
    try:
        await task.start(resources)
        running = task.running
        assert running is not None
        await task.start(resources)  # a second start: no-op
        assert task.running is running
        await asyncio.wait_for(running.relay.listening.wait(), 5)
        ids = await write_events(relay_engine, 2)

        async def published() -> bool:
            return await unpublished(relay_engine, ids) == 0

        await wait_for(published, timeout=30)
        entries = await redis.xrevrange("events:payments", count=50)
        assert {str(i) for i in ids} <= {fields["id"] for _, fields in entries}
    finally:
        await task.stop()
        await task.stop()
        await engine.dispose()
    assert task.running is None


async def test_relay_task_needs_database_and_redis_urls(redis: Redis) -> None:
    resources = Resources(
        settings=PaymentsSettings(app_env="test", database_url=None, redis_url=None),
        engine=None,  # type: ignore[arg-type]
        sessionmaker=None,  # type: ignore[arg-type]
        redis=redis,
    )
    with pytest.raises(RuntimeError, match="DATABASE_URL and REDIS_URL"):
        await relay_task().start(resources)
