"""`LiveUpdates`: one pub/sub connection per process, reference-counted channels, bounded
per-subscriber queues, reconnection, and per-user slots shared across processes (real Redis)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import create_async_engine

from devtools.embedded import EmbeddedRedis
from shared.config import PaymentsSettings
from shared.db import async_url, create_sessionmaker
from shared.lifetime import Resources
from shared.redis import create_redis
from subgraphs.payments.live.hub import LiveConfig, LiveUpdates, SlowConsumer
from subgraphs.payments.live.pubsub import RESYNC, encode_update, payment_channel
from subgraphs.payments.live.slots import UserSlots
from tests.conftest import Infra


async def subscribers(redis: Redis, channel: str) -> int:
    [(_, count)] = await redis.pubsub_numsub(channel)
    return int(count)


async def live_clients(redis: Redis) -> int:
    """Connections named by a live-update client (`<service>-live`)."""
    return sum(1 for c in await redis.client_list() if c.get("name", "").endswith("-live"))


async def eventually(check: Any, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.01)


@asynccontextmanager
async def running_hub(
    redis_url: str, database_url: str, config: LiveConfig | None = None
) -> AsyncIterator[LiveUpdates]:
    settings = PaymentsSettings(app_env="test", redis_url=redis_url, database_url=database_url)
    engine = create_async_engine(async_url(database_url))
    redis = create_redis(redis_url)
    hub = LiveUpdates(config or LiveConfig(backoff_initial=0.05, backoff_max=0.2))
    await hub.start(Resources(settings, engine, create_sessionmaker(engine), redis))
    try:
        yield hub
    finally:
        await hub.stop()
        await redis.aclose()
        await engine.dispose()


async def publish(redis: Redis, payment_id: uuid.UUID) -> str:
    event_id = uuid.uuid4()
    await redis.publish(
        payment_channel(payment_id),
        encode_update(event_id=event_id, payment_id=payment_id, type="payments:x"),
    )
    return str(event_id)


async def test_one_connection_serves_every_subscriber_and_channels_are_refcounted(
    infra: Infra, redis: Redis
) -> None:
    payments = [uuid.uuid4() for _ in range(10)]
    async with running_hub(infra.redis_url, infra.database_url) as hub:
        first = await hub.open(payments[0], uuid.uuid4())
        assert await asyncio.wait_for(anext(first), 2) == RESYNC
        with_one = await live_clients(redis)
        feeds = [first]
        for i in range(99):  # 100 subscribers, ten per payment, of 100 users
            feeds.append(await hub.open(payments[(i + 1) % 10], uuid.uuid4()))
        for feed in feeds[1:]:
            assert await asyncio.wait_for(anext(feed), 2) == RESYNC
        # O(1): one pub/sub connection for all, plus a bounded pool for commands (slots).
        assert with_one <= await live_clients(redis) <= hub.config.redis_max_connections
        for payment_id in payments:
            assert await subscribers(redis, payment_channel(payment_id)) == 1
        event_id = await publish(redis, payments[3])
        receivers = [f for f in feeds if f.channel == payment_channel(payments[3])]
        assert len(receivers) == 10
        for feed in receivers:
            assert await asyncio.wait_for(anext(feed), 2) == event_id
        # The channel stays subscribed until its last feed closes.
        for feed in receivers[:-1]:
            await feed.aclose()
        await asyncio.sleep(0.1)
        assert await subscribers(redis, payment_channel(payments[3])) == 1
        await receivers[-1].aclose()
        channel = payment_channel(payments[3])
        await eventually(lambda: _is(subscribers(redis, channel), 0))
        for feed in feeds:
            await feed.aclose()
        assert hub.subscriber_count == 0


async def _is(value: Any, expected: int) -> bool:
    return bool(await value == expected)


async def test_a_slow_consumer_is_dropped_and_the_others_keep_receiving(
    infra: Infra, redis: Redis
) -> None:
    config = LiveConfig(queue_size=4, backoff_initial=0.05, backoff_max=0.2)
    payment_id = uuid.uuid4()
    async with running_hub(infra.redis_url, infra.database_url, config) as hub:
        slow = await hub.open(payment_id, uuid.uuid4())
        fast = await hub.open(payment_id, uuid.uuid4())
        assert await asyncio.wait_for(anext(fast), 2) == RESYNC
        for _ in range(10):  # `fast` keeps up, `slow` never reads
            event_id = await publish(redis, payment_id)
            assert await asyncio.wait_for(anext(fast), 2) == event_id
        assert slow.dropped  # RESYNC + 3 events fit; the 4th overflowed
        assert slow.queue.qsize() == 4  # nothing buffered beyond its bound
        with pytest.raises(SlowConsumer) as caught:
            await anext(slow)
        assert caught.value.code == "RATE_LIMITED"
        assert hub.subscriber_count == 1
        await slow.aclose()
        await fast.aclose()


async def test_a_burst_is_handed_out_in_order_and_a_feed_opened_meanwhile_is_served(
    infra: Infra, redis: Redis
) -> None:
    """The listener drains a burst without waiting between messages: per channel in the order
    published, to every channel, and a feed opened during the burst still gets its channel
    subscribed (RESYNC) and what is published after."""
    config = LiveConfig(queue_size=64, backoff_initial=0.05, backoff_max=0.2)
    payments = [uuid.uuid4() for _ in range(20)]
    async with running_hub(infra.redis_url, infra.database_url, config) as hub:
        feeds = [await hub.open(payment_id, uuid.uuid4()) for payment_id in payments]
        for feed in feeds:
            assert await asyncio.wait_for(anext(feed), 5) == RESYNC
        published: dict[uuid.UUID, list[str]] = {payment_id: [] for payment_id in payments}
        async with redis.pipeline(transaction=False) as pipe:  # one burst, received at once
            for _ in range(3):
                for payment_id in payments:
                    event_id = str(uuid.uuid4())
                    published[payment_id].append(event_id)
                    pipe.publish(
                        payment_channel(payment_id),
                        encode_update(event_id=event_id, payment_id=payment_id, type="x"),
                    )
            await pipe.execute()
        late_payment = uuid.uuid4()
        late = await hub.open(late_payment, uuid.uuid4())
        for payment_id, feed in zip(payments, feeds, strict=True):
            received = [await asyncio.wait_for(anext(feed), 5) for _ in range(3)]
            assert received == published[payment_id]
        assert await asyncio.wait_for(anext(late), 5) == RESYNC
        event_id = await publish(redis, late_payment)
        assert await asyncio.wait_for(anext(late), 5) == event_id
        for feed in [*feeds, late]:
            await feed.aclose()


async def test_resubscribes_every_channel_after_a_redis_restart(
    own_redis: EmbeddedRedis, infra: Infra
) -> None:
    url = f"unix://{own_redis.socket}"
    publisher = create_redis(url)
    payments = [uuid.uuid4(), uuid.uuid4()]
    try:
        async with running_hub(url, infra.database_url) as hub:
            feeds = [await hub.open(p, uuid.uuid4()) for p in payments]
            for feed in feeds:
                assert await asyncio.wait_for(anext(feed), 2) == RESYNC
            pending = [asyncio.ensure_future(anext(feed)) for feed in feeds]
            own_redis.stop()
            await asyncio.sleep(0.5)  # several failed attempts
            assert not any(p.done() for p in pending)
            own_redis.start()
            # Told to re-read: whatever was published meanwhile is lost.
            assert [await asyncio.wait_for(p, 10) for p in pending] == [RESYNC, RESYNC]
            assert not hub.backoff.failing
            for payment_id, feed in zip(payments, feeds, strict=True):
                event_id = await publish(publisher, payment_id)
                assert await asyncio.wait_for(anext(feed), 2) == event_id
            for feed in feeds:
                await feed.aclose()
    finally:
        await publisher.aclose()


async def test_stopping_ends_every_feed(infra: Infra) -> None:
    async with running_hub(infra.redis_url, infra.database_url) as hub:
        feed = await hub.open(uuid.uuid4(), uuid.uuid4())
        assert await asyncio.wait_for(anext(feed), 2) == RESYNC
        waiting = asyncio.ensure_future(anext(feed))
        await asyncio.sleep(0.05)
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(waiting, 2)


async def test_user_slots_are_shared_limited_and_expire_without_heartbeat(redis: Redis) -> None:
    user = uuid.uuid4()
    # A TTL well above the refresh interval: a loaded machine can stall the loop for a while.
    replica_a = UserSlots(redis, limit=3, ttl_seconds=2.0)
    replica_b = UserSlots(redis, limit=3, ttl_seconds=2.0)
    held = [await replica_a.acquire(user), await replica_a.acquire(user)]
    held.append(await replica_b.acquire(user))
    assert None not in held
    assert await replica_b.acquire(user) is None  # across "replicas"
    assert await replica_a.acquire(uuid.uuid4()) is not None  # another user is unaffected
    await replica_a.release(user, str(held[0]))
    held[0] = await replica_b.acquire(user)
    assert held[0] is not None
    # The heartbeat keeps slots alive past their TTL ...
    started = time.monotonic()
    while time.monotonic() - started < 3.0:
        await asyncio.sleep(0.3)
        refreshed = time.monotonic()
        await replica_a.refresh([(user, str(slot)) for slot in held])
    assert await replica_a.acquire(user) is None
    # ... and a process that died (no heartbeat) leaks nothing for longer than the TTL.
    async with asyncio.timeout(30):
        while await replica_a.acquire(user) is None:
            await asyncio.sleep(0.05)
    assert time.monotonic() - refreshed >= 1.9  # not before the TTL from the last refresh
