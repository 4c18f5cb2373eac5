"""`payment_updates`: one subscriber's view of a payment's channel, across Redis restarts."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import aclosing

import pytest
from redis.asyncio import Redis

from devtools.embedded import EmbeddedRedis
from shared.redis import create_redis
from subgraphs.payments.live.pubsub import (
    RESYNC,
    Backoff,
    decode_update,
    encode_update,
    payment_channel,
    payment_updates,
)


async def subscribers(redis: Redis, channel: str) -> int:
    [(_, count)] = await redis.pubsub_numsub(channel)
    return int(count)


async def test_yields_resync_then_event_ids_and_unsubscribes_on_close(redis: Redis) -> None:
    payment_id = uuid.uuid4()
    channel = payment_channel(payment_id)
    events = [uuid.uuid4() for _ in range(2)]
    async with aclosing(payment_updates(redis, payment_id)) as updates:
        assert await anext(updates) == RESYNC  # subscribed
        assert await subscribers(redis, channel) == 1
        await redis.publish(channel, "not json")
        await redis.publish(channel, '{"paymentId": "x"}')
        for event_id in events:
            await redis.publish(
                channel,
                encode_update(event_id=event_id, payment_id=payment_id, type="payments:x"),
            )
        received = [await asyncio.wait_for(anext(updates), 30) for _ in events]
        assert received == [str(e) for e in events]  # junk skipped
    assert await subscribers(redis, channel) == 0


async def test_cancelling_the_consumer_releases_the_subscription(redis: Redis) -> None:
    payment_id = uuid.uuid4()
    channel = payment_channel(payment_id)
    started = asyncio.Event()

    async def consume() -> None:
        async with aclosing(payment_updates(redis, payment_id)) as updates:
            async for _ in updates:
                started.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(started.wait(), 30)
    assert await subscribers(redis, channel) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await subscribers(redis, channel) == 0


async def test_resubscribes_after_a_redis_restart(own_redis: EmbeddedRedis) -> None:
    url = f"unix://{own_redis.socket}"
    subscriber, publisher = create_redis(url), create_redis(url)
    payment_id = uuid.uuid4()
    backoff = Backoff(initial=0.05, maximum=0.2)
    try:
        async with aclosing(payment_updates(subscriber, payment_id, backoff=backoff)) as updates:
            assert await anext(updates) == RESYNC
            pending = asyncio.ensure_future(anext(updates))
            await asyncio.sleep(0.05)
            own_redis.stop()
            async with asyncio.timeout(30):  # the subscriber saw the outage and is retrying
                while not backoff.failing:
                    await asyncio.sleep(0.02)
            assert not pending.done()
            own_redis.start()
            # Told to re-read: whatever was published meanwhile is lost.
            assert await asyncio.wait_for(pending, 30) == RESYNC
            assert not backoff.failing
            event_id = uuid.uuid4()
            await publisher.publish(
                payment_channel(payment_id),
                encode_update(event_id=event_id, payment_id=payment_id, type="payments:x"),
            )
            assert await asyncio.wait_for(anext(updates), 30) == str(event_id)
    finally:
        await subscriber.aclose()
        await publisher.aclose()


def test_message_format() -> None:
    event_id, payment_id = uuid.uuid4(), uuid.uuid4()
    raw = encode_update(event_id=event_id, payment_id=payment_id, type="payments:payment:failed")
    assert decode_update(raw) == decode_update(raw.encode()) == str(event_id)
    assert decode_update("[]") is None
    assert decode_update('{"eventId": ""}') is None


def test_backoff_doubles_up_to_its_cap_and_resets() -> None:
    backoff = Backoff(initial=0.1, maximum=0.3)
    assert not backoff.failing
    assert [backoff.next() for _ in range(4)] == [0.1, 0.2, 0.3, 0.3]
    assert backoff.failing
    backoff.reset()
    assert backoff.next() == 0.1
